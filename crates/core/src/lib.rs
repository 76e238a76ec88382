//! Pure rules of jangteo: value types that can only be built valid, validation, and the
//! small state machines of accounts. Nothing here performs I/O or is async, so every rule
//! is unit-tested directly.
#![forbid(unsafe_code)]

pub mod address;
pub mod breaker;
pub mod cart;
pub mod catalog;
pub mod email;
pub mod events;
pub mod idempotency;
pub mod ids;
pub mod images;
pub mod inventory;
pub mod jobs;
pub mod mask;
pub mod money;
pub mod order;
pub mod password;
pub mod pricing;
pub mod role;
pub mod secret;
pub mod seller;
pub mod validation;
pub mod verification;

pub use email::Email;
pub use role::Role;
pub use validation::{FieldError, FieldErrors};
