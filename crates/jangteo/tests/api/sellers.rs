//! Becoming a seller.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn apply_approve_and_sell() {
    let app = spawn_app().await;
    let user = app.user("seller@example.com").await;
    let res = app
        .post_auth(
            "/api/v1/sellers/applications",
            &user.access,
            json!({"shop_name": "책방 장터", "business_number": "220-81-62517"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let application: Value = res.json().await.unwrap();
    assert_eq!(application["status"], "PENDING");
    assert_eq!(application["business_number"], "2208162517");

    // One pending application at a time.
    let res = app
        .post_auth(
            "/api/v1/sellers/applications",
            &user.access,
            json!({"shop_name": "또 다른 가게", "business_number": "220-81-62517"}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "application_pending").await;

    let admin = app.admin().await;
    let pending: Value = app
        .get_auth("/api/v1/sellers/applications?status=PENDING", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);

    let id = application["id"].as_str().unwrap();
    let res = app
        .post_auth(
            &format!("/api/v1/sellers/applications/{id}/approve"),
            &admin.access,
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "APPROVED");
    // Deciding twice is a conflict.
    let res = app
        .post_auth(
            &format!("/api/v1/sellers/applications/{id}/reject"),
            &admin.access,
            json!({"reason": "late"}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "application_decided").await;

    // The role reaches the client with the next token.
    let res = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refresh_token": user.refresh}),
        )
        .await;
    let tokens: Value = res.json().await.unwrap();
    assert_eq!(tokens["role"], "SELLER");
    let access = tokens["access_token"].as_str().unwrap();
    let shop: Value = app
        .get_auth("/api/v1/sellers/me", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shop["shop_name"], "책방 장터");

    // A seller cannot apply again.
    let res = app
        .post_auth(
            "/api/v1/sellers/applications",
            access,
            json!({"shop_name": "세번째", "business_number": "220-81-62517"}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "already_seller").await;
}

#[tokio::test]
async fn rejected_applicants_may_apply_again() {
    let app = spawn_app().await;
    let user = app.user("retry@example.com").await;
    let admin = app.admin().await;
    let body = json!({"shop_name": "다시 가게", "business_number": "2208162517"});
    let first: Value = app
        .post_auth("/api/v1/sellers/applications", &user.access, body.clone())
        .await
        .json()
        .await
        .unwrap();
    let id = first["id"].as_str().unwrap();
    let res = app
        .post_auth(
            &format!("/api/v1/sellers/applications/{id}/reject"),
            &admin.access,
            json!({"reason": "서류 미비"}),
        )
        .await;
    let rejected: Value = res.json().await.unwrap();
    assert_eq!(rejected["status"], "REJECTED");
    assert_eq!(rejected["reason"], "서류 미비");
    let own: Value = app
        .get_auth(&format!("/api/v1/sellers/applications/{id}"), &user.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(own["status"], "REJECTED");
    assert_eq!(
        app.post_auth("/api/v1/sellers/applications", &user.access, body)
            .await
            .status(),
        StatusCode::CREATED
    );
    let me: Value = app
        .get_auth("/api/v1/me", &user.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "USER");
}

#[tokio::test]
async fn invalid_applications_are_refused() {
    let app = spawn_app().await;
    let user = app.user("typo@example.com").await;
    let res = app
        .post_auth(
            "/api/v1/sellers/applications",
            &user.access,
            json!({"shop_name": "x", "business_number": "220-81-62518"}),
        )
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(fields(&p), ["shop_name", "business_number"]);
    let list: Value = app
        .get_auth("/api/v1/sellers/applications", &user.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn admin_lists_users_with_keyset_pages() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.signup(&format!("page{i}@example.com")).await;
    }
    let admin = app.admin().await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/api/v1/admin/users?limit=2&after={a}"),
            None => "/api/v1/admin/users?limit=2".to_owned(),
        };
        let page: Value = app
            .get_auth(&path, &admin.access)
            .await
            .json()
            .await
            .unwrap();
        for u in page["items"].as_array().unwrap() {
            seen.push(u["email"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "5 users and the admin, each once: {seen:?}");
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 6);
    let res = app
        .get_auth("/api/v1/admin/users?limit=1000", &admin.access)
        .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    let res = app
        .get_auth("/api/v1/admin/users?role=ROOT", &admin.access)
        .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    let res = app
        .get_auth("/api/v1/admin/users?limit=abc", &admin.access)
        .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
}
