//! The HTTP accept loop and its shutdown. `axum::serve` closes idle keep-alive connections
//! the moment shutdown begins, so a client that sent a request on one just then saw its
//! connection reset (about one request per SIGTERM under load). Shutdown here has two
//! steps instead:
//! 1. stop accepting; requests that still arrive on open connections are served and
//!    answered with `Connection: close`, so each client learns to reconnect elsewhere;
//! 2. after a short drain window (or once every connection has closed), idle connections
//!    are closed and busy ones finish their request, for at most the grace period.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Version, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How a server stops.
#[derive(Debug, Clone, Copy)]
pub struct Drain {
    /// How long open connections may still send requests after shutdown began.
    pub window: Duration,
    /// The longest shutdown may take in all.
    pub grace: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains as described above.
/// Returns whether every connection finished within the grace period.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
    drain: Drain,
) -> bool {
    let draining = Arc::new(AtomicBool::new(false));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A timer lets hyper enforce its header-read timeout (30 s), so a client that opens a
    // connection and trickles headers cannot hold it forever.
    builder.http1().timer(TokioTimer::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = connection_service(router.clone(), peer, draining.clone());
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A client going away mid-request is not the server's error.
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    draining.store(true, Ordering::SeqCst);
    tracing::info!("shutdown requested: no new connections; draining open ones");

    let started = tokio::time::Instant::now();
    let window = drain.window.min(drain.grace);
    while graceful.count() > 0 && started.elapsed() < window {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rest = drain.grace.saturating_sub(started.elapsed());
    tokio::time::timeout(rest, graceful.shutdown())
        .await
        .is_ok()
}

/// One connection's service: the router, with the peer address for `ClientIp`, and
/// `Connection: close` on every HTTP/1 response once draining.
fn connection_service(
    router: Router,
    peer: SocketAddr,
    draining: Arc<AtomicBool>,
) -> impl tower::Service<
    Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
> + Clone {
    tower::service_fn(move |mut req: Request<Incoming>| {
        let router = router.clone();
        let draining = draining.clone();
        async move {
            req.extensions_mut().insert(ConnectInfo(peer));
            let http1 = req.version() <= Version::HTTP_11;
            let mut res = router.oneshot(req.map(axum::body::Body::new)).await?;
            if http1 && draining.load(Ordering::SeqCst) {
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(res)
        }
    })
}
