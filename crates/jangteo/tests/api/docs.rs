//! The OpenAPI document and the offline API reference page.

use std::collections::{BTreeMap, BTreeSet};

use jangteo_api::{Described, PLAIN_ROUTES};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::support::*;

/// The routes that are served but deliberately not in the API document: operations for
/// load balancers and Prometheus, and the API reference itself. Kept here rather than read
/// from `PLAIN_ROUTES`, so that adding a plain route fails this test until it is either
/// documented or consciously added here.
const OUTSIDE_THE_DOCUMENT: [(&str, &str); 7] = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/docs"),
    ("GET", "/docs/"),
    ("GET", "/docs/{*rest}"),
    ("GET", "/openapi.json"),
];

/// The methods probed on every served path: a method answered on a path that neither the
/// document nor `PLAIN_ROUTES` gives it is an undocumented route too.
const PROBED: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

#[test]
fn only_operational_routes_are_outside_the_document() {
    let outside: BTreeSet<(String, &str)> = PLAIN_ROUTES
        .iter()
        .filter(|r| matches!(r.described, Described::Outside(_)))
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let allowed: BTreeSet<(String, &str)> = OUTSIDE_THE_DOCUMENT
        .iter()
        .map(|(m, p)| ((*m).to_owned(), *p))
        .collect();
    assert_eq!(
        outside, allowed,
        "routes outside the OpenAPI document: document the new one or allow it here"
    );
}

/// A concrete request path for a route template: every parameter, wildcards too, becomes
/// a fresh UUID, which no static segment of ours equals.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                Uuid::new_v4().to_string()
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The code of the router's own answer for a route it does not have, if `res` is one.
/// Handlers answer 404 too (`not_found`, `file_not_found`, or a bare 404 for a missing
/// asset of the reference page), but only the router's fallbacks use these codes.
async fn router_fallback(res: Response) -> Option<String> {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or_default();
    let code = body["code"].as_str().unwrap_or_default();
    match (status, code) {
        (StatusCode::NOT_FOUND, "route_not_found")
        | (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed") => Some(code.to_owned()),
        _ => None,
    }
}

#[tokio::test]
async fn served_routes_and_documented_operations_are_the_same() {
    let app = spawn_app().await;
    let spec = app.get_json("/openapi.json", None).await;
    // Route template -> methods: what the document describes plus the plain routes.
    let mut routes: BTreeMap<String, BTreeSet<Method>> = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            routes.entry(path.clone()).or_default().insert(method);
        }
    }
    for route in PLAIN_ROUTES {
        if let Described::InDocument(documented) = route.described {
            let item = &spec["paths"][documented];
            assert!(
                item.get(route.method.as_str().to_lowercase()).is_some(),
                "{} {} is said to be documented as {documented}",
                route.method,
                route.path
            );
        }
        routes
            .entry(route.path.to_owned())
            .or_default()
            .insert(Method::from_bytes(route.method.as_str().as_bytes()).unwrap());
    }
    let mut wrong = Vec::new();
    for (template, methods) in &routes {
        let path = concrete(template);
        for method in methods.iter().chain(PROBED.iter()).collect::<BTreeSet<_>>() {
            let res = app.request(method.clone(), &path, None, None).await;
            let status = res.status();
            let fallback = router_fallback(res).await;
            let served = fallback.is_none();
            if served != methods.contains(method) {
                wrong.push(format!(
                    "{method} {template} ({path}): {status} {}",
                    fallback.as_deref().unwrap_or("from a handler")
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "served but not documented, or documented but not served:\n{}",
        wrong.join("\n")
    );
}

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
