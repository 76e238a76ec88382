//! The KakaoPay adapter against a local server following KakaoPay's published API: ready
//! answers the page to send the buyer to, the buyer comes back with a pg_token, approve
//! pays the order; refunds go through cancel, partial then whole.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn kakaopay_app() -> (TestApp, KakaoPayMock) {
    let kakao = KakaoPayMock::start("DEV-secret-key").await;
    let base = kakao.base.clone();
    let app = spawn_app_with(|c| {
        c.payments.kakaopay.secret_key = Some("DEV-secret-key".into());
        c.payments.kakaopay.base_url = base;
    })
    .await;
    (app, kakao)
}

#[tokio::test]
async fn a_kakaopay_payment_goes_ready_redirect_approve_and_refunds() {
    let (app, kakao) = kakaopay_app().await;
    let seller = app.seller("kp.seller@example.com").await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("카카오 머그", 12_000).variant("KP-1", 10),
        )
        .await;
    let v = variant_id(&product, 0).to_string();
    let buyer = app.buyer("kp.buyer@example.com").await;
    let order: Value = app.buy_now(&buyer, &[(&v, 2)]).await.json().await.unwrap();
    let total = order["total"].as_i64().unwrap();
    let oid = order["id"].as_str().unwrap();
    let res = app
        .post_auth(
            &format!("/api/v1/orders/{oid}/payments"),
            &buyer.access,
            json!({"provider": "kakaopay"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let attempt: Value = res.json().await.unwrap();
    let tid = attempt["payment_key"].as_str().unwrap().to_owned();
    assert!(
        attempt["redirect_url"].as_str().unwrap().contains(&tid),
        "the buyer is sent to KakaoPay's page: {attempt}"
    );
    let pid = attempt["id"].as_str().unwrap();
    let confirm = |body: Value| {
        let app = &app;
        let token = buyer.access.clone();
        async move {
            app.post_auth(&format!("/api/v1/payments/{pid}/confirm"), &token, body)
                .await
        }
    };
    // Back without paying: nothing to approve yet.
    let res = confirm(json!({"amount": total})).await;
    assert_problem(res, StatusCode::CONFLICT, "payment_not_completed").await;
    // A forged token is refused by KakaoPay and declines the attempt.
    let pg_token = kakao.buyer_pays(&tid);
    let res = confirm(json!({"amount": total, "pg_token": "forged"})).await;
    assert_problem(res, StatusCode::PAYMENT_REQUIRED, "payment_declined").await;

    // A new attempt, paid for real.
    let res = app
        .post_auth(
            &format!("/api/v1/orders/{oid}/payments"),
            &buyer.access,
            json!({"provider": "kakaopay"}),
        )
        .await;
    let attempt: Value = res.json().await.unwrap();
    let tid = attempt["payment_key"].as_str().unwrap().to_owned();
    let pid = attempt["id"].as_str().unwrap().to_owned();
    let pg_token2 = kakao.buyer_pays(&tid);
    assert_ne!(pg_token, pg_token2);
    let res = app
        .post_auth(
            &format!("/api/v1/payments/{pid}/confirm"),
            &buyer.access,
            json!({"amount": total, "pg_token": pg_token2}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(kakao.state_of(&tid).unwrap().0, "SUCCESS_PAYMENT");

    let res = app
        .post_auth(
            &format!("/api/v1/orders/{oid}/refunds"),
            &buyer.access,
            json!({"lines": [{"line_no": 1, "quantity": 1}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        kakao.state_of(&tid),
        Some(("PART_CANCEL_PAYMENT".into(), 12_000))
    );
    let res = app
        .post_auth(
            &format!("/api/v1/orders/{oid}/refunds"),
            &buyer.access,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(kakao.state_of(&tid), Some(("CANCEL_PAYMENT".into(), total)));
    let now = app
        .get_json(&format!("/api/v1/orders/{oid}"), Some(&buyer.access))
        .await;
    assert_eq!(now["status"], "CANCELLED");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn kakaopay_reporting_another_charge_is_refused_and_cancelled_at_kakaopay() {
    let (app, kakao) = kakaopay_app().await;
    let seller = app.seller("kp.mm.seller@example.com").await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("카카오 컵", 9_000).variant("KP-MM", 10),
        )
        .await;
    let v = variant_id(&product, 0).to_string();
    let buyer = app.buyer("kp.mm.buyer@example.com").await;
    let order: Value = app.buy_now(&buyer, &[(&v, 1)]).await.json().await.unwrap();
    let total = order["total"].as_i64().unwrap();
    let oid = order["id"].as_str().unwrap();
    let attempt: Value = app
        .post_auth(
            &format!("/api/v1/orders/{oid}/payments"),
            &buyer.access,
            json!({"provider": "kakaopay"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let tid = attempt["payment_key"].as_str().unwrap().to_owned();
    let pid = attempt["id"].as_str().unwrap();
    let pg_token = kakao.buyer_pays(&tid);
    kakao.charges_instead(&tid, total - 1_000);
    let res = app
        .post_auth(
            &format!("/api/v1/payments/{pid}/confirm"),
            &buyer.access,
            json!({"amount": total, "pg_token": pg_token}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "payment_amount_mismatch").await;
    assert_eq!(
        kakao.state_of(&tid).unwrap(),
        ("CANCEL_PAYMENT".to_owned(), total - 1_000),
        "the charge KakaoPay reported is cancelled there"
    );
    let now = app
        .get_json(&format!("/api/v1/orders/{oid}"), Some(&buyer.access))
        .await;
    assert_eq!(now["status"], "PENDING");
    assert_eq!(now["payments"][0]["status"], "FAILED");
    assert_invariants(&app).await;
}
