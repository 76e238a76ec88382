//! HTTP conventions every route shares: problem+json errors, strict bodies, request ids.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let res = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .header("content-type", "application/json")
        .body("{\"email\": \"x@example.com\", ")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    let res = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .header("content-type", "application/json")
        .body("{} trailing")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app().await;
    let res = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn oversized_body_is_413_and_writes_nothing() {
    let app = spawn_app().await;
    let huge = format!(
        "{{\"email\": \"big@example.com\", \"password\": \"{}\"}}",
        "x".repeat(200 * 1024)
    );
    let res = app
        .http
        .post(app.url("/api/v1/auth/signup"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(
        jangteo_store::accounts::count_users_with_email(app.services.db(), "big@example.com")
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn unknown_fields_and_wrong_types_are_422() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/api/v1/auth/signup",
            serde_json::json!({"email": "x@example.com", "password": PASSWORD, "role": "ADMIN"}),
        )
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("role"));
    let res = app
        .post(
            "/api/v1/auth/signup",
            serde_json::json!(["not", "an", "object"]),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn every_response_has_a_request_id_and_errors_are_problems() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(app.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("x-request-id"));
    let p = assert_problem(res, StatusCode::NOT_FOUND, "route_not_found").await;
    assert_eq!(p["type"], "urn:jangteo:problem:route_not_found");
    let res = app
        .http
        .delete(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    // A request id sent by a proxy is kept.
    let res = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "lb-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "lb-1234");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn a_body_must_be_an_object_and_an_array_changes_nothing() {
    let app = spawn_app().await;
    let s = app.user("array@example.com").await;
    // serde would fill the struct by position from an array: display_name, phone.
    for body in [r#"["x", "010-1234-5678"]"#, "[]", r#""x""#, "5", "null"] {
        let res = app
            .http
            .patch(app.url("/api/v1/me"))
            .bearer_auth(&s.access)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(fields(&problem), ["(body)"], "{body}");
    }
    let me: Value = app.get_json("/api/v1/me", Some(&s.access)).await;
    assert_ne!(me["display_name"], "x", "profile unchanged");
    assert!(me["phone"].is_null(), "profile unchanged: {me}");
}
