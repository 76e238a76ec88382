//! The job kinds, and the one place a stored kind is turned back into code.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Job;
use crate::Services;
use crate::mail::Mail;

/// One e-mail. Verification codes travel in the payload until the mail is sent and the row
/// deleted; the stored code itself is only a hash (`email_codes`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendMail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl From<Mail> for SendMail {
    fn from(m: Mail) -> Self {
        Self {
            to: m.to,
            subject: m.subject,
            text: m.text,
        }
    }
}

#[async_trait::async_trait]
impl Job for SendMail {
    const KIND: &'static str = "send_mail";
    // 1 + 2 + … + 32 s: about a minute of retries, well inside a code's lifetime.
    const MAX_ATTEMPTS: u32 = 6;

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let mail = Mail {
            to: self.to,
            subject: self.subject,
            text: self.text,
        };
        services.mailer.send(&mail).await
    }
}

/// Deletes refresh tokens that expired more than a week ago (a reused one younger than
/// that is still recognised as a replay).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PurgeRefreshTokens {}

#[async_trait::async_trait]
impl Job for PurgeRefreshTokens {
    const KIND: &'static str = "purge_refresh_tokens";
    const MAX_ATTEMPTS: u32 = u32::MAX;
    const EVERY: Option<Duration> = Some(Duration::from_secs(3_600));

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let cutoff = services.clock.now() - chrono::Duration::days(7);
        let n = jangteo_store::accounts::purge_expired_refresh_tokens(&services.db, cutoff).await?;
        if n > 0 {
            tracing::info!(purged = n, "expired refresh tokens purged");
        }
        Ok(())
    }
}

/// Removes image files of deleted products and uploads no row points to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SweepImages {}

#[async_trait::async_trait]
impl Job for SweepImages {
    const KIND: &'static str = "sweep_images";
    const MAX_ATTEMPTS: u32 = u32::MAX;
    const EVERY: Option<Duration> = Some(Duration::from_secs(3_600));

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let r = services.images().sweep().await?;
        if r.of_deleted_products + r.orphan_files > 0 {
            tracing::info!(
                of_deleted_products = r.of_deleted_products,
                orphan_files = r.orphan_files,
                "image files swept"
            );
        }
        Ok(())
    }
}

/// Deletes delivered outbox events past the retention period.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PruneEvents {}

#[async_trait::async_trait]
impl Job for PruneEvents {
    const KIND: &'static str = "prune_events";
    const MAX_ATTEMPTS: u32 = u32::MAX;
    const EVERY: Option<Duration> = Some(Duration::from_secs(3_600));

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let n = services.prune_events().await?;
        if n > 0 {
            tracing::info!(pruned = n, "delivered outbox events pruned");
        }
        Ok(())
    }
}

/// Forgets idempotency keys past their time to live (24 h).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PruneIdempotencyKeys {}

#[async_trait::async_trait]
impl Job for PruneIdempotencyKeys {
    const KIND: &'static str = "prune_idempotency_keys";
    const MAX_ATTEMPTS: u32 = u32::MAX;
    const EVERY: Option<Duration> = Some(Duration::from_secs(3_600));

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let n = jangteo_store::idempotency::prune(services.db(), services.clock.now()).await?;
        if n > 0 {
            tracing::info!(pruned = n, "expired idempotency keys pruned");
        }
        Ok(())
    }
}

/// Deletes carts 7 days after their last change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExpireCarts {}

#[async_trait::async_trait]
impl Job for ExpireCarts {
    const KIND: &'static str = "expire_carts";
    const MAX_ATTEMPTS: u32 = u32::MAX;
    const EVERY: Option<Duration> = Some(Duration::from_secs(3_600));

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let n = crate::cart::expire(services).await?;
        if n > 0 {
            tracing::info!(carts = n, "expired carts deleted");
        }
        Ok(())
    }
}

/// Cancels PENDING orders whose payment deadline passed and returns their stock.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CancelOverdueOrders {}

#[async_trait::async_trait]
impl Job for CancelOverdueOrders {
    const KIND: &'static str = "cancel_overdue_orders";
    const MAX_ATTEMPTS: u32 = u32::MAX;
    // Often: an unpaid order holds stock other buyers want. Payment confirmation checks the
    // deadline itself, so this only decides how soon the units are back on sale.
    const EVERY: Option<Duration> = Some(Duration::from_secs(30));

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let n = crate::orders::cancel_overdue(services).await?;
        if n > 0 {
            tracing::info!(orders = n, "unpaid orders cancelled at their deadline");
        }
        Ok(())
    }
}

/// Settles payment confirmations that were claimed and never finished (see
/// `Payments::reconcile`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ReconcilePayments {}

#[async_trait::async_trait]
impl Job for ReconcilePayments {
    const KIND: &'static str = "reconcile_payments";
    const MAX_ATTEMPTS: u32 = u32::MAX;
    const EVERY: Option<Duration> = Some(Duration::from_secs(60));

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let n = services.payments().reconcile().await?;
        if n > 0 {
            tracing::info!(payments = n, "stuck payment confirmations settled");
        }
        Ok(())
    }
}

/// Carries a recorded refund to its payment gateway, retried until the gateway answers
/// (the refund's id is its idempotency key there, so a retry refunds once).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendRefund {
    pub refund_id: jangteo_core::ids::RefundId,
    pub currency: String,
}

#[async_trait::async_trait]
impl Job for SendRefund {
    const KIND: &'static str = "send_refund";
    // 1 s, 2 s, 4 s … doubling: about a day and a half of retries before it is parked for
    // an operator (`jangteo jobs list`).
    const MAX_ATTEMPTS: u32 = 17;

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        let currency = jangteo_core::money::Currency::parse(&self.currency).ok_or_else(|| {
            anyhow::anyhow!("refund {} has currency {:?}", self.refund_id, self.currency)
        })?;
        crate::payments::execute_refund(services, self.refund_id, currency).await?;
        Ok(())
    }
}

/// Gives back a charge no order took (the gateway reported another amount, or the order was
/// cancelled or paid by another attempt). Queued in the transaction that settles the
/// attempt, so it cannot be lost; the attempt's id is the gateway's idempotency key, so a
/// retry refunds once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VoidCharge {
    pub payment_id: jangteo_core::ids::PaymentId,
    pub provider: String,
    pub gateway_key: String,
    pub amount: i64,
    pub currency: String,
    pub cancelled_before: i64,
    pub reason: String,
}

#[async_trait::async_trait]
impl Job for VoidCharge {
    const KIND: &'static str = "void_charge";
    // As for refunds: about a day and a half of doubling retries, then parked.
    const MAX_ATTEMPTS: u32 = 17;

    async fn run(self, services: &Services) -> anyhow::Result<()> {
        crate::payments::void_charge(services, &self).await
    }
}

/// What the runner does after a job of this kind succeeded.
pub(super) struct Outcome {
    pub every: Option<Duration>,
}

/// Runs a stored job. An unknown kind (a row from a newer version) is an error, so it is
/// retried and eventually parked rather than silently dropped.
pub(super) async fn dispatch(
    services: &Services,
    kind: &str,
    payload: &str,
) -> anyhow::Result<Outcome> {
    async fn go<J: Job>(services: &Services, payload: &str) -> anyhow::Result<Outcome> {
        let job: J = serde_json::from_str(payload)?;
        job.run(services).await?;
        Ok(Outcome { every: J::EVERY })
    }
    match kind {
        SendMail::KIND => go::<SendMail>(services, payload).await,
        PurgeRefreshTokens::KIND => go::<PurgeRefreshTokens>(services, payload).await,
        SweepImages::KIND => go::<SweepImages>(services, payload).await,
        PruneEvents::KIND => go::<PruneEvents>(services, payload).await,
        PruneIdempotencyKeys::KIND => go::<PruneIdempotencyKeys>(services, payload).await,
        ExpireCarts::KIND => go::<ExpireCarts>(services, payload).await,
        CancelOverdueOrders::KIND => go::<CancelOverdueOrders>(services, payload).await,
        SendRefund::KIND => go::<SendRefund>(services, payload).await,
        VoidCharge::KIND => go::<VoidCharge>(services, payload).await,
        ReconcilePayments::KIND => go::<ReconcilePayments>(services, payload).await,
        other => anyhow::bail!("unknown job kind {other:?}"),
    }
}

/// The kinds that re-queue themselves after each run (housekeeping): one of each is always
/// queued.
pub const RECURRING: [&str; 7] = [
    PurgeRefreshTokens::KIND,
    SweepImages::KIND,
    PruneEvents::KIND,
    PruneIdempotencyKeys::KIND,
    ExpireCarts::KIND,
    CancelOverdueOrders::KIND,
    ReconcilePayments::KIND,
];

/// Queues each recurring job once (a dedup key per kind): on every start, harmlessly.
pub(super) async fn schedule_recurring(services: &Services) -> crate::ServiceResult<()> {
    // First runs a minute after start, when start-up work (a reindex) is behind us.
    let first = Some(services.clock.now() + chrono::Duration::minutes(1));
    let mut tx = services.begin().await?;
    for kind in RECURRING {
        requeue(&mut tx, kind, first).await?;
    }
    tx.commit().await
}

/// Re-queues a recurring job for its next run (inside the transaction that deletes the
/// finished one, so the dedup key is free again).
pub(super) async fn requeue(
    tx: &mut crate::tx::UnitOfWork<'_>,
    kind: &str,
    due_at: Option<chrono::DateTime<chrono::Utc>>,
) -> crate::ServiceResult<()> {
    let key = Some(kind.to_owned());
    match kind {
        PurgeRefreshTokens::KIND => tx.enqueue(&PurgeRefreshTokens {}, due_at, key).await?,
        SweepImages::KIND => tx.enqueue(&SweepImages {}, due_at, key).await?,
        PruneEvents::KIND => tx.enqueue(&PruneEvents {}, due_at, key).await?,
        PruneIdempotencyKeys::KIND => tx.enqueue(&PruneIdempotencyKeys {}, due_at, key).await?,
        ExpireCarts::KIND => tx.enqueue(&ExpireCarts {}, due_at, key).await?,
        CancelOverdueOrders::KIND => tx.enqueue(&CancelOverdueOrders {}, due_at, key).await?,
        ReconcilePayments::KIND => tx.enqueue(&ReconcilePayments {}, due_at, key).await?,
        _ => false,
    };
    Ok(())
}
