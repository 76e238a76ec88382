//! What every remote gateway gets around it (SPEC F6.5): its own HTTP client (own pool,
//! connect and request timeouts — set by the adapter), up to three tries of a call that
//! failed without an answer, and a circuit breaker (S2: opens at 75% failures, half-opens
//! after 10 s, closes after 10 good probes) so a gateway that is down costs the shop
//! microseconds per request instead of a timeout each. Retries are safe because every
//! retried call is idempotent at the gateway: confirm and cancel carry an idempotency key
//! (Toss) or are guarded by the amount still cancellable, lookups are reads.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use jangteo_core::breaker::{Breaker, BreakerSettings};

use crate::ports::payment::{
    Confirmation, GatewayError, GatewayPayment, PaymentGateway, PaymentStart, Refund, Started,
};

const CIRCUIT_OPEN: &str = "circuit open: the gateway failed too often; calls resume after a pause";

pub struct Resilient {
    inner: Arc<dyn PaymentGateway>,
    breaker: Mutex<Breaker>,
    retries: usize,
    first_backoff: Duration,
}

impl Resilient {
    pub fn new(inner: Arc<dyn PaymentGateway>, breaker: BreakerSettings) -> Self {
        Self {
            inner,
            breaker: Mutex::new(Breaker::new(breaker)),
            retries: 2,
            first_backoff: Duration::from_millis(100),
        }
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn call<T, F, Fut>(&self, f: F) -> Result<T, GatewayError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, GatewayError>>,
    {
        let once = || async {
            if !self.breaker().admit(Instant::now()) {
                return Err(GatewayError::Unavailable(CIRCUIT_OPEN.into()));
            }
            let result = f().await;
            // Only a missing answer counts against the gateway: a decline or a refusal is
            // the gateway working.
            let failed = matches!(result, Err(GatewayError::Unavailable(_)));
            self.breaker().record(failed, Instant::now());
            result
        };
        once.retry(
            ExponentialBuilder::default()
                .with_min_delay(self.first_backoff)
                .with_max_times(self.retries)
                .with_jitter(),
        )
        .when(|e| matches!(e, GatewayError::Unavailable(why) if why != CIRCUIT_OPEN))
        .await
    }
}

#[async_trait::async_trait]
impl PaymentGateway for Resilient {
    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    async fn start(&self, payment: &PaymentStart) -> Result<Started, GatewayError> {
        self.call(|| self.inner.start(payment)).await
    }

    async fn confirm(&self, c: &Confirmation) -> Result<GatewayPayment, GatewayError> {
        self.call(|| self.inner.confirm(c)).await
    }

    async fn cancel(&self, refund: &Refund) -> Result<GatewayPayment, GatewayError> {
        self.call(|| self.inner.cancel(refund)).await
    }

    async fn lookup(
        &self,
        reference: &str,
        gateway_key: Option<&str>,
    ) -> Result<Option<GatewayPayment>, GatewayError> {
        self.call(|| self.inner.lookup(reference, gateway_key))
            .await
    }
}
