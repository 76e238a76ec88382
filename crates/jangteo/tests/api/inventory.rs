//! Inventory: stock only moves by conditional updates, every move is in the ledger, and the
//! audit catches a stock value that does not match its ledger.

use futures::future::join_all;
use jangteo_store::entities::variants;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

async fn one_variant_product(
    app: &TestApp,
    seller: &Session,
    sku: &str,
    stock: i64,
) -> (String, Uuid) {
    let p = app
        .product(
            seller,
            ProductSpec::on_sale("한정판", 30000).variant(sku, stock),
        )
        .await;
    (p["id"].as_str().unwrap().to_owned(), variant_id(&p, 0))
}

async fn ledger_sum(app: &TestApp, variant: Uuid) -> i128 {
    jangteo_store::inventory::ledger_sum(app.services.db(), variant.into())
        .await
        .unwrap()
}

#[tokio::test]
async fn two_hundred_racing_decrements_of_fifty_units_sell_exactly_fifty() {
    let app = spawn_app().await;
    let s = app.seller("race.stock@example.com").await;
    let (_, variant) = one_variant_product(&app, &s, "RACE-50", 50).await;
    let inventory = app.services.inventory();
    let results = join_all((0..200).map(|i| {
        let inventory = &inventory;
        async move {
            inventory
                .take(
                    variant.into(),
                    1,
                    jangteo_core::inventory::StockReason::Sale,
                    Some(&format!("order-{i}")),
                )
                .await
        }
    }))
    .await;
    let sold = results.iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    let refused = results.iter().filter(|r| matches!(r, Ok(None))).count();
    assert_eq!(sold, 50, "exactly the stock was sold");
    assert_eq!(refused, 150);
    assert_eq!(
        jangteo_store::inventory::stock_of(app.services.db(), variant.into())
            .await
            .unwrap(),
        0
    );
    assert_eq!(ledger_sum(&app, variant).await, -50, "ledger balanced");
    assert_invariants(&app).await;
}

#[tokio::test]
async fn racing_stock_adjustments_over_http_never_go_negative() {
    let app = spawn_app().await;
    let s = app.seller("race.http@example.com").await;
    let (product, variant) = one_variant_product(&app, &s, "RACE-HTTP", 50).await;
    let path = format!("/api/v1/products/{product}/variants/{variant}/stock-adjustments");
    let body = json!({"delta": -1, "reason": "DAMAGE"});
    let results = join_all((0..200).map(|_| app.post_auth(&path, &s.access, body.clone()))).await;
    let ok = results
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    let conflicts = results
        .iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, conflicts), (50, 150));
    assert_eq!(
        jangteo_store::inventory::stock_of(app.services.db(), variant.into())
            .await
            .unwrap(),
        0
    );
    assert_eq!(ledger_sum(&app, variant).await, -50);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn adjustments_are_validated_and_recorded_in_the_ledger() {
    let app = spawn_app().await;
    let s = app.seller("ledger@example.com").await;
    let (product, variant) = one_variant_product(&app, &s, "LEDGER-1", 5).await;
    let base = format!("/api/v1/products/{product}/variants/{variant}");
    let adjust_path = format!("{base}/stock-adjustments");
    let adjust = |delta: Value, reason: &str| {
        app.post_auth(
            &adjust_path,
            &s.access,
            json!({"delta": delta, "reason": reason, "reference": "입고 #12"}),
        )
    };

    let res = adjust(json!(10), "RESTOCK").await;
    assert_eq!(res.json::<Value>().await.unwrap()["stock"], 15);
    let res = adjust(json!(-16), "DAMAGE").await;
    assert_problem(res, StatusCode::CONFLICT, "insufficient_stock").await;
    let p = assert_problem(
        adjust(json!(0), "THEFT").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&p), ["delta", "reason"]);
    assert_problem(
        adjust(json!("ten"), "RESTOCK").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let res = app
        .post_auth(
            &format!(
                "/api/v1/products/{product}/variants/{}/stock-adjustments",
                Uuid::now_v7()
            ),
            &s.access,
            json!({"delta": 1, "reason": "RESTOCK"}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;

    let ledger: Value = app
        .get_auth(&format!("{base}/ledger"), &s.access)
        .await
        .json()
        .await
        .unwrap();
    let items = ledger["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "refused changes leave no trace");
    assert_eq!(items[0]["delta"], 10);
    assert_eq!(items[0]["reason"], "RESTOCK");
    assert_eq!(items[0]["reference"], "입고 #12");
    assert_eq!(items[0]["actor_id"], s.user_id.to_string());
    let other = app.seller("nosy@example.com").await;
    assert_eq!(
        app.get_auth(&format!("{base}/ledger"), &other.access)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn audit_detects_a_tampered_stock_value() {
    let app = spawn_app().await;
    let s = app.seller("audit@example.com").await;
    let (_, v1) = one_variant_product(&app, &s, "AUDIT-1", 7).await;
    let (_, v2) = one_variant_product(&app, &s, "AUDIT-2", 3).await;
    app.services
        .inventory()
        .take(
            v1.into(),
            2,
            jangteo_core::inventory::StockReason::Sale,
            None,
        )
        .await
        .unwrap();
    let (checked, findings) = app.services.inventory().audit().await.unwrap();
    assert_eq!((checked, findings.len()), (2, 0));

    // Someone edits the table by hand, bypassing the ledger.
    variants::Entity::update_many()
        .col_expr(variants::Column::Stock, Expr::value(100i64))
        .filter(variants::Column::Id.eq(v2))
        .exec(app.services.db())
        .await
        .unwrap();
    let (_, findings) = app.services.inventory().audit().await.unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].sku, "AUDIT-2");
    assert_eq!(
        (
            findings[0].stock,
            findings[0].initial_stock,
            findings[0].ledger_sum
        ),
        (100, 3, 0)
    );
}
