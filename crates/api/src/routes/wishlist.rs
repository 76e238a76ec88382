//! The signed-in shopper's wishlist ("likes"). Like other per-user collections it has no id
//! of its own: `/wishlist` is always the caller's.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use jangteo_core::ids::{ProductId, VariantId};
use jangteo_services::wishlist::{Liked, MoveItem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::json::Json;
use crate::params::{IdPath, at_most};
use crate::routes::cart::CartResponse;
use crate::routes::products::ProductSummaryResponse;
use crate::{ApiError, AppState, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_likes))
        .routes(routes!(like, unlike))
        .routes(routes!(remove_likes))
        .routes(routes!(move_to_cart))
}

#[derive(Serialize, ToSchema)]
pub struct LikedProduct {
    product: ProductSummaryResponse,
    liked_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct WishlistResponse {
    /// Newest like first; at most 200.
    items: Vec<LikedProduct>,
}

impl From<Vec<Liked>> for WishlistResponse {
    fn from(items: Vec<Liked>) -> Self {
        Self {
            items: items
                .into_iter()
                .map(|l| LikedProduct {
                    product: l.product.into(),
                    liked_at: l.liked_at,
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductIds {
    #[schema(value_type = Vec<Uuid>, max_items = 200)]
    product_ids: Vec<ProductId>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    #[schema(max_items = 100)]
    items: Vec<MoveRequestItem>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequestItem {
    #[schema(value_type = Uuid)]
    product_id: ProductId,
    /// Required when the product has more than one variant.
    #[schema(value_type = Option<Uuid>)]
    variant_id: Option<VariantId>,
    /// Units to put in the cart (default 1).
    #[schema(minimum = 1, maximum = 999)]
    quantity: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/wishlist", tag = "cart", security(("bearer" = [])),
    responses((status = 200, body = WishlistResponse), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_likes(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
) -> Result<Json<WishlistResponse>, ApiError> {
    Ok(Json(
        state.services.wishlist().list(me.user_id).await?.into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/wishlist/{product_id}", tag = "cart", security(("bearer" = [])),
    params(("product_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Liked (liking again changes nothing)"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product on sale", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The wishlist holds 200 products already (`wishlist_full`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn like(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(product): IdPath<ProductId>,
) -> Result<StatusCode, ApiError> {
    state.services.wishlist().like(me.user_id, product).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/wishlist/{product_id}", tag = "cart", security(("bearer" = [])),
    params(("product_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Not liked (any more)"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a product id", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unlike(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(product): IdPath<ProductId>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .wishlist()
        .unlike(me.user_id, &[product])
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/wishlist/remove", tag = "cart", security(("bearer" = [])), request_body = ProductIds,
    responses(
        (status = 200, description = "The wishlist without them", body = WishlistResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove_likes(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    Json(body): Json<ProductIds>,
) -> Result<Json<WishlistResponse>, ApiError> {
    at_most("product_ids", body.product_ids.len(), 200)?;
    let wishlist = state.services.wishlist();
    wishlist.unlike(me.user_id, &body.product_ids).await?;
    Ok(Json(wishlist.list(me.user_id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/wishlist/to-cart", tag = "cart", security(("bearer" = [])), request_body = MoveRequest,
    responses(
        (status = 200, description = "The cart with the products added; they leave the wishlist", body = CartResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A product is not in the wishlist, or a variant not of its product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The cart is full or a line would exceed 999 units", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A product with several variants needs `variant_id`, or a quantity is out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn move_to_cart(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    Json(body): Json<MoveRequest>,
) -> Result<Json<CartResponse>, ApiError> {
    at_most("items", body.items.len(), 100)?;
    let items: Vec<MoveItem> = body
        .items
        .iter()
        .map(|i| MoveItem {
            product_id: i.product_id,
            variant_id: i.variant_id,
            quantity: i.quantity,
        })
        .collect();
    Ok(Json(
        state
            .services
            .wishlist()
            .move_to_cart(me.user_id, &items)
            .await?
            .into(),
    ))
}
