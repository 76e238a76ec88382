//! What the remote gateways' HTTP calls share: a client of their own (own connection pool,
//! connect and whole-call timeouts, so a slow gateway never holds connections another needs)
//! and one way to report a call that got no answer.

use std::time::Duration;

use crate::ports::payment::GatewayError;

pub(super) fn client(timeout_ms: u64) -> anyhow::Result<reqwest::Client> {
    crate::install_tls_provider();
    Ok(reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_millis(timeout_ms))
        .pool_max_idle_per_host(32)
        .build()?)
}

/// A call that got no (readable) answer. reqwest's errors name the URL; logs get the cause.
pub(super) fn unanswered(provider: &str, e: &reqwest::Error) -> GatewayError {
    let why = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_decode() {
        "unreadable answer"
    } else {
        "request failed"
    };
    GatewayError::Unavailable(format!("{provider}: {why}"))
}
