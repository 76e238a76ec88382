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
use chrono::{DateTime, Utc};
use jangteo_core::breaker::{Breaker, BreakerSettings};

use crate::clock::Clock;

use crate::ports::payment::{
    Confirmation, GatewayError, GatewayPayment, PaymentGateway, PaymentStart, Refund, Started,
};

const CIRCUIT_OPEN: &str = "circuit open: the gateway failed too often; calls resume after a pause";

pub struct Resilient {
    inner: Arc<dyn PaymentGateway>,
    breaker: Mutex<Breaker>,
    retries: usize,
    first_backoff: Duration,
    clock: Arc<dyn Clock>,
    /// The moment the breaker's time starts from, on both clocks.
    since: (Instant, DateTime<Utc>),
}

impl Resilient {
    pub fn new(
        inner: Arc<dyn PaymentGateway>,
        breaker: BreakerSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let since = (Instant::now(), clock.now());
        Self {
            inner,
            breaker: Mutex::new(Breaker::new(breaker)),
            retries: 2,
            first_backoff: Duration::from_millis(100),
            clock,
            since,
        }
    }

    /// The breaker's now: the further of the monotonic clock and the shop's clock, so a
    /// wall clock set back never holds the breaker open, and a test clock moved forward
    /// half-opens it without a sleep.
    fn now(&self) -> Instant {
        let (instant, time) = self.since;
        let by_clock = (self.clock.now() - time).to_std().unwrap_or(Duration::ZERO);
        instant + instant.elapsed().max(by_clock)
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
            if !self.breaker().admit(self.now()) {
                return Err(GatewayError::Unavailable(CIRCUIT_OPEN.into()));
            }
            let result = f().await;
            // Only a missing answer counts against the gateway: a decline or a refusal is
            // the gateway working.
            let failed = matches!(result, Err(GatewayError::Unavailable(_)));
            self.breaker().record(failed, self.now());
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
