//! Stock changes and the inventory ledger. Stock only ever moves through
//! [`change_stock`]: one conditional UPDATE (never read-modify-write) plus one ledger row,
//! so `stock == initial_stock + sum(ledger.delta)` holds for every variant, which
//! [`audit`] checks.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

use jangteo_core::ids::{ProductId, UserId, VariantId};
use jangteo_core::inventory::StockReason;

use crate::entities::{inventory_ledger, variants};
use crate::{StoreError, StoreResult};

/// One row of the ledger: a stock change of a variant, why, and who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: Uuid,
    pub variant_id: VariantId,
    pub delta: i64,
    pub reason: StockReason,
    pub reference: Option<String>,
    pub actor_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<inventory_ledger::Model> for LedgerEntry {
    type Error = StoreError;

    fn try_from(m: inventory_ledger::Model) -> StoreResult<Self> {
        let reason = StockReason::parse(&m.reason).ok_or_else(|| {
            StoreError::Corrupt(format!("ledger row {} has reason {:?}", m.id, m.reason))
        })?;
        Ok(Self {
            id: m.id,
            variant_id: m.variant_id.into(),
            delta: m.delta,
            reason,
            reference: m.reference,
            actor_id: m.actor_id.map(Into::into),
            created_at: m.created_at,
        })
    }
}

#[derive(Debug, Clone)]
pub struct StockChange<'a> {
    pub variant_id: VariantId,
    /// Negative takes stock, positive returns or adds it.
    pub delta: i64,
    pub reason: StockReason,
    pub reference: Option<&'a str>,
    pub actor_id: Option<UserId>,
    pub at: DateTime<Utc>,
}

/// Applies the change if the stock allows it and returns the stock after it; `Ok(None)`
/// when a decrement would go below zero (or an increment past `max_stock`), in which case
/// nothing is written. Run it inside the caller's transaction so the ledger row commits
/// with the stock. Where the engine has `UPDATE … RETURNING` (SQLite, PostgreSQL) the new
/// stock comes back with the update; MySQL reads the row its update holds locked.
pub async fn change_stock(
    c: &impl ConnectionTrait,
    ch: &StockChange<'_>,
    max_stock: i64,
) -> StoreResult<Option<i64>> {
    let mut update = variants::Entity::update_many()
        .col_expr(
            variants::Column::Stock,
            Expr::col(variants::Column::Stock).add(ch.delta),
        )
        .col_expr(variants::Column::UpdatedAt, Expr::value(ch.at))
        .filter(variants::Column::Id.eq(ch.variant_id.uuid()))
        .filter(variants::Column::DeletedAt.is_null());
    // The bounds are computed with checked arithmetic: a delta whose negation or distance
    // to the maximum does not fit in i64 changes nothing (callers bound deltas anyway).
    let bound = if ch.delta < 0 {
        ch.delta
            .checked_neg()
            .map(|need| variants::Column::Stock.gte(need))
    } else {
        max_stock
            .checked_sub(ch.delta)
            .map(|room| variants::Column::Stock.lte(room))
    };
    let Some(bound) = bound else {
        return Ok(None);
    };
    update = update.filter(bound);
    let stock = if c.get_database_backend() == sea_orm::DbBackend::MySql {
        if update.exec(c).await?.rows_affected != 1 {
            return Ok(None);
        }
        stock_of(c, ch.variant_id).await?
    } else {
        let mut stmt = update.into_query();
        stmt.returning_col(variants::Column::Stock);
        match c.query_one(&stmt).await? {
            Some(row) => row.try_get::<i64>("", "stock")?,
            None => return Ok(None),
        }
    };
    let row = inventory_ledger::Model {
        id: Uuid::now_v7(),
        variant_id: ch.variant_id.uuid(),
        delta: ch.delta,
        reason: ch.reason.as_str().to_owned(),
        reference: ch.reference.map(str::to_owned),
        actor_id: ch.actor_id.map(UserId::uuid),
        created_at: ch.at,
    };
    crate::insert_one(c, row.into_active_model()).await?;
    Ok(Some(stock))
}

/// The product a variant belongs to.
pub async fn product_of(
    c: &impl ConnectionTrait,
    variant_id: VariantId,
) -> StoreResult<Option<ProductId>> {
    Ok(variants::Entity::find_by_id(variant_id.uuid())
        .select_only()
        .column(variants::Column::ProductId)
        .into_tuple::<Uuid>()
        .one(c)
        .await?
        .map(ProductId::from))
}

pub async fn stock_of(c: &impl ConnectionTrait, variant_id: VariantId) -> StoreResult<i64> {
    variants::Entity::find_by_id(variant_id.uuid())
        .select_only()
        .column(variants::Column::Stock)
        .into_tuple::<i64>()
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Keyset page of a variant's ledger, newest first.
pub async fn ledger(
    c: &impl ConnectionTrait,
    variant_id: VariantId,
    before: Option<Uuid>,
    limit: u64,
) -> StoreResult<Vec<LedgerEntry>> {
    let mut q = inventory_ledger::Entity::find()
        .filter(inventory_ledger::Column::VariantId.eq(variant_id.uuid()))
        .order_by_desc(inventory_ledger::Column::Id)
        .limit(limit);
    if let Some(b) = before {
        q = q.filter(inventory_ledger::Column::Id.lt(b));
    }
    q.all(c)
        .await?
        .into_iter()
        .map(LedgerEntry::try_from)
        .collect()
}

pub async fn ledger_sum(c: &impl ConnectionTrait, variant_id: VariantId) -> StoreResult<i128> {
    // Summed here rather than with SUM(): the engines disagree on SUM's result type, and the
    // audit needs this only for the few variants that fail the check.
    let deltas = inventory_ledger::Entity::find()
        .select_only()
        .column(inventory_ledger::Column::Delta)
        .filter(inventory_ledger::Column::VariantId.eq(variant_id.uuid()))
        .into_tuple::<i64>()
        .all(c)
        .await?;
    Ok(deltas.into_iter().map(i128::from).sum())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFinding {
    pub variant_id: VariantId,
    pub sku: String,
    pub stock: i64,
    pub initial_stock: i64,
    /// Summed in i128: a sum of i64 deltas cannot overflow it, so a tampered ledger cannot
    /// wrap the sum back into balance.
    pub ledger_sum: i128,
}

impl AuditFinding {
    /// What the stock should be.
    pub fn expected(&self) -> i128 {
        i128::from(self.initial_stock) + self.ledger_sum
    }

    pub fn is_negative(&self) -> bool {
        self.stock < 0
    }
}

/// Variants whose stock differs from `initial_stock + sum(ledger)` or is negative (either
/// breaks the invariant; a negative stock is reported even when the ledger agrees with it),
/// and how many variants were checked. Walks the variants in keyset pages so memory stays flat on big catalogs.
pub async fn audit(c: &impl ConnectionTrait) -> StoreResult<(u64, Vec<AuditFinding>)> {
    const PAGE: u64 = 5_000;
    let mut after: Option<Uuid> = None;
    let mut checked = 0u64;
    let mut findings = Vec::new();
    loop {
        let mut q = variants::Entity::find()
            .select_only()
            .columns([
                variants::Column::Id,
                variants::Column::Sku,
                variants::Column::Stock,
                variants::Column::InitialStock,
            ])
            .order_by_asc(variants::Column::Id)
            .limit(PAGE);
        if let Some(a) = after {
            q = q.filter(variants::Column::Id.gt(a));
        }
        let page: Vec<(Uuid, String, i64, i64)> = q.into_tuple().all(c).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.0);
        checked += page.len() as u64;
        let ids: Vec<Uuid> = page.iter().map(|v| v.0).collect();
        let deltas: Vec<(Uuid, i64)> = inventory_ledger::Entity::find()
            .select_only()
            .columns([
                inventory_ledger::Column::VariantId,
                inventory_ledger::Column::Delta,
            ])
            .filter(inventory_ledger::Column::VariantId.is_in(ids))
            .into_tuple()
            .all(c)
            .await?;
        let mut sums: std::collections::HashMap<Uuid, i128> = std::collections::HashMap::new();
        for (vid, d) in deltas {
            *sums.entry(vid).or_default() += i128::from(d);
        }
        for (id, sku, stock, initial) in page {
            let sum = sums.get(&id).copied().unwrap_or(0);
            if stock < 0 || i128::from(stock) != i128::from(initial) + sum {
                findings.push(AuditFinding {
                    variant_id: id.into(),
                    sku,
                    stock,
                    initial_stock: initial,
                    ledger_sum: sum,
                });
            }
        }
    }
    Ok((checked, findings))
}
