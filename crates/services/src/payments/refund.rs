//! Refunds of a paid order, whole or by line (SPEC F6.6). A refund is decided in one unit
//! of work before the gateway hears of it: each line's refunded quantity grows by a
//! conditional UPDATE that cannot pass the line's quantity, the order's refunded total by one
//! that cannot pass its total, the units go back to stock, the refund is recorded and a
//! durable job queued to carry it to the gateway. So two refunds racing for the same units
//! refund them once, and a gateway that is down delays the money but never loses it: the
//! job retries with the same idempotency key (the refund's id) until the gateway answers.
//!
//! What a line refund returns: the lines' price less their share of the order's discounts;
//! the refund that empties the order returns everything left, shipping included.

use jangteo_core::Role;
use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{OrderId, RefundId};
use jangteo_core::inventory::StockReason;
use jangteo_core::money::Money;
use jangteo_core::order::{CancelReason, OrderStatus};
use jangteo_store::inventory::StockChange;
use jangteo_store::orders::{self as order_store, OrderLine};
use jangteo_store::payments::{self as store, RefundRecord};

use super::Payments;
use crate::idempotency::{IdempotentRequest, Replayable};
use crate::inventory::change_in;
use crate::jobs::kinds::SendRefund;
use crate::ports::payment::Refund;
use crate::tokens::Principal;
use crate::{ServiceError, ServiceResult, Services};

const REFUND_SCOPE: &str = "orders.refund";

/// Units of one line to refund.
#[derive(Debug, Clone, Copy)]
pub struct RefundLine {
    pub line_no: Option<i32>,
    pub quantity: Option<i64>,
}

impl Payments<'_> {
    /// Refunds `lines` of a paid order (all that is left when `None`) and returns their units
    /// to stock. The buyer may refund their order, an admin any. Refunding what is left
    /// cancels the order.
    pub async fn refund(
        &self,
        who: Principal,
        order_id: OrderId,
        lines: Option<&[RefundLine]>,
        reason: Option<&str>,
        idempotency: Option<&IdempotentRequest>,
    ) -> ServiceResult<Replayable<RefundRecord>> {
        self.refund_scoped(REFUND_SCOPE, who, order_id, lines, reason, idempotency)
            .await
    }

    /// [`Self::refund`] with its idempotency key recorded under `scope` (cancelling a paid
    /// order records its key under the cancel's scope, so a retried cancel replays).
    pub(crate) async fn refund_scoped(
        &self,
        scope: &'static str,
        who: Principal,
        order_id: OrderId,
        lines: Option<&[RefundLine]>,
        reason: Option<&str>,
        idempotency: Option<&IdempotentRequest>,
    ) -> ServiceResult<Replayable<RefundRecord>> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > 200) {
            return Err(jangteo_core::FieldErrors::single(
                "reason",
                "too_long",
                "reason is at most 200 characters",
            )
            .into());
        }
        let order = order_store::find(self.s.db(), order_id)
            .await?
            .filter(|o| o.buyer_id == who.user_id || who.role == Role::Admin)
            .ok_or(ServiceError::NotFound("order"))?;
        let currency = order.total.currency();
        let by_buyer = order.buyer_id == who.user_id;
        let mut tx = self.s.begin().await?;
        if let Some(request) = idempotency
            && let Some(first) = tx
                .reserve_key::<RefundId>(scope, who.user_id, request)
                .await?
        {
            tx.rollback().await?;
            let done = store::find_refund(self.s.db(), first, currency)
                .await?
                .ok_or(ServiceError::NotFound("refund"))?;
            return Ok(Replayable::replayed(done));
        }
        let order = order_store::find(tx.conn(), order_id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        if order.status != OrderStatus::Ordered {
            return Err(match order.status {
                OrderStatus::Pending => ServiceError::conflict(
                    "order_not_paid",
                    "the order is not paid: cancel it instead",
                ),
                other => ServiceError::conflict(
                    "illegal_transition",
                    format!("a {other} order cannot be refunded"),
                ),
            });
        }
        let payment = store::paid_of(tx.conn(), order_id).await?.ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!(
                "ORDERED order {order_id} without a PAID payment"
            ))
        })?;
        let all_lines = order_store::lines(tx.conn(), std::slice::from_ref(&order)).await?;
        let wanted = wanted_units(&all_lines, lines)?;
        // Lock order as at checkout: variant id.
        let mut by_variant: Vec<(&OrderLine, i64)> = wanted.clone();
        by_variant.sort_unstable_by_key(|(l, _)| l.variant_id);
        for (line, units) in &by_variant {
            if !order_store::refund_line(tx.conn(), order_id, line.line_no, *units).await? {
                return Err(ServiceError::conflict(
                    "refund_exceeds_quantity",
                    format!(
                        "line {} has fewer than {units} units left to refund",
                        line.line_no
                    ),
                ));
            }
        }
        let emptied = all_lines.iter().all(|l| {
            let now_refunded = l.refunded_quantity
                + wanted
                    .iter()
                    .filter(|(w, _)| w.line_no == l.line_no)
                    .map(|(_, u)| u)
                    .sum::<i64>();
            now_refunded >= l.quantity
        });
        let left = order.total.minor() - order.refunded_total.minor();
        let amount = if emptied {
            left
        } else {
            wanted
                .iter()
                .map(|(l, units)| line_refund(l, *units))
                .sum::<i64>()
                .min(left)
        };
        let now = self.s.clock().now();
        if !order_store::add_refunded_total(tx.conn(), order_id, amount, now).await? {
            return Err(ServiceError::conflict(
                "refund_exceeds_total",
                "the refund would exceed what was paid",
            ));
        }
        let refund_id = RefundId::new();
        let reference = refund_id.to_string();
        for (line, units) in &by_variant {
            let change = StockChange {
                variant_id: line.variant_id,
                delta: *units,
                reason: StockReason::Cancel,
                reference: Some(&reference),
                actor_id: Some(who.user_id),
                at: now,
            };
            match change_in(&mut tx, line.product_id, &change).await {
                Ok(_) => {}
                Err(ServiceError::Conflict {
                    code: "stock_limit",
                    ..
                }) => tracing::warn!(%order_id, variant_id = %line.variant_id, units,
                    "refunded units not returned: variant gone or full"),
                Err(e) => return Err(e),
            }
        }
        if emptied {
            let reason = if by_buyer {
                CancelReason::Buyer
            } else {
                CancelReason::Admin
            };
            order_store::move_status(
                tx.conn(),
                order_id,
                OrderStatus::Ordered,
                OrderStatus::Cancelled,
                Some(reason),
                now,
            )
            .await?;
        }
        let record = RefundRecord {
            id: refund_id,
            payment_id: payment.id,
            order_id,
            amount: Money::new(amount, currency),
            reason: reason.unwrap_or("requested").to_owned(),
            lines: wanted.iter().map(|(l, u)| (l.line_no, *u)).collect(),
            done: false,
            attempts: 0,
            last_error: None,
            created_at: now,
            done_at: None,
        };
        store::insert_refund(tx.conn(), &record).await?;
        let job = SendRefund {
            refund_id,
            currency: currency.as_str().to_owned(),
        };
        tx.enqueue(&job, None, Some(format!("refund:{refund_id}")))
            .await?;
        tx.record(DomainEvent::OrderRefunded {
            order_id,
            buyer_id: order.buyer_id,
            refund_id,
            amount,
        });
        if idempotency.is_some() {
            tx.complete_key(&refund_id).await?;
        }
        tx.commit().await?;
        // Carry it to the gateway now; if that fails, the job retries.
        if let Err(e) = execute_refund(self.s, refund_id, currency).await {
            tracing::warn!(%refund_id, error = %e, "refund queued for retry");
        }
        let record = store::find_refund(self.s.db(), refund_id, currency)
            .await?
            .ok_or(ServiceError::NotFound("refund"))?;
        Ok(Replayable::fresh(record))
    }
}

/// The lines and units asked for (every unit left when `None`), each line once.
fn wanted_units<'l>(
    all: &'l [OrderLine],
    asked: Option<&[RefundLine]>,
) -> ServiceResult<Vec<(&'l OrderLine, i64)>> {
    let Some(asked) = asked else {
        let left: Vec<(&OrderLine, i64)> = all
            .iter()
            .map(|l| (l, l.quantity - l.refunded_quantity))
            .filter(|(_, u)| *u > 0)
            .collect();
        if left.is_empty() {
            return Err(ServiceError::conflict(
                "nothing_to_refund",
                "every unit of this order is refunded already",
            ));
        }
        return Ok(left);
    };
    let mut errors = jangteo_core::FieldErrors::new();
    if asked.is_empty() || asked.len() > jangteo_core::order::MAX_LINES {
        errors.add("lines", "out_of_range", "name 1 to 100 lines");
    }
    let mut out: Vec<(&OrderLine, i64)> = Vec::new();
    for (i, a) in asked.iter().enumerate() {
        let line = match a.line_no {
            None => {
                errors.add(
                    &format!("lines[{i}].line_no"),
                    "required",
                    "line_no is required",
                );
                None
            }
            Some(n) => match all.iter().find(|l| l.line_no == n) {
                Some(l) => Some(l),
                None => {
                    errors.add(
                        &format!("lines[{i}].line_no"),
                        "unknown_line",
                        format!("the order has no line {n}"),
                    );
                    None
                }
            },
        };
        let units = match a.quantity {
            Some(q) if (1..=jangteo_core::order::MAX_LINE_QUANTITY).contains(&q) => Some(q),
            _ => {
                errors.add(
                    &format!("lines[{i}].quantity"),
                    "out_of_range",
                    "quantity must be between 1 and 999",
                );
                None
            }
        };
        if let (Some(line), Some(units)) = (line, units) {
            match out.iter_mut().find(|(l, _)| l.line_no == line.line_no) {
                Some((_, u)) => *u += units,
                None => out.push((line, units)),
            }
        }
    }
    errors.finish(())?;
    Ok(out)
}

/// What `units` of a line refund: their price less their share of the line's discount
/// (rounded so that refunding every unit returns the whole discounted line).
fn line_refund(line: &OrderLine, units: i64) -> i64 {
    let price = line.unit_price.minor() * units;
    let discount = if line.quantity > 0 {
        line.discount.minor() * units / line.quantity
    } else {
        0
    };
    (price - discount).max(0)
}

/// Carries a recorded refund to the gateway (inline after the refund, then by the
/// `send_refund` job until it succeeds). Done refunds are left alone.
pub(crate) async fn execute_refund(
    s: &Services,
    id: RefundId,
    currency: jangteo_core::money::Currency,
) -> ServiceResult<()> {
    let Some(refund) = store::find_refund(s.db(), id, currency).await? else {
        return Ok(());
    };
    if refund.done {
        return Ok(());
    }
    let payment = store::find(s.db(), refund.payment_id)
        .await?
        .ok_or(ServiceError::NotFound("payment"))?;
    let gateway = s.gateways.get(&payment.provider).ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!(
            "provider {:?} of refund {id} is not configured",
            payment.provider
        ))
    })?;
    let call = Refund {
        gateway_key: payment.gateway_key.clone().unwrap_or_default(),
        reference: payment.id.to_string(),
        amount: refund.amount,
        reason: refund.reason.clone(),
        idempotency_key: id.to_string(),
        cancelled_before: store::refunded_before(s.db(), payment.id, id).await?,
    };
    match gateway.cancel(&call).await {
        Ok(_) => {
            let now = s.clock().now();
            let tx = s.begin().await?;
            if store::refund_done(tx.conn(), id, now).await? {
                store::add_refunded(tx.conn(), payment.id, refund.amount.minor(), now).await?;
            }
            tx.commit().await
        }
        Err(e) => {
            store::refund_attempt_failed(s.db(), id, &e.to_string()).await?;
            Err(ServiceError::Internal(anyhow::anyhow!("refund {id}: {e}")))
        }
    }
}
