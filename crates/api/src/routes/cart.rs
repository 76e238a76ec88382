//! The signed-in shopper's cart. There is no cart id: `/cart` is always the caller's own, so
//! no request can name another user's cart.

use axum::extract::State;
use chrono::{DateTime, Utc};
use jangteo_core::ids::{ProductId, VariantId};
use jangteo_services::cart::{CartLineView, CartView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::json::Json;
use crate::params::{IdPath, at_most};
use crate::schema::Patch;
use crate::{ApiError, AppState, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_cart))
        .routes(routes!(add_item))
        .routes(routes!(patch_item, delete_item))
        .routes(routes!(put_selection))
        .routes(routes!(delete_selected))
}

#[derive(Serialize, ToSchema)]
pub struct CartLineResponse {
    #[schema(value_type = Uuid)]
    variant_id: VariantId,
    /// Null when the variant no longer exists.
    #[schema(value_type = Option<Uuid>)]
    product_id: Option<ProductId>,
    product_name: Option<String>,
    variant_name: Option<String>,
    sku: Option<String>,
    /// The price of one unit now, minor units (null when the variant is gone).
    unit_price: Option<i64>,
    currency: Option<String>,
    quantity: i64,
    /// `unit_price × quantity`.
    line_total: Option<i64>,
    selected: bool,
    /// Units in stock now.
    stock: i64,
    /// Whether the line can be bought as it is: AVAILABLE, INSUFFICIENT_STOCK (fewer units
    /// in stock than in the line), SOLD_OUT, or UNAVAILABLE (no longer offered).
    #[schema(example = "AVAILABLE")]
    status: &'static str,
    added_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct CartResponse {
    items: Vec<CartLineResponse>,
    /// Selected lines that are AVAILABLE: what checkout would take.
    selected_count: usize,
    selected_quantity: i64,
    /// Sum of the selected AVAILABLE lines, minor units, before shipping and discounts.
    selected_total: i64,
    currency: String,
    /// The cart is dropped 7 days after its last change (null when it is empty).
    expires_at: Option<DateTime<Utc>>,
}

impl From<CartLineView> for CartLineResponse {
    fn from(l: CartLineView) -> Self {
        Self {
            variant_id: l.variant_id,
            product_id: l.product_id,
            product_name: l.product_name,
            variant_name: l.variant_name,
            sku: l.sku,
            unit_price: l.unit_price.map(|p| p.minor()),
            currency: l.unit_price.map(|p| p.currency().as_str().to_owned()),
            quantity: l.quantity,
            line_total: l.line_total.map(|p| p.minor()),
            selected: l.selected,
            stock: l.stock,
            status: l.status.as_str(),
            added_at: l.added_at,
        }
    }
}

impl From<CartView> for CartResponse {
    fn from(c: CartView) -> Self {
        Self {
            selected_count: c.selected_lines,
            selected_quantity: c.selected_quantity,
            selected_total: c.selected_total.minor(),
            currency: c.selected_total.currency().as_str().to_owned(),
            expires_at: c.expires_at,
            items: c.lines.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddItem {
    #[schema(value_type = Uuid, required = true)]
    variant_id: Option<VariantId>,
    /// Units to add (to the line's quantity if the variant is in the cart already).
    #[schema(value_type = i64, minimum = 1, maximum = 999, required = true)]
    quantity: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineChange {
    /// The line's new quantity.
    #[schema(minimum = 1, maximum = 999)]
    quantity: Option<i64>,
    selected: Option<bool>,
}

/// Changes of a line: its quantity, its selection, or both.
pub type LineChanges = Patch<LineChange>;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// The variants whose lines are selected; every other line is deselected.
    #[schema(value_type = Vec<Uuid>, max_items = 100)]
    variant_ids: Vec<VariantId>,
}

#[utoipa::path(get, path = "/api/v1/cart", tag = "cart", security(("bearer" = [])),
    responses((status = 200, body = CartResponse), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn get_cart(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
) -> Result<Json<CartResponse>, ApiError> {
    Ok(Json(state.services.cart().view(me.user_id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/cart/items", tag = "cart", security(("bearer" = [])), request_body = AddItem,
    responses(
        (status = 200, description = "The cart with the units added (the line selected, also when it was there deselected)", body = CartResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such variant on sale", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart holds 100 products already (`cart_full`), or the line would exceed 999 units (`quantity_limit`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_item(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    Json(body): Json<AddItem>,
) -> Result<Json<CartResponse>, ApiError> {
    let cart = state
        .services
        .cart()
        .add(me.user_id, body.variant_id, body.quantity)
        .await?;
    Ok(Json(cart.into()))
}

#[utoipa::path(patch, path = "/api/v1/cart/items/{variant_id}", tag = "cart", security(("bearer" = [])),
    params(("variant_id" = Uuid, Path)), request_body = LineChanges,
    responses(
        (status = 200, body = CartResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The cart has no line of this variant", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch_item(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(variant): IdPath<VariantId>,
    Json(Patch(body)): Json<LineChanges>,
) -> Result<Json<CartResponse>, ApiError> {
    let cart = state
        .services
        .cart()
        .update_line(me.user_id, variant, body.quantity, body.selected)
        .await?;
    Ok(Json(cart.into()))
}

#[utoipa::path(delete, path = "/api/v1/cart/items/{variant_id}", tag = "cart", security(("bearer" = [])),
    params(("variant_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The cart without the line", body = CartResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The cart has no line of this variant", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_item(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(variant): IdPath<VariantId>,
) -> Result<Json<CartResponse>, ApiError> {
    Ok(Json(
        state
            .services
            .cart()
            .remove(me.user_id, variant)
            .await?
            .into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/cart/selection", tag = "cart", security(("bearer" = [])), request_body = Selection,
    responses(
        (status = 200, body = CartResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A variant of `variant_ids` is not in the cart (nothing changed)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_selection(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    Json(body): Json<Selection>,
) -> Result<Json<CartResponse>, ApiError> {
    at_most("variant_ids", body.variant_ids.len(), 100)?;
    Ok(Json(
        state
            .services
            .cart()
            .select(me.user_id, &body.variant_ids)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/cart/selected", tag = "cart", security(("bearer" = [])),
    responses(
        (status = 200, description = "The cart without its selected lines", body = CartResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_selected(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
) -> Result<Json<CartResponse>, ApiError> {
    Ok(Json(
        state
            .services
            .cart()
            .remove_selected(me.user_id)
            .await?
            .into(),
    ))
}
