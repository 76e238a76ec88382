//! The payment gateway port (SPEC F6.3): one interface, so a new PG is one adapter. The
//! shape follows what Toss Payments, PortOne V2 and KakaoPay have in common:
//!
//! 1. `start`: before the buyer pays. KakaoPay's `ready` answers a `tid` and a URL to send
//!    the buyer to; Toss and PortOne need nothing server-side (their browser SDKs take our
//!    payment id as the order id); the fake gateway issues its payment key here.
//! 2. `confirm`: after the buyer paid. Toss `confirm(paymentKey, orderId, amount)`, KakaoPay
//!    `approve(tid, pg_token)`, PortOne `GET /payments/{id}` checked for PAID.
//! 3. `cancel`: a full or partial refund, with an idempotency key so a retried refund
//!    refunds once (Toss honours `Idempotency-Key`; PortOne and KakaoPay are guarded by
//!    the amount still cancellable).
//! 4. `lookup`: what the gateway says about a payment (reconciliation).
//!
//! Services never hold a database transaction across a gateway call.

use jangteo_core::money::Money;

/// What a payment is for, as the gateway needs it.
#[derive(Debug, Clone)]
pub struct PaymentStart {
    /// Our payment id: the gateway's order id (Toss `orderId`, KakaoPay
    /// `partner_order_id`, PortOne `paymentId`).
    pub reference: String,
    pub buyer_reference: String,
    pub amount: Money,
    pub vat: Money,
    /// Shown by the gateway ("머그 외 2건").
    pub order_name: String,
    /// For the fake gateway: how this payment is to end.
    pub fake_outcome: Option<FakeOutcome>,
}

/// How the fake gateway ends a payment (development, tests, benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeOutcome {
    Approve,
    /// The card is refused: the buyer may try again.
    Decline,
    /// The gateway fails (as a 5xx or a timeout would).
    Fail,
}

impl FakeOutcome {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "APPROVE" => Some(Self::Approve),
            "DECLINE" => Some(Self::Decline),
            "FAIL" => Some(Self::Fail),
            _ => None,
        }
    }
}

/// What `start` gives the buyer's client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Started {
    /// The gateway's key for the payment, when it issues one now (KakaoPay `tid`, fake).
    pub gateway_key: Option<String>,
    /// Where to send the buyer to pay (KakaoPay), if anywhere.
    pub redirect_url: Option<String>,
}

/// What the buyer's client brings back after paying.
#[derive(Debug, Clone)]
pub struct Confirmation {
    pub reference: String,
    pub buyer_reference: String,
    /// Toss `paymentKey`, or the key `start` issued.
    pub gateway_key: Option<String>,
    /// KakaoPay `pg_token`.
    pub token: Option<String>,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayStatus {
    Paid,
    PartiallyCancelled,
    Cancelled,
    /// Started, not paid (yet).
    Pending,
    Failed,
}

/// A payment as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPayment {
    pub gateway_key: String,
    pub status: GatewayStatus,
    /// What was charged, minor units.
    pub total: i64,
    /// What has been refunded of it.
    pub cancelled: i64,
}

#[derive(Debug, Clone)]
pub struct Refund {
    pub gateway_key: String,
    pub reference: String,
    /// Minor units to refund.
    pub amount: Money,
    pub reason: String,
    /// The same key for every attempt of one refund.
    pub idempotency_key: String,
    /// What earlier refunds of this payment took (minor units): gateways without
    /// idempotency keys (PortOne) guard a retry with the amount still cancellable.
    pub cancelled_before: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The payment was refused (card declined, limit, fraud check): final, the buyer may
    /// pay again another way.
    #[error("declined: {code}: {message}")]
    Declined { code: String, message: String },
    /// The gateway refused our request as wrong (4xx): not retried.
    #[error("rejected: {code}: {message}")]
    Rejected { code: String, message: String },
    /// No usable answer (timeout, 5xx, connection, open circuit): the outcome is unknown
    /// and the call may be retried.
    #[error("gateway unavailable: {0}")]
    Unavailable(String),
}

#[async_trait::async_trait]
pub trait PaymentGateway: Send + Sync {
    /// The provider's name as stored with each payment (`fake`, `toss`, …).
    fn provider(&self) -> &'static str;

    async fn start(&self, payment: &PaymentStart) -> Result<Started, GatewayError>;

    async fn confirm(&self, c: &Confirmation) -> Result<GatewayPayment, GatewayError>;

    async fn cancel(&self, refund: &Refund) -> Result<GatewayPayment, GatewayError>;

    async fn lookup(
        &self,
        reference: &str,
        gateway_key: Option<&str>,
    ) -> Result<Option<GatewayPayment>, GatewayError>;
}
