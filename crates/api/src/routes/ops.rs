//! Liveness, readiness and metrics: for load balancers and Prometheus, outside `/api`.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use crate::{ApiError, AppState};

/// Health checks, and `/metrics` unless it has a listener of its own.
pub fn router(with_metrics: bool) -> Router<AppState> {
    let health = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    if with_metrics {
        health.merge(metrics_router())
    } else {
        health
    }
}

/// `/metrics` alone, for a listen address that only Prometheus reaches.
pub fn metrics_router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// The process is up and serving.
async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// The process can do its work: the database answers.
async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    jangteo_store::ping(state.services.db())
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "readiness check: database unreachable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database is not reachable",
            )
        })?;
    Ok(axum::Json(json!({ "status": "ready", "database": "ok" })))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = jangteo_store::pool_stats(state.services.db());
    metrics::gauge!("db_pool_connections").set(f64::from(pool.size));
    metrics::gauge!("db_pool_idle_connections").set(f64::from(pool.idle));
    metrics::gauge!("db_pool_max_connections").set(f64::from(pool.max));
    metrics::counter!("db_statements_total").absolute(jangteo_store::statements_executed());
    if let Some(group) = state.services.group_commits() {
        metrics::counter!("db_group_commits_total").absolute(group.commits);
        metrics::counter!("db_group_committed_transactions_total").absolute(group.transactions);
        metrics::counter!("db_writer_busy_seconds_total").absolute(group.held.as_secs());
    }
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
