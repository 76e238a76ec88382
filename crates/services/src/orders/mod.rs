//! Orders (SPEC F6.1, F6.2, F6.7): checkout reserves the stock of every line in the order's
//! own transaction and leaves the order PENDING until it is paid or its payment deadline
//! passes; cancelling returns the stock exactly once. Who sees what: the buyer their own
//! orders, a seller the orders holding their products (only their lines), an admin all;
//! anyone else gets 404, the same as for an order that does not exist.

mod cancel;
mod checkout;
mod shipments;
mod shipping;

use jangteo_core::Role;
use jangteo_core::ids::{OrderId, UserId};
use jangteo_core::order::OrderStatus;
use jangteo_core::pricing::vat_included;
use jangteo_store::orders::{self as store, Order, OrderLine, Scope, Shipment};
use jangteo_store::payments::{self as payment_store, Payment, RefundRecord};
use serde::{Deserialize, Serialize};

pub(crate) use cancel::{cancel_in, cancel_overdue};
pub use checkout::{CheckoutInput, CheckoutItem};
pub use shipping::MAX_SHIPPING_FEE;

use crate::tokens::Principal;
use crate::{ServiceError, ServiceResult, Services};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderSettings {
    /// Minutes a placed order waits for its payment before it is cancelled and its stock
    /// returned.
    pub payment_minutes: u32,
}

impl Default for OrderSettings {
    fn default() -> Self {
        Self {
            payment_minutes: jangteo_core::order::DEFAULT_PAYMENT_MINUTES,
        }
    }
}

/// An order with its lines and shipments. For a seller (`partial`), only their lines and
/// shipment, and the totals of that part.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderView {
    pub order: Order,
    pub lines: Vec<OrderLine>,
    pub shipments: Vec<Shipment>,
    /// Payment attempts, oldest first (not in a seller's view).
    pub payments: Vec<Payment>,
    pub refunds: Vec<RefundRecord>,
    /// True when this is one seller's part of the order.
    pub partial: bool,
}

pub struct Orders<'a> {
    s: &'a Services,
}

impl<'a> Orders<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    pub fn settings(&self) -> &OrderSettings {
        &self.s.order_settings
    }

    /// One order as `who` may see it; 404 when they may not.
    pub async fn get(&self, who: Principal, id: OrderId) -> ServiceResult<OrderView> {
        let order = store::find(self.s.reader(), id)
            .await?
            .ok_or(ServiceError::NotFound("order"))?;
        let mut views = self.views(vec![order]).await?;
        let view = views.pop().ok_or(ServiceError::NotFound("order"))?;
        visible_to(view, who).ok_or(ServiceError::NotFound("order"))
    }

    /// The buyer's own orders, newest first.
    pub async fn mine(
        &self,
        buyer: UserId,
        after: Option<OrderId>,
        limit: u64,
    ) -> ServiceResult<Vec<OrderView>> {
        self.page(Scope::Buyer(buyer), after, limit).await
    }

    /// Orders holding the seller's products (their part of each), newest first.
    pub async fn of_seller(
        &self,
        seller: Principal,
        after: Option<OrderId>,
        limit: u64,
    ) -> ServiceResult<Vec<OrderView>> {
        let views = self
            .page(Scope::Seller(seller.user_id), after, limit)
            .await?;
        Ok(views
            .into_iter()
            .filter_map(|v| seller_part(v, seller.user_id))
            .collect())
    }

    /// Every order (admins), optionally of one status, newest first.
    pub async fn all(
        &self,
        status: Option<OrderStatus>,
        after: Option<OrderId>,
        limit: u64,
    ) -> ServiceResult<Vec<OrderView>> {
        self.page(Scope::All(status), after, limit).await
    }

    async fn page(
        &self,
        scope: Scope,
        after: Option<OrderId>,
        limit: u64,
    ) -> ServiceResult<Vec<OrderView>> {
        let orders = store::page(self.s.reader(), scope, after, limit).await?;
        self.views(orders).await
    }

    /// Orders with their lines and shipments: three queries for any number of orders.
    async fn views(&self, orders: Vec<Order>) -> ServiceResult<Vec<OrderView>> {
        let db = self.s.reader();
        let lines = store::lines(db, &orders).await?;
        let shipments = store::shipments(db, &orders).await?;
        let ids: Vec<OrderId> = orders.iter().map(|o| o.id).collect();
        let payments = payment_store::of_orders(db, &ids).await?;
        let refunds = payment_store::refunds_of(db, &orders).await?;
        Ok(orders
            .into_iter()
            .map(|order| OrderView {
                lines: lines
                    .iter()
                    .filter(|l| l.order_id == order.id)
                    .cloned()
                    .collect(),
                shipments: shipments
                    .iter()
                    .filter(|s| s.order_id == order.id)
                    .cloned()
                    .collect(),
                payments: payments
                    .iter()
                    .filter(|p| p.order_id == order.id)
                    .cloned()
                    .collect(),
                refunds: refunds
                    .iter()
                    .filter(|r| r.order_id == order.id)
                    .cloned()
                    .collect(),
                order,
                partial: false,
            })
            .collect())
    }
}

/// The view `who` may have of an order, if any.
fn visible_to(view: OrderView, who: Principal) -> Option<OrderView> {
    if who.role == Role::Admin || view.order.buyer_id == who.user_id {
        return Some(view);
    }
    if who.role.satisfies(Role::Seller) {
        return seller_part(view, who.user_id);
    }
    None
}

/// One seller's part of an order: their lines, their shipment, and totals of that part
/// (the buyer's discounts are not the seller's to see). None when nothing in it is theirs.
fn seller_part(mut view: OrderView, seller: UserId) -> Option<OrderView> {
    view.lines.retain(|l| l.seller_id == seller);
    view.shipments.retain(|s| s.seller_id == seller);
    view.payments.clear();
    view.refunds.clear();
    let shipment = view.shipments.first()?;
    let o = &mut view.order;
    o.items_total = shipment.items_total;
    o.shipping_total = shipment.shipping_fee;
    o.discount_total = jangteo_core::money::Money::zero(o.total.currency());
    o.total = shipment
        .items_total
        .checked_add(shipment.shipping_fee)
        .ok()?;
    o.vat = vat_included(o.total);
    view.partial = true;
    Some(view)
}
