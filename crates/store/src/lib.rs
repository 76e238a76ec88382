//! jangteo storage: one SeaORM/SeaQuery code path for SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! The crate holds the schema (versioned migrations), the entities and one query module per
//! domain. Services own transactions: every query function takes `&impl ConnectionTrait`, so
//! it runs on the pool or inside a caller's transaction alike.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod addresses;
mod batch;
pub mod cart;
pub mod catalog;
mod connect;
pub mod entities;
mod error;
pub mod idempotency;
pub mod images;
pub mod inventory;
pub mod jobs;
mod lease;
pub mod migrations;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod sellers;
pub mod wishlist;
mod writer;

pub use batch::Batch;
pub use connect::{
    Backend, DbSettings, PoolStats, connect, pool_stats, reader, redact_url, statements_executed,
};
pub use error::{StoreError, StoreResult, UNIQUE_INDEXES, deadlock_in, deadlock_retries};
pub use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};
pub use writer::{GroupStats, MAX_GROUP, WriteTxn, Writer};

use sea_orm_migration::MigratorTrait;

/// Applies every pending migration. Safe to call on each start: applied versions are
/// recorded in `seaql_migrations` and skipped.
pub async fn migrate(db: &DatabaseConnection) -> StoreResult<()> {
    let lock = migrations::MigrationLock::acquire(db).await?;
    let result = migrations::Migrator::up(db, None).await;
    lock.release().await?;
    Ok(result?)
}

/// Names of every migration this build knows, oldest first.
pub fn migration_names() -> Vec<String> {
    migrations::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

/// Names of migrations applied so far, oldest first.
pub async fn applied_migrations(db: &DatabaseConnection) -> StoreResult<Vec<String>> {
    let applied = migrations::Migrator::get_applied_migrations(db).await?;
    Ok(applied.iter().map(|m| m.name().to_owned()).collect())
}

/// `SELECT 1`: used by `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> StoreResult<()> {
    db.ping().await?;
    Ok(())
}

/// Inserts one row (the model converted to an active model by the caller's entity).
pub async fn insert_one<A>(c: &impl ConnectionTrait, row: A) -> StoreResult<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    <A::Entity as sea_orm::EntityTrait>::insert(row)
        .exec_without_returning(c)
        .await?;
    Ok(())
}

/// Typed ids as the plain UUIDs a query binds.
pub(crate) fn uuids<T: Copy + Into<uuid::Uuid>>(ids: &[T]) -> Vec<uuid::Uuid> {
    ids.iter().copied().map(Into::into).collect()
}

/// Inserts one row unless its key is taken; `false` when it was. The insert runs under a
/// savepoint of the caller's transaction, so a duplicate (also one a racing transaction
/// commits first) leaves that transaction usable — PostgreSQL aborts a transaction on any
/// failed statement otherwise, and `ON CONFLICT DO NOTHING` is not portable to MariaDB.
pub(crate) async fn insert_unless_taken<A>(c: &DatabaseTransaction, row: A) -> StoreResult<bool>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let sp = c.begin().await?;
    match insert_one(&sp, row).await {
        Ok(()) => {
            sp.commit().await?;
            Ok(true)
        }
        Err(StoreError::Conflict { .. }) => {
            sp.rollback().await?;
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// An UPDATE or DELETE by id that touched no row means the row is not there (for the caller).
pub(crate) fn touched(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// Inserts many rows in one statement (bulk loads such as `jangteo seed`). Keep batches
/// under the engines' bind-parameter limits (SQLite 32766, PostgreSQL and MySQL 65535).
/// Adds the insert of `rows` to `batch` (nothing for no rows).
pub(crate) fn insert_many_into<A>(batch: &mut Batch, backend: sea_orm::DbBackend, rows: Vec<A>)
where
    A: sea_orm::ActiveModelTrait + Send,
{
    if rows.is_empty() {
        return;
    }
    batch.push(sea_orm::QueryTrait::build(
        &<A::Entity as sea_orm::EntityTrait>::insert_many(rows),
        backend,
    ));
}

pub async fn insert_many<A>(c: &impl ConnectionTrait, rows: Vec<A>) -> StoreResult<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    if rows.is_empty() {
        return Ok(());
    }
    <A::Entity as sea_orm::EntityTrait>::insert_many(rows)
        .exec_without_returning(c)
        .await?;
    Ok(())
}
