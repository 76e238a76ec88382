//! jangteo's HTTP layer. Thin by design: extract and authorise, call a service, map the
//! result. Conventions every route follows live here once: problem+json errors, strict JSON
//! bodies, bearer auth extractors, keyset pages, request logs and metrics.
#![forbid(unsafe_code)]

mod auth;
mod error;
mod json;
mod observe;
mod openapi;
mod pagination;
mod params;
pub mod rate_limit;
mod routes;
mod schema;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use jangteo_services::Services;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;

pub use error::{ApiError, Problem};
pub use observe::install_metrics_recorder;
pub use rate_limit::{RateLimitSettings, RateLimits};

/// Settings of the HTTP layer itself.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub body_limit_bytes: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    pub request_timeout: Duration,
    /// Serve `/metrics` on the main listener. Off when the operator gave it a listen
    /// address of its own, so it need not be exposed publicly.
    pub metrics_on_main: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 64 * 1024,
            trust_forwarded_for: false,
            request_timeout: Duration::from_secs(30),
            metrics_on_main: true,
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub limits: Arc<RateLimits>,
    pub metrics: Option<PrometheusHandle>,
    pub http: Arc<HttpSettings>,
}

/// The router of a metrics-only listener (`metrics_listen`).
pub fn metrics_router(state: AppState) -> Router {
    routes::ops::metrics_router()
        .fallback(error::not_found)
        .with_state(state)
}

/// Builds the whole application router.
pub fn router(state: AppState) -> Router {
    let (api, mut spec) = routes::api_router().split_for_parts();
    spec.merge(<routes::files::FilesDoc as utoipa::OpenApi>::openapi());
    // validatorUrl "none": Swagger UI would otherwise send the spec to validator.swagger.io,
    // and the page must work (and leak nothing) without internet.
    let docs = utoipa_swagger_ui::SwaggerUi::new("/docs")
        .url("/openapi.json", openapi::finish(spec))
        .config(utoipa_swagger_ui::Config::from("/openapi.json").validator_url("none"));
    let body_limit = state.http.body_limit_bytes;
    let timeout = state.http.request_timeout;
    Router::new()
        .merge(api)
        .merge(routes::ops::router(state.http.metrics_on_main))
        .merge(routes::files::router())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
        .merge(docs)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
