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
/// for a fresh token until `lease_until`; returns the token and the rows it won.
pub(crate) async fn claim<E>(
    c: &impl ConnectionTrait,
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
        .all(c)
        .await?;
    if candidates.is_empty() {
        return Ok((token, Vec::new()));
    }
    E::update_many()
        .col_expr(cols.owner, Expr::value(token))
        .col_expr(cols.until, Expr::value(lease_until))
        .filter(cols.id.is_in(candidates))
        .filter(cols.claimable(pending, now))
        .exec(c)
        .await?;
    let rows = E::find()
        .filter(cols.owner.eq(token))
        .order_by_asc(cols.order)
        .order_by_asc(cols.id)
        .all(c)
        .await?;
    Ok((token, rows))
}
