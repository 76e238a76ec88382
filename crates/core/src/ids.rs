//! Identifiers. Every one is a UUIDv7 made by the application (time-ordered, so primary
//! keys have good index locality on every engine and double as keyset cursors), wrapped in
//! a type per kind of row: a `VariantId` cannot be passed where a `ProductId` is expected,
//! which matters most where money and stock move (an order line names both).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(new_id())
            }

            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

typed_id!(
    /// An account: shopper, seller (a seller's id is their user id) or admin.
    UserId,
    ProductId,
    VariantId,
    CategoryId,
    ImageId,
    AddressId,
    /// A seller application (the request to become a seller), not the seller.
    ApplicationId,
    OrderId,
    PaymentId,
    RefundId,
);

/// Lifts a slice of raw ids (as parsed from a request) into typed ones.
pub fn typed<T: From<Uuid>>(ids: &[Uuid]) -> Vec<T> {
    ids.iter().copied().map(T::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_plain_uuids() {
        let id = ProductId::new();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", id.uuid()));
        assert_eq!(serde_json::from_str::<ProductId>(&json).unwrap(), id);
        assert_eq!(id.to_string().parse::<ProductId>().unwrap(), id);
        assert!("not-a-uuid".parse::<ProductId>().is_err());
    }

    #[test]
    fn new_ids_are_time_ordered() {
        let a = VariantId::new();
        let b = VariantId::new();
        assert!(a < b);
    }
}
