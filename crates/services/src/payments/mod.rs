//! Paying an order (SPEC F6.3–F6.5). A payment is started at a gateway, then confirmed once
//! the buyer has paid; no database transaction is held across a gateway call:
//!
//! - `start` checks the order can be paid, asks the gateway to start (KakaoPay's `ready`),
//!   and records the attempt PENDING. With an Idempotency-Key a retry gets the same attempt.
//! - `confirm` checks the amount the client reports against the order before anything goes
//!   to the gateway, claims the attempt (one confirmation at a time), asks the gateway, and
//!   checks again what the gateway says was charged. Then one unit of work moves the attempt
//!   PENDING → PAID and the order PENDING → ORDERED. If the order cannot take the payment
//!   any more (its deadline passed, or another attempt paid it), the charge is refunded at
//!   once: a buyer is never charged twice for one order.
//! - A declined payment is FAILED and the order stays PENDING: the buyer may start another.

mod fake;
mod http;
mod kakaopay;
mod portone;
mod refund;
mod resilient;
mod toss;
mod webhooks;

use std::sync::Arc;

use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{OrderId, PaymentId};
use jangteo_core::money::Money;
use jangteo_core::order::{CancelReason, OrderStatus, PaymentStatus};
use jangteo_store::orders as order_store;
use jangteo_store::payments::{self as store, Payment, Settle};
use serde::{Deserialize, Serialize};

pub use fake::{FakeGateway, FakeSettings};
pub use kakaopay::{KakaoPay, KakaoPaySettings};
pub use portone::{PortOne, PortOneSettings};
pub use refund::RefundLine;
pub(crate) use refund::execute_refund;
pub use resilient::Resilient;
pub use toss::{Toss, TossSettings};

use crate::idempotency::{IdempotentRequest, Replayable};
use crate::jobs::kinds::VoidCharge;
use crate::ports::payment::{
    Confirmation, FakeOutcome, GatewayError, GatewayPayment, GatewayStatus, PaymentGateway,
    PaymentStart, Refund,
};
use crate::tokens::Principal;
use crate::{ServiceError, ServiceResult, Services};

const START_SCOPE: &str = "payments.start";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentSettings {
    /// The gateway a payment uses when the request names none.
    pub default_provider: String,
    /// A confirmation claim older than this is taken to be of a dead process.
    pub confirm_claim_secs: u64,
    pub fake: FakeSettings,
    pub toss: TossSettings,
    pub portone: PortOneSettings,
    pub kakaopay: KakaoPaySettings,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        Self {
            default_provider: "fake".into(),
            confirm_claim_secs: 60,
            fake: FakeSettings::default(),
            toss: TossSettings::default(),
            portone: PortOneSettings::default(),
            kakaopay: KakaoPaySettings::default(),
        }
    }
}

/// The configured gateways, by provider name.
pub struct Gateways {
    all: Vec<Arc<dyn PaymentGateway>>,
    default_provider: String,
}

impl Gateways {
    pub fn new(all: Vec<Arc<dyn PaymentGateway>>, default_provider: &str) -> Self {
        Self {
            all,
            default_provider: default_provider.to_owned(),
        }
    }

    pub fn get(&self, provider: &str) -> Option<&Arc<dyn PaymentGateway>> {
        self.all.iter().find(|g| g.provider() == provider)
    }

    pub fn providers(&self) -> Vec<&'static str> {
        self.all.iter().map(|g| g.provider()).collect()
    }

    fn chosen(&self, provider: Option<&str>) -> ServiceResult<&Arc<dyn PaymentGateway>> {
        let name = provider.unwrap_or(&self.default_provider);
        self.get(name).ok_or_else(|| ServiceError::Unprocessable {
            code: "unknown_provider",
            detail: format!(
                "payment provider {name:?} is not configured; this shop takes: {}",
                self.providers().join(", ")
            ),
        })
    }
}

pub struct Payments<'a> {
    s: &'a Services,
}

impl<'a> Payments<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    fn gateway_of(&self, p: &Payment) -> ServiceResult<&'a Arc<dyn PaymentGateway>> {
        self.s.gateways.get(&p.provider).ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!(
                "payment {} is of provider {:?}, which is not configured",
                p.id,
                p.provider
            ))
        })
    }

    /// The payment attempts of an order the caller may see.
    pub async fn of_order(&self, order: OrderId) -> ServiceResult<Vec<Payment>> {
        Ok(store::of_orders(self.s.reader(), &[order]).await?)
    }

    /// Starts paying a PENDING order of the caller's.
    pub async fn start(
        &self,
        buyer: Principal,
        order_id: OrderId,
        provider: Option<&str>,
        fake_outcome: Option<&str>,
        idempotency: Option<&IdempotentRequest>,
    ) -> ServiceResult<Replayable<Payment>> {
        let gateway = self.s.gateways.chosen(provider)?;
        let outcome = match fake_outcome {
            None => None,
            Some(_) if gateway.provider() != "fake" => {
                return Err(ServiceError::Unprocessable {
                    code: "outcome_not_supported",
                    detail: "`outcome` is for the fake gateway only".into(),
                });
            }
            Some(o) => Some(FakeOutcome::parse(o).ok_or_else(|| {
                jangteo_core::FieldErrors::single(
                    "outcome",
                    "unknown_value",
                    "outcome must be APPROVE, DECLINE or FAIL",
                )
            })?),
        };
        if let Some(request) = idempotency
            && let Some(first) = self.replay(buyer, request).await?
        {
            return Ok(Replayable::replayed(first));
        }
        let order = order_store::find(self.s.reader(), order_id)
            .await?
            .filter(|o| o.buyer_id == buyer.user_id)
            .ok_or(ServiceError::NotFound("order"))?;
        let now = self.s.clock().now();
        payable(order.status, order.payment_deadline, now)?;
        let lines = order_store::lines(self.s.reader(), std::slice::from_ref(&order)).await?;
        let id = PaymentId::new();
        let started = gateway
            .start(&PaymentStart {
                reference: id.to_string(),
                buyer_reference: buyer.user_id.to_string(),
                amount: order.total,
                vat: order.vat,
                order_name: order_name(&lines),
                fake_outcome: outcome,
            })
            .await
            .map_err(gateway_error)?;
        let payment = Payment {
            id,
            order_id,
            buyer_id: buyer.user_id,
            provider: gateway.provider().to_owned(),
            status: PaymentStatus::Pending,
            amount: order.total,
            refunded: Money::zero(order.total.currency()),
            gateway_key: started.gateway_key,
            redirect_url: started.redirect_url,
            failure_code: None,
            failure_message: None,
            created_at: now,
            updated_at: now,
            paid_at: None,
        };
        let Some(request) = idempotency else {
            // One insert needs no transaction of its own (no BEGIN and COMMIT round trips
            // on PostgreSQL and MySQL).
            self.s
                .writer()
                .alone(async |c| store::insert(c, &payment).await)
                .await?;
            return Ok(Replayable::fresh(payment));
        };
        let mut tx = self.s.begin().await?;
        // A racing duplicate may have recorded its attempt since: answer with it (the
        // gateway session started above is simply never used).
        if let Some(first) = tx
            .reserve_key::<PaymentId>(START_SCOPE, buyer.user_id, request)
            .await?
        {
            tx.rollback().await?;
            return Ok(Replayable::replayed(self.load(first).await?));
        }
        tx.complete_key(&id).await?;
        store::insert(tx.conn(), &payment).await?;
        tx.commit().await?;
        Ok(Replayable::fresh(payment))
    }

    /// Confirmation claims taken before this are of a process that died.
    fn stale_claims(&self) -> chrono::DateTime<chrono::Utc> {
        self.s.clock().now()
            - chrono::Duration::seconds(
                i64::try_from(self.s.payment_settings.confirm_claim_secs).unwrap_or(60),
            )
    }

    async fn replay(
        &self,
        buyer: Principal,
        request: &IdempotentRequest,
    ) -> ServiceResult<Option<Payment>> {
        let mut tx = self.s.begin().await?;
        let first = tx
            .reserve_key::<PaymentId>(START_SCOPE, buyer.user_id, request)
            .await?;
        // Only a look: the key is reserved for real with the attempt's insert.
        tx.rollback().await?;
        match first {
            Some(id) => Ok(Some(self.load(id).await?)),
            None => Ok(None),
        }
    }

    async fn load(&self, id: PaymentId) -> ServiceResult<Payment> {
        store::find(self.s.reader(), id)
            .await?
            .ok_or(ServiceError::NotFound("payment"))
    }

    /// Confirms a payment the buyer made at the gateway. `replayed` when it was confirmed
    /// already (a retry gets the same answer, and nothing is charged twice).
    pub async fn confirm(
        &self,
        buyer: Principal,
        id: PaymentId,
        gateway_key: Option<String>,
        token: Option<String>,
        amount: Option<i64>,
    ) -> ServiceResult<Replayable<Payment>> {
        let amount = amount.ok_or_else(|| {
            jangteo_core::FieldErrors::single("amount", "required", "amount is required")
        })?;
        let payment = self
            .load(id)
            .await
            .ok()
            .filter(|p| p.buyer_id == buyer.user_id)
            .ok_or(ServiceError::NotFound("payment"))?;
        match payment.status {
            PaymentStatus::Pending => {}
            PaymentStatus::Paid => return Ok(Replayable::replayed(payment)),
            other => {
                return Err(ServiceError::conflict(
                    "payment_closed",
                    format!("this payment is {other}; start a new one"),
                ));
            }
        }
        // The S0 double check, first half: what the client says it paid is the order's
        // total, before anything goes to the gateway.
        if amount != payment.amount.minor() {
            return Err(ServiceError::Unprocessable {
                code: "amount_mismatch",
                detail: format!(
                    "the order's total is {}, not {amount}",
                    payment.amount.minor()
                ),
            });
        }
        let now = self.s.clock().now();
        let order = order_store::find(self.s.reader(), payment.order_id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        if order.status == OrderStatus::Pending && order.payment_deadline <= now {
            // Its deadline passed and the sweep has not run yet: cancel it now (or see
            // that the sweep just did).
            let mut tx = self.s.begin().await?;
            crate::orders::cancel_in(&mut tx, order.id, CancelReason::PaymentTimeout).await?;
            tx.commit().await?;
            let now_status = order_store::find(self.s.reader(), order.id)
                .await?
                .map_or(OrderStatus::Cancelled, |o| o.status);
            return Err(not_payable(now_status));
        }
        if order.status != OrderStatus::Pending {
            return Err(not_payable(order.status));
        }
        let stale = self.stale_claims();
        let claimed = self
            .s
            .writer()
            .alone(async |c| store::claim_confirm(c, id, now, stale).await)
            .await?;
        if !claimed {
            let current = self.load(id).await?;
            if current.status == PaymentStatus::Paid {
                return Ok(Replayable::replayed(current));
            }
            return Err(ServiceError::conflict(
                "payment_in_progress",
                "this payment is being confirmed by another request; retry in a moment",
            ));
        }
        let gateway = self.gateway_of(&payment)?;
        let confirmation = Confirmation {
            reference: payment.id.to_string(),
            buyer_reference: buyer.user_id.to_string(),
            gateway_key: gateway_key.or_else(|| payment.gateway_key.clone()),
            token,
            amount: payment.amount,
        };
        match gateway.confirm(&confirmation).await {
            Ok(charged) if charged.status == GatewayStatus::Pending => {
                store::release_claim(self.s.db(), id).await?;
                Err(ServiceError::conflict(
                    "payment_not_completed",
                    "the gateway has not completed this payment yet; confirm once the buyer has paid",
                ))
            }
            Ok(charged) => self.settle_charged(&payment, charged).await,
            Err(GatewayError::Declined { code, message }) => {
                store::settle(
                    self.s.db(),
                    &payment,
                    Settle::Failed {
                        code: &code,
                        message: &message,
                    },
                    self.s.clock().now(),
                )
                .await?;
                Err(ServiceError::PaymentDeclined { code, message })
            }
            Err(e) => {
                // Unknown outcome or a refused request: the attempt stays PENDING and the
                // buyer may confirm again (the gateway answers a repeated confirm of a paid
                // payment with that payment).
                store::release_claim(self.s.db(), id).await?;
                Err(gateway_error(e))
            }
        }
    }

    /// The gateway charged `charged`: check it, then pay the order — or refund it when the
    /// order cannot take it.
    async fn settle_charged(
        &self,
        payment: &Payment,
        charged: GatewayPayment,
    ) -> ServiceResult<Replayable<Payment>> {
        let now = self.s.clock().now();
        // The S0 double check, second half: what the gateway charged is the order's total.
        if charged.status != GatewayStatus::Paid || charged.total != payment.amount.minor() {
            tracing::error!(payment_id = %payment.id, charged = charged.total, expected = payment.amount.minor(),
                status = ?charged.status, "gateway reported a different charge; refunding it");
            self.settle_and_void(
                payment,
                &charged,
                Settle::Failed {
                    code: "amount_mismatch",
                    message: "the gateway charged another amount; refunded",
                },
                "amount mismatch",
            )
            .await?;
            return Err(ServiceError::Conflict {
                code: "payment_amount_mismatch",
                detail: "the gateway reported another amount than the order's total; the charge was refunded".into(),
            });
        }
        let mut tx = self.s.begin().await?;
        let order_paid = order_store::move_status(
            tx.conn(),
            payment.order_id,
            OrderStatus::Pending,
            OrderStatus::Ordered,
            None,
            now,
        )
        .await?;
        if order_paid
            && store::settle(
                tx.conn(),
                payment,
                Settle::Paid {
                    gateway_key: &charged.gateway_key,
                },
                now,
            )
            .await?
        {
            tx.record(DomainEvent::OrderPaid {
                order_id: payment.order_id,
                buyer_id: payment.buyer_id,
            });
            tx.commit().await?;
            // The row as the settlement wrote it (no read back).
            return Ok(Replayable::fresh(Payment {
                status: PaymentStatus::Paid,
                gateway_key: Some(charged.gateway_key),
                failure_code: None,
                failure_message: None,
                updated_at: now,
                paid_at: Some(now),
                ..payment.clone()
            }));
        }
        tx.rollback().await?;
        // The order took no payment from us. Perhaps it took this one: a confirmation and a
        // webhook (or reconciliation) may settle the same charge, and the second must not
        // refund what the first took.
        let current = self.load(payment.id).await?;
        if current.status == PaymentStatus::Paid {
            return Ok(Replayable::replayed(current));
        }
        // Charged for an order that is cancelled or paid by another attempt: give it back.
        self.settle_and_void(
            payment,
            &charged,
            Settle::Refunded {
                gateway_key: &charged.gateway_key,
            },
            "order no longer payable",
        )
        .await?;
        let order = order_store::find(self.s.reader(), payment.order_id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        Err(not_payable(order.status))
    }

    /// Settles attempts whose confirmation was claimed and never finished (the process died
    /// mid-call, or the gateway's answer was lost): asks the gateway what happened, then pays
    /// the order (or refunds the charge) as the confirmation would have, marks a failed
    /// attempt FAILED, or frees one the gateway never charged so the buyer may confirm
    /// again. Returns how many it settled (the `reconcile_payments` job).
    pub async fn reconcile(&self) -> ServiceResult<u64> {
        let stale = self.stale_claims();
        let stuck = store::stuck_confirmations(self.s.db(), stale, 100).await?;
        let mut settled = 0;
        for id in stuck {
            if self.reconcile_one(id, stale).await? {
                settled += 1;
            }
        }
        Ok(settled)
    }

    /// Asks the gateway about one PENDING attempt nobody is confirming (a claim older than
    /// `stale` may be taken over) and settles it; `true` when it left PENDING.
    pub(crate) async fn reconcile_one(
        &self,
        id: PaymentId,
        stale: chrono::DateTime<chrono::Utc>,
    ) -> ServiceResult<bool> {
        let now = self.s.clock().now();
        let payment = self.load(id).await?;
        let Ok(gateway) = self.gateway_of(&payment) else {
            return Ok(false);
        };
        // Take the claim, so a buyer's confirm does not race this.
        if payment.status != PaymentStatus::Pending
            || !store::claim_confirm(self.s.db(), id, now, stale).await?
        {
            return Ok(false);
        }
        let reference = payment.id.to_string();
        match gateway
            .lookup(&reference, payment.gateway_key.as_deref())
            .await
        {
            Ok(Some(charged)) if charged.status == GatewayStatus::Paid => {
                // Either outcome (paid, or refunded because the order moved on) settles it.
                let _ = self.settle_charged(&payment, charged).await;
                Ok(true)
            }
            Ok(Some(charged)) if charged.status == GatewayStatus::Failed => {
                store::settle(
                    self.s.db(),
                    &payment,
                    Settle::Failed {
                        code: "gateway_failed",
                        message: "the gateway reports the payment failed",
                    },
                    now,
                )
                .await?;
                Ok(true)
            }
            Ok(_) => {
                store::release_claim(self.s.db(), id).await?;
                Ok(false)
            }
            Err(e) => {
                tracing::warn!(payment_id = %id, error = %e, "reconciliation lookup failed");
                store::release_claim(self.s.db(), id).await?;
                Ok(false)
            }
        }
    }

    /// Settles an attempt whose charge no order took and gives the charge back, once: only
    /// the settlement whose conditional update moves the attempt out of PENDING queues the
    /// void, in its own transaction, so neither a crash nor a gateway failure can lose it.
    /// The void is carried out at once; the job (due a minute later) is the retry.
    async fn settle_and_void(
        &self,
        payment: &Payment,
        charged: &GatewayPayment,
        outcome: Settle<'_>,
        why: &str,
    ) -> ServiceResult<()> {
        let now = self.s.clock().now();
        let void = VoidCharge {
            payment_id: payment.id,
            provider: payment.provider.clone(),
            gateway_key: charged.gateway_key.clone(),
            amount: charged.total,
            currency: payment.amount.currency().as_str().to_owned(),
            cancelled_before: charged.cancelled,
            reason: why.to_owned(),
        };
        let key = format!("void:{}", payment.id);
        let mut tx = self.s.begin().await?;
        if !store::settle(tx.conn(), payment, outcome, now).await? {
            tx.rollback().await?;
            return Ok(());
        }
        tx.enqueue(
            &void,
            Some(now + chrono::Duration::minutes(1)),
            Some(key.clone()),
        )
        .await?;
        tx.commit().await?;
        match void_charge(self.s, &void).await {
            Ok(()) => {
                // Left in place, the job would only void again, which the gateway answers
                // as done (the same idempotency key): a failure here is not the buyer's.
                if let Err(e) = jangteo_store::jobs::drop_unclaimed(self.s.db(), &key).await {
                    tracing::warn!(payment_id = %payment.id, error = %e, "could not drop the void_charge job");
                }
            }
            Err(e) => {
                tracing::error!(payment_id = %payment.id, error = %e, "voiding an untaken charge failed; the void_charge job retries it");
            }
        }
        Ok(())
    }
}

/// Refunds a whole charge no order took, at its gateway (the `void_charge` job).
pub(crate) async fn void_charge(services: &Services, void: &VoidCharge) -> anyhow::Result<()> {
    let gateway = services
        .gateways
        .get(&void.provider)
        .ok_or_else(|| anyhow::anyhow!("payment provider {:?} is not configured", void.provider))?;
    let currency = jangteo_core::money::Currency::parse(&void.currency)
        .ok_or_else(|| anyhow::anyhow!("currency {:?}", void.currency))?;
    gateway
        .cancel(&Refund {
            gateway_key: void.gateway_key.clone(),
            reference: void.payment_id.to_string(),
            amount: Money::new(void.amount, currency),
            reason: void.reason.clone(),
            idempotency_key: format!("void-{}", void.payment_id),
            cancelled_before: void.cancelled_before,
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// Whether an order in `status` with this deadline can be paid at `now`.
fn payable(
    status: OrderStatus,
    deadline: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<()> {
    if status != OrderStatus::Pending {
        return Err(not_payable(status));
    }
    if deadline <= now {
        return Err(ServiceError::conflict(
            "payment_deadline_passed",
            "the order's payment deadline has passed; it is being cancelled",
        ));
    }
    Ok(())
}

fn not_payable(status: OrderStatus) -> ServiceError {
    match status {
        OrderStatus::Ordered | OrderStatus::Complete => ServiceError::conflict(
            "order_already_paid",
            "the order is paid already; any second charge was refunded",
        ),
        _ => ServiceError::conflict(
            "order_cancelled",
            "the order is cancelled (its payment deadline passed, or it was cancelled); any charge was refunded",
        ),
    }
}

/// What the gateway shows: the first product, and how many more lines ("머그 외 2건").
fn order_name(lines: &[jangteo_store::orders::OrderLine]) -> String {
    let first: String = lines
        .first()
        .map(|l| l.product_name.chars().take(80).collect())
        .unwrap_or_default();
    match lines.len() {
        0 | 1 => first,
        n => format!("{first} 외 {}건", n - 1),
    }
}

pub(crate) fn gateway_error(e: GatewayError) -> ServiceError {
    match e {
        GatewayError::Declined { code, message } => ServiceError::PaymentDeclined { code, message },
        GatewayError::Rejected { code, message } => ServiceError::Conflict {
            code: "payment_rejected",
            detail: format!("the payment gateway refused the request: {code}: {message}"),
        },
        GatewayError::Unavailable(why) => {
            tracing::warn!(%why, "payment gateway unavailable");
            ServiceError::Unavailable("payment_gateway")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_print_without_their_keys() {
        let mut s = PaymentSettings::default();
        s.toss.secret_key = Some("test_sk_toss_0123456789".into());
        s.portone.api_secret = Some("portone_api_0123456789".into());
        s.portone.webhook_secret = Some("whsec_0123456789".into());
        s.kakaopay.secret_key = Some("DEV_kakao_0123456789".into());
        let printed = format!("{s:?}");
        for key in ["test_sk_toss", "portone_api", "whsec_", "DEV_kakao"] {
            assert!(!printed.contains(key), "{key} printed: {printed}");
        }
        assert!(printed.contains("***"), "{printed}");
    }
}
