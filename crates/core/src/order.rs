//! The states of an order, its payment and its shipments, as pure state machines (SPEC
//! F6.2). Services ask `can_become` (or `transition`) before the conditional UPDATE that
//! moves a row, and that UPDATE names the state it read, so two requests racing one order
//! end in exactly one of their outcomes.

use serde::{Deserialize, Serialize};

/// A refused transition: the state a request found and the one it wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub kind: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

macro_rules! state_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $($variant),*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),*
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }

            /// `next` if this state may become it, else the refusal to report.
            pub fn transition(self, next: $name) -> Result<$name, IllegalTransition> {
                if self.can_become(next) {
                    Ok(next)
                } else {
                    Err(IllegalTransition {
                        kind: $kind,
                        from: self.as_str(),
                        to: next.as_str(),
                    })
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

state_enum!(
    /// PENDING (stock reserved, waiting for payment until its deadline) → ORDERED (paid) →
    /// COMPLETE (delivered); CANCELLED from PENDING or ORDERED. A failed payment keeps the
    /// order PENDING, so the buyer may pay again until the deadline.
    OrderStatus, "order", {
        Pending => "PENDING",
        Ordered => "ORDERED",
        Complete => "COMPLETE",
        Cancelled => "CANCELLED",
    }
);

impl OrderStatus {
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Ordered) | (Ordered, Complete) | (Pending | Ordered, Cancelled)
        )
    }

    /// No transition leaves it.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Complete | Self::Cancelled)
    }
}

state_enum!(
    /// One payment attempt of an order: PENDING (started at the gateway) → PAID or FAILED;
    /// PAID → CANCELLED once everything is refunded (partial refunds keep it PAID and are
    /// tracked as amounts).
    PaymentStatus, "payment", {
        Pending => "PENDING",
        Paid => "PAID",
        Failed => "FAILED",
        Cancelled => "CANCELLED",
    }
);

impl PaymentStatus {
    pub fn can_become(self, next: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, next),
            (Pending, Paid) | (Pending, Failed) | (Paid, Cancelled)
        )
    }
}

state_enum!(
    /// One seller's shipment of an order: READY → IN_TRANSIT → DELIVERED.
    DeliveryStatus, "delivery", {
        Ready => "READY",
        InTransit => "IN_TRANSIT",
        Delivered => "DELIVERED",
    }
);

impl DeliveryStatus {
    pub fn can_become(self, next: DeliveryStatus) -> bool {
        use DeliveryStatus::*;
        matches!((self, next), (Ready, InTransit) | (InTransit, Delivered))
    }
}

/// Lines in one order (a cart holds at most 100 variants, so a whole cart fits).
pub const MAX_LINES: usize = 100;
/// Units of one variant in one order, as in a cart line.
pub const MAX_LINE_QUANTITY: i64 = crate::cart::MAX_LINE_QUANTITY;
/// How long a placed order waits for its payment unless the shop configures otherwise.
pub const DEFAULT_PAYMENT_MINUTES: u32 = 15;

/// A line the stock could not cover when the order was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shortage {
    pub variant_id: crate::ids::VariantId,
    pub requested: i64,
    /// Units in stock when the order was refused.
    pub available: i64,
}

/// Why an order was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelReason {
    /// The buyer cancelled it.
    Buyer,
    /// An admin cancelled it.
    Admin,
    /// Its payment deadline passed.
    PaymentTimeout,
}

impl CancelReason {
    pub const ALL: &'static [CancelReason] = &[Self::Buyer, Self::Admin, Self::PaymentTimeout];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Buyer => "BUYER",
            Self::Admin => "ADMIN",
            Self::PaymentTimeout => "PAYMENT_TIMEOUT",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// Merges the lines of one variant into one (a buy-now request may name a variant twice),
/// keeping first-mention order, so two lines of one variant can never together take more
/// than its stock unnoticed. Quantities add with saturation; the caller bounds them.
pub fn merge_lines<V: Copy + Eq>(lines: &[(V, i64)]) -> Vec<(V, i64)> {
    let mut out: Vec<(V, i64)> = Vec::with_capacity(lines.len());
    for &(v, q) in lines {
        match out.iter_mut().find(|(w, _)| *w == v) {
            Some((_, total)) => *total = total.saturating_add(q),
            None => out.push((v, q)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair, so a transition added by mistake shows up here.
    fn allowed<T: Copy + PartialEq>(all: &[T], can: impl Fn(T, T) -> bool) -> Vec<(T, T)> {
        let mut out = Vec::new();
        for &a in all {
            for &b in all {
                if can(a, b) {
                    out.push((a, b));
                }
            }
        }
        out
    }

    #[test]
    fn order_transitions_are_exactly_the_documented_ones() {
        use OrderStatus::*;
        assert_eq!(
            allowed(OrderStatus::ALL, OrderStatus::can_become),
            vec![
                (Pending, Ordered),
                (Pending, Cancelled),
                (Ordered, Complete),
                (Ordered, Cancelled)
            ]
        );
        assert!(Complete.is_terminal() && Cancelled.is_terminal());
        assert!(!Pending.is_terminal() && !Ordered.is_terminal());
        let refused = Cancelled.transition(Ordered).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "order cannot go from CANCELLED to ORDERED"
        );
    }

    #[test]
    fn payment_and_delivery_transitions() {
        use DeliveryStatus::*;
        use PaymentStatus::*;
        assert_eq!(
            allowed(PaymentStatus::ALL, PaymentStatus::can_become),
            vec![
                (Pending, Paid),
                (Pending, Failed),
                (Paid, PaymentStatus::Cancelled)
            ]
        );
        assert_eq!(
            allowed(DeliveryStatus::ALL, DeliveryStatus::can_become),
            vec![(Ready, InTransit), (InTransit, Delivered)]
        );
        assert!(
            Failed.transition(Paid).is_err(),
            "a failed attempt stays failed"
        );
    }

    #[test]
    fn states_round_trip_as_stored() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(*s));
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(DeliveryStatus::InTransit.as_str(), "IN_TRANSIT");
        assert_eq!(PaymentStatus::parse("paid"), None);
    }

    #[test]
    fn lines_of_one_variant_merge_in_first_mention_order() {
        assert_eq!(
            merge_lines(&[('a', 2), ('b', 1), ('a', 3)]),
            vec![('a', 5), ('b', 1)]
        );
        assert_eq!(
            merge_lines(&[('a', i64::MAX), ('a', 1)]),
            vec![('a', i64::MAX)]
        );
    }

    #[test]
    fn cancel_reasons_round_trip() {
        for r in CancelReason::ALL {
            assert_eq!(CancelReason::parse(r.as_str()), Some(*r));
        }
    }
}
