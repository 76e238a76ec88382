//! Health, readiness and metrics.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    let health: Value = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let res = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["database"], "ok");

    app.signup("metrics@example.com").await;
    let text = app.get_text("/metrics").await;
    assert!(
        text.contains(
            "http_requests_total{method=\"POST\",route=\"/api/v1/auth/signup\",status=\"201\"}"
        ),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
    // The sign-up wrote rows: the statement counter has moved.
    let statements = text
        .lines()
        .find_map(|l| l.strip_prefix("db_statements_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("db_statements_total in {text}"));
    assert!(statements > 0.0, "{text}");
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.services.db().clone().close().await.unwrap();
    let res = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "database_unavailable").await;
    // Liveness is about the process, not its dependencies.
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

/// CI names the engine each run must exercise; a run that silently fell back to SQLite
/// (variable unset or misspelt) fails here instead of passing without testing the engine.
#[tokio::test]
async fn the_expected_database_engine_is_under_test() {
    let app = spawn_app().await;
    let actual = jangteo_store::Backend::of(app.services.db()).name();
    assert_eq!(actual, app.backend);
    match std::env::var("JANGTEO_TEST_EXPECT_BACKEND") {
        Ok(expected) => assert_eq!(actual, expected, "this run must test {expected}"),
        Err(_) => eprintln!("JANGTEO_TEST_EXPECT_BACKEND unset: testing {actual}"),
    }
}

/// A rolling deploy starts several processes on one database at once: the schema must be
/// migrated exactly once and every process must start.
#[tokio::test]
async fn concurrent_starts_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = match fresh_database().await {
        Some(url) => url,
        None => format!("sqlite://{}?mode=rwc", dir.path().join("race.db").display()),
    };
    let settings = jangteo_store::DbSettings {
        url,
        max_connections: 4,
        acquire_timeout: std::time::Duration::from_secs(30),
    };
    let starts = (0..4).map(|_| async {
        let db = jangteo_store::connect(&settings).await?;
        jangteo_store::migrate(&db).await?;
        jangteo_store::applied_migrations(&db).await
    });
    for result in futures::future::join_all(starts).await {
        let applied = result.expect("every process starts");
        assert_eq!(applied, jangteo_store::migration_names());
    }
}

#[tokio::test]
async fn made_up_methods_and_paths_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    for i in 0..50 {
        let method =
            reqwest::Method::from_bytes(format!("X{tag}{i}{}", "M".repeat(100)).as_bytes())
                .unwrap();
        for path in ["/api/v1/products", &format!("/nowhere/{tag}/{i}")] {
            let res = app
                .http
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_client_error(), "{}", res.status());
        }
    }
    let text = app.get_text("/metrics").await;
    assert!(
        !text.contains(&tag),
        "no made-up method or path became a label"
    );
    assert!(text.contains("method=\"OTHER\""), "{text}");
    assert!(text.contains("route=\"unmatched\""));
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let app = spawn_app_with(|c| c.metrics_listen = Some("127.0.0.1:0".into())).await;
    let res = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "route_not_found").await;
    let metrics = app.metrics_base.as_deref().expect("a metrics address");
    let res = app
        .http
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("http_requests_total"));
    // Only metrics live there.
    let res = app
        .http
        .get(format!("{metrics}/api/v1/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The public listener still answers everything else.
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}
