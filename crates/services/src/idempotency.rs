//! Idempotent writes: a request that carries an `Idempotency-Key` is done once; a retry with
//! the same key and body gets the first result, a retry with another body is refused.
//! The key is reserved in the unit of work of the write (`UnitOfWork::reserve_key`), so
//! the key, the effect and the result commit together.

use jangteo_core::idempotency::IdempotencyKey;

/// A key and the digest of the request it was sent with (the api hashes the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentRequest {
    pub key: IdempotencyKey,
    pub request_hash: String,
}

/// The result of an idempotent operation: done now, or the first result replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayable<T> {
    pub value: T,
    /// True when an earlier request with the same key did the work.
    pub replayed: bool,
}

impl<T> Replayable<T> {
    pub fn fresh(value: T) -> Self {
        Self {
            value,
            replayed: false,
        }
    }

    pub fn replayed(value: T) -> Self {
        Self {
            value,
            replayed: true,
        }
    }
}
