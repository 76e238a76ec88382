//! Cancelling an order before it is paid: by its buyer, an admin, or the deadline sweep.
//! The conditional move PENDING → CANCELLED decides who cancels; only that transaction
//! returns the stock, so two cancellations racing (a buyer and the sweep) return it once.

use jangteo_core::Role;
use jangteo_core::events::DomainEvent;
use jangteo_core::ids::OrderId;
use jangteo_core::inventory::StockReason;
use jangteo_core::order::{CancelReason, OrderStatus};
use jangteo_store::inventory::StockChange;
use jangteo_store::orders as store;

use super::{OrderView, Orders};
use crate::idempotency::{IdempotentRequest, Replayable};
use crate::inventory::change_in;
use crate::tokens::Principal;
use crate::tx::UnitOfWork;
use crate::{ServiceError, ServiceResult, Services};

const CANCEL_SCOPE: &str = "orders.cancel";

/// Orders cancelled per transaction by the sweep.
const SWEEP_BATCH: u64 = 100;

impl Orders<'_> {
    /// Cancels an order of the caller's (or any, for an admin) and returns its stock; a
    /// paid order is refunded in full. With an idempotency key, a retry answers with the
    /// order as the first request left it.
    pub async fn cancel(
        &self,
        who: Principal,
        id: OrderId,
        idempotency: Option<&IdempotentRequest>,
    ) -> ServiceResult<Replayable<OrderView>> {
        let order = store::find(self.s.db(), id)
            .await?
            .filter(|o| o.buyer_id == who.user_id || who.role == Role::Admin)
            .ok_or(ServiceError::NotFound("order"))?;
        if order.status == OrderStatus::Ordered {
            let refund = self
                .s
                .payments()
                .refund_scoped(
                    CANCEL_SCOPE,
                    who,
                    id,
                    None,
                    Some("order cancelled"),
                    idempotency,
                )
                .await?;
            let view = self.get(who, id).await?;
            return Ok(Replayable {
                value: view,
                replayed: refund.replayed,
            });
        }
        let reason = if order.buyer_id == who.user_id {
            CancelReason::Buyer
        } else {
            CancelReason::Admin
        };
        let mut tx = self.s.begin().await?;
        if let Some(request) = idempotency
            && tx
                .reserve_key::<serde_json::Value>(CANCEL_SCOPE, who.user_id, request)
                .await?
                .is_some()
        {
            tx.rollback().await?;
            return Ok(Replayable::replayed(self.get(who, id).await?));
        }
        if !cancel_in(&mut tx, id, reason).await? {
            tx.rollback().await?;
            let now = store::find(self.s.db(), id)
                .await?
                .ok_or(ServiceError::NotFound("order"))?;
            return Err(refusal(now.status));
        }
        if idempotency.is_some() {
            tx.complete_key(&id).await?;
        }
        tx.commit().await?;
        Ok(Replayable::fresh(self.get(who, id).await?))
    }
}

fn refusal(status: OrderStatus) -> ServiceError {
    ServiceError::conflict(
        "illegal_transition",
        format!("order cannot go from {status} to CANCELLED"),
    )
}

/// Moves the order PENDING → CANCELLED and returns every unit it holds, in variant-id order
/// (the lock order of checkout); `false` (and nothing changed) when it was not PENDING.
pub(crate) async fn cancel_in(
    tx: &mut UnitOfWork<'_>,
    id: OrderId,
    reason: CancelReason,
) -> ServiceResult<bool> {
    let now = tx.services().clock().now();
    if !store::move_status(
        tx.conn(),
        id,
        OrderStatus::Pending,
        OrderStatus::Cancelled,
        Some(reason),
        now,
    )
    .await?
    {
        return Ok(false);
    }
    let order = store::find(tx.conn(), id)
        .await?
        .ok_or(ServiceError::NotFound("order"))?;
    let mut lines = store::lines(tx.conn(), std::slice::from_ref(&order)).await?;
    lines.sort_unstable_by_key(|l| l.variant_id);
    let reference = id.to_string();
    for line in &lines {
        let units = line.quantity - line.refunded_quantity;
        if units <= 0 {
            continue;
        }
        let change = StockChange {
            variant_id: line.variant_id,
            delta: units,
            reason: StockReason::Cancel,
            reference: Some(&reference),
            actor_id: None,
            at: now,
        };
        match change_in(tx, line.product_id, &change).await {
            Ok(_) => {}
            // The variant was deleted since (or restocked to the maximum): nothing to
            // return the units to. The order is cancelled all the same.
            Err(ServiceError::Conflict {
                code: "stock_limit",
                ..
            }) => tracing::warn!(order_id = %id, variant_id = %line.variant_id, units,
                "cancelled order's units not returned: variant gone or full"),
            Err(e) => return Err(e),
        }
    }
    tx.record(DomainEvent::OrderCancelled {
        order_id: id,
        buyer_id: order.buyer_id,
    });
    Ok(true)
}

/// Cancels every PENDING order whose payment deadline has passed (the
/// `cancel_overdue_orders` job); returns how many. One transaction per order, so one that
/// fails (a variant deleted under it) does not hold the others back.
pub(crate) async fn cancel_overdue(s: &Services) -> ServiceResult<u64> {
    let mut cancelled = 0;
    loop {
        let due = store::overdue(s.db(), s.clock().now(), SWEEP_BATCH).await?;
        let mut moved = 0;
        for &id in &due {
            let mut tx = s.begin().await?;
            if cancel_in(&mut tx, id, CancelReason::PaymentTimeout).await? {
                tx.commit().await?;
                moved += 1;
            } else {
                tx.rollback().await?;
            }
        }
        cancelled += moved;
        // Fewer than a batch: none left. A whole batch lost to racing cancellations: the
        // next round would read the same rows again, so stop and let the next run go on.
        if (due.len() as u64) < SWEEP_BATCH || moved == 0 {
            return Ok(cancelled);
        }
    }
}
