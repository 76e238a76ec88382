//! Role checks and ownership checks.

use jangteo_store::addresses as store;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn address() -> Value {
    json!({"recipient": "김철수", "phone": "010-1234-5678", "postal_code": "06236", "line1": "서울특별시 강남구 테헤란로 152"})
}

#[tokio::test]
async fn a_user_cannot_use_seller_or_admin_routes() {
    let app = spawn_app().await;
    let user = app.user("plain@example.com").await;
    assert_problem(
        app.get_auth("/api/v1/sellers/me", &user.access).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get_auth("/api/v1/admin/users", &user.access).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;

    // A user cannot approve their own application.
    let res = app
        .post_auth(
            "/api/v1/sellers/applications",
            &user.access,
            json!({"shop_name": "내 가게", "business_number": "220-81-62517"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let app_id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post_auth(
            &format!("/api/v1/sellers/applications/{app_id}/approve"),
            &user.access,
            json!({}),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let me: Value = app
        .get_auth("/api/v1/me", &user.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "USER", "nothing changed");

    // The admin can do all of it.
    let admin = app.admin().await;
    assert_eq!(
        app.get_auth("/api/v1/admin/users", &admin.access)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_users_address_is_invisible_and_untouchable() {
    let app = spawn_app().await;
    let owner = app.user("owner@example.com").await;
    let intruder = app.user("intruder@example.com").await;
    let res = app
        .post_auth("/api/v1/me/addresses", &owner.access, address())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/me/addresses/{id}");

    assert_problem(
        app.get_auth(&path, &intruder.access).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app
        .patch_auth(&path, &intruder.access, json!({"line1": "stolen"}))
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.delete_auth(&path, &intruder.access).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let list: Value = app
        .get_auth("/api/v1/me/addresses", &intruder.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);

    let row = store::find_owned(app.services.db(), owner.user_id.into(), id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        row.line1, "서울특별시 강남구 테헤란로 152",
        "nothing changed"
    );
    assert_eq!(
        app.get_auth(&path, &owner.access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_users_seller_application_is_invisible() {
    let app = spawn_app().await;
    let a = app.user("a@example.com").await;
    let b = app.user("b@example.com").await;
    let res = app
        .post_auth(
            "/api/v1/sellers/applications",
            &a.access,
            json!({"shop_name": "A 상점", "business_number": "2208162517"}),
        )
        .await;
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .get_auth(&format!("/api/v1/sellers/applications/{id}"), &b.access)
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let list: Value = app
        .get_auth("/api/v1/sellers/applications", &b.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}
