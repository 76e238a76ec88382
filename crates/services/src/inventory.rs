//! Stock adjustments by sellers and admins, the ledger, and the audit. Every change goes
//! through `store::inventory::change_stock` inside a unit of work: a conditional update, a
//! ledger row and a `StockChanged` event that commit together, so stock can neither go
//! negative nor drift from its ledger, and every change reaches the index and the counters.

use jangteo_core::catalog::{self as rules, MAX_STOCK};
use jangteo_core::events::DomainEvent;
use jangteo_core::ids::{ProductId, VariantId};
use jangteo_core::inventory::StockReason;
use jangteo_core::{FieldErrors, validation};
use jangteo_store::catalog;
use jangteo_store::inventory::{self as store, AuditFinding, LedgerEntry, StockChange};
use uuid::Uuid;

use crate::error::NotFoundAs;
use crate::tokens::Principal;
use crate::tx::UnitOfWork;
use crate::{ServiceError, ServiceResult, Services};

pub struct Inventory<'a> {
    s: &'a Services,
}

impl<'a> Inventory<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    /// A seller's (or admin's) manual adjustment; returns the new stock.
    pub async fn adjust(
        &self,
        who: Principal,
        product_id: ProductId,
        variant_id: VariantId,
        delta: Option<i64>,
        reason: Option<&str>,
        reference: Option<&str>,
    ) -> ServiceResult<i64> {
        let delta = rules::stock_delta("delta", delta);
        // SALE and CANCEL are written by the order flow only.
        let reason = reason
            .and_then(StockReason::parse)
            .filter(|r| r.is_manual())
            .ok_or_else(|| {
                FieldErrors::single(
                    "reason",
                    "unknown_value",
                    "reason must be RESTOCK, CORRECTION, DAMAGE or RETURN",
                )
            });
        let reference = reference
            .map(|r| validation::bounded_text("reference", r, 0, 100))
            .transpose();
        let (delta, reason, reference) = FieldErrors::new().all((delta, reason, reference))?;
        self.s.catalog().owned(who, product_id).await?;
        catalog::find_variant(&self.s.db, product_id, variant_id)
            .await
            .not_found_as("variant")?;
        let change = StockChange {
            variant_id,
            delta,
            reason,
            reference: reference.as_deref().filter(|r| !r.is_empty()),
            actor_id: Some(who.user_id),
            at: self.s.clock.now(),
        };
        let mut tx = self.s.begin().await?;
        let stock = change_in(&mut tx, product_id, &change).await?;
        tx.commit().await?;
        Ok(stock)
    }

    /// Takes `qty` units for a sale (or any system reason) in its own unit of work;
    /// `Ok(None)` when stock is short. Tests race it directly.
    pub async fn take(
        &self,
        variant_id: VariantId,
        qty: i64,
        reason: StockReason,
        reference: Option<&str>,
    ) -> ServiceResult<Option<i64>> {
        let mut tx = self.s.begin().await?;
        let stock = self
            .take_in(&mut tx, variant_id, qty, reason, reference)
            .await?;
        if stock.is_some() {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(stock)
    }

    /// Takes `qty` units inside the caller's unit of work (checkout takes stock, uses a
    /// coupon and writes the order in one commit). `Ok(None)` when stock is short; the
    /// caller decides whether that fails the whole unit.
    pub async fn take_in(
        &self,
        tx: &mut UnitOfWork<'_>,
        variant_id: VariantId,
        qty: i64,
        reason: StockReason,
        reference: Option<&str>,
    ) -> ServiceResult<Option<i64>> {
        let qty = rules::quantity("qty", qty)?;
        let Some(product_id) = store::product_of(tx.conn(), variant_id).await? else {
            return Err(ServiceError::NotFound("variant"));
        };
        let change = StockChange {
            variant_id,
            delta: -qty,
            reason,
            reference,
            actor_id: None,
            at: self.s.clock.now(),
        };
        match change_in(tx, product_id, &change).await {
            Ok(stock) => Ok(Some(stock)),
            Err(ServiceError::Conflict {
                code: "insufficient_stock",
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn ledger(
        &self,
        who: Principal,
        product_id: ProductId,
        variant_id: VariantId,
        before: Option<Uuid>,
        limit: u64,
    ) -> ServiceResult<Vec<LedgerEntry>> {
        self.s.catalog().owned(who, product_id).await?;
        catalog::find_variant(&self.s.db, product_id, variant_id)
            .await
            .not_found_as("variant")?;
        Ok(store::ledger(&self.s.db, variant_id, before, limit).await?)
    }

    /// Variants whose stock is not `initial_stock + sum(ledger)`, and how many were checked.
    pub async fn audit(&self) -> ServiceResult<(u64, Vec<AuditFinding>)> {
        Ok(store::audit(&self.s.db).await?)
    }
}

/// After stock of `products` ran out or came back (and committed): an ON_SALE product with
/// no stock left becomes SOLD_OUT, a SOLD_OUT one with stock again ON_SALE. It runs after
/// the stock change's commit, not inside it, so the check reads every committed stock: two
/// orders taking the last units of two variants of one product each check after their own
/// commit, and the later one sees both gone. It never fails the change that caused it; a
/// failure is logged and the next stock change of the product checks again.
pub(crate) async fn sync_sold_out(s: &Services, products: &[ProductId]) {
    for &product_id in products {
        let result: ServiceResult<()> = async {
            let mut tx = s.begin().await?;
            let now = s.clock.now();
            if catalog::sync_sold_out(tx.conn(), product_id, now)
                .await?
                .is_some()
            {
                tx.record(DomainEvent::ProductChanged { product_id });
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(%product_id, error = %e, "sold-out status not updated");
        }
    }
}

/// One stock change with its ledger row and its event, in the caller's unit of work.
pub(crate) async fn change_in(
    tx: &mut UnitOfWork<'_>,
    product_id: ProductId,
    change: &StockChange<'_>,
) -> ServiceResult<i64> {
    let Some(stock) = store::change_stock(tx.conn(), change, MAX_STOCK).await? else {
        return Err(if change.delta < 0 {
            ServiceError::conflict("insufficient_stock", "not enough stock for this change")
        } else {
            ServiceError::conflict("stock_limit", "stock would exceed the maximum")
        });
    };
    // Ran out (was above zero) or came back from zero: the product's status may follow.
    // Search documents show only whether a product is in stock, so the index hears of
    // this change (as a product change) only then; every other sale leaves it alone.
    if (change.delta < 0 && stock == 0) || (change.delta > 0 && stock == change.delta) {
        tx.stock_turned(product_id);
        tx.record(DomainEvent::ProductChanged { product_id });
    }
    tx.record(DomainEvent::StockChanged {
        product_id,
        variant_id: change.variant_id,
        delta: change.delta,
        reason: change.reason,
    });
    Ok(stock)
}
