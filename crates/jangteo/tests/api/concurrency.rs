//! Races that must leave the database consistent.

use futures::future::join_all;
use jangteo_store::accounts as store;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn fifty_concurrent_signups_with_one_email_create_one_account() {
    let app = spawn_app().await;
    let body = json!({"email": "same@example.com", "password": PASSWORD});
    let results = join_all((0..50).map(|_| app.post("/api/v1/auth/signup", body.clone()))).await;
    let created = results
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    let conflicts = results
        .iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
        .count();
    assert_eq!(created, 1, "exactly one signup wins");
    assert_eq!(conflicts, 49, "every other one is told the e-mail is taken");
    assert_eq!(
        store::count_users_with_email(app.services.db(), "same@example.com")
            .await
            .unwrap(),
        1
    );
    assert_invariants(&app).await;
}

#[tokio::test]
async fn concurrent_seller_approvals_decide_once() {
    let app = spawn_app().await;
    let user = app.user("twice@example.com").await;
    let res = app
        .post_auth(
            "/api/v1/sellers/applications",
            &user.access,
            json!({"shop_name": "경쟁 상점", "business_number": "2208162517"}),
        )
        .await;
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = app.admin().await;
    let approve = format!("/api/v1/sellers/applications/{id}/approve");
    let reject = format!("/api/v1/sellers/applications/{id}/reject");
    let mut calls = Vec::new();
    for i in 0..10 {
        if i % 2 == 0 {
            calls.push(app.post_auth(&approve, &admin.access, json!({})));
        } else {
            calls.push(app.post_auth(&reject, &admin.access, json!({"reason": "race"})));
        }
    }
    let results = join_all(calls).await;
    let ok = results
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert_eq!(ok, 1, "one decision wins");
    assert!(
        results
            .iter()
            .all(|r| r.status() == StatusCode::OK || r.status() == StatusCode::CONFLICT)
    );
    let user_row = store::find_user(app.services.db(), user.user_id.into())
        .await
        .unwrap();
    let app_row = jangteo_store::sellers::find_application(app.services.db(), id.parse().unwrap())
        .await
        .unwrap();
    let seller = jangteo_store::sellers::find_seller(app.services.db(), user.user_id.into()).await;
    match app_row.status.as_str() {
        "APPROVED" => {
            assert_eq!(user_row.role, jangteo_core::Role::Seller);
            assert!(seller.is_ok());
        }
        "REJECTED" => {
            assert_eq!(user_row.role, jangteo_core::Role::User);
            assert!(seller.is_err());
        }
        other => panic!("unexpected status {other}"),
    }
    assert_invariants(&app).await;
}
