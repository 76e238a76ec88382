//! One JSON log line and one set of metrics per request. The log carries request id,
//! method, path (with personal data masked), route, status, latency and the user id that
//! the auth extractor recorded.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use jangteo_core::mask;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use uuid::Uuid;

use crate::AppState;

/// Per-request slot that extractors fill in for the access log.
#[derive(Clone, Default)]
pub struct RequestContext(Arc<OnceLock<Uuid>>);

impl RequestContext {
    pub fn set_user(&self, id: Uuid) {
        let _ = self.0.set(id);
    }

    fn user(&self) -> Option<Uuid> {
        self.0.get().copied()
    }
}

pub async fn observe(State(_state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let ctx = RequestContext::default();
    req.extensions_mut().insert(ctx.clone());
    let method = req.method().clone();
    // Unmatched paths are collapsed so that scanners cannot blow up metric cardinality.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_owned(), |m| m.as_str().to_owned());
    let path = mask::personal_data(req.uri().path());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();

    let res = next.run(req).await;

    let latency = started.elapsed();
    let status = res.status().as_u16();
    let user_id = ctx.user().map(|u| u.to_string());
    tracing::info!(
        target: "jangteo::http",
        request_id = %request_id,
        method = %method.as_str().chars().take(16).collect::<String>(),
        path = %path,
        route = %route,
        status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        user_id = user_id.as_deref(),
        "request"
    );
    // Every label value comes from a fixed set: any client can send any method name, and
    // each new value would be a new time series (1,000 made-up methods grew /metrics to
    // 70 MB). Unmatched paths are already one label.
    let labels = [
        ("method", method_label(&method)),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(latency.as_secs_f64());
    res
}

fn method_label(method: &axum::http::Method) -> String {
    use axum::http::Method;
    let known = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    if known.contains(method) {
        method.as_str().to_owned()
    } else {
        "OTHER".to_owned()
    }
}

/// Installs the process-wide Prometheus recorder once and returns its handle; later calls
/// (several apps in one test process) share it.
pub fn install_metrics_recorder() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(
                        "http_request_duration_seconds".into(),
                    ),
                    &buckets,
                )
                .ok()?
                .install_recorder()
                .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::method_label;
    use axum::http::Method;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let made_up = Method::from_bytes("X".repeat(200).as_bytes()).unwrap();
        assert_eq!(method_label(&made_up), "OTHER");
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), "OTHER");
    }
}
