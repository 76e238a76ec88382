//! The lease claim shared by the outbox and the job queue, in two statements that run alike
//! on SQLite, PostgreSQL and MySQL (SQLite has no SKIP LOCKED): pick due candidates, then
//! take them with an UPDATE that re-checks the lease in its WHERE. Two claimers racing for
//! one row both run the UPDATE; the engine's row lock (or SQLite's single writer) lets one
//! match, and the other's re-checked WHERE no longer does. Each claim writes a fresh token
//! as the owner, so reading back by owner returns exactly the rows this claim won.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::StoreResult;
use crate::error::retry_deadlocks;

/// Errors are kept short: enough to tell an operator what went wrong.
const MAX_ERROR_CHARS: usize = 500;

/// The columns of a leased queue table.
pub(crate) struct LeaseColumns<C> {
    pub id: C,
    pub status: C,
    /// Rows are claimable once this is not after now.
    pub due: C,
    /// Claims take rows in this order (then by id).
    pub order: C,
    pub owner: C,
    pub until: C,
    pub attempts: C,
    pub last_error: C,
}

/// The statuses a leased queue moves rows between.
pub(crate) struct Statuses {
    pub pending: &'static str,
    pub failed: &'static str,
}

impl<C: ColumnTrait> LeaseColumns<C> {
    fn claimable(&self, pending: &str, now: DateTime<Utc>) -> Condition {
        Condition::all()
            .add(self.status.eq(pending))
            .add(self.due.lte(now))
            .add(
                Condition::any()
                    .add(self.until.is_null())
                    .add(self.until.lt(now)),
            )
    }
}

/// Claims up to `limit` rows of `E` whose status is `pending` and that are due at `now`,
/// for a fresh token until `lease_until`; returns the token and the rows it won. The
/// candidates are looked up on `read` (SQLite's readers: an idle poll never waits for the
/// writer), the claim itself is written on `c`.
pub(crate) async fn claim<E>(
    c: &impl ConnectionTrait,
    read: &impl ConnectionTrait,
    cols: &LeaseColumns<E::Column>,
    pending: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> StoreResult<(Uuid, Vec<E::Model>)>
where
    E: EntityTrait,
{
    let token = Uuid::now_v7();
    let candidates: Vec<Uuid> = E::find()
        .select_only()
        .column(cols.id)
        .filter(cols.claimable(pending, now))
        .order_by_asc(cols.order)
        .order_by_asc(cols.id)
        .limit(limit)
        .into_tuple()
        .all(read)
        .await?;
    if candidates.is_empty() {
        return Ok((token, Vec::new()));
    }
    retry_deadlocks(|| {
        E::update_many()
            .col_expr(cols.owner, Expr::value(token))
            .col_expr(cols.until, Expr::value(lease_until))
            .filter(cols.id.is_in(candidates.iter().copied()))
            .filter(cols.claimable(pending, now))
            .exec(c)
    })
    .await?;
    let rows = E::find()
        .filter(cols.owner.eq(token))
        .order_by_asc(cols.order)
        .order_by_asc(cols.id)
        .all(c)
        .await?;
    Ok((token, rows))
}

/// Gives a row back after a failed attempt, if `token` still holds it: pending again from
/// `retry_at`, or parked as failed when there is none. Records the attempts and the error.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn release_failed<E>(
    c: &impl ConnectionTrait,
    cols: &LeaseColumns<E::Column>,
    statuses: &Statuses,
    id: Uuid,
    token: Uuid,
    attempts: u32,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> StoreResult<()>
where
    E: EntityTrait,
{
    let status = if retry_at.is_some() {
        statuses.pending
    } else {
        statuses.failed
    };
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    retry_deadlocks(|| {
        let mut update = E::update_many()
            .col_expr(cols.status, Expr::value(status))
            .col_expr(
                cols.attempts,
                Expr::value(i32::try_from(attempts).unwrap_or(i32::MAX)),
            )
            .col_expr(cols.last_error, Expr::value(error.clone()))
            .col_expr(cols.owner, Expr::value(Option::<Uuid>::None))
            .col_expr(cols.until, Expr::value(Option::<DateTime<Utc>>::None));
        if let Some(at) = retry_at {
            update = update.col_expr(cols.due, Expr::value(at));
        }
        update
            .filter(cols.id.eq(id))
            .filter(cols.owner.eq(token))
            .exec(c)
    })
    .await?;
    Ok(())
}

/// Parked rows back to pending with fresh attempts, due at `now`: all of them, or the one
/// named. Returns how many.
pub(crate) async fn requeue_failed<E>(
    c: &impl ConnectionTrait,
    cols: &LeaseColumns<E::Column>,
    statuses: &Statuses,
    id: Option<Uuid>,
    now: DateTime<Utc>,
) -> StoreResult<u64>
where
    E: EntityTrait,
{
    let mut update = E::update_many()
        .col_expr(cols.status, Expr::value(statuses.pending))
        .col_expr(cols.attempts, Expr::value(0))
        .col_expr(cols.due, Expr::value(now))
        .filter(cols.status.eq(statuses.failed));
    if let Some(id) = id {
        update = update.filter(cols.id.eq(id));
    }
    Ok(update.exec(c).await?.rows_affected)
}
