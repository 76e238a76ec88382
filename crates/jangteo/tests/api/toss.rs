//! The Toss Payments adapter against a local server that follows Toss's published API:
//! the buyer pays in the widget, we confirm with the paymentKey, refunds carry the
//! refund's id as Idempotency-Key; an outage is retried, then answered 503, and a gateway
//! that keeps failing trips the circuit breaker so no more calls go out.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const SECRET: &str = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R";

async fn toss_app() -> (TestApp, TossMock) {
    let mock = TossMock::start(SECRET).await;
    let base = mock.base.clone();
    let app = spawn_app_with(|c| {
        c.payments.toss.secret_key = Some(SECRET.into());
        c.payments.toss.base_url = base;
        c.payments.toss.timeout_ms = 2_000;
    })
    .await;
    (app, mock)
}

/// An order of one 12,000-won mug (15,000 with shipping) and a Toss payment attempt.
async fn order_and_attempt(app: &TestApp, tag: &str) -> (Buyer, Value, Value) {
    let seller = app.seller(&format!("toss.seller.{tag}@example.com")).await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("토스 머그", 12_000).variant(&format!("TOSS-{tag}"), 10),
        )
        .await;
    let v = variant_id(&product, 0).to_string();
    let buyer = app.buyer(&format!("toss.buyer.{tag}@example.com")).await;
    let order: Value = app.buy_now(&buyer, &[(&v, 1)]).await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let res = app
        .post_auth(
            &format!("/api/v1/orders/{id}/payments"),
            &buyer.access,
            json!({"provider": "toss"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let attempt: Value = res.json().await.unwrap();
    (buyer, order, attempt)
}

async fn confirm(
    app: &TestApp,
    buyer: &Buyer,
    attempt: &Value,
    key: &str,
    amount: i64,
) -> reqwest::Response {
    let id = attempt["id"].as_str().unwrap();
    app.post_auth(
        &format!("/api/v1/payments/{id}/confirm"),
        &buyer.access,
        json!({"payment_key": key, "amount": amount}),
    )
    .await
}

#[tokio::test]
async fn a_toss_payment_is_confirmed_and_refunded_through_the_toss_api() {
    let (app, toss) = toss_app().await;
    let (buyer, order, attempt) = order_and_attempt(&app, "flow").await;
    assert_eq!(attempt["provider"], "toss");
    assert_eq!(
        attempt["payment_key"],
        Value::Null,
        "Toss issues the key in its widget"
    );
    let total = order["total"].as_i64().unwrap();
    let key = toss.authorize(attempt["id"].as_str().unwrap(), total, false);

    let res = confirm(&app, &buyer, &attempt, &key, total).await;
    assert_eq!(res.status(), StatusCode::OK);
    let paid: Value = res.json().await.unwrap();
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["payment_key"], key.as_str());
    assert_eq!(toss.payment(&key), Some(("DONE".into(), total)));

    let oid = order["id"].as_str().unwrap();
    let res = app
        .post_auth(
            &format!("/api/v1/orders/{oid}/refunds"),
            &buyer.access,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let refund: Value = res.json().await.unwrap();
    assert_eq!(refund["status"], "DONE");
    assert_eq!(toss.payment(&key), Some(("CANCELED".into(), 0)));
    let refund_id = refund["id"].as_str().unwrap();
    assert!(
        toss.idempotency_keys().iter().any(|k| k == refund_id),
        "the cancel carried the refund's id as Idempotency-Key"
    );
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_card_toss_declines_leaves_the_order_pending() {
    let (app, toss) = toss_app().await;
    let (buyer, order, attempt) = order_and_attempt(&app, "decline").await;
    let total = order["total"].as_i64().unwrap();
    let key = toss.authorize(attempt["id"].as_str().unwrap(), total, true);
    let res = confirm(&app, &buyer, &attempt, &key, total).await;
    let p = assert_problem(res, StatusCode::PAYMENT_REQUIRED, "payment_declined").await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("REJECT_CARD_PAYMENT")
    );
    let oid = order["id"].as_str().unwrap();
    let now = app
        .get_json(&format!("/api/v1/orders/{oid}"), Some(&buyer.access))
        .await;
    assert_eq!(now["status"], "PENDING");
    // Someone else's paymentKey (another order's) is refused by Toss, nothing charged.
    let stray = toss.authorize("another-order", total, false);
    let res = confirm(&app, &buyer, &attempt, &stray, total).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn an_outage_is_retried_then_answered_503_and_a_failing_toss_trips_the_breaker() {
    let (app, toss) = toss_app().await;
    let (buyer, order, attempt) = order_and_attempt(&app, "outage").await;
    let total = order["total"].as_i64().unwrap();
    let key = toss.authorize(attempt["id"].as_str().unwrap(), total, false);

    // One 500, then success: the retry carries it (same Idempotency-Key), the buyer sees 200.
    toss.fail_next(1);
    let before = toss.calls();
    let res = confirm(&app, &buyer, &attempt, &key, total).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(toss.calls() - before, 2);

    // Toss down: three tries per request, then 503; after enough failures the breaker opens
    // and requests are answered without calling Toss at all.
    let (buyer2, order2, attempt2) = order_and_attempt(&app, "outage2").await;
    let total2 = order2["total"].as_i64().unwrap();
    let key2 = toss.authorize(attempt2["id"].as_str().unwrap(), total2, false);
    toss.fail_next(usize::MAX);
    let before = toss.calls();
    let res = confirm(&app, &buyer2, &attempt2, &key2, total2).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(
        res,
        StatusCode::SERVICE_UNAVAILABLE,
        "payment_gateway_unavailable",
    )
    .await;
    assert_eq!(toss.calls() - before, 3, "one call and two retries");
    for _ in 0..4 {
        let res = confirm(&app, &buyer2, &attempt2, &key2, total2).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    let tripped = toss.calls();
    let res = confirm(&app, &buyer2, &attempt2, &key2, total2).await;
    assert_problem(
        res,
        StatusCode::SERVICE_UNAVAILABLE,
        "payment_gateway_unavailable",
    )
    .await;
    assert_eq!(toss.calls(), tripped, "the open breaker calls no one");
    let oid = order2["id"].as_str().unwrap();
    let now = app
        .get_json(&format!("/api/v1/orders/{oid}"), Some(&buyer2.access))
        .await;
    assert_eq!(now["status"], "PENDING");
    assert_eq!(
        now["payments"][0]["status"], "PENDING",
        "confirm again later"
    );

    // Toss is back. Ten seconds on (the test clock moves further than the seconds this
    // test has taken) half-open the breaker; ten good probes close it.
    toss.fail_next(0);
    app.clock.advance(chrono::Duration::seconds(60));
    let res = confirm(&app, &buyer2, &attempt2, &key2, total2).await;
    assert_eq!(res.status(), StatusCode::OK, "the first probe goes through");
    let seller = app.seller("toss.seller.probes@example.com").await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("토스 머그", 12_000).variant("TOSS-probes", 20),
        )
        .await;
    let v = variant_id(&product, 0).to_string();
    let attempt_for = async |buyer: &Buyer| {
        let order: Value = app.buy_now(buyer, &[(&v, 1)]).await.json().await.unwrap();
        let id = order["id"].as_str().unwrap();
        let attempt: Value = app
            .post_auth(
                &format!("/api/v1/orders/{id}/payments"),
                &buyer.access,
                json!({"provider": "toss"}),
            )
            .await
            .json()
            .await
            .unwrap();
        let key = toss.authorize(attempt["id"].as_str().unwrap(), 15_000, false);
        (attempt, key)
    };
    for _ in 0..9 {
        let (attempt, key) = attempt_for(&buyer2).await;
        let res = confirm(&app, &buyer2, &attempt, &key, 15_000).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    // Closed again: a failing call is tried three times (a half-open breaker would have
    // opened on the first failure and answered the retries itself).
    let (attempt, key) = attempt_for(&buyer2).await;
    toss.fail_next(usize::MAX);
    let before = toss.calls();
    let res = confirm(&app, &buyer2, &attempt, &key, 15_000).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(toss.calls() - before, 3, "closed: one call and two retries");
    toss.fail_next(0);
    assert_invariants(&app).await;
}

/// Our process claims the confirmation of `pid` and calls Toss, which answers `answer`
/// (charged: 200); then the process "dies" before recording anything.
async fn cut_off_confirmation(
    app: &TestApp,
    toss: &TossMock,
    pid: &str,
    key: &str,
    total: i64,
    answer: StatusCode,
) {
    use base64::Engine;
    let claimed_at = app.clock_now();
    assert!(
        jangteo_store::payments::claim_confirm(
            app.services.db(),
            pid.parse::<uuid::Uuid>().unwrap().into(),
            claimed_at,
            claimed_at,
        )
        .await
        .unwrap()
    );
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{SECRET}:"));
    let res = app
        .http
        .post(format!("{}/v1/payments/confirm", toss.base))
        .header("Authorization", format!("Basic {auth}"))
        .json(&json!({"paymentKey": key, "orderId": pid, "amount": total}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), answer);
}

#[tokio::test]
async fn a_confirmation_cut_off_after_toss_charged_is_settled_by_reconciliation() {
    let (app, toss) = toss_app().await;
    let (buyer, order, attempt) = order_and_attempt(&app, "recon").await;
    let total = order["total"].as_i64().unwrap();
    let pid = attempt["id"].as_str().unwrap();
    let key = toss.authorize(pid, total, false);
    // Our process claimed the confirmation and called Toss, which charged; then it died
    // before recording anything.
    cut_off_confirmation(&app, &toss, pid, &key, total, StatusCode::OK).await;
    // The buyer's retry meanwhile is told to wait: the claim is held.
    let res = confirm(&app, &buyer, &attempt, &key, total).await;
    assert_problem(res, StatusCode::CONFLICT, "payment_in_progress").await;

    // A minute and more later the reconciliation job asks Toss and pays the order.
    app.clock.advance(chrono::Duration::minutes(2));
    app.run_jobs().await;
    let token = app.token_for(buyer.user_id.into(), jangteo_core::Role::User);
    let oid = order["id"].as_str().unwrap();
    let now = app
        .get_json(&format!("/api/v1/orders/{oid}"), Some(&token))
        .await;
    assert_eq!(now["status"], "ORDERED");
    assert_eq!(now["payments"][0]["status"], "PAID");
    assert_eq!(now["payments"][0]["payment_key"], key.as_str());
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_confirmation_cut_off_after_toss_declined_is_failed_by_reconciliation() {
    let (app, toss) = toss_app().await;
    let (buyer, order, attempt) = order_and_attempt(&app, "recon-fail").await;
    let total = order["total"].as_i64().unwrap();
    let pid = attempt["id"].as_str().unwrap();
    let key = toss.authorize(pid, total, true);
    cut_off_confirmation(&app, &toss, pid, &key, total, StatusCode::FORBIDDEN).await;
    let oid = order["id"].as_str().unwrap();
    let before = app
        .get_json(&format!("/api/v1/orders/{oid}"), Some(&buyer.access))
        .await;
    assert_eq!(before["payments"][0]["status"], "PENDING");

    // Toss says ABORTED: the attempt is FAILED, the order stays PENDING with its stock
    // reserved, and the buyer may pay again.
    app.clock.advance(chrono::Duration::minutes(2));
    app.run_jobs().await;
    let now = app
        .get_json(&format!("/api/v1/orders/{oid}"), Some(&buyer.access))
        .await;
    assert_eq!(now["status"], "PENDING");
    assert_eq!(now["payments"][0]["status"], "FAILED");
    assert_eq!(now["payments"][0]["failure_code"], "gateway_failed");
    let again = app
        .post_auth(
            &format!("/api/v1/orders/{oid}/payments"),
            &buyer.access,
            json!({"provider": "toss"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    let again: Value = again.json().await.unwrap();
    let key = toss.authorize(again["id"].as_str().unwrap(), total, false);
    let res = confirm(&app, &buyer, &again, &key, total).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_toss_webhook_settles_a_cut_off_confirmation_and_a_forged_one_changes_nothing() {
    let (app, toss) = toss_app().await;
    let url = app.url("/api/v1/webhooks/toss");
    let hook = |order_id: &str, status: &str| {
        json!({"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-12-01T10:00:00.000000",
            "data": {"orderId": order_id, "paymentKey": "tgen_forged", "status": status, "totalAmount": 1}})
    };
    // Not JSON: refused. Other events and unknown payments: taken, nothing happens.
    let res = app.http.post(&url).body("{").send().await.unwrap();
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_webhook").await;
    for body in [
        json!({"eventType": "DEPOSIT_CALLBACK", "secret": "x", "status": "DONE", "orderId": "o"}),
        hook(&uuid::Uuid::now_v7().to_string(), "DONE"),
    ] {
        let res = app.http.post(&url).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    let (buyer, order, attempt) = order_and_attempt(&app, "hook").await;
    let total = order["total"].as_i64().unwrap();
    let pid = attempt["id"].as_str().unwrap();
    let oid = order["id"].as_str().unwrap();
    let token = app.token_for(buyer.user_id.into(), jangteo_core::Role::User);
    let order_path = format!("/api/v1/orders/{oid}");
    // Delivers a DONE webhook for the attempt; the order as it is after it.
    let deliver = || async {
        let res = app
            .http
            .post(&url)
            .json(&hook(pid, "DONE"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        app.get_json(&order_path, Some(&token)).await
    };
    // A forged "DONE" for a payment Toss never charged: Toss is asked, nothing is paid.
    let now = deliver().await;
    assert_eq!(now["status"], "PENDING");
    assert_eq!(now["payments"][0]["status"], "PENDING");

    // Our confirmation reached Toss, which charged; the process died before recording it.
    let key = toss.authorize(pid, total, false);
    cut_off_confirmation(&app, &toss, pid, &key, total, StatusCode::OK).await;
    // While the claim is fresh the webhook leaves it to its holder.
    assert_eq!(deliver().await["status"], "PENDING");
    // Once the claim is stale, Toss's webhook pays the order without waiting for the job.
    app.clock.advance(chrono::Duration::minutes(2));
    let now = deliver().await;
    assert_eq!(now["status"], "ORDERED", "{now}");
    assert_eq!(now["payments"][0]["status"], "PAID");
    assert_eq!(now["payments"][0]["payment_key"], key.as_str());
    assert_invariants(&app).await;
}

#[tokio::test]
async fn toss_reporting_another_charge_is_refused_and_cancelled_at_toss() {
    let (app, toss) = toss_app().await;
    let (buyer, order, attempt) = order_and_attempt(&app, "mismatch").await;
    let total = order["total"].as_i64().unwrap();
    let key = toss.authorize(attempt["id"].as_str().unwrap(), total, false);
    // The client's amount is checked first: another one never reaches Toss.
    let res = confirm(&app, &buyer, &attempt, &key, total - 1).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "amount_mismatch").await;
    let calls = toss.calls();
    // Toss says it charged something else: not taken, and given back — even though Toss
    // fails every try of the cancel just then: the void is a durable job.
    toss.charges_instead(&key, total + 5_000);
    toss.fail_cancels(3);
    let res = confirm(&app, &buyer, &attempt, &key, total).await;
    assert_problem(res, StatusCode::CONFLICT, "payment_amount_mismatch").await;
    assert!(toss.calls() > calls);
    assert_eq!(
        toss.payment(&key).unwrap(),
        ("DONE".to_owned(), total + 5_000)
    );
    app.clock.advance(chrono::Duration::minutes(2));
    app.run_jobs().await;
    assert_eq!(toss.payment(&key).unwrap(), ("CANCELED".to_owned(), 0));
    let oid = order["id"].as_str().unwrap();
    let now = app
        .get_json(&format!("/api/v1/orders/{oid}"), Some(&buyer.access))
        .await;
    assert_eq!(now["status"], "PENDING", "the buyer may pay again");
    assert_eq!(now["payments"][0]["status"], "FAILED");
    assert_invariants(&app).await;
}
