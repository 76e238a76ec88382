//! Payments and refunds. A payment moves PENDING → PAID | FAILED, PAID → CANCELLED once
//! fully refunded, each by a conditional UPDATE naming the state it was read in. Confirming
//! a payment is claimed first ([`claim_confirm`]) so that one request at a time talks to the
//! gateway about it; a claim older than a minute (its process died) may be taken over.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};

use jangteo_core::ids::{OrderId, PaymentId, RefundId, UserId};
use jangteo_core::money::{Currency, Money};
use jangteo_core::order::PaymentStatus;

use crate::entities::{payments, refunds};
use crate::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub buyer_id: UserId,
    pub provider: String,
    pub status: PaymentStatus,
    pub amount: Money,
    pub refunded: Money,
    pub gateway_key: Option<String>,
    pub redirect_url: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

impl TryFrom<payments::Model> for Payment {
    type Error = StoreError;

    fn try_from(m: payments::Model) -> StoreResult<Self> {
        let status = PaymentStatus::parse(&m.status).ok_or_else(|| {
            StoreError::Corrupt(format!("payment {} has status {:?}", m.id, m.status))
        })?;
        let currency = Currency::parse(&m.currency).ok_or_else(|| {
            StoreError::Corrupt(format!("payment {} has currency {:?}", m.id, m.currency))
        })?;
        Ok(Self {
            id: m.id.into(),
            order_id: m.order_id.into(),
            buyer_id: m.buyer_id.into(),
            provider: m.provider,
            status,
            amount: Money::new(m.amount, currency),
            refunded: Money::new(m.refunded, currency),
            gateway_key: m.gateway_key,
            redirect_url: m.redirect_url,
            failure_code: m.failure_code,
            failure_message: m.failure_message,
            created_at: m.created_at,
            updated_at: m.updated_at,
            paid_at: m.paid_at,
        })
    }
}

impl From<&Payment> for payments::Model {
    fn from(p: &Payment) -> Self {
        Self {
            id: p.id.uuid(),
            order_id: p.order_id.uuid(),
            buyer_id: p.buyer_id.uuid(),
            provider: p.provider.clone(),
            status: p.status.as_str().to_owned(),
            amount: p.amount.minor(),
            currency: p.amount.currency().as_str().to_owned(),
            refunded: p.refunded.minor(),
            gateway_key: p.gateway_key.clone(),
            redirect_url: p.redirect_url.clone(),
            failure_code: p.failure_code.clone(),
            failure_message: p.failure_message.clone(),
            confirming_since: None,
            created_at: p.created_at,
            updated_at: p.updated_at,
            paid_at: p.paid_at,
        }
    }
}

pub async fn insert(c: &impl ConnectionTrait, p: &Payment) -> StoreResult<()> {
    crate::insert_one(c, payments::Model::from(p).into_active_model()).await
}

pub async fn find(c: &impl ConnectionTrait, id: PaymentId) -> StoreResult<Option<Payment>> {
    payments::Entity::find_by_id(id.uuid())
        .one(c)
        .await?
        .map(Payment::try_from)
        .transpose()
}

/// The payments of `orders`, oldest first.
pub async fn of_orders(c: &impl ConnectionTrait, orders: &[OrderId]) -> StoreResult<Vec<Payment>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    payments::Entity::find()
        .filter(payments::Column::OrderId.is_in(crate::uuids(orders)))
        .order_by_asc(payments::Column::Id)
        .all(c)
        .await?
        .into_iter()
        .map(Payment::try_from)
        .collect()
}

/// The PAID (or partly refunded) payment of an order, if any.
pub async fn paid_of(c: &impl ConnectionTrait, order: OrderId) -> StoreResult<Option<Payment>> {
    payments::Entity::find()
        .filter(payments::Column::OrderId.eq(order.uuid()))
        .filter(payments::Column::Status.eq(PaymentStatus::Paid.as_str()))
        .one(c)
        .await?
        .map(Payment::try_from)
        .transpose()
}

/// Claims a PENDING payment for one confirmation; `false` when it is not PENDING or another
/// request holds a claim younger than `stale_before`.
pub async fn claim_confirm(
    c: &impl ConnectionTrait,
    id: PaymentId,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> StoreResult<bool> {
    let r = payments::Entity::update_many()
        .col_expr(payments::Column::ConfirmingSince, Expr::value(now))
        .filter(payments::Column::Id.eq(id.uuid()))
        .filter(payments::Column::Status.eq(PaymentStatus::Pending.as_str()))
        .filter(
            Condition::any()
                .add(payments::Column::ConfirmingSince.is_null())
                .add(payments::Column::ConfirmingSince.lt(stale_before)),
        )
        .exec(c)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Gives a claim back (the gateway did not answer; the buyer may retry).
pub async fn release_claim(c: &impl ConnectionTrait, id: PaymentId) -> StoreResult<()> {
    payments::Entity::update_many()
        .col_expr(
            payments::Column::ConfirmingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(payments::Column::Id.eq(id.uuid()))
        .exec(c)
        .await?;
    Ok(())
}

/// How a payment leaves PENDING.
#[derive(Debug, Clone)]
pub enum Settle<'a> {
    Paid {
        gateway_key: &'a str,
    },
    Failed {
        code: &'a str,
        message: &'a str,
    },
    /// Charged, but the order could not take it (cancelled meanwhile, or paid by another
    /// attempt): refunded in full at once.
    Refunded {
        gateway_key: &'a str,
    },
}

/// Moves a PENDING payment to its outcome; `false` if it was not PENDING any more.
pub async fn settle(
    c: &impl ConnectionTrait,
    p: &Payment,
    outcome: Settle<'_>,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut q = payments::Entity::update_many()
        .col_expr(payments::Column::UpdatedAt, Expr::value(at))
        .col_expr(
            payments::Column::ConfirmingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(payments::Column::Id.eq(p.id.uuid()))
        .filter(payments::Column::Status.eq(PaymentStatus::Pending.as_str()));
    let status = match outcome {
        Settle::Paid { gateway_key } => {
            q = q
                .col_expr(payments::Column::GatewayKey, Expr::value(gateway_key))
                .col_expr(payments::Column::PaidAt, Expr::value(at));
            PaymentStatus::Paid
        }
        Settle::Failed { code, message } => {
            q = q
                .col_expr(
                    payments::Column::FailureCode,
                    Expr::value(truncate(code, 64)),
                )
                .col_expr(
                    payments::Column::FailureMessage,
                    Expr::value(truncate(message, 500)),
                );
            PaymentStatus::Failed
        }
        Settle::Refunded { gateway_key } => {
            q = q
                .col_expr(payments::Column::GatewayKey, Expr::value(gateway_key))
                .col_expr(payments::Column::PaidAt, Expr::value(at))
                .col_expr(payments::Column::Refunded, Expr::value(p.amount.minor()));
            PaymentStatus::Cancelled
        }
    };
    q = q.col_expr(payments::Column::Status, Expr::value(status.as_str()));
    Ok(q.exec(c).await?.rows_affected == 1)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Adds `amount` to what a PAID payment has refunded; when that reaches the whole amount it
/// becomes CANCELLED. `false` when the refund would exceed what was paid.
pub async fn add_refunded(
    c: &impl ConnectionTrait,
    id: PaymentId,
    amount: i64,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let refunded = Expr::col(payments::Column::Refunded).add(amount);
    let r = payments::Entity::update_many()
        .col_expr(payments::Column::Refunded, refunded.clone())
        .col_expr(
            payments::Column::Status,
            Expr::case(
                refunded.clone().gte(Expr::col(payments::Column::Amount)),
                PaymentStatus::Cancelled.as_str(),
            )
            .finally(PaymentStatus::Paid.as_str())
            .into(),
        )
        .col_expr(payments::Column::UpdatedAt, Expr::value(at))
        .filter(payments::Column::Id.eq(id.uuid()))
        .filter(payments::Column::Status.eq(PaymentStatus::Paid.as_str()))
        .filter(refunded.lte(Expr::col(payments::Column::Amount)))
        .exec(c)
        .await?;
    Ok(r.rows_affected == 1)
}

/// One refund: requested when its lines were returned, DONE once the gateway refunded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub id: RefundId,
    pub payment_id: PaymentId,
    pub order_id: OrderId,
    pub amount: Money,
    pub reason: String,
    /// `(line_no, quantity)` returned.
    pub lines: Vec<(i32, i64)>,
    pub done: bool,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

const REQUESTED: &str = "REQUESTED";
const DONE: &str = "DONE";

fn refund_from(m: refunds::Model, currency: Currency) -> StoreResult<RefundRecord> {
    let lines: Vec<(i32, i64)> = serde_json::from_str::<Vec<serde_json::Value>>(&m.lines)
        .map_err(|e| StoreError::Corrupt(format!("refund {} lines: {e}", m.id)))?
        .iter()
        .filter_map(|l| {
            Some((
                i32::try_from(l["line_no"].as_i64()?).ok()?,
                l["quantity"].as_i64()?,
            ))
        })
        .collect();
    Ok(RefundRecord {
        id: m.id.into(),
        payment_id: m.payment_id.into(),
        order_id: m.order_id.into(),
        amount: Money::new(m.amount, currency),
        reason: m.reason,
        lines,
        done: m.status == DONE,
        attempts: m.attempts,
        last_error: m.last_error,
        created_at: m.created_at,
        done_at: m.done_at,
    })
}

pub async fn insert_refund(c: &impl ConnectionTrait, r: &RefundRecord) -> StoreResult<()> {
    let lines: Vec<serde_json::Value> = r
        .lines
        .iter()
        .map(|(n, q)| serde_json::json!({"line_no": n, "quantity": q}))
        .collect();
    let row = refunds::Model {
        id: r.id.uuid(),
        payment_id: r.payment_id.uuid(),
        order_id: r.order_id.uuid(),
        amount: r.amount.minor(),
        reason: r.reason.clone(),
        lines: serde_json::Value::Array(lines).to_string(),
        status: if r.done { DONE } else { REQUESTED }.to_owned(),
        attempts: r.attempts,
        last_error: r.last_error.clone(),
        created_at: r.created_at,
        done_at: r.done_at,
    };
    crate::insert_one(c, row.into_active_model()).await
}

pub async fn find_refund(
    c: &impl ConnectionTrait,
    id: RefundId,
    currency: Currency,
) -> StoreResult<Option<RefundRecord>> {
    refunds::Entity::find_by_id(id.uuid())
        .one(c)
        .await?
        .map(|m| refund_from(m, currency))
        .transpose()
}

/// The refunds of `orders`, oldest first.
pub async fn refunds_of(
    c: &impl ConnectionTrait,
    orders: &[crate::orders::Order],
) -> StoreResult<Vec<RefundRecord>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<OrderId> = orders.iter().map(|o| o.id).collect();
    let rows = refunds::Entity::find()
        .filter(refunds::Column::OrderId.is_in(crate::uuids(&ids)))
        .order_by_asc(refunds::Column::Id)
        .all(c)
        .await?;
    rows.into_iter()
        .filter_map(|m| {
            let currency = orders
                .iter()
                .find(|o| o.id.uuid() == m.order_id)?
                .total
                .currency();
            Some(refund_from(m, currency))
        })
        .collect()
}

/// Marks a requested refund DONE; `false` when it was already.
pub async fn refund_done(
    c: &impl ConnectionTrait,
    id: RefundId,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let r = refunds::Entity::update_many()
        .col_expr(refunds::Column::Status, Expr::value(DONE))
        .col_expr(refunds::Column::DoneAt, Expr::value(at))
        .filter(refunds::Column::Id.eq(id.uuid()))
        .filter(refunds::Column::Status.eq(REQUESTED))
        .exec(c)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Counts a failed gateway attempt of a refund.
pub async fn refund_attempt_failed(
    c: &impl ConnectionTrait,
    id: RefundId,
    error: &str,
) -> StoreResult<()> {
    refunds::Entity::update_many()
        .col_expr(
            refunds::Column::Attempts,
            Expr::col(refunds::Column::Attempts).add(1),
        )
        .col_expr(
            refunds::Column::LastError,
            Expr::value(truncate(error, 500)),
        )
        .filter(refunds::Column::Id.eq(id.uuid()))
        .exec(c)
        .await?;
    Ok(())
}

/// Payments claimed for confirmation before `before` and never settled: their process died
/// mid-call (reconciliation asks the gateway about them).
pub async fn stuck_confirmations(
    c: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<PaymentId>> {
    Ok(payments::Entity::find()
        .select_only()
        .column(payments::Column::Id)
        .filter(payments::Column::Status.eq(PaymentStatus::Pending.as_str()))
        .filter(payments::Column::ConfirmingSince.lt(before))
        .limit(limit)
        .into_tuple::<uuid::Uuid>()
        .all(c)
        .await?
        .into_iter()
        .map(PaymentId::from)
        .collect())
}

/// What the refunds of a payment recorded before `refund` amount to (minor units); ids are
/// time-ordered, so "before" is the order they were decided in.
pub async fn refunded_before(
    c: &impl ConnectionTrait,
    payment: PaymentId,
    refund: RefundId,
) -> StoreResult<i64> {
    let amounts: Vec<i64> = refunds::Entity::find()
        .select_only()
        .column(refunds::Column::Amount)
        .filter(refunds::Column::PaymentId.eq(payment.uuid()))
        .filter(refunds::Column::Id.lt(refund.uuid()))
        .into_tuple()
        .all(c)
        .await?;
    Ok(amounts.iter().sum())
}
