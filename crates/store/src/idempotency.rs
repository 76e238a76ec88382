//! Idempotency keys, reserved inside the caller's transaction.
//!
//! [`reserve`] inserts the key under a savepoint: the first request inserts it, a request
//! with the same key that races it waits on the unique key until the first commits (or
//! rolls back, and then it inserts the key itself). Because the key commits with the effect
//! and its [`complete`]d result, a committed key always means "done", and a retry is told
//! so with the first result; a key whose transaction failed leaves nothing behind.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use crate::StoreResult;
use crate::entities::idempotency_keys as keys;

/// One use of a key: which operation, whose, the key, and a digest of the request.
#[derive(Debug, Clone, Copy)]
pub struct KeyUse<'a> {
    /// The operation, e.g. `orders.create`: a key names one request of one operation.
    pub scope: &'static str,
    /// Keys are per caller: two users may pick the same key.
    pub owner_id: Uuid,
    pub key: &'a str,
    /// A digest of the request body; the same key with another body is a client error.
    pub request_hash: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What [`reserve`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// First use: the key is held by this transaction; do the work and [`complete`] it.
    Fresh,
    /// Done before: the recorded result of the first request.
    Replay(String),
    /// Done before with a different request body.
    Mismatch,
    /// Recorded without a result: a request whose outcome is still open (e.g. waiting for
    /// a payment gateway).
    InProgress,
}

/// Reserves `k` in the caller's transaction (never on the pool: the key must commit with
/// the work it guards).
pub async fn reserve(c: &DatabaseTransaction, k: KeyUse<'_>) -> StoreResult<Reservation> {
    if try_insert(c, &k).await? {
        return Ok(Reservation::Fresh);
    }
    // Taken. A locking read sees the latest committed row (MySQL's REPEATABLE READ would
    // otherwise answer from an older snapshot); SQLite has one writer and no such clause.
    let Some(row) = keys::Entity::find_by_id((k.scope.to_owned(), k.owner_id, k.key.to_owned()))
        .lock_shared()
        .one(c)
        .await?
    else {
        // Deleted in between (pruned): take it.
        return Ok(if try_insert(c, &k).await? {
            Reservation::Fresh
        } else {
            Reservation::InProgress
        });
    };
    if row.expires_at <= k.now {
        // An expired key is a new key: take it over in place.
        let res = keys::Entity::update_many()
            .col_expr(keys::Column::RequestHash, Expr::value(k.request_hash))
            .col_expr(keys::Column::Result, Expr::value(Option::<String>::None))
            .col_expr(keys::Column::CreatedAt, Expr::value(k.now))
            .col_expr(keys::Column::ExpiresAt, Expr::value(k.expires_at))
            .filter(keys::Column::Scope.eq(k.scope))
            .filter(keys::Column::OwnerId.eq(k.owner_id))
            .filter(keys::Column::IdemKey.eq(k.key))
            .filter(keys::Column::ExpiresAt.lte(k.now))
            .exec(c)
            .await?;
        if res.rows_affected == 1 {
            return Ok(Reservation::Fresh);
        }
    }
    if row.request_hash != k.request_hash {
        return Ok(Reservation::Mismatch);
    }
    Ok(match row.result {
        Some(result) => Reservation::Replay(result),
        None => Reservation::InProgress,
    })
}

async fn try_insert(c: &DatabaseTransaction, k: &KeyUse<'_>) -> StoreResult<bool> {
    let row = keys::Model {
        scope: k.scope.to_owned(),
        owner_id: k.owner_id,
        idem_key: k.key.to_owned(),
        request_hash: k.request_hash.to_owned(),
        result: None,
        created_at: k.now,
        expires_at: k.expires_at,
    };
    crate::insert_unless_taken(c, row.into_active_model()).await
}

/// Records the result of the request that reserved the key (in the same transaction).
pub async fn complete(
    c: &impl ConnectionTrait,
    scope: &str,
    owner_id: Uuid,
    key: &str,
    result: &str,
) -> StoreResult<()> {
    let res = keys::Entity::update_many()
        .col_expr(keys::Column::Result, Expr::value(result))
        .filter(keys::Column::Scope.eq(scope))
        .filter(keys::Column::OwnerId.eq(owner_id))
        .filter(keys::Column::IdemKey.eq(key))
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

/// Forgets keys that expired before `now`; returns how many.
pub async fn prune(c: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    let res = keys::Entity::delete_many()
        .filter(keys::Column::ExpiresAt.lt(now))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}
