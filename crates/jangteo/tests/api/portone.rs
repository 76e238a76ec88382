//! The PortOne V2 adapter against a local server that follows PortOne's published API: the
//! buyer pays in PortOne's SDK, our confirm reads the payment and takes it only when PAID
//! for the order's total; a refund whose answer was lost is not refunded twice
//! (`currentCancellableAmount`); a signed webhook settles a payment the client never
//! confirmed, and an unsigned or stale one changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const SECRET: &str = "portone-api-secret-for-tests";
const WEBHOOK_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

async fn portone_app() -> (TestApp, PortOneMock) {
    let mock = PortOneMock::start(SECRET).await;
    let base = mock.base.clone();
    let app = spawn_app_with(|c| {
        c.payments.portone.api_secret = Some(SECRET.into());
        c.payments.portone.webhook_secret = Some(WEBHOOK_SECRET.into());
        c.payments.portone.base_url = base;
    })
    .await;
    (app, mock)
}

async fn order_and_attempt(app: &TestApp, tag: &str) -> (Buyer, Value, Value) {
    let seller = app.seller(&format!("po.seller.{tag}@example.com")).await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("포트원 머그", 12_000).variant(&format!("PO-{tag}"), 10),
        )
        .await;
    let v = variant_id(&product, 0).to_string();
    let buyer = app.buyer(&format!("po.buyer.{tag}@example.com")).await;
    let order: Value = app.buy_now(&buyer, &[(&v, 2)]).await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let res = app
        .post_auth(
            &format!("/api/v1/orders/{id}/payments"),
            &buyer.access,
            json!({"provider": "portone"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    (buyer, order, res.json().await.unwrap())
}

async fn confirm(app: &TestApp, buyer: &Buyer, attempt: &Value, amount: i64) -> reqwest::Response {
    let id = attempt["id"].as_str().unwrap();
    app.post_auth(
        &format!("/api/v1/payments/{id}/confirm"),
        &buyer.access,
        json!({"amount": amount}),
    )
    .await
}

#[tokio::test]
async fn a_portone_payment_is_taken_only_when_portone_says_paid() {
    let (app, portone) = portone_app().await;
    let (buyer, order, attempt) = order_and_attempt(&app, "flow").await;
    let total = order["total"].as_i64().unwrap();
    let pid = attempt["id"].as_str().unwrap();

    // Not paid at PortOne yet.
    let res = confirm(&app, &buyer, &attempt, total).await;
    assert_problem(res, StatusCode::CONFLICT, "payment_not_completed").await;
    // Paid another amount there: refunded, not taken.
    portone.pay(pid, total - 1_000);
    let res = confirm(&app, &buyer, &attempt, total).await;
    assert_problem(res, StatusCode::CONFLICT, "payment_amount_mismatch").await;
    assert_eq!(portone.state_of(pid).unwrap().0, "CANCELLED");

    // A second attempt, paid right.
    let oid = order["id"].as_str().unwrap();
    let second: Value = app
        .post_auth(
            &format!("/api/v1/orders/{oid}/payments"),
            &buyer.access,
            json!({"provider": "portone"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let sid = second["id"].as_str().unwrap();
    portone.pay(sid, total);
    let res = confirm(&app, &buyer, &second, total).await;
    assert_eq!(res.status(), StatusCode::OK);

    // A partial refund whose answer is lost: retried, refunded once.
    portone.lose_next_cancel_answer();
    let res = app
        .post_auth(
            &format!("/api/v1/orders/{oid}/refunds"),
            &buyer.access,
            json!({"lines": [{"line_no": 1, "quantity": 1}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let refund: Value = res.json().await.unwrap();
    assert_eq!(refund["status"], "DONE");
    let (status, cancelled, calls) = portone.state_of(sid).unwrap();
    assert_eq!((status.as_str(), cancelled), ("PARTIAL_CANCELLED", 12_000));
    // The rest, its answer lost too: the retry is told the payment is cancelled already.
    portone.lose_next_cancel_answer();
    let res = app
        .post_auth(
            &format!("/api/v1/orders/{oid}/refunds"),
            &buyer.access,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let rest: Value = res.json().await.unwrap();
    assert_eq!(rest["status"], "DONE", "{rest}");
    let (status, cancelled, after) = portone.state_of(sid).unwrap();
    assert_eq!((status.as_str(), cancelled), ("CANCELLED", total));
    assert_eq!(after, calls + 1);
    // A declined card at PortOne: FAILED there, 402 here.
    let (buyer2, order2, attempt2) = order_and_attempt(&app, "fail").await;
    portone.fail(
        attempt2["id"].as_str().unwrap(),
        order2["total"].as_i64().unwrap(),
    );
    let res = confirm(&app, &buyer2, &attempt2, order2["total"].as_i64().unwrap()).await;
    assert_problem(res, StatusCode::PAYMENT_REQUIRED, "payment_declined").await;
    assert_invariants(&app).await;
}

fn signed(body: &Value, id: &str, at: i64) -> (String, reqwest::header::HeaderMap) {
    let payload = body.to_string();
    let hook = standardwebhooks::Webhook::new(WEBHOOK_SECRET).unwrap();
    let signature = hook.sign(id, at, payload.as_bytes()).unwrap();
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("webhook-id", id.parse().unwrap());
    h.insert("webhook-timestamp", at.to_string().parse().unwrap());
    h.insert("webhook-signature", signature.parse().unwrap());
    h.insert("content-type", "application/json".parse().unwrap());
    (payload, h)
}

#[tokio::test]
async fn a_signed_webhook_settles_a_payment_and_a_forged_one_changes_nothing() {
    let (app, portone) = portone_app().await;
    let (buyer, order, attempt) = order_and_attempt(&app, "hook").await;
    let total = order["total"].as_i64().unwrap();
    let pid = attempt["id"].as_str().unwrap();
    portone.pay(pid, total);
    let event = json!({"type": "Transaction.Paid", "timestamp": "2026-12-01T10:00:00.000Z",
        "data": {"paymentId": pid, "storeId": "store-test", "transactionId": "tx"}});
    let now = chrono::Utc::now().timestamp();
    let url = app.url("/api/v1/webhooks/portone");

    // Forged, stale, unsigned: refused, the order still waits.
    let (payload, mut forged) = signed(&event, "msg_1", now);
    forged.insert("webhook-signature", "v1,AAAA".parse().unwrap());
    let (_, stale) = signed(&event, "msg_2", now - 3_600);
    for headers in [forged, stale, reqwest::header::HeaderMap::new()] {
        let res = app
            .http
            .post(&url)
            .headers(headers)
            .body(payload.clone())
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_signature").await;
    }
    let oid = order["id"].as_str().unwrap();
    let path = format!("/api/v1/orders/{oid}");
    assert_eq!(
        app.get_json(&path, Some(&buyer.access)).await["status"],
        "PENDING"
    );

    // Signed: the payment is read from PortOne and the order paid, without a confirm.
    let (payload, headers) = signed(&event, "msg_3", now);
    let res = app
        .http
        .post(&url)
        .headers(headers.clone())
        .body(payload.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let now_order = app.get_json(&path, Some(&buyer.access)).await;
    assert_eq!(now_order["status"], "ORDERED");
    assert_eq!(now_order["payments"][0]["status"], "PAID");
    // Delivered again (PortOne retries): nothing more happens.
    let res = app
        .http
        .post(&url)
        .headers(headers)
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = confirm(&app, &buyer, &attempt, total).await;
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_webhook_during_a_confirm_leaves_the_charge_to_it_and_refunds_nothing() {
    let (app, portone) = portone_app().await;
    let url = app.url("/api/v1/webhooks/portone");
    // PortOne answers slowly: the webhook arrives while the confirm waits for its answer.
    portone.slow_reads(300);
    let (buyer, order, attempt) = order_and_attempt(&app, "race").await;
    let total = order["total"].as_i64().unwrap();
    let pid = attempt["id"].as_str().unwrap();
    portone.pay(pid, total);
    let event = json!({"type": "Transaction.Paid", "timestamp": "2026-12-01T10:00:00.000Z",
        "data": {"paymentId": pid, "storeId": "store-test", "transactionId": "tx"}});
    let (payload, headers) = signed(&event, "msg_race", chrono::Utc::now().timestamp());
    let hook = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // A second passes: the confirm's claim is a second old, far from stale.
        app.clock.advance(chrono::Duration::seconds(1));
        app.http
            .post(&url)
            .headers(headers)
            .body(payload)
            .send()
            .await
    };
    let (confirmed, hooked) = tokio::join!(confirm(&app, &buyer, &attempt, total), hook);
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(hooked.unwrap().status(), StatusCode::OK);
    // Let a webhook that (wrongly) took over the claim finish its own settlement.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let oid = order["id"].as_str().unwrap();
    let seen = app
        .get_json(&format!("/api/v1/orders/{oid}"), Some(&buyer.access))
        .await;
    assert_eq!(seen["status"], "ORDERED", "{seen}");
    assert_eq!(seen["payments"][0]["status"], "PAID", "{seen}");
    let (status, cancelled, calls) = portone.state_of(pid).unwrap();
    assert_eq!(
        (status.as_str(), cancelled, calls),
        ("PAID", 0, 0),
        "the charge that paid the order was not refunded"
    );
    assert_invariants(&app).await;
}
