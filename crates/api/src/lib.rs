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
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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

/// Where a route outside `routes::api_router` is described, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Described {
    /// In the OpenAPI document, under this path (OpenAPI has no wildcard syntax, so it can
    /// differ from the axum path).
    InDocument(&'static str),
    /// Deliberately left out of the API document, for the reason given.
    Outside(&'static str),
}

/// A route mounted as a plain axum route rather than through the OpenAPI router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainRoute {
    pub method: Method,
    /// In axum's syntax, as the router matches it.
    pub path: &'static str,
    pub described: Described,
}

const fn plain(method: Method, path: &'static str, described: Described) -> PlainRoute {
    PlainRoute {
        method,
        path,
        described,
    }
}

/// Every route the main listener serves besides the documented API. Routes that
/// `routes::api_router` mounts with `routes!` bring their description with them; these do
/// not, so each one is listed here, and `router` refuses any plain route missing from this list:
/// an undocumented route cannot slip in by being mounted next to the API.
pub const PLAIN_ROUTES: &[PlainRoute] = &[
    plain(
        Method::GET,
        "/healthz",
        Described::Outside("liveness probe for load balancers, not part of the API"),
    ),
    plain(
        Method::GET,
        "/readyz",
        Described::Outside("readiness probe for load balancers, not part of the API"),
    ),
    plain(
        Method::GET,
        "/metrics",
        Described::Outside(
            "Prometheus scrape target; only here when it has no listener of its own",
        ),
    ),
    // axum needs a wildcard where the document has a plain parameter, so this one cannot
    // go through `OpenApiRouter`; `files::FilesDoc` describes it instead.
    plain(
        Method::GET,
        "/files/{*key}",
        Described::InDocument("/files/{key}"),
    ),
    plain(
        Method::GET,
        "/docs",
        Described::Outside("API reference page: redirects to /docs/"),
    ),
    plain(
        Method::GET,
        "/docs/",
        Described::Outside("API reference page"),
    ),
    plain(
        Method::GET,
        "/docs/{*rest}",
        Described::Outside("API reference page assets"),
    ),
    plain(
        Method::GET,
        "/openapi.json",
        Described::Outside("the OpenAPI document itself"),
    ),
];

/// Route layer of the plain routers: serves a request only when [`PLAIN_ROUTES`] lists
/// its route, and otherwise answers as the router does for a route it does not have.
async fn only_listed_routes(req: Request, next: Next) -> Response {
    // axum serves HEAD from a GET handler.
    let method = if req.method() == Method::HEAD {
        Method::GET
    } else {
        req.method().clone()
    };
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let on_path = || {
        PLAIN_ROUTES
            .iter()
            .filter(|r| matched.as_deref() == Some(r.path))
    };
    if on_path().any(|r| r.method == method) {
        return next.run(req).await;
    }
    tracing::warn!(
        method = %method,
        route = matched.as_deref().unwrap_or_default(),
        "refusing a plain route that is not in PLAIN_ROUTES"
    );
    if on_path().next().is_some() {
        error::method_not_allowed().await.into_response()
    } else {
        error::not_found().await.into_response()
    }
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
    // The gate goes on before the 405 fallbacks are set, so that it only sees requests a
    // handler would serve. The docs router gets the problem+json 405 of its own: it is
    // merged after the fallbacks of the rest are set.
    let docs = Router::from(docs)
        .route_layer(axum::middleware::from_fn(only_listed_routes))
        .method_not_allowed_fallback(error::method_not_allowed);
    let plain = routes::ops::router(state.http.metrics_on_main)
        .merge(routes::files::router())
        .route_layer(axum::middleware::from_fn(only_listed_routes));
    let body_limit = state.http.body_limit_bytes;
    let timeout = state.http.request_timeout;
    Router::new()
        .merge(api)
        .merge(plain)
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
