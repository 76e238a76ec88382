//! The wishlist: like (twice is once), unlike, list with current listings, remove several,
//! and move to the cart (a product of several variants needs one named; a bad item moves
//! nothing).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

async fn likes(app: &TestApp, who: &Session) -> Vec<Value> {
    app.get_json("/api/v1/wishlist", Some(&who.access)).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn like(app: &TestApp, who: &Session, product: &str) -> reqwest::Response {
    app.request(
        Method::PUT,
        &format!("/api/v1/wishlist/{product}"),
        Some(&who.access),
        None,
    )
    .await
}

#[tokio::test]
async fn likes_are_listed_removed_and_moved_to_the_cart() {
    let app = spawn_app().await;
    let seller = app.seller("like.seller@example.com").await;
    let single = app
        .product(
            &seller,
            ProductSpec::on_sale("한 가지", 5_000).variant("ONE-1", 10),
        )
        .await;
    let several = app
        .product(
            &seller,
            ProductSpec::on_sale("여러 가지", 7_000)
                .variant("MANY-1", 10)
                .variant("MANY-2", 10),
        )
        .await;
    let draft = app
        .product(
            &seller,
            ProductSpec::new("비공개", 1_000).variant("HID-1", 1),
        )
        .await;
    let (single_id, several_id) = (
        single["id"].as_str().unwrap().to_owned(),
        several["id"].as_str().unwrap().to_owned(),
    );
    let kim = app.user("kim.like@example.com").await;
    for _ in 0..2 {
        assert_eq!(
            like(&app, &kim, &single_id).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        like(&app, &kim, &several_id).await.status(),
        StatusCode::NO_CONTENT
    );
    let res = like(&app, &kim, draft["id"].as_str().unwrap()).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let items = likes(&app, &kim).await;
    assert_eq!(items.len(), 2, "liking twice is liking once");
    assert_eq!(
        items[0]["product"]["id"],
        several_id.as_str(),
        "newest first"
    );
    assert_eq!(items[1]["product"]["price"], 5_000);
    // Another user's wishlist is their own.
    let lee = app.user("lee.like@example.com").await;
    assert!(likes(&app, &lee).await.is_empty());

    // A product of several variants needs one named: nothing moves.
    let res = app
        .post_auth(
            "/api/v1/wishlist/to-cart",
            &kim.access,
            json!({"items": [{"product_id": single_id}, {"product_id": several_id}]}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(fields(&problem), vec!["items[1].variant_id"]);
    assert_eq!(likes(&app, &kim).await.len(), 2);
    assert_eq!(
        app.get_json("/api/v1/cart", Some(&kim.access)).await["items"],
        json!([])
    );

    let second = variant_id(&several, 1).to_string();
    let res = app
        .post_auth(
            "/api/v1/wishlist/to-cart",
            &kim.access,
            json!({"items": [
                {"product_id": single_id, "quantity": 2},
                {"product_id": several_id, "variant_id": second}
            ]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cart: Value = res.json().await.unwrap();
    assert_eq!(cart["items"].as_array().unwrap().len(), 2);
    assert_eq!(cart["selected_total"], 2 * 5_000 + 7_000);
    assert!(
        likes(&app, &kim).await.is_empty(),
        "moved products leave the wishlist"
    );

    like(&app, &kim, &single_id).await;
    like(&app, &kim, &several_id).await;
    let res = app
        .post_auth(
            "/api/v1/wishlist/remove",
            &kim.access,
            json!({"product_ids": [single_id]}),
        )
        .await;
    let left: Value = res.json().await.unwrap();
    assert_eq!(left["items"].as_array().unwrap().len(), 1);
    let res = app
        .delete_auth(&format!("/api/v1/wishlist/{several_id}"), &kim.access)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(likes(&app, &kim).await.is_empty());
    assert_eq!(
        app.get("/api/v1/wishlist").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_invariants(&app).await;
}

#[tokio::test]
async fn a_move_that_fails_midway_moves_nothing() {
    let app = spawn_app().await;
    let seller = app.seller("move.seller@example.com").await;
    let first = app
        .product(
            &seller,
            ProductSpec::on_sale("첫째", 1_000).variant("MOVE-1", 10),
        )
        .await;
    let full = app
        .product(
            &seller,
            ProductSpec::on_sale("가득", 1_000).variant("MOVE-2", 10),
        )
        .await;
    let (first_id, full_id) = (
        first["id"].as_str().unwrap().to_owned(),
        full["id"].as_str().unwrap().to_owned(),
    );
    let choi = app.user("choi.move@example.com").await;
    like(&app, &choi, &first_id).await;
    like(&app, &choi, &full_id).await;
    let full_variant = variant_id(&full, 0).to_string();
    let res = app
        .post_auth(
            "/api/v1/cart/items",
            &choi.access,
            json!({"variant_id": full_variant, "quantity": 999}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The first item would fit, the second would pass 999 units: neither moves.
    let res = app
        .post_auth(
            "/api/v1/wishlist/to-cart",
            &choi.access,
            json!({"items": [{"product_id": first_id}, {"product_id": full_id}]}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "quantity_limit").await;
    let cart = app.get_json("/api/v1/cart", Some(&choi.access)).await;
    assert_eq!(cart["items"].as_array().unwrap().len(), 1, "{cart}");
    assert_eq!(cart["items"][0]["quantity"], 999);
    assert_eq!(likes(&app, &choi).await.len(), 2);
}
