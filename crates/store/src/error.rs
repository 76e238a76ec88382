use sea_orm::{DbErr, SqlErr};

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
