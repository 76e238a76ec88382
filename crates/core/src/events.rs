//! Domain events: facts a committed transaction established, written as outbox rows in that
//! same transaction and delivered to subscribers afterwards (at least once; each subscriber
//! applies an event at most once). The serialized form is stored, so variants and fields
//! are only ever added, never renamed.

use crate::ids::{CategoryId, OrderId, ProductId, RefundId, UserId, VariantId};
use crate::inventory::StockReason;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    /// Anything a product's page, listing row or search document shows may have changed:
    /// fields, status, variants, categories, images, deletion.
    ProductChanged { product_id: ProductId },
    /// Stock of a variant moved by `delta` (negative for a sale), with the ledger's reason.
    StockChanged {
        product_id: ProductId,
        variant_id: VariantId,
        delta: i64,
        reason: StockReason,
    },
    /// A category's name (or place) changed: every product filed under it, or under one of
    /// its descendants, shows the new name.
    CategoryChanged { category_id: CategoryId },
    /// An order was placed (stock reserved, payment pending). `from_cart`: its lines were the
    /// buyer's selected cart lines of `variant_ids` (they left the cart in the order's own
    /// transaction).
    OrderPlaced {
        order_id: OrderId,
        buyer_id: UserId,
        from_cart: bool,
        variant_ids: Vec<VariantId>,
    },
    /// An order was cancelled and its stock returned (by the buyer, an admin, or its payment
    /// deadline).
    OrderCancelled { order_id: OrderId, buyer_id: UserId },
    /// An order's payment was confirmed: it is ORDERED.
    OrderPaid { order_id: OrderId, buyer_id: UserId },
    /// Part or all of a paid order was refunded (`amount` in the order's minor units); its
    /// units are back in stock.
    OrderRefunded {
        order_id: OrderId,
        buyer_id: UserId,
        refund_id: RefundId,
        amount: i64,
    },
}

impl DomainEvent {
    /// The stored kind, for filtering and for admins reading the outbox.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ProductChanged { .. } => "product_changed",
            Self::StockChanged { .. } => "stock_changed",
            Self::CategoryChanged { .. } => "category_changed",
            Self::OrderPlaced { .. } => "order_placed",
            Self::OrderCancelled { .. } => "order_cancelled",
            Self::OrderPaid { .. } => "order_paid",
            Self::OrderRefunded { .. } => "order_refunded",
        }
    }

    /// The product whose reads this event makes stale, if it concerns one product.
    pub fn product_id(&self) -> Option<ProductId> {
        match self {
            Self::ProductChanged { product_id } | Self::StockChanged { product_id, .. } => {
                Some(*product_id)
            }
            Self::CategoryChanged { .. }
            | Self::OrderPlaced { .. }
            | Self::OrderCancelled { .. }
            | Self::OrderPaid { .. }
            | Self::OrderRefunded { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_form_is_tagged_and_round_trips() {
        let id = ProductId::new();
        let e = DomainEvent::StockChanged {
            product_id: id,
            variant_id: VariantId::new(),
            delta: -2,
            reason: StockReason::Sale,
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.starts_with("{\"type\":\"stock_changed\""), "{json}");
        assert!(
            json.contains("\"reason\":\"SALE\""),
            "stored as the ledger writes it: {json}"
        );
        assert_eq!(serde_json::from_str::<DomainEvent>(&json).unwrap(), e);
        assert_eq!(e.kind(), "stock_changed");
        assert_eq!(e.product_id(), Some(id));
    }
}
