use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// The storage contract's one error type: callers can tell "not there" and "already taken"
/// from everything else without knowing SQL or the engine.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the database, not a prior SELECT, decides.
    /// `index` names the unique index (one of [`UNIQUE_INDEXES`]) when the engine's message
    /// says which, so a caller maps each to its own 409 at the call site.
    #[error("unique constraint violated ({})", index.unwrap_or("unnamed"))]
    Conflict { index: Option<&'static str> },
    /// A stored value that no record type accepts (an unknown status, a malformed
    /// currency): the row was written by something other than this code.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(DbErr),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => StoreError::Conflict {
                index: violated_index(&message),
            },
            _ => match err {
                DbErr::RecordNotFound(_) => StoreError::NotFound,
                other => StoreError::Db(other),
            },
        }
    }
}

impl From<sea_orm::TransactionError<StoreError>> for StoreError {
    fn from(err: sea_orm::TransactionError<StoreError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e,
        }
    }
}

impl StoreError {
    fn is_deadlock(&self) -> bool {
        matches!(self, Self::Db(e) if is_deadlock(e))
    }
}

/// Whether `err` or one of its causes is the engine breaking a deadlock (see
/// [`is_deadlock`]): for units of work run again whole, with [`deadlock_retries`].
pub fn deadlock_in(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |e| e.source()).any(|e| {
        e.downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_deadlock)
            || e.downcast_ref::<DbErr>().is_some_and(is_deadlock)
    })
}

/// How a deadlock's victim is run again: up to 3 more times, a few milliseconds apart
/// (the winner finishes meanwhile).
pub fn deadlock_retries() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(2))
        .with_max_times(3)
        .with_jitter()
}

/// Whether the engine refused the statement to break a deadlock (MySQL/MariaDB error 1213,
/// SQLSTATE 40001; PostgreSQL 40P01) or as a serialization failure (40001). Such a
/// statement changed nothing, and running it again is the engine's documented remedy.
fn is_deadlock(err: &DbErr) -> bool {
    if let DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) = err
        && let sea_orm::sqlx::Error::Database(e) = &**e
    {
        return matches!(e.code().as_deref(), Some("40001" | "40P01"));
    }
    false
}

/// Runs `statement` — one statement on a connection of its own, in autocommit — again when
/// the engine picks it as a deadlock's victim ([`deadlock_retries`]). InnoDB can deadlock two single statements on one
/// table (a queue claim walking its index of due jobs against a delete of a claimed row);
/// the claims and lease bookkeeping of the job queue and the outbox are such statements,
/// and a lost one would leave its rows leased until the lease ran out. Inside a
/// transaction the whole transaction is the victim: never call this there.
pub(crate) async fn retry_deadlocks<T, F, Fut>(statement: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    statement
        .retry(deadlock_retries())
        .when(is_deadlock)
        .notify(|e, after| tracing::debug!(error = %e, ?after, "statement chosen as a deadlock victim; again"))
        .await
}

/// Every unique index of the schema, with the `table.column` SQLite names in its message
/// instead (PostgreSQL and MySQL/MariaDB name the index itself). A new unique index goes
/// here with its migration.
pub const UNIQUE_INDEXES: [(&str, &str); 8] = [
    ("ux_users_email", "users.email"),
    ("ux_refresh_tokens_hash", "refresh_tokens.token_hash"),
    (
        "ux_seller_applications_pending",
        "seller_applications.pending_user_id",
    ),
    ("ux_sellers_shop_name", "sellers.shop_name"),
    ("ux_categories_slug", "categories.slug"),
    ("ux_variants_sku", "variants.sku"),
    ("ux_product_images_key", "product_images.object_key"),
    ("ux_jobs_dedup_key", "jobs.dedup_key"),
];

/// Which unique index an engine's violation message names, if it is one of ours.
/// PostgreSQL: `… unique constraint "ux_users_email"`; MySQL: `… for key 'users.ux_users_email'`;
/// MariaDB: `… for key 'ux_users_email'`; SQLite: `UNIQUE constraint failed: users.email`.
fn violated_index(message: &str) -> Option<&'static str> {
    UNIQUE_INDEXES
        .iter()
        .find(|(name, columns)| {
            message.contains(name) || message.trim_end().ends_with(&format!("failed: {columns}"))
        })
        .map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_s_message_names_the_index() {
        for message in [
            r#"duplicate key value violates unique constraint "ux_variants_sku""#,
            "Duplicate entry 'A-1' for key 'variants.ux_variants_sku'",
            "Duplicate entry 'A-1' for key 'ux_variants_sku'",
            "UNIQUE constraint failed: variants.sku",
        ] {
            assert_eq!(
                violated_index(message),
                Some("ux_variants_sku"),
                "{message}"
            );
        }
        assert_eq!(
            violated_index(
                "UNIQUE constraint failed: outbox_processed.consumer, outbox_processed.event_id"
            ),
            None
        );
    }
}
