use sea_orm::{DbErr, SqlErr};

/// The storage contract's one error type: callers can tell "not there" and "already taken"
/// from everything else without knowing SQL or the engine.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the database, not a prior SELECT, decides.
    #[error("unique constraint violated")]
    Conflict,
    #[error("database error: {0}")]
    Db(DbErr),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict,
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
