//! Stock adjustments by sellers and admins, the ledger, and the audit. Every change goes
//! through `store::inventory::change_stock` inside a transaction: a conditional update plus
//! a ledger row, so stock can neither go negative nor drift from its ledger.

use jangteo_core::catalog::{self as rules, MAX_STOCK};
use jangteo_core::{FieldErrors, validation};
use jangteo_store::entities::inventory_ledger;
use jangteo_store::inventory::{self as store, AuditFinding, StockChange};
use jangteo_store::{TransactionTrait, catalog};
use uuid::Uuid;

use crate::error::NotFoundAs;
use crate::tokens::Principal;
use crate::{ServiceError, ServiceResult, Services};

/// Reasons a person may give; SALE and CANCEL are written by the order flow only.
const MANUAL_REASONS: [&str; 4] = ["RESTOCK", "CORRECTION", "DAMAGE", "RETURN"];

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
        product_id: Uuid,
        variant_id: Uuid,
        delta: Option<i64>,
        reason: Option<&str>,
        reference: Option<&str>,
    ) -> ServiceResult<i64> {
        let mut errors = FieldErrors::new();
        let delta = errors.take(rules::stock_delta("delta", delta));
        let reason = match reason {
            Some(r) if MANUAL_REASONS.contains(&r) => Some(r),
            _ => {
                errors.add(
                    "reason",
                    "unknown_value",
                    "reason must be RESTOCK, CORRECTION, DAMAGE or RETURN",
                );
                None
            }
        };
        let reference = match reference {
            Some(r) => errors.take(validation::bounded_text("reference", r, 0, 100)),
            None => None,
        };
        let (Some(delta), Some(reason)) = errors.finish((delta, reason))? else {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "stock adjustment validated without a value"
            )));
        };
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
        let stock = self.apply(&change).await?;
        self.s.catalog_changed(product_id).await;
        Ok(stock)
    }

    /// Takes `qty` units for a sale (or any system reason); `Ok(None)` when stock is short.
    /// The order flow calls this; tests race it directly.
    pub async fn take(
        &self,
        variant_id: Uuid,
        qty: i64,
        reason: &str,
        reference: Option<&str>,
    ) -> ServiceResult<Option<i64>> {
        let qty = rules::quantity("qty", qty)?;
        let change = StockChange {
            variant_id,
            delta: -qty,
            reason,
            reference,
            actor_id: None,
            at: self.s.clock.now(),
        };
        match self.apply(&change).await {
            Ok(stock) => {
                if let Some(product_id) = store::product_of(&self.s.db, variant_id).await? {
                    self.s.catalog_changed(product_id).await;
                }
                Ok(Some(stock))
            }
            Err(ServiceError::Conflict {
                code: "insufficient_stock",
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn apply(&self, change: &StockChange<'_>) -> ServiceResult<i64> {
        let txn = self.s.db.begin().await?;
        if !store::change_stock(&txn, change, MAX_STOCK).await? {
            txn.rollback().await?;
            return Err(if change.delta < 0 {
                ServiceError::conflict("insufficient_stock", "not enough stock for this change")
            } else {
                ServiceError::conflict("stock_limit", "stock would exceed the maximum")
            });
        }
        let stock = store::stock_of(&txn, change.variant_id).await?;
        txn.commit().await?;
        Ok(stock)
    }

    pub async fn ledger(
        &self,
        who: Principal,
        product_id: Uuid,
        variant_id: Uuid,
        before: Option<Uuid>,
        limit: u64,
    ) -> ServiceResult<Vec<inventory_ledger::Model>> {
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
