//! The cart: lines merge per variant, show current prices and stock, total what is selected
//! and can be bought, refuse what cannot be in a cart, belong to their owner only, and
//! expire 7 days after the last change.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

async fn cart(app: &TestApp, who: &Session) -> Value {
    app.get_json("/api/v1/cart", Some(&who.access)).await
}

async fn add(app: &TestApp, who: &Session, variant: &str, quantity: i64) -> reqwest::Response {
    app.post_auth(
        "/api/v1/cart/items",
        &who.access,
        json!({"variant_id": variant, "quantity": quantity}),
    )
    .await
}

fn line<'a>(cart: &'a Value, variant: &str) -> &'a Value {
    cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["variant_id"] == variant)
        .unwrap_or_else(|| panic!("no line for {variant} in {cart}"))
}

/// A seller's product with two variants: the second costs 2,000 more and has 3 units.
async fn shop(app: &TestApp) -> (Session, Value, String, String) {
    let seller = app.seller("cart.seller@example.com").await;
    let product = app
        .product(
            &seller,
            ProductSpec::on_sale("장바구니 머그", 12_000)
                .variant("MUG-S", 50)
                .variant_json(
                    json!({"sku": "MUG-L", "name": "L", "price_delta": 2000, "stock": 3}),
                ),
        )
        .await;
    let small = variant_id(&product, 0).to_string();
    let large = variant_id(&product, 1).to_string();
    (seller, product, small, large)
}

#[tokio::test]
async fn lines_merge_and_the_cart_totals_what_is_selected() {
    let app = spawn_app().await;
    let (_seller, _product, small, large) = shop(&app).await;
    let kim = app.user("kim.cart@example.com").await;

    let empty = cart(&app, &kim).await;
    assert_eq!(empty["items"], json!([]));
    assert_eq!(empty["selected_total"], 0);
    assert_eq!(empty["expires_at"], Value::Null);

    assert_eq!(add(&app, &kim, &small, 2).await.status(), StatusCode::OK);
    let res = add(&app, &kim, &small, 1).await;
    assert_eq!(res.status(), StatusCode::OK);
    let c: Value = res.json().await.unwrap();
    assert_eq!(
        c["items"].as_array().unwrap().len(),
        1,
        "one line per variant"
    );
    assert_eq!(line(&c, &small)["quantity"], 3);
    assert_eq!(line(&c, &small)["unit_price"], 12_000);
    assert_eq!(line(&c, &small)["line_total"], 36_000);
    assert_eq!(line(&c, &small)["status"], "AVAILABLE");

    let c: Value = add(&app, &kim, &large, 5).await.json().await.unwrap();
    let l = line(&c, &large);
    assert_eq!(
        (l["unit_price"].clone(), l["stock"].clone()),
        (json!(14_000), json!(3))
    );
    assert_eq!(l["status"], "INSUFFICIENT_STOCK");
    // Only what can be bought as it is counts.
    assert_eq!(c["selected_count"], 1);
    assert_eq!(c["selected_total"], 36_000);
    assert_eq!(c["currency"], "KRW");
    assert!(c["expires_at"].is_string());

    let res = app
        .patch_auth(
            &format!("/api/v1/cart/items/{large}"),
            &kim.access,
            json!({"quantity": 3}),
        )
        .await;
    let c: Value = res.json().await.unwrap();
    assert_eq!(line(&c, &large)["status"], "AVAILABLE");
    assert_eq!(c["selected_count"], 2);
    assert_eq!(c["selected_quantity"], 6);
    assert_eq!(c["selected_total"], 36_000 + 42_000);

    // Select only the large mug, then remove what is selected.
    let res = app
        .put_auth(
            "/api/v1/cart/selection",
            &kim.access,
            json!({"variant_ids": [large]}),
        )
        .await;
    let c: Value = res.json().await.unwrap();
    assert_eq!(line(&c, &small)["selected"], false);
    assert_eq!(c["selected_total"], 42_000);
    let res = app
        .request(
            Method::DELETE,
            "/api/v1/cart/selected",
            Some(&kim.access),
            None,
        )
        .await;
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["items"].as_array().unwrap().len(), 1);
    assert_eq!(line(&c, &small)["quantity"], 3);
    assert_eq!(c["selected_total"], 0);

    // Adding a deselected line's variant again selects the line: the shopper means to buy it.
    let c: Value = add(&app, &kim, &small, 1).await.json().await.unwrap();
    assert_eq!(line(&c, &small)["quantity"], 4);
    assert_eq!(line(&c, &small)["selected"], true);
    assert_eq!(c["selected_total"], 48_000);

    let res = app
        .delete_auth(&format!("/api/v1/cart/items/{small}"), &kim.access)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(cart(&app, &kim).await["items"], json!([]));
    assert_invariants(&app).await;
}

#[tokio::test]
async fn the_cart_shows_prices_and_stock_as_they_are_now() {
    let app = spawn_app().await;
    let (seller, product, small, _large) = shop(&app).await;
    let lee = app.user("lee.cart@example.com").await;
    add(&app, &lee, &small, 2).await;
    let id = product["id"].as_str().unwrap();
    let res = app
        .patch_auth(
            &format!("/api/v1/products/{id}"),
            &seller.access,
            json!({"price": 9_000}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(line(&cart(&app, &lee).await, &small)["unit_price"], 9_000);

    let res = app
        .patch_auth(
            &format!("/api/v1/products/{id}"),
            &seller.access,
            json!({"status": "HIDDEN"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let c = cart(&app, &lee).await;
    assert_eq!(line(&c, &small)["status"], "UNAVAILABLE");
    assert_eq!(c["selected_total"], 0);
}

#[tokio::test]
async fn what_cannot_be_in_a_cart_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (seller, _product, small, _large) = shop(&app).await;
    let park = app.user("park.cart@example.com").await;
    let draft = app
        .product(
            &seller,
            ProductSpec::new("초안", 1_000).variant("DRAFT-1", 5),
        )
        .await;
    let draft_variant = variant_id(&draft, 0).to_string();

    for (body, status, code) in [
        (
            json!({"variant_id": small, "quantity": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"variant_id": small, "quantity": 1000}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"quantity": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"variant_id": uuid::Uuid::now_v7(), "quantity": 1}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            json!({"variant_id": draft_variant, "quantity": 1}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        let res = app
            .post_auth("/api/v1/cart/items", &park.access, body.clone())
            .await;
        assert_problem(res, status, code).await;
    }
    assert_eq!(cart(&app, &park).await["items"], json!([]));

    add(&app, &park, &small, 999).await;
    let res = add(&app, &park, &small, 1).await;
    assert_problem(res, StatusCode::CONFLICT, "quantity_limit").await;
    assert_eq!(line(&cart(&app, &park).await, &small)["quantity"], 999);

    let res = app
        .put_auth(
            "/api/v1/cart/selection",
            &park.access,
            json!({"variant_ids": [uuid::Uuid::now_v7()]}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(line(&cart(&app, &park).await, &small)["selected"], true);

    let res = app.get("/api/v1/cart").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_cart_is_its_owners_only() {
    let app = spawn_app().await;
    let (_seller, _product, small, _large) = shop(&app).await;
    let owner = app.user("owner.cart@example.com").await;
    let other = app.user("other.cart@example.com").await;
    add(&app, &owner, &small, 2).await;
    assert_eq!(cart(&app, &other).await["items"], json!([]));
    // Another user naming the owner's line changes only their own (empty) cart.
    let res = app
        .patch_auth(
            &format!("/api/v1/cart/items/{small}"),
            &other.access,
            json!({"quantity": 7}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .delete_auth(&format!("/api/v1/cart/items/{small}"), &other.access)
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(line(&cart(&app, &owner).await, &small)["quantity"], 2);
}

#[tokio::test]
async fn a_cart_expires_seven_days_after_its_last_change() {
    let app = spawn_app().await;
    let (_seller, _product, small, large) = shop(&app).await;
    let choi = app.user("choi.cart@example.com").await;
    add(&app, &choi, &small, 1).await;
    // A second shopper's cart also expires, and is changed before the job has run.
    let han = app.user("han.cart@example.com").await;
    add(&app, &han, &small, 2).await;
    let lines = || async {
        use jangteo_store::entities::cart_lines;
        use sea_orm::{EntityTrait, PaginatorTrait};
        cart_lines::Entity::find()
            .count(app.services.db())
            .await
            .unwrap()
    };

    // A change on day 6 keeps it for another week.
    app.clock.advance(chrono::Duration::days(6));
    let choi = app.session("choi.cart@example.com", PASSWORD).await;
    add(&app, &choi, &large, 1).await;
    app.clock.advance(chrono::Duration::days(6));
    let choi = app.session("choi.cart@example.com", PASSWORD).await;
    assert_eq!(
        cart(&app, &choi).await["items"].as_array().unwrap().len(),
        2
    );

    // A week after the last change it is empty at once, and the job deletes it.
    app.clock.advance(chrono::Duration::days(1));
    let choi = app.session("choi.cart@example.com", PASSWORD).await;
    assert_eq!(cart(&app, &choi).await["items"], json!([]));
    assert_eq!(lines().await, 3);
    // A change to an expired cart whose lines are still stored starts afresh: the old
    // line of the same variant is not added to.
    let han = app.session("han.cart@example.com", PASSWORD).await;
    let fresh: Value = add(&app, &han, &small, 1).await.json().await.unwrap();
    assert_eq!(fresh["items"].as_array().unwrap().len(), 1);
    assert_eq!(line(&fresh, &small)["quantity"], 1);
    assert_eq!(fresh, cart(&app, &han).await);
    app.run_jobs().await;
    assert_eq!(lines().await, 1, "the job leaves the live cart alone");
    assert_eq!(line(&cart(&app, &han).await, &small)["quantity"], 1);
    // A new line starts a new cart; the old lines do not come back.
    let c: Value = add(&app, &choi, &small, 1).await.json().await.unwrap();
    assert_eq!(c["items"].as_array().unwrap().len(), 1);
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_full_cart_refuses_a_new_product_and_still_adds_to_its_lines() {
    let app = spawn_app().await;
    let seller = app.seller("full.cart.seller@example.com").await;
    let mut spec = ProductSpec::on_sale("옵션 많은 양말", 3_000);
    for i in 0..100 {
        spec = spec.variant_named(&format!("SOCK-{i}"), &format!("색 {i}"), 10);
    }
    let many = app.product(&seller, spec).await;
    let other = app
        .product(
            &seller,
            ProductSpec::on_sale("한 켤레", 5_000).variant("ONE", 10),
        )
        .await;
    let choi = app.user("choi.full@example.com").await;
    for i in 0..100 {
        let res = add(&app, &choi, &variant_id(&many, i).to_string(), 1).await;
        assert_eq!(res.status(), StatusCode::OK, "line {i}");
    }

    let res = add(&app, &choi, &variant_id(&other, 0).to_string(), 1).await;
    assert_problem(res, StatusCode::CONFLICT, "cart_full").await;
    let full = cart(&app, &choi).await;
    assert_eq!(
        full["items"].as_array().unwrap().len(),
        100,
        "nothing added"
    );

    // A line already in the cart still takes more units, and the answer is the cart.
    let first = variant_id(&many, 0).to_string();
    let res = add(&app, &choi, &first, 2).await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["items"].as_array().unwrap().len(), 100);
    assert_eq!(line(&answer, &first)["quantity"], 3);
    assert_eq!(
        answer,
        cart(&app, &choi).await,
        "the answer is the cart as it is"
    );
}
