//! The OpenAPI document and the offline API reference page.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn openapi_document_is_valid_3_1() {
    let app = spawn_app().await;
    let res = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let spec: Value = res.json().await.unwrap();
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "version {}",
        spec["openapi"]
    );
    assert_eq!(spec["info"]["title"], "jangteo");
    let paths = spec["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/signup",
        "/api/v1/auth/verify",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/addresses",
        "/api/v1/sellers/applications",
        "/api/v1/products/{id}/images",
        "/api/v1/products/{id}/images/order",
        "/files/{key}",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    // Every operation has responses, and every $ref points at a defined component.
    let text = spec.to_string();
    for piece in text.split("\"$ref\":\"").skip(1) {
        let target = &piece[..piece.find('"').unwrap()];
        let (kind, name) = target
            .strip_prefix("#/components/")
            .and_then(|rest| rest.split_once('/'))
            .unwrap_or_else(|| panic!("unexpected ref {target}"));
        assert!(
            ["schemas", "responses"].contains(&kind),
            "unexpected ref {target}"
        );
        assert!(
            spec["components"][kind].get(name).is_some(),
            "dangling $ref {target}"
        );
    }
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has responses"
            );
        }
    }
}

#[tokio::test]
async fn api_reference_page_works_offline() {
    let app = spawn_app().await;
    let res = app.http.get(app.url("/docs")).send().await.unwrap();
    assert!(res.status().is_redirection() || res.status() == StatusCode::OK);
    let res = app.http.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("swagger-ui"), "the page is the API reference");
    let initializer = app.get_text("/docs/swagger-initializer.js").await;
    for text in [&page, &initializer] {
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "no external URL in:\n{text}"
        );
    }
    assert!(
        initializer.contains("\"validatorUrl\": \"none\"")
            || initializer.contains("\"validatorUrl\":\"none\""),
        "{initializer}"
    );
    // Every asset the page loads is served by jangteo itself.
    for asset in page
        .split(['"', '\''])
        .filter(|s| s.ends_with(".js") || s.ends_with(".css") || s.ends_with(".png"))
    {
        let url = app.url(&format!("/docs/{}", asset.trim_start_matches("./")));
        let res = app.http.get(&url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
    }
}
