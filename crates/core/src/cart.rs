//! Cart rules (SPEC F4.1): bounded lines and quantities, the stock status a line shows, and
//! when a cart expires. Prices and stock are shown as they are now and checked again at
//! checkout; the cart never holds stock.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;

/// Distinct variants in one cart.
pub const MAX_LINES: u64 = 100;
/// Units of one variant in one cart line.
pub const MAX_LINE_QUANTITY: i64 = 999;
/// A cart is dropped this long after its last change.
pub const TTL_DAYS: i64 = 7;

pub fn line_quantity(field: &str, value: Option<i64>) -> Result<i64, FieldErrors> {
    match value {
        None => Err(FieldErrors::single(
            field,
            "required",
            format!("{field} is required"),
        )),
        Some(q) if (1..=MAX_LINE_QUANTITY).contains(&q) => Ok(q),
        Some(_) => Err(FieldErrors::single(
            field,
            "out_of_range",
            format!("{field} must be between 1 and {MAX_LINE_QUANTITY}"),
        )),
    }
}

/// The moment a cart last changed at `last_change` expires.
pub fn expires_at(last_change: DateTime<Utc>) -> DateTime<Utc> {
    last_change + Duration::days(TTL_DAYS)
}

pub fn is_expired(last_change: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    expires_at(last_change) <= now
}

/// A cart whose last change is later than this is live at `now` (not [`is_expired`]): the
/// bound for a query that keeps only live carts.
pub fn live_after(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(TTL_DAYS)
}

/// What a line can be bought as, now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineStatus {
    /// Enough stock for the quantity.
    Available,
    /// Some stock, less than the quantity.
    InsufficientStock,
    SoldOut,
    /// The product is no longer offered (hidden, draft again, deleted) or the variant gone.
    Unavailable,
}

impl LineStatus {
    pub fn of(offered: bool, stock: i64, quantity: i64) -> Self {
        match () {
            _ if !offered => Self::Unavailable,
            _ if stock <= 0 => Self::SoldOut,
            _ if stock < quantity => Self::InsufficientStock,
            _ => Self::Available,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::InsufficientStock => "INSUFFICIENT_STOCK",
            Self::SoldOut => "SOLD_OUT",
            Self::Unavailable => "UNAVAILABLE",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_after_is_the_edge_of_expiry() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T12:00:00.000001Z")
            .unwrap()
            .with_timezone(&Utc);
        let edge = live_after(now);
        assert!(is_expired(edge, now), "at the bound the cart has expired");
        assert!(!is_expired(edge + Duration::microseconds(1), now));
    }

    #[test]
    fn quantities_are_bounded() {
        assert_eq!(line_quantity("q", Some(1)).unwrap(), 1);
        assert_eq!(line_quantity("q", Some(999)).unwrap(), 999);
        for bad in [Some(0), Some(-1), Some(1_000), Some(i64::MIN), None] {
            assert!(line_quantity("q", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn line_status_and_expiry() {
        assert_eq!(LineStatus::of(true, 5, 5), LineStatus::Available);
        assert_eq!(LineStatus::of(true, 4, 5), LineStatus::InsufficientStock);
        assert_eq!(LineStatus::of(true, 0, 1), LineStatus::SoldOut);
        assert_eq!(LineStatus::of(false, 9, 1), LineStatus::Unavailable);
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(!is_expired(t, t + Duration::days(7) - Duration::seconds(1)));
        assert!(is_expired(t, t + Duration::days(7)));
    }
}
