use jangteo_core::FieldErrors;
use jangteo_store::StoreError;

/// What a use case can answer besides success. Each variant carries a stable machine code
/// that clients may branch on; the api crate maps variants to HTTP statuses in one place.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Validation(FieldErrors),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// The payment gateway refused the payment (402 `payment_declined`).
    #[error("payment declined: {code}: {message}")]
    PaymentDeclined { code: String, message: String },
    /// Stock could not cover these lines (409 `insufficient_stock`); nothing was taken.
    #[error("not enough stock for {} line(s)", .0.len())]
    OutOfStock(Vec<jangteo_core::order::Shortage>),
    /// Well-formed but unusable as sent (e.g. an idempotency key reused with another body).
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("{detail}")]
    TooManyRequests {
        code: &'static str,
        detail: String,
        retry_after_secs: u64,
    },
    #[error("{0} is unavailable")]
    Unavailable(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            detail: detail.into(),
        }
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            detail: detail.into(),
        }
    }
}

impl ServiceError {
    /// The same answer again, for each of several requests that waited on one failed load
    /// (status and code kept); only an internal error's source chain becomes text.
    pub fn duplicate(&self) -> ServiceError {
        match self {
            Self::Validation(f) => Self::Validation(f.clone()),
            Self::NotFound(what) => Self::NotFound(what),
            Self::Conflict { code, detail } => Self::conflict(code, detail.clone()),
            Self::OutOfStock(lines) => Self::OutOfStock(lines.clone()),
            Self::PaymentDeclined { code, message } => Self::PaymentDeclined {
                code: code.clone(),
                message: message.clone(),
            },
            Self::Unprocessable { code, detail } => Self::Unprocessable {
                code,
                detail: detail.clone(),
            },
            Self::Unauthorized { code, detail } => Self::unauthorized(code, detail.clone()),
            Self::Forbidden { code, detail } => Self::forbidden(code, detail.clone()),
            Self::TooManyRequests {
                code,
                detail,
                retry_after_secs,
            } => Self::TooManyRequests {
                code,
                detail: detail.clone(),
                retry_after_secs: *retry_after_secs,
            },
            Self::Unavailable(what) => Self::Unavailable(what),
            Self::Internal(e) => Self::Internal(anyhow::anyhow!("{e:#}")),
        }
    }
}

impl From<FieldErrors> for ServiceError {
    fn from(errors: FieldErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound("resource"),
            // A conflict its call site did not expect: still a 409, never a 500.
            StoreError::Conflict { .. } => {
                Self::conflict("conflict", "the resource already exists")
            }
            StoreError::Corrupt(what) => Self::Internal(anyhow::anyhow!("corrupt row: {what}")),
            StoreError::Db(e) => Self::Internal(anyhow::Error::new(e).context("database")),
        }
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(err: sea_orm::DbErr) -> Self {
        StoreError::from(err).into()
    }
}

/// Maps a store "not found" to a named resource so the client reads e.g. "address not found".
pub(crate) trait NotFoundAs<T> {
    fn not_found_as(self, what: &'static str) -> ServiceResult<T>;
}

impl<T> NotFoundAs<T> for Result<T, StoreError> {
    fn not_found_as(self, what: &'static str) -> ServiceResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => ServiceError::NotFound(what),
            other => other.into(),
        })
    }
}
