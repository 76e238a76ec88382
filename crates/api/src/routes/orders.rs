//! Checkout and orders. `POST /orders` places an order from the selected cart lines or from
//! "buy now" items; the buyer lists and reads their orders and may cancel an unpaid one.
//! Sellers read the orders holding their products (their part only) under
//! `/sellers/me/orders`, admins every order under `/admin/orders`. An order the caller may
//! not see is 404, like one that does not exist.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use jangteo_core::ids::{AddressId, OrderId, ProductId, UserId, VariantId};
use jangteo_core::money::Money;
use jangteo_core::order::OrderStatus;
use jangteo_core::pricing::ShippingRule;
use jangteo_services::orders::{CheckoutInput, CheckoutItem, OrderView};
use jangteo_store::orders::{OrderLine, Shipment};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{AdminUser, AuthUser, SellerUser};
use crate::json::{Json, JsonDigest};
use crate::pagination::{Page, PageQuery};
use crate::params::{IdPath, IdempotencyKeyHeader, Query, replay_headers};
use crate::routes::payments::{PaymentResponse, RefundResponse};
use crate::{ApiError, AppState, Problem};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place, list_mine))
        .routes(routes!(get_order))
        .routes(routes!(cancel))
        .routes(routes!(list_seller))
        .routes(routes!(list_admin))
        .routes(routes!(get_shipping, put_shipping))
        .routes(routes!(put_shipment))
}

#[derive(Serialize, ToSchema)]
pub struct OrderLineResponse {
    line_no: i32,
    #[schema(value_type = Uuid)]
    product_id: ProductId,
    #[schema(value_type = Uuid)]
    variant_id: VariantId,
    #[schema(value_type = Uuid)]
    seller_id: UserId,
    product_name: String,
    variant_name: String,
    sku: String,
    /// The price of one unit when the order was placed, minor units.
    unit_price: i64,
    quantity: i64,
    line_total: i64,
    /// The part of the order's discounts that falls on this line.
    discount: i64,
    refunded_quantity: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ShipmentResponse {
    #[schema(value_type = Uuid)]
    seller_id: UserId,
    /// READY, IN_TRANSIT or DELIVERED.
    #[schema(example = "READY")]
    status: &'static str,
    /// The seller's lines, minor units.
    items_total: i64,
    /// The seller's shipping fee for this order.
    shipping_fee: i64,
    tracking_number: Option<String>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct ShipToResponse {
    recipient: String,
    phone: String,
    postal_code: String,
    line1: String,
    line2: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderResponse {
    #[schema(value_type = Uuid)]
    id: OrderId,
    #[schema(value_type = Uuid)]
    buyer_id: UserId,
    /// PENDING (waiting for payment until `payment_deadline`), ORDERED (paid), COMPLETE
    /// (delivered) or CANCELLED.
    #[schema(example = "PENDING")]
    status: &'static str,
    currency: String,
    /// Sum of the lines, minor units.
    items_total: i64,
    /// Sum of the sellers' shipping fees.
    shipping_total: i64,
    /// Coupon and points discounts.
    discount_total: i64,
    /// What the buyer pays: `items_total + shipping_total − discount_total`.
    total: i64,
    /// The VAT contained in `total` (prices include VAT).
    vat: i64,
    refunded_total: i64,
    /// True when this is one seller's view: only their lines and shipment, and the totals
    /// of that part.
    partial: bool,
    ship_to: ShipToResponse,
    /// An unpaid order is cancelled and its stock returned at this instant.
    payment_deadline: DateTime<Utc>,
    /// BUYER, ADMIN or PAYMENT_TIMEOUT, for a cancelled order.
    cancel_reason: Option<&'static str>,
    lines: Vec<OrderLineResponse>,
    shipments: Vec<ShipmentResponse>,
    /// Payment attempts, oldest first (empty in a seller's view).
    payments: Vec<PaymentResponse>,
    /// Refunds, oldest first (empty in a seller's view).
    refunds: Vec<RefundResponse>,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
    cancelled_at: Option<DateTime<Utc>>,
}

impl From<&OrderLine> for OrderLineResponse {
    fn from(l: &OrderLine) -> Self {
        Self {
            line_no: l.line_no,
            product_id: l.product_id,
            variant_id: l.variant_id,
            seller_id: l.seller_id,
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

impl From<&Shipment> for ShipmentResponse {
    fn from(s: &Shipment) -> Self {
        Self {
            seller_id: s.seller_id,
            status: s.status.as_str(),
            items_total: s.items_total.minor(),
            shipping_fee: s.shipping_fee.minor(),
            tracking_number: s.tracking_number.clone(),
            updated_at: s.updated_at,
        }
    }
}

impl From<&OrderView> for OrderResponse {
    fn from(v: &OrderView) -> Self {
        let o = &v.order;
        Self {
            id: o.id,
            buyer_id: o.buyer_id,
            status: o.status.as_str(),
            currency: o.total.currency().as_str().to_owned(),
            items_total: o.items_total.minor(),
            shipping_total: o.shipping_total.minor(),
            discount_total: o.discount_total.minor(),
            total: o.total.minor(),
            vat: o.vat.minor(),
            refunded_total: o.refunded_total.minor(),
            partial: v.partial,
            ship_to: ShipToResponse {
                recipient: o.ship_to.recipient.clone(),
                phone: o.ship_to.phone.clone(),
                postal_code: o.ship_to.postal_code.clone(),
                line1: o.ship_to.line1.clone(),
                line2: o.ship_to.line2.clone(),
            },
            payment_deadline: o.payment_deadline,
            cancel_reason: o.cancel_reason.map(|r| r.as_str()),
            lines: v.lines.iter().map(Into::into).collect(),
            shipments: v.shipments.iter().map(Into::into).collect(),
            payments: v.payments.iter().map(Into::into).collect(),
            refunds: v.refunds.iter().map(Into::into).collect(),
            created_at: o.created_at,
            paid_at: o.paid_at,
            cancelled_at: o.cancelled_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRequest {
    #[schema(value_type = Uuid, required = true)]
    variant_id: Option<VariantId>,
    #[schema(value_type = i64, minimum = 1, maximum = 999, required = true)]
    quantity: Option<i64>,
}

/// Send `items` to buy now; without `items` the selected cart lines are ordered (and
/// leave the cart once the order is placed).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// An address of the caller's address book; the order keeps a copy.
    #[schema(value_type = Uuid, required = true)]
    address_id: Option<AddressId>,
    /// Buy now: these variants and quantities (a variant named twice counts once, with the
    /// quantities added). Absent or null: the selected cart lines.
    #[schema(min_items = 1, max_items = 100)]
    items: Option<Vec<ItemRequest>>,
}

#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255,
        description = "Makes a retry safe: the same key with the same body within 24 hours answers with the order the first request placed (and `Idempotent-Replayed: true`) instead of placing another")),
    request_body = CheckoutRequest,
    responses(
        (status = 201, description = "The order, PENDING until it is paid, with its stock reserved", body = OrderResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when an earlier request with this Idempotency-Key placed the order"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such address in the caller's address book", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stock cannot cover a line (`insufficient_stock`, with `shortages` naming each line and the units left), a product is no longer offered (`product_unavailable`), no cart line is selected (`nothing_selected`), or a request with this Idempotency-Key is still in progress (`idempotency_key_in_use`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, products in several currencies (`mixed_currencies`), or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn place(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    key: IdempotencyKeyHeader,
    JsonDigest(body, digest): JsonDigest<CheckoutRequest>,
) -> Result<(StatusCode, HeaderMap, Json<OrderResponse>), ApiError> {
    // The number of items is checked by `Orders::place` before it reads anything.
    let request = key.with_hash(digest);
    let input = CheckoutInput {
        address_id: body.address_id,
        items: body.items.map(|items| {
            items
                .into_iter()
                .map(|i| CheckoutItem {
                    variant_id: i.variant_id,
                    quantity: i.quantity,
                })
                .collect()
        }),
    };
    let placed = state
        .services
        .orders()
        .place(me, input, request.as_ref())
        .await?;
    Ok((
        StatusCode::CREATED,
        replay_headers(placed.replayed),
        Json((&placed.value).into()),
    ))
}

fn page_of(views: Vec<OrderView>, limit: u64) -> Page<OrderResponse> {
    let items = views.iter().map(OrderResponse::from).collect();
    Page::new(items, limit, |o: &OrderResponse| o.id.uuid())
}

#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "The caller's orders, newest first", body = Page<OrderResponse>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_mine(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<OrderResponse>>, ApiError> {
    let limit = page.limit()?;
    let views = state
        .services
        .orders()
        .mine(me.user_id, page.after.map(Into::into), limit)
        .await?;
    Ok(Json(page_of(views, limit)))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The order: whole for its buyer and admins, the seller's part for a seller", body = OrderResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order, or not the caller's to see", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_order(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(id): IdPath<OrderId>,
) -> Result<Json<OrderResponse>, ApiError> {
    let view = state.services.orders().get(me, id).await?;
    Ok(Json((&view).into()))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, max_length = 255,
        description = "A retry with the same key within 24 hours answers with the order as the first request left it (and `Idempotent-Replayed: true`)")),
    responses(
        (status = 200, description = "The order, CANCELLED, its stock returned; a paid order is refunded in full (see `refunds`)", body = OrderResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when an earlier request with this Idempotency-Key cancelled the order"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order of the caller's (admins may cancel any)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order is already cancelled or complete (`illegal_transition`), or a request with this Idempotency-Key is still in progress (`idempotency_key_in_use`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A malformed Idempotency-Key", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(id): IdPath<OrderId>,
    key: IdempotencyKeyHeader,
) -> Result<(HeaderMap, Json<OrderResponse>), ApiError> {
    let request = key.with_hash(crate::json::digest_for(id, "cancel"));
    let done = state
        .services
        .orders()
        .cancel(me, id, request.as_ref())
        .await?;
    Ok((replay_headers(done.replayed), Json((&done.value).into())))
}

#[utoipa::path(get, path = "/api/v1/sellers/me/orders", tag = "orders", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "Orders holding the seller's products, newest first, each with only the seller's lines and shipment", body = Page<OrderResponse>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a seller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_seller(
    State(state): State<AppState>,
    SellerUser(me): SellerUser,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<OrderResponse>>, ApiError> {
    let limit = page.limit()?;
    let views = state
        .services
        .orders()
        .of_seller(me, page.after.map(Into::into), limit)
        .await?;
    Ok(Json(page_of(views, limit)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminOrderFilter {
    /// Only orders in this state.
    #[param(schema_with = crate::openapi::order_statuses)]
    status: Option<String>,
    /// `next_cursor` of the previous page.
    after: Option<Uuid>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/admin/orders", tag = "orders", security(("bearer" = [])), params(AdminOrderFilter),
    responses(
        (status = 200, description = "Every order, newest first", body = Page<OrderResponse>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_admin(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Query(q): Query<AdminOrderFilter>,
) -> Result<Json<Page<OrderResponse>>, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_query("status must be PENDING, ORDERED, COMPLETE or CANCELLED")
        })?),
    };
    let page = PageQuery {
        after: q.after,
        limit: q.limit,
    };
    let limit = page.limit()?;
    let views = state
        .services
        .orders()
        .all(status, page.after.map(Into::into), limit)
        .await?;
    Ok(Json(page_of(views, limit)))
}

#[derive(Serialize, ToSchema)]
pub struct ShippingRuleResponse {
    /// Charged once per order of this seller's products, in won.
    base_fee: i64,
    /// Shipping is free once the seller's lines of an order reach this amount (null: never).
    free_from: Option<i64>,
    currency: String,
}

impl From<ShippingRule> for ShippingRuleResponse {
    fn from(r: ShippingRule) -> Self {
        Self {
            base_fee: r.base_fee.minor(),
            free_from: r.free_from.map(Money::minor),
            currency: r.base_fee.currency().as_str().to_owned(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingRuleRequest {
    #[schema(value_type = i64, minimum = 0, maximum = 1_000_000, required = true)]
    base_fee: Option<i64>,
    /// Null or absent: shipping is never free.
    #[schema(minimum = 0, maximum = 10_000_000_000_i64)]
    free_from: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/sellers/me/shipping", tag = "orders", security(("bearer" = [])),
    responses(
        (status = 200, description = "The seller's shipping rule (3,000 won, free from 50,000, until they set one)", body = ShippingRuleResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a seller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_shipping(
    State(state): State<AppState>,
    SellerUser(me): SellerUser,
) -> Result<Json<ShippingRuleResponse>, ApiError> {
    Ok(Json(
        state.services.orders().shipping_rule(me).await?.into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/sellers/me/shipping", tag = "orders", security(("bearer" = [])), request_body = ShippingRuleRequest,
    responses(
        (status = 200, description = "The new rule; it applies to orders placed from now on", body = ShippingRuleResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a seller", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_shipping(
    State(state): State<AppState>,
    SellerUser(me): SellerUser,
    Json(body): Json<ShippingRuleRequest>,
) -> Result<Json<ShippingRuleResponse>, ApiError> {
    let rule = state
        .services
        .orders()
        .set_shipping_rule(me, body.base_fee, body.free_from)
        .await?;
    Ok(Json(rule.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    /// IN_TRANSIT (from READY) or DELIVERED (from IN_TRANSIT).
    #[schema(value_type = String, required = true, pattern = "^(IN_TRANSIT|DELIVERED)$")]
    status: Option<String>,
    /// The carrier's tracking number.
    #[schema(schema_with = crate::schema::tracking_number_nullable)]
    tracking_number: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/sellers/me/orders/{id}/shipment", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ShipmentRequest,
    responses(
        (status = 200, description = "The seller's part of the order with the shipment moved; the order is COMPLETE once every shipment is DELIVERED", body = OrderResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a seller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order with a shipment of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order is not paid, or cancelled (`order_not_shippable`), or the shipment cannot move so (`illegal_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_shipment(
    State(state): State<AppState>,
    SellerUser(me): SellerUser,
    IdPath(id): IdPath<OrderId>,
    Json(body): Json<ShipmentRequest>,
) -> Result<Json<OrderResponse>, ApiError> {
    let view = state
        .services
        .orders()
        .move_shipment(
            me,
            id,
            body.status.as_deref(),
            body.tracking_number.as_deref(),
        )
        .await?;
    Ok(Json((&view).into()))
}
