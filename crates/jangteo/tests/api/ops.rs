//! Health, readiness and metrics.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

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
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "http_requests_total{method=\"POST\",route=\"/api/v1/auth/signup\",status=\"201\"}"
        ),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.services.db.clone().close().await.unwrap();
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
    let actual = jangteo_store::Backend::of(&app.services.db).name();
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
