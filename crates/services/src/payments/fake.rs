//! The built-in fake gateway, the default in embedded mode: a payment completes with two
//! API calls of ours (start, then confirm with the key it issued), and it can be told to
//! decline or fail a payment (`outcome` when the payment is started), or made slow and
//! flaky for everyone (`payments.fake.delay_ms`, `failure_rate`, for benchmarks). It keeps
//! its payments in memory: a restarted server's fake has forgotten them, as a real gateway
//! never would, so a confirm after a restart is refused — start a new payment.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ports::payment::{
    Confirmation, FakeOutcome, GatewayError, GatewayPayment, GatewayStatus, PaymentGateway,
    PaymentStart, Refund, Started,
};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FakeSettings {
    /// Every call waits this long (a slow gateway).
    pub delay_ms: u64,
    /// Share of confirmations that fail as if the gateway were down (0.0–1.0).
    pub failure_rate: f64,
}

/// Payments the fake remembers, oldest dropped first past this many.
const CAPACITY: usize = 1_000_000;

struct FakePayment {
    reference: String,
    amount: i64,
    outcome: FakeOutcome,
    status: GatewayStatus,
    cancelled: i64,
}

#[derive(Default)]
struct Ledger {
    payments: HashMap<String, FakePayment>,
    order: VecDeque<String>,
    /// Refund results by idempotency key: a repeated refund answers the first result.
    refunds: HashMap<String, GatewayPayment>,
}

pub struct FakeGateway {
    settings: FakeSettings,
    ledger: Mutex<Ledger>,
}

impl FakeGateway {
    pub fn new(settings: FakeSettings) -> Self {
        Self {
            settings,
            ledger: Mutex::new(Ledger::default()),
        }
    }

    async fn pause(&self) {
        if self.settings.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.settings.delay_ms)).await;
        }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn rejected(code: &str, message: &str) -> GatewayError {
    GatewayError::Rejected {
        code: code.into(),
        message: message.into(),
    }
}

fn report(key: &str, p: &FakePayment) -> GatewayPayment {
    GatewayPayment {
        gateway_key: key.to_owned(),
        status: p.status.clone(),
        total: p.amount,
        cancelled: p.cancelled,
    }
}

#[async_trait::async_trait]
impl PaymentGateway for FakeGateway {
    fn provider(&self) -> &'static str {
        "fake"
    }

    async fn start(&self, payment: &PaymentStart) -> Result<Started, GatewayError> {
        self.pause().await;
        let key = format!("fake_{}", uuid::Uuid::now_v7().simple());
        let mut ledger = self.ledger();
        if ledger.order.len() >= CAPACITY
            && let Some(old) = ledger.order.pop_front()
        {
            ledger.payments.remove(&old);
        }
        ledger.order.push_back(key.clone());
        ledger.payments.insert(
            key.clone(),
            FakePayment {
                reference: payment.reference.clone(),
                amount: payment.amount.minor(),
                outcome: payment.fake_outcome.unwrap_or(FakeOutcome::Approve),
                status: GatewayStatus::Pending,
                cancelled: 0,
            },
        );
        Ok(Started {
            gateway_key: Some(key),
            redirect_url: None,
        })
    }

    async fn confirm(&self, c: &Confirmation) -> Result<GatewayPayment, GatewayError> {
        self.pause().await;
        if self.settings.failure_rate > 0.0 && rand::random::<f64>() < self.settings.failure_rate {
            return Err(GatewayError::Unavailable(
                "fake gateway: simulated failure".into(),
            ));
        }
        let key = c.gateway_key.as_deref().unwrap_or_default();
        let mut ledger = self.ledger();
        let Some(p) = ledger.payments.get_mut(key) else {
            return Err(rejected("NOT_FOUND_PAYMENT", "no such payment"));
        };
        if p.reference != c.reference {
            return Err(rejected(
                "NOT_FOUND_PAYMENT",
                "the payment is of another order",
            ));
        }
        if p.amount != c.amount.minor() {
            return Err(rejected(
                "NOT_MATCHES_AMOUNT",
                "the amount differs from the started payment",
            ));
        }
        match (p.outcome, &p.status) {
            (_, GatewayStatus::Paid) => Ok(report(key, p)),
            (FakeOutcome::Decline, _) => {
                p.status = GatewayStatus::Failed;
                Err(GatewayError::Declined {
                    code: "REJECT_CARD_PAYMENT".into(),
                    message: "카드 한도초과 (fake gateway: declined as asked)".into(),
                })
            }
            (FakeOutcome::Fail, _) => Err(GatewayError::Unavailable(
                "fake gateway: failing as asked".into(),
            )),
            (FakeOutcome::Approve, GatewayStatus::Pending) => {
                p.status = GatewayStatus::Paid;
                Ok(report(key, p))
            }
            (FakeOutcome::Approve, _) => Err(rejected(
                "ALREADY_PROCESSED_PAYMENT",
                "the payment is closed",
            )),
        }
    }

    async fn cancel(&self, refund: &Refund) -> Result<GatewayPayment, GatewayError> {
        self.pause().await;
        let mut ledger = self.ledger();
        if let Some(done) = ledger.refunds.get(&refund.idempotency_key) {
            return Ok(done.clone());
        }
        let Some(p) = ledger.payments.get_mut(&refund.gateway_key) else {
            return Err(rejected("NOT_FOUND_PAYMENT", "no such payment"));
        };
        let paid = matches!(
            p.status,
            GatewayStatus::Paid | GatewayStatus::PartiallyCancelled
        );
        let amount = refund.amount.minor();
        if !paid || amount <= 0 || p.cancelled + amount > p.amount {
            return Err(rejected(
                "NOT_CANCELABLE_AMOUNT",
                "more than is left to refund",
            ));
        }
        p.cancelled += amount;
        p.status = if p.cancelled == p.amount {
            GatewayStatus::Cancelled
        } else {
            GatewayStatus::PartiallyCancelled
        };
        let result = report(&refund.gateway_key, p);
        ledger
            .refunds
            .insert(refund.idempotency_key.clone(), result.clone());
        Ok(result)
    }

    async fn lookup(
        &self,
        reference: &str,
        gateway_key: Option<&str>,
    ) -> Result<Option<GatewayPayment>, GatewayError> {
        self.pause().await;
        let ledger = self.ledger();
        Ok(gateway_key
            .and_then(|k| ledger.payments.get(k).map(|p| (k, p)))
            .filter(|(_, p)| p.reference == reference)
            .map(|(k, p)| report(k, p)))
    }
}

#[cfg(test)]
mod tests {
    use jangteo_core::money::{Currency, Money};

    use super::*;

    fn payment(reference: &str) -> PaymentStart {
        PaymentStart {
            reference: reference.into(),
            buyer_reference: "buyer".into(),
            amount: Money::new(12_000, Currency::KRW),
            vat: Money::new(1_090, Currency::KRW),
            order_name: "머그".into(),
            fake_outcome: None,
        }
    }

    async fn started(fake: &FakeGateway, reference: &str) -> Confirmation {
        let started = fake.start(&payment(reference)).await;
        Confirmation {
            reference: reference.into(),
            buyer_reference: "buyer".into(),
            gateway_key: started.ok().and_then(|s| s.gateway_key),
            token: None,
            amount: Money::new(12_000, Currency::KRW),
        }
    }

    async fn status(fake: &FakeGateway, c: &Confirmation) -> Option<GatewayStatus> {
        let found = fake.lookup(&c.reference, c.gateway_key.as_deref()).await;
        found.ok().flatten().map(|p| p.status)
    }

    #[tokio::test]
    async fn a_failure_rate_of_one_fails_every_confirmation_and_charges_nothing() {
        let fake = FakeGateway::new(FakeSettings {
            failure_rate: 1.0,
            ..FakeSettings::default()
        });
        let c = started(&fake, "pay_1").await;
        for _ in 0..20 {
            assert!(matches!(
                fake.confirm(&c).await,
                Err(GatewayError::Unavailable(_))
            ));
        }
        assert_eq!(status(&fake, &c).await, Some(GatewayStatus::Pending));
    }

    #[tokio::test]
    async fn a_failure_rate_fails_about_that_share_of_confirmations() {
        let fake = FakeGateway::new(FakeSettings {
            failure_rate: 0.5,
            ..FakeSettings::default()
        });
        let mut failed = 0;
        for i in 0..1_000 {
            let c = started(&fake, &format!("pay_{i}")).await;
            match fake.confirm(&c).await {
                Ok(p) => assert_eq!(p.status, GatewayStatus::Paid),
                Err(GatewayError::Unavailable(_)) => {
                    failed += 1;
                    assert_eq!(status(&fake, &c).await, Some(GatewayStatus::Pending));
                }
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        // Binomial(1000, 0.5): outside 400..=600 once in ~10^10 runs.
        assert!((400..=600).contains(&failed), "{failed} of 1000 failed");
    }

    #[tokio::test]
    async fn without_a_failure_rate_every_confirmation_pays() {
        let fake = FakeGateway::new(FakeSettings::default());
        for i in 0..100 {
            let c = started(&fake, &format!("pay_{i}")).await;
            assert_eq!(
                fake.confirm(&c).await.map(|p| p.status),
                Ok(GatewayStatus::Paid)
            );
        }
    }

    #[tokio::test]
    async fn a_delay_holds_every_call() {
        let fake = FakeGateway::new(FakeSettings {
            delay_ms: 30,
            ..FakeSettings::default()
        });
        // A lower bound only: the call may take longer on a busy machine, never less.
        let t = std::time::Instant::now();
        let c = started(&fake, "pay_1").await;
        assert!(fake.confirm(&c).await.is_ok());
        assert!(status(&fake, &c).await.is_some());
        assert!(
            t.elapsed() >= Duration::from_millis(90),
            "{:?}",
            t.elapsed()
        );
    }
}
