//! Path and query extractors whose failures are problem+json like every other error.

use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use jangteo_core::idempotency::IdempotencyKey;
use jangteo_services::idempotency::IdempotentRequest;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::ApiError;

/// A single `{id}` path segment holding a UUID, as the typed id of what the route names
/// (`IdPath<ProductId>`). A malformed id names nothing that exists, so it is answered like
/// a missing resource.
pub struct IdPath<T = Uuid>(pub T);

impl<S: Send + Sync, T: From<Uuid>> FromRequestParts<S> for IdPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let not_found = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no resource with this id",
            )
        };
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        Uuid::parse_str(&raw)
            .map(|id| IdPath(T::from(id)))
            .map_err(|_| not_found())
    }
}

/// Query-string parameters, refused with 400 `invalid_query` when they do not parse.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::invalid_query(e.body_text()))
    }
}

/// Two UUID path segments, e.g. `/products/{id}/variants/{variant_id}`.
pub struct IdPair<A = Uuid, B = Uuid>(pub A, pub B);

impl<S: Send + Sync, A: From<Uuid>, B: From<Uuid>> FromRequestParts<S> for IdPair<A, B> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let not_found = || {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no resource with this id",
            )
        };
        let Path((a, b)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        match (Uuid::parse_str(&a), Uuid::parse_str(&b)) {
            (Ok(a), Ok(b)) => Ok(IdPair(a.into(), b.into())),
            _ => Err(not_found()),
        }
    }
}

/// The `Idempotency-Key` request header, if sent (IETF draft-ietf-httpapi-idempotency-key-
/// header). A malformed key is a validation error (422) naming the header.
pub struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on a response that repeats the first result of an idempotency key.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(raw) = parts.headers.get(IDEMPOTENCY_KEY) else {
            return Ok(Self(None));
        };
        let field = "Idempotency-Key";
        let text = raw.to_str().unwrap_or("\u{0}");
        IdempotencyKey::parse(field, text)
            .map(|k| Self(Some(k)))
            .map_err(|e| ApiError::validation(e.into_vec()))
    }
}

impl IdempotencyKeyHeader {
    /// The key with what it is checked against: the body's digest, or for a route without
    /// a body what names the request (`json::digest_for`).
    pub fn with_hash(self, request_hash: String) -> Option<IdempotentRequest> {
        self.0.map(|key| IdempotentRequest { key, request_hash })
    }
}

/// 422 `too_many` for a list longer than the route takes, checked before any work, so an
/// oversized list costs nothing but its parsing.
pub fn at_most(field: &str, len: usize, max: usize) -> Result<(), ApiError> {
    if len <= max {
        return Ok(());
    }
    Err(ApiError::validation(vec![jangteo_core::FieldError {
        field: field.into(),
        code: "too_many".into(),
        message: format!("{field} takes at most {max} entries"),
    }]))
}

/// `Idempotent-Replayed: true` on a replayed answer; nothing otherwise.
pub fn replay_headers(replayed: bool) -> axum::http::HeaderMap {
    let mut headers = axum::http::HeaderMap::new();
    if replayed {
        headers.insert(
            IDEMPOTENT_REPLAYED,
            axum::http::HeaderValue::from_static("true"),
        );
    }
    headers
}
