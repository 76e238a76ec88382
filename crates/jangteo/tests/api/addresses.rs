//! The shipping address book.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn address(line1: &str) -> Value {
    json!({"label": "집", "recipient": "김철수", "phone": "010-1234-5678", "postal_code": "06236", "line1": line1})
}

#[tokio::test]
async fn address_book_crud_and_default() {
    let app = spawn_app().await;
    let s = app.user("home@example.com").await;
    let first: Value = app
        .post_auth("/api/v1/me/addresses", &s.access, address("테헤란로 1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        first["is_default"], true,
        "the first address is the default"
    );
    let mut second_body = address("테헤란로 2");
    second_body["is_default"] = json!(true);
    let second: Value = app
        .post_auth("/api/v1/me/addresses", &s.access, second_body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["is_default"], true);

    let list: Value = app
        .get_auth("/api/v1/me/addresses", &s.access)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items.iter().filter(|a| a["is_default"] == true).count(),
        1,
        "exactly one default"
    );

    let path = format!("/api/v1/me/addresses/{}", first["id"].as_str().unwrap());
    let res = app
        .patch_auth(&path, &s.access, json!({"line2": "101동 202호"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["line2"], "101동 202호");
    assert_eq!(patched["line1"], "테헤란로 1", "untouched fields stay");

    // Deleting the default promotes the remaining one.
    let second_path = format!("/api/v1/me/addresses/{}", second["id"].as_str().unwrap());
    assert_eq!(
        app.delete_auth(&second_path, &s.access).await.status(),
        StatusCode::NO_CONTENT
    );
    let left: Value = app.get_auth(&path, &s.access).await.json().await.unwrap();
    assert_eq!(left["is_default"], true);
    assert_problem(
        app.get_auth(&second_path, &s.access).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth("/api/v1/me/addresses/not-a-uuid", &s.access)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn invalid_addresses_are_refused_with_every_field() {
    let app = spawn_app().await;
    let s = app.user("bad.addr@example.com").await;
    let res = app
        .post_auth(
            "/api/v1/me/addresses",
            &s.access,
            json!({"phone": "abc", "postal_code": "1234"}),
        )
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(fields(&p), ["recipient", "phone", "postal_code", "line1"]);
    let list: Value = app
        .get_auth("/api/v1/me/addresses", &s.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_address_book_is_bounded() {
    let app = spawn_app().await;
    let s = app.user("many@example.com").await;
    for i in 0..20 {
        let res = app
            .post_auth(
                "/api/v1/me/addresses",
                &s.access,
                address(&format!("{i}번지")),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .post_auth("/api/v1/me/addresses", &s.access, address("21번지"))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "address_limit_reached").await;
}
