//! Integers that come from outside are bounded: extreme and near-limit values get a clear
//! 422 (bodies) or 400 (query strings) and change nothing, and no stock or price wraps.

use jangteo_core::catalog::{MAX_PRICE, MAX_STOCK};
use jangteo_store::entities::{inventory_ledger, variants};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

const EXTREMES: [i64; 4] = [i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1];

async fn stock_of(app: &TestApp, variant: Uuid) -> i64 {
    variants::Entity::find_by_id(variant)
        .one(app.services.db())
        .await
        .unwrap()
        .unwrap()
        .stock
}

#[tokio::test]
async fn stock_adjustments_at_the_limits_never_wrap() {
    let app = spawn_app().await;
    let s = app.seller("bounds@example.com").await;
    let p = app
        .product(
            &s,
            ProductSpec::on_sale("경계", 1000)
                .variant_named("B-1", "a", 5)
                .variant_named("B-2", "b", 5),
        )
        .await;
    let id = p["id"].as_str().unwrap();
    let adjust = |variant: String, delta: i64| {
        let path = format!("/api/v1/products/{id}/variants/{variant}/stock-adjustments");
        let token = s.access.clone();
        let app = &app;
        async move {
            app.post_auth(
                &path,
                &token,
                json!({"delta": delta, "reason": "CORRECTION"}),
            )
            .await
        }
    };
    let v1 = p["variants"][0]["id"].as_str().unwrap().to_owned();
    let v2 = p["variants"][1]["id"].as_str().unwrap().to_owned();
    for delta in EXTREMES.into_iter().chain([-MAX_STOCK - 1, MAX_STOCK + 1]) {
        for v in [&v1, &v2] {
            let problem = assert_problem(
                adjust(v.clone(), delta).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await;
            assert_eq!(fields(&problem), ["delta"], "{delta}");
        }
    }
    // At the limit: a removal larger than the stock is a conflict, an addition up to the
    // maximum is fine, one more unit is refused without wrapping.
    assert_problem(
        adjust(v1.clone(), -MAX_STOCK).await,
        StatusCode::CONFLICT,
        "insufficient_stock",
    )
    .await;
    let res = adjust(v1.clone(), MAX_STOCK - 5).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(
        adjust(v1.clone(), 1).await,
        StatusCode::CONFLICT,
        "stock_limit",
    )
    .await;

    let detail: Value = app.get_json(&format!("/api/v1/products/{id}"), None).await;
    assert_eq!(detail["total_stock"], MAX_STOCK + 5);
    assert_eq!(stock_of(&app, v1.parse().unwrap()).await, MAX_STOCK);
    assert_eq!(stock_of(&app, v2.parse().unwrap()).await, 5);
    let (checked, findings) = app.services.inventory().audit().await.unwrap();
    assert_eq!((checked, findings.len()), (2, 0));

    // A sale of a nonsensical quantity is refused before it reaches the database.
    for qty in [0, -1, i64::MIN, i64::MAX, MAX_STOCK + 1] {
        assert!(
            app.services
                .inventory()
                .take(
                    v2.parse().unwrap(),
                    qty,
                    jangteo_core::inventory::StockReason::Sale,
                    None
                )
                .await
                .is_err(),
            "{qty}"
        );
    }
    assert_eq!(stock_of(&app, v2.parse().unwrap()).await, 5);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn prices_deltas_and_initial_stock_at_the_limits() {
    let app = spawn_app().await;
    let s = app.seller("prices@example.com").await;
    let product = |price: i64, delta: i64, stock: i64| {
        ProductSpec::on_sale("가격", price)
            .variant_json(json!({"sku": "P-1", "name": "a", "price_delta": delta, "stock": stock}))
            .json()
    };
    for v in EXTREMES {
        for (body, field) in [
            (product(v, 0, 1), "price"),
            (product(1000, v, 1), "variants[0].price_delta"),
            (product(1000, 0, v), "variants[0].stock"),
        ] {
            let problem = assert_problem(
                app.post_auth("/api/v1/products", &s.access, body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await;
            assert_eq!(fields(&problem), [field], "{v}");
        }
    }
    // price + delta above the maximum price, and a delta below −price.
    for (price, delta) in [(MAX_PRICE, 1), (1, MAX_PRICE), (1000, -1001)] {
        let res = app
            .post_auth("/api/v1/products", &s.access, product(price, delta, 1))
            .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let p = app
        .product(&s, product(MAX_PRICE, -MAX_PRICE, MAX_STOCK))
        .await;
    assert_eq!(p["variants"][0]["price"], 0);
    let id = p["id"].as_str().unwrap();
    let variant = p["variants"][0]["id"].as_str().unwrap();

    // Patching the variant's delta or the product's price is bounded the same way: out of
    // range is a bad body (422); within range but leaving the variant's price out of range
    // conflicts with the product as it is (409).
    for v in EXTREMES {
        let res = app
            .patch_auth(
                &format!("/api/v1/products/{id}/variants/{variant}"),
                &s.access,
                json!({"price_delta": v}),
            )
            .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let res = app
        .patch_auth(
            &format!("/api/v1/products/{id}/variants/{variant}"),
            &s.access,
            json!({"price_delta": 1}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "variant_price_out_of_range").await;
    let res = app
        .patch_auth(
            &format!("/api/v1/products/{id}"),
            &s.access,
            json!({"price": 0}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "variant_price_out_of_range").await;
    for v in EXTREMES.into_iter().chain([-1, MAX_PRICE + 1]) {
        let res = app
            .patch_auth(
                &format!("/api/v1/products/{id}"),
                &s.access,
                json!({"price": v}),
            )
            .await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }
    let detail: Value = app.get_json(&format!("/api/v1/products/{id}"), None).await;
    assert_eq!(
        (
            detail["price"].as_i64(),
            detail["variants"][0]["price"].as_i64()
        ),
        (Some(MAX_PRICE), Some(0)),
        "nothing changed"
    );
    assert_invariants(&app).await;
}

#[tokio::test]
async fn query_integers_and_category_positions_are_bounded() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for v in [i64::from(i32::MIN), -1, 1_000_001, i64::from(i32::MAX)] {
        let res = app
            .post_auth(
                "/api/v1/categories",
                &admin.access,
                json!({"name": "위치", "position": v}),
            )
            .await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(fields(&problem), ["position"], "{v}");
    }
    for query in [
        "/api/v1/products?min_price=-9223372036854775808",
        "/api/v1/products?max_price=9223372036854775807",
        "/api/v1/products?min_price=-1",
        "/api/v1/products?limit=0",
        "/api/v1/products?limit=18446744073709551615",
        "/api/v1/products?limit=18446744073709551616",
        "/api/v1/products/popular?days=0",
        "/api/v1/products/popular?days=4294967295",
        "/api/v1/products/popular?days=4294967296",
        "/api/v1/search?min_price=-1",
        "/api/v1/search?max_price=18446744073709551615",
        "/api/v1/search?page=18446744073709551615",
        "/api/v1/search?size=0",
        "/api/v1/search/autocomplete?limit=0",
        "/api/v1/search/popular-terms?limit=9223372036854775807",
    ] {
        assert_problem(
            app.get(query).await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
    }
    assert_problem(
        app.get_auth("/api/v1/admin/users?limit=0", &admin.access)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn the_audit_reports_negative_stock_and_sums_without_wrapping() {
    let app = spawn_app().await;
    let s = app.seller("wrap@example.com").await;
    let p = app
        .product(
            &s,
            ProductSpec::on_sale("감사", 1000)
                .variant_named("W-1", "a", 0)
                .variant_named("W-2", "b", 0),
        )
        .await;
    let (v1, v2) = (variant_id(&p, 0), variant_id(&p, 1));
    let ledger_row = |variant: Uuid, delta: i64| inventory_ledger::Model {
        id: Uuid::now_v7(),
        variant_id: variant,
        delta,
        reason: "CORRECTION".into(),
        reference: None,
        actor_id: None,
        created_at: app.clock_now(),
    };
    // W-1: stock and ledger agree, but the stock is negative.
    ledger_row(v1, -5)
        .into_active_model()
        .insert(app.services.db())
        .await
        .unwrap();
    // W-2: three deltas whose i64 sum wraps to exactly the stock (0): MAX + MAX + 2 = 2^64.
    for delta in [i64::MAX, i64::MAX, 2] {
        ledger_row(v2, delta)
            .into_active_model()
            .insert(app.services.db())
            .await
            .unwrap();
    }
    variants::Entity::update_many()
        .col_expr(variants::Column::Stock, Expr::value(-5i64))
        .filter(variants::Column::Id.eq(v1))
        .exec(app.services.db())
        .await
        .unwrap();

    let (checked, mut findings) = app.services.inventory().audit().await.unwrap();
    findings.sort_by(|a, b| a.sku.cmp(&b.sku));
    assert_eq!(checked, 2);
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert_eq!(findings[0].sku, "W-1");
    assert!(findings[0].is_negative());
    assert_eq!(findings[0].expected(), -5);
    assert_eq!(findings[1].sku, "W-2");
    assert_eq!(findings[1].ledger_sum, 2 * i128::from(i64::MAX) + 2);
    assert!(!findings[1].is_negative());

    // The product page must not call a negative stock "in stock".
    let detail: Value = app
        .get_json(
            &format!("/api/v1/products/{}", p["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(detail["stock_status"], "OUT_OF_STOCK");
}
