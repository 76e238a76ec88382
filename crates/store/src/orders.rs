//! Orders, their lines and shipments, and sellers' shipping rules. An order's state moves
//! only by a conditional UPDATE that names the state it was read in ([`move_status`]), so
//! of two requests racing one order exactly one wins; the winner's transaction does the
//! rest (returning stock, refunding) and the loser changes nothing.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use jangteo_core::ids::{OrderId, ProductId, UserId, VariantId};
use jangteo_core::money::{Currency, Money};
use jangteo_core::order::{CancelReason, DeliveryStatus, OrderStatus};

use crate::entities::{order_lines, order_shipments, orders, shipping_rules};
use crate::{Batch, StoreError, StoreResult, uuids};

/// Where an order goes: a copy of an address-book entry as it was at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipTo {
    pub recipient: String,
    pub phone: String,
    pub postal_code: String,
    pub line1: String,
    pub line2: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub buyer_id: UserId,
    pub status: OrderStatus,
    pub items_total: Money,
    pub shipping_total: Money,
    pub discount_total: Money,
    pub total: Money,
    pub vat: Money,
    pub refunded_total: Money,
    pub ship_to: ShipTo,
    pub payment_deadline: DateTime<Utc>,
    pub cancel_reason: Option<CancelReason>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// One line: what was bought, as it was described and priced at checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub order_id: OrderId,
    pub line_no: i32,
    pub product_id: ProductId,
    pub variant_id: VariantId,
    pub seller_id: UserId,
    pub product_name: String,
    pub variant_name: String,
    pub sku: String,
    pub unit_price: Money,
    pub quantity: i64,
    pub line_total: Money,
    /// The part of the order's discounts allocated to this line (for partial refunds).
    pub discount: Money,
    pub refunded_quantity: i64,
}

/// One seller's part of an order: its delivery state and shipping fee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub order_id: OrderId,
    pub seller_id: UserId,
    pub status: DeliveryStatus,
    pub items_total: Money,
    pub shipping_fee: Money,
    pub tracking_number: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A seller's stored shipping rule, in minor units of the order's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredShippingRule {
    pub seller_id: UserId,
    pub base_fee: i64,
    pub free_from: Option<i64>,
}

fn corrupt(what: &str, id: Uuid, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} of {id} is {value:?}"))
}

impl TryFrom<orders::Model> for Order {
    type Error = StoreError;

    fn try_from(m: orders::Model) -> StoreResult<Self> {
        let status =
            OrderStatus::parse(&m.status).ok_or_else(|| corrupt("status", m.id, &m.status))?;
        let currency =
            Currency::parse(&m.currency).ok_or_else(|| corrupt("currency", m.id, &m.currency))?;
        let cancel_reason = match m.cancel_reason.as_deref() {
            None => None,
            Some(r) => {
                Some(CancelReason::parse(r).ok_or_else(|| corrupt("cancel reason", m.id, r))?)
            }
        };
        let money = |n| Money::new(n, currency);
        Ok(Self {
            id: m.id.into(),
            buyer_id: m.buyer_id.into(),
            status,
            items_total: money(m.items_total),
            shipping_total: money(m.shipping_total),
            discount_total: money(m.discount_total),
            total: money(m.total),
            vat: money(m.vat),
            refunded_total: money(m.refunded_total),
            ship_to: ShipTo {
                recipient: m.recipient,
                phone: m.phone,
                postal_code: m.postal_code,
                line1: m.line1,
                line2: m.line2,
            },
            payment_deadline: m.payment_deadline,
            cancel_reason,
            created_at: m.created_at,
            updated_at: m.updated_at,
            paid_at: m.paid_at,
            cancelled_at: m.cancelled_at,
        })
    }
}

impl From<&Order> for orders::Model {
    fn from(o: &Order) -> Self {
        Self {
            id: o.id.uuid(),
            buyer_id: o.buyer_id.uuid(),
            status: o.status.as_str().to_owned(),
            currency: o.total.currency().as_str().to_owned(),
            items_total: o.items_total.minor(),
            shipping_total: o.shipping_total.minor(),
            discount_total: o.discount_total.minor(),
            total: o.total.minor(),
            vat: o.vat.minor(),
            refunded_total: o.refunded_total.minor(),
            recipient: o.ship_to.recipient.clone(),
            phone: o.ship_to.phone.clone(),
            postal_code: o.ship_to.postal_code.clone(),
            line1: o.ship_to.line1.clone(),
            line2: o.ship_to.line2.clone(),
            payment_deadline: o.payment_deadline,
            cancel_reason: o.cancel_reason.map(|r| r.as_str().to_owned()),
            created_at: o.created_at,
            updated_at: o.updated_at,
            paid_at: o.paid_at,
            cancelled_at: o.cancelled_at,
        }
    }
}

impl OrderLine {
    fn from_model(m: order_lines::Model, currency: Currency) -> Self {
        let money = |n| Money::new(n, currency);
        Self {
            order_id: m.order_id.into(),
            line_no: m.line_no,
            product_id: m.product_id.into(),
            variant_id: m.variant_id.into(),
            seller_id: m.seller_id.into(),
            product_name: m.product_name,
            variant_name: m.variant_name,
            sku: m.sku,
            unit_price: money(m.unit_price),
            quantity: m.quantity,
            line_total: money(m.line_total),
            discount: money(m.discount),
            refunded_quantity: m.refunded_quantity,
        }
    }
}

impl From<&OrderLine> for order_lines::Model {
    fn from(l: &OrderLine) -> Self {
        Self {
            order_id: l.order_id.uuid(),
            line_no: l.line_no,
            product_id: l.product_id.uuid(),
            variant_id: l.variant_id.uuid(),
            seller_id: l.seller_id.uuid(),
            product_name: l.product_name.clone(),
            variant_name: l.variant_name.clone(),
            sku: l.sku.clone(),
            unit_price: l.unit_price.minor(),
            quantity: l.quantity,
            line_total: l.line_total.minor(),
            discount: l.discount.minor(),
            refunded_quantity: l.refunded_quantity,
        }
    }
}

impl Shipment {
    fn from_model(m: order_shipments::Model, currency: Currency) -> StoreResult<Self> {
        let status = DeliveryStatus::parse(&m.status)
            .ok_or_else(|| corrupt("shipment status", m.order_id, &m.status))?;
        Ok(Self {
            order_id: m.order_id.into(),
            seller_id: m.seller_id.into(),
            status,
            items_total: Money::new(m.items_total, currency),
            shipping_fee: Money::new(m.shipping_fee, currency),
            tracking_number: m.tracking_number,
            updated_at: m.updated_at,
        })
    }
}

impl From<&Shipment> for order_shipments::Model {
    fn from(s: &Shipment) -> Self {
        Self {
            order_id: s.order_id.uuid(),
            seller_id: s.seller_id.uuid(),
            status: s.status.as_str().to_owned(),
            items_total: s.items_total.minor(),
            shipping_fee: s.shipping_fee.minor(),
            tracking_number: s.tracking_number.clone(),
            updated_at: s.updated_at,
        }
    }
}

/// Adds the writes of a new order with its lines and shipments (three statements) to a
/// batch that runs later in the transaction.
pub fn insert_into(
    batch: &mut Batch,
    backend: sea_orm::DbBackend,
    order: &Order,
    lines: &[OrderLine],
    shipments: &[Shipment],
) {
    crate::insert_many_into(
        batch,
        backend,
        vec![orders::Model::from(order).into_active_model()],
    );
    crate::insert_many_into(
        batch,
        backend,
        lines
            .iter()
            .map(|l| order_lines::Model::from(l).into_active_model())
            .collect(),
    );
    crate::insert_many_into(
        batch,
        backend,
        shipments
            .iter()
            .map(|s| order_shipments::Model::from(s).into_active_model())
            .collect(),
    );
}

pub async fn find(c: &impl ConnectionTrait, id: OrderId) -> StoreResult<Option<Order>> {
    orders::Entity::find_by_id(id.uuid())
        .one(c)
        .await?
        .map(Order::try_from)
        .transpose()
}

pub async fn find_many(c: &impl ConnectionTrait, ids: &[OrderId]) -> StoreResult<Vec<Order>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    orders::Entity::find()
        .filter(orders::Column::Id.is_in(uuids(ids)))
        .order_by_desc(orders::Column::Id)
        .all(c)
        .await?
        .into_iter()
        .map(Order::try_from)
        .collect()
}

/// The lines of `orders`, in order and line number.
pub async fn lines(c: &impl ConnectionTrait, orders: &[Order]) -> StoreResult<Vec<OrderLine>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<OrderId> = orders.iter().map(|o| o.id).collect();
    let rows = order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.is_in(uuids(&ids)))
        .order_by_asc(order_lines::Column::OrderId)
        .order_by_asc(order_lines::Column::LineNo)
        .all(c)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|m| {
            let currency = orders
                .iter()
                .find(|o| o.id.uuid() == m.order_id)?
                .total
                .currency();
            Some(OrderLine::from_model(m, currency))
        })
        .collect())
}

/// The shipments of `orders`.
pub async fn shipments(c: &impl ConnectionTrait, orders: &[Order]) -> StoreResult<Vec<Shipment>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<OrderId> = orders.iter().map(|o| o.id).collect();
    let rows = order_shipments::Entity::find()
        .filter(order_shipments::Column::OrderId.is_in(uuids(&ids)))
        .order_by_asc(order_shipments::Column::OrderId)
        .order_by_asc(order_shipments::Column::SellerId)
        .all(c)
        .await?;
    rows.into_iter()
        .filter_map(|m| {
            let currency = orders
                .iter()
                .find(|o| o.id.uuid() == m.order_id)?
                .total
                .currency();
            Some(Shipment::from_model(m, currency))
        })
        .collect()
}

/// Which page of orders to read: newest first, after the cursor.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Buyer(UserId),
    Seller(UserId),
    All(Option<OrderStatus>),
}

/// A keyset page of orders, newest first. A seller's page holds the orders with a shipment
/// of theirs.
pub async fn page(
    c: &impl ConnectionTrait,
    scope: Scope,
    after: Option<OrderId>,
    limit: u64,
) -> StoreResult<Vec<Order>> {
    if let Scope::Seller(seller) = scope {
        let mut q = order_shipments::Entity::find()
            .select_only()
            .column(order_shipments::Column::OrderId)
            .filter(order_shipments::Column::SellerId.eq(seller.uuid()))
            .order_by_desc(order_shipments::Column::OrderId)
            .limit(limit);
        if let Some(a) = after {
            q = q.filter(order_shipments::Column::OrderId.lt(a.uuid()));
        }
        let ids: Vec<OrderId> = q
            .into_tuple::<Uuid>()
            .all(c)
            .await?
            .into_iter()
            .map(OrderId::from)
            .collect();
        return find_many(c, &ids).await;
    }
    let mut q = orders::Entity::find()
        .order_by_desc(orders::Column::Id)
        .limit(limit);
    match scope {
        Scope::Buyer(buyer) => q = q.filter(orders::Column::BuyerId.eq(buyer.uuid())),
        Scope::All(Some(status)) => q = q.filter(orders::Column::Status.eq(status.as_str())),
        Scope::All(None) | Scope::Seller(_) => {}
    }
    if let Some(a) = after {
        q = q.filter(orders::Column::Id.lt(a.uuid()));
    }
    q.all(c).await?.into_iter().map(Order::try_from).collect()
}

/// Moves an order from `from` to `to` if it is still in `from`; `false` when another
/// request moved it first. Cancelling stamps the reason and time.
pub async fn move_status(
    c: &impl ConnectionTrait,
    id: OrderId,
    from: OrderStatus,
    to: OrderStatus,
    cancel_reason: Option<CancelReason>,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut q = orders::Entity::update_many()
        .col_expr(orders::Column::Status, Expr::value(to.as_str()))
        .col_expr(orders::Column::UpdatedAt, Expr::value(at))
        .filter(orders::Column::Id.eq(id.uuid()))
        .filter(orders::Column::Status.eq(from.as_str()));
    if let Some(reason) = cancel_reason {
        q = q
            .col_expr(orders::Column::CancelReason, Expr::value(reason.as_str()))
            .col_expr(orders::Column::CancelledAt, Expr::value(at));
    }
    if to == OrderStatus::Ordered {
        q = q.col_expr(orders::Column::PaidAt, Expr::value(at));
    }
    Ok(q.exec(c).await?.rows_affected == 1)
}

/// PENDING orders whose payment deadline is at or before `now`, oldest deadline first.
pub async fn overdue(
    c: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<OrderId>> {
    Ok(orders::Entity::find()
        .select_only()
        .column(orders::Column::Id)
        .filter(orders::Column::Status.eq(OrderStatus::Pending.as_str()))
        .filter(orders::Column::PaymentDeadline.lte(now))
        .order_by_asc(orders::Column::PaymentDeadline)
        .limit(limit)
        .into_tuple::<Uuid>()
        .all(c)
        .await?
        .into_iter()
        .map(OrderId::from)
        .collect())
}

/// The stored rules of `sellers` (sellers without one are absent).
pub async fn shipping_rules(
    c: &impl ConnectionTrait,
    sellers: &[UserId],
) -> StoreResult<Vec<StoredShippingRule>> {
    if sellers.is_empty() {
        return Ok(Vec::new());
    }
    Ok(shipping_rules::Entity::find()
        .filter(shipping_rules::Column::SellerId.is_in(uuids(sellers)))
        .all(c)
        .await?
        .into_iter()
        .map(|m| StoredShippingRule {
            seller_id: m.seller_id.into(),
            base_fee: m.base_fee,
            free_from: m.free_from,
        })
        .collect())
}

pub async fn set_shipping_rule(
    c: &impl ConnectionTrait,
    rule: StoredShippingRule,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let row = shipping_rules::Model {
        seller_id: rule.seller_id.uuid(),
        base_fee: rule.base_fee,
        free_from: rule.free_from,
        updated_at: at,
    };
    shipping_rules::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::column(shipping_rules::Column::SellerId)
                .update_columns([
                    shipping_rules::Column::BaseFee,
                    shipping_rules::Column::FreeFrom,
                    shipping_rules::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(c)
        .await?;
    Ok(())
}

/// Counts `quantity` more units of a line as refunded, unless that would refund more than
/// the line holds; `false` (nothing changed) then.
pub async fn refund_line(
    c: &impl ConnectionTrait,
    order: OrderId,
    line_no: i32,
    quantity: i64,
) -> StoreResult<bool> {
    use sea_orm::sea_query::ExprTrait;
    let after = Expr::col(order_lines::Column::RefundedQuantity).add(quantity);
    let r = order_lines::Entity::update_many()
        .col_expr(order_lines::Column::RefundedQuantity, after.clone())
        .filter(order_lines::Column::OrderId.eq(order.uuid()))
        .filter(order_lines::Column::LineNo.eq(line_no))
        .filter(after.lte(Expr::col(order_lines::Column::Quantity)))
        .exec(c)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Adds `amount` to the order's refunded total unless that would pass its total.
pub async fn add_refunded_total(
    c: &impl ConnectionTrait,
    order: OrderId,
    amount: i64,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    use sea_orm::sea_query::ExprTrait;
    let after = Expr::col(orders::Column::RefundedTotal).add(amount);
    let r = orders::Entity::update_many()
        .col_expr(orders::Column::RefundedTotal, after.clone())
        .col_expr(orders::Column::UpdatedAt, Expr::value(at))
        .filter(orders::Column::Id.eq(order.uuid()))
        .filter(after.lte(Expr::col(orders::Column::Total)))
        .exec(c)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Moves a seller's shipment from `from` to `to`; `false` when it was not in `from`.
pub async fn move_shipment(
    c: &impl ConnectionTrait,
    order: OrderId,
    seller: UserId,
    from: DeliveryStatus,
    to: DeliveryStatus,
    tracking_number: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut q = order_shipments::Entity::update_many()
        .col_expr(order_shipments::Column::Status, Expr::value(to.as_str()))
        .col_expr(order_shipments::Column::UpdatedAt, Expr::value(at))
        .filter(order_shipments::Column::OrderId.eq(order.uuid()))
        .filter(order_shipments::Column::SellerId.eq(seller.uuid()))
        .filter(order_shipments::Column::Status.eq(from.as_str()));
    if let Some(t) = tracking_number {
        q = q.col_expr(order_shipments::Column::TrackingNumber, Expr::value(t));
    }
    Ok(q.exec(c).await?.rows_affected == 1)
}

/// Whether every shipment of the order is DELIVERED.
pub async fn all_delivered(c: &impl ConnectionTrait, order: OrderId) -> StoreResult<bool> {
    use sea_orm::PaginatorTrait;
    let open = order_shipments::Entity::find()
        .filter(order_shipments::Column::OrderId.eq(order.uuid()))
        .filter(order_shipments::Column::Status.ne(DeliveryStatus::Delivered.as_str()))
        .count(c)
        .await?;
    Ok(open == 0)
}
