//! Idempotency keys (`Idempotency-Key`), on product creation: a retry gets the first
//! result, never a second product; a key reused with another body is refused; a key is the
//! caller's own; a failed attempt consumes nothing; keys expire and are pruned.

use jangteo_store::entities::{idempotency_keys, products};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

use crate::support::*;

async fn create(app: &TestApp, seller: &Session, key: &str, body: &Value) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/products"))
        .bearer_auth(&seller.access)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

async fn products_named(app: &TestApp, name: &str) -> u64 {
    products::Entity::find()
        .filter(products::Column::Name.eq(name))
        .count(app.services.db())
        .await
        .expect("count")
}

fn replayed(res: &reqwest::Response) -> bool {
    res.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

#[tokio::test]
async fn a_retried_create_answers_with_the_first_product() {
    let app = spawn_app().await;
    let seller = app.seller("idem-seller@example.com").await;
    let body = ProductSpec::on_sale("멱등 상품", 12_000)
        .variant("IDEM-1", 5)
        .json();
    let first = create(&app, &seller, "key-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(!replayed(&first));
    let first: Value = first.json().await.unwrap();

    // The same body with other whitespace and key order is the same request.
    let reordered: Value =
        serde_json::from_str(&serde_json::to_string_pretty(&body).unwrap()).unwrap();
    let again = create(&app, &seller, "key-1", &reordered).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert!(replayed(&again));
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(products_named(&app, "멱등 상품").await, 1);

    // Another body under the key is a client error and changes nothing.
    let other = ProductSpec::on_sale("다른 상품", 1_000)
        .variant("IDEM-2", 1)
        .json();
    let refused = create(&app, &seller, "key-1", &other).await;
    assert_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(products_named(&app, "다른 상품").await, 0);

    // Keys are per caller: another seller's "key-1" is a new request.
    let rival = app.seller("idem-rival@example.com").await;
    let theirs = create(
        &app,
        &rival,
        "key-1",
        &ProductSpec::on_sale("멱등 상품", 12_000)
            .variant("IDEM-3", 5)
            .json(),
    )
    .await;
    assert_eq!(theirs.status(), StatusCode::CREATED);
    assert!(!replayed(&theirs));
    assert_eq!(products_named(&app, "멱등 상품").await, 2);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_one_product() {
    let app = spawn_app().await;
    let seller = app.seller("idem-race@example.com").await;
    let body = ProductSpec::on_sale("경쟁 상품", 5_000)
        .variant("RACE-1", 3)
        .json();
    let answers = futures::future::join_all((0..16).map(|_| async {
        let res = create(&app, &seller, "race-key", &body).await;
        let status = res.status();
        let was_replayed = replayed(&res);
        let json: Value = res.json().await.unwrap_or(Value::Null);
        (status, was_replayed, json["id"].as_str().map(str::to_owned))
    }))
    .await;
    for (status, _, _) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{answers:?}");
    }
    let ids: std::collections::HashSet<_> = answers.iter().map(|a| a.2.clone()).collect();
    assert_eq!(
        ids.len(),
        1,
        "every answer names the one product: {answers:?}"
    );
    assert_eq!(answers.iter().filter(|a| !a.1).count(), 1, "{answers:?}");
    assert_eq!(products_named(&app, "경쟁 상품").await, 1);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_failed_attempt_leaves_the_key_unused() {
    let app = spawn_app().await;
    let seller = app.seller("idem-fail@example.com").await;
    app.product(
        &seller,
        ProductSpec::on_sale("먼저", 1_000).variant("TAKEN-1", 1),
    )
    .await;
    // The SKU is taken: 409, and the key is not recorded (its transaction rolled back).
    let clash = ProductSpec::on_sale("나중", 1_000)
        .variant("TAKEN-1", 1)
        .json();
    let res = create(&app, &seller, "retry-key", &clash).await;
    assert_problem(res, StatusCode::CONFLICT, "sku_taken").await;
    let fixed = ProductSpec::on_sale("나중", 1_000)
        .variant("FREE-1", 1)
        .json();
    let res = create(&app, &seller, "retry-key", &fixed).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(!replayed(&res));
    assert_eq!(products_named(&app, "나중").await, 1);
}

#[tokio::test]
async fn malformed_keys_are_refused_before_anything_happens() {
    let app = spawn_app().await;
    let seller = app.seller("idem-bad@example.com").await;
    let body = ProductSpec::on_sale("나쁜 키", 1_000)
        .variant("BAD-1", 1)
        .json();
    for key in ["has space".to_owned(), "k".repeat(256)] {
        let res = create(&app, &seller, &key, &body).await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(fields(&problem), vec!["Idempotency-Key"]);
    }
    assert_eq!(products_named(&app, "나쁜 키").await, 0);
}

#[tokio::test]
async fn keys_expire_after_a_day_and_are_pruned() {
    let app = spawn_app().await;
    let seller = app.seller("idem-expiry@example.com").await;
    let body = ProductSpec::on_sale("하루 상품", 1_000)
        .variant("DAY-1", 1)
        .json();
    let res = create(&app, &seller, "day-key", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let keys = || async {
        idempotency_keys::Entity::find()
            .count(app.services.db())
            .await
            .expect("count")
    };
    assert_eq!(keys().await, 1);

    app.clock.advance(chrono::Duration::hours(25));
    // An expired key is a new key (the SKU must be new too: it is a new product).
    let seller = app.session("idem-expiry@example.com", PASSWORD).await;
    let body = ProductSpec::on_sale("하루 상품", 1_000)
        .variant("DAY-2", 1)
        .json();
    let res = create(&app, &seller, "day-key", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(!replayed(&res));
    assert_eq!(products_named(&app, "하루 상품").await, 2);

    // The hourly prune job forgets keys past their day.
    app.clock.advance(chrono::Duration::hours(25));
    app.run_jobs().await;
    assert_eq!(keys().await, 0);
    assert_invariants(&app).await;
}
