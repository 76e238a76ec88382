//! Products and their variants: sellers manage their own, admins all; everyone reads what
//! is on sale.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use jangteo_core::catalog::{MAX_PRICE, ProductStatus};
use jangteo_core::ids::{CategoryId, ProductId, UserId, VariantId};
use jangteo_services::catalog::{
    ListQuery, ProductDetail, ProductInput, ProductSummary, VariantInput, VariantView,
};
use jangteo_store::catalog::ProductSort;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{AuthUser, MaybeUser, SellerUser};
use crate::json::{Json, JsonDigest};
use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::params::{IdPair, IdPath, IdempotencyKeyHeader, Query, at_most, replay_headers};
use crate::rate_limit::ClientIp;
use crate::routes::categories::CategoryResponse;
use crate::routes::images::ImageResponse;
use crate::{ApiError, AppState, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's operations, with their OpenAPI descriptions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(popular))
        .routes(routes!(get, update, delete))
        .routes(routes!(add_variant))
        .routes(routes!(update_variant))
        .routes(routes!(adjust_stock))
        .routes(routes!(ledger))
        .routes(routes!(mine))
}

// ---- responses

#[derive(Serialize, ToSchema)]
pub struct VariantResponse {
    id: Uuid,
    sku: String,
    name: String,
    #[schema(value_type = Object)]
    options: serde_json::Value,
    price_delta: i64,
    /// Product price + price_delta, in minor units.
    price: i64,
    stock: i64,
    in_stock: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Rating {
    average: f64,
    count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ProductResponse {
    id: Uuid,
    seller_id: Uuid,
    name: String,
    description: String,
    brand: Option<String>,
    publisher: Option<String>,
    /// Minor units of `currency` (KRW has none: 15000 means ₩15,000).
    price: i64,
    currency: String,
    #[schema(value_type = String, example = "ON_SALE")]
    status: ProductStatus,
    /// IN_STOCK or OUT_OF_STOCK.
    stock_status: &'static str,
    total_stock: i64,
    categories: Vec<CategoryResponse>,
    variants: Vec<VariantResponse>,
    /// Cover first.
    images: Vec<ImageResponse>,
    rating: Rating,
    view_count: i64,
    sales_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&VariantView> for VariantResponse {
    fn from(v: &VariantView) -> Self {
        Self {
            id: v.id.into(),
            sku: v.sku.clone(),
            name: v.name.clone(),
            options: v.options.clone(),
            price_delta: v.price_delta,
            price: v.price.minor(),
            stock: v.stock,
            in_stock: v.stock > 0,
        }
    }
}

impl From<&ProductDetail> for ProductResponse {
    fn from(p: &ProductDetail) -> Self {
        let total = p.total_stock();
        Self {
            id: p.id.into(),
            seller_id: p.seller_id.into(),
            name: p.name.clone(),
            description: p.description.clone(),
            brand: p.brand.clone(),
            publisher: p.publisher.clone(),
            price: p.price.minor(),
            currency: p.price.currency().as_str().to_owned(),
            status: p.status,
            stock_status: if total > 0 {
                "IN_STOCK"
            } else {
                "OUT_OF_STOCK"
            },
            total_stock: total,
            categories: p
                .categories
                .iter()
                .map(|c| CategoryResponse {
                    id: c.id.into(),
                    name: c.name.clone(),
                    slug: c.slug.clone(),
                })
                .collect(),
            variants: p.variants.iter().map(Into::into).collect(),
            images: p.images.iter().map(Into::into).collect(),
            rating: Rating {
                average: p.rating_average,
                count: p.rating_count,
            },
            view_count: p.view_count,
            sales_count: p.sales_count,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProductSummaryResponse {
    id: Uuid,
    seller_id: Uuid,
    name: String,
    brand: Option<String>,
    price: i64,
    currency: String,
    #[schema(value_type = String, example = "ON_SALE")]
    status: ProductStatus,
    in_stock: bool,
    /// The first image, if any.
    cover: Option<ImageResponse>,
    rating: Rating,
    sales_count: i64,
    created_at: DateTime<Utc>,
}

impl From<ProductSummary> for ProductSummaryResponse {
    fn from(p: ProductSummary) -> Self {
        Self {
            id: p.id.into(),
            seller_id: p.seller_id.into(),
            name: p.name,
            brand: p.brand,
            price: p.price.minor(),
            currency: p.price.currency().as_str().to_owned(),
            status: p.status,
            in_stock: p.in_stock,
            cover: p.cover.as_ref().map(Into::into),
            rating: Rating {
                average: p.rating_average,
                count: p.rating_count,
            },
            sales_count: p.sales_count,
            created_at: p.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProductPage {
    items: Vec<ProductSummaryResponse>,
    /// Pass as `after` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

// ---- requests

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantRequest {
    #[schema(schema_with = crate::schema::sku, required = true)]
    sku: Option<String>,
    #[schema(schema_with = crate::schema::variant_name, required = true)]
    name: Option<String>,
    #[schema(schema_with = crate::schema::options_nullable)]
    options: Option<serde_json::Map<String, serde_json::Value>>,
    #[schema(schema_with = crate::schema::price_delta_nullable)]
    price_delta: Option<i64>,
    #[schema(schema_with = crate::schema::initial_stock_nullable)]
    stock: Option<i64>,
}

impl VariantRequest {
    fn input(&self) -> VariantInput<'_> {
        VariantInput {
            sku: self.sku.as_deref(),
            name: self.name.as_deref(),
            options: self.options.as_ref(),
            price_delta: self.price_delta,
            stock: self.stock,
        }
    }
}

/// A new product.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductRequest {
    #[schema(schema_with = crate::schema::product_name, required = true)]
    name: Option<String>,
    #[schema(schema_with = crate::schema::description_nullable)]
    description: Option<String>,
    /// Brand or author.
    #[schema(schema_with = crate::schema::label_nullable)]
    brand: Option<String>,
    #[schema(schema_with = crate::schema::label_nullable)]
    publisher: Option<String>,
    #[schema(schema_with = crate::schema::price, required = true)]
    price: Option<i64>,
    /// Fixed after creation.
    #[schema(schema_with = crate::schema::currency_nullable)]
    currency: Option<String>,
    #[schema(schema_with = crate::schema::status_nullable)]
    status: Option<String>,
    #[schema(schema_with = crate::schema::category_ids_nullable)]
    category_ids: Option<Vec<CategoryId>>,
    /// Later changes go through `/variants`.
    #[schema(schema_with = crate::schema::variants, required = true)]
    variants: Option<Vec<VariantRequest>>,
}

impl ProductRequest {
    fn input(&self) -> ProductInput<'_> {
        ProductInput {
            name: self.name.as_deref(),
            description: self.description.as_deref(),
            brand: self.brand.as_deref(),
            publisher: self.publisher.as_deref(),
            price: self.price,
            currency: self.currency.as_deref(),
            status: self.status.as_deref(),
            category_ids: self.category_ids.as_deref(),
            variants: self
                .variants
                .as_ref()
                .map(|vs| vs.iter().map(VariantRequest::input).collect()),
        }
    }
}

/// Changes of a product: any of these fields (`null` or absent leaves a field as it is;
/// an empty brand or publisher removes it). Variants change through `/variants`; the
/// currency never changes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductChanges {
    #[schema(schema_with = crate::schema::product_name_nullable)]
    name: Option<String>,
    #[schema(schema_with = crate::schema::description_nullable)]
    description: Option<String>,
    #[schema(schema_with = crate::schema::label_nullable)]
    brand: Option<String>,
    #[schema(schema_with = crate::schema::label_nullable)]
    publisher: Option<String>,
    /// Every variant's price must stay within range (409 otherwise).
    #[schema(schema_with = crate::schema::price_nullable)]
    price: Option<i64>,
    #[schema(schema_with = crate::schema::status_nullable)]
    status: Option<String>,
    #[schema(schema_with = crate::schema::category_ids_nullable)]
    category_ids: Option<Vec<CategoryId>>,
}

impl ProductChanges {
    fn input(&self) -> ProductInput<'_> {
        ProductInput {
            name: self.name.as_deref(),
            description: self.description.as_deref(),
            brand: self.brand.as_deref(),
            publisher: self.publisher.as_deref(),
            price: self.price,
            currency: None,
            status: self.status.as_deref(),
            category_ids: self.category_ids.as_deref(),
            variants: None,
        }
    }
}

/// Lists bounded before anything is parsed: a body with 10,000 variants is refused cheaply.
fn check_list_sizes(variants: Option<&[VariantRequest]>) -> Result<(), ApiError> {
    at_most(
        "variants",
        variants.map_or(0, <[_]>::len),
        jangteo_core::catalog::MAX_VARIANTS,
    )
}

#[utoipa::path(post, path = "/api/v1/products", tag = "catalog", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255,
        description = "Makes a retry safe: the same key with the same body within 24 hours answers with the product the first request created (and `Idempotent-Replayed: true`) instead of creating another")),
    request_body = ProductRequest,
    responses(
        (status = 201, body = ProductResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when an earlier request with this Idempotency-Key created the product"))),
        (status = 403, description = "Not a seller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A category of `category_ids` does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A SKU is taken or repeated (`sku_taken`), or a request with this Idempotency-Key is still in progress (`idempotency_key_in_use`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or the Idempotency-Key was used with another body (`idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    SellerUser(seller): SellerUser,
    key: IdempotencyKeyHeader,
    JsonDigest(body, digest): JsonDigest<ProductRequest>,
) -> Result<(StatusCode, HeaderMap, Json<ProductResponse>), ApiError> {
    check_list_sizes(body.variants.as_deref())?;
    let request = key.with_hash(digest);
    let created = state
        .services
        .catalog()
        .create_product(seller, body.input(), request.as_ref())
        .await?;
    Ok((
        StatusCode::CREATED,
        replay_headers(created.replayed),
        Json((&created.value).into()),
    ))
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog", security((), ("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = ProductResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ClientIp(ip): ClientIp,
    IdPath(id): IdPath<ProductId>,
) -> Result<Json<ProductResponse>, ApiError> {
    let p = state.services.catalog().product(viewer, id).await?;
    let visitor = viewer.map_or_else(|| ip.to_string(), |v| v.user_id.to_string());
    state
        .services
        .views()
        .record(id, &visitor, state.services.clock().now());
    Ok(Json(p.as_ref().into()))
}

#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ProductChanges,
    responses(
        (status = 200, body = ProductResponse),
        (status = 403, description = "Another seller's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such product (or not yours), or a category of `category_ids` does not exist", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Back to DRAFT once offered (`illegal_status_transition`), or a variant's price would leave the range (`variant_price_out_of_range`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    IdPath(id): IdPath<ProductId>,
    Json(body): Json<ProductChanges>,
) -> Result<Json<ProductResponse>, ApiError> {
    let p = state
        .services
        .catalog()
        .update_product(who, id, body.input())
        .await?;
    Ok(Json((&p).into()))
}

#[utoipa::path(delete, path = "/api/v1/products/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204, description = "Soft-deleted"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    IdPath(id): IdPath<ProductId>,
) -> Result<StatusCode, ApiError> {
    state.services.catalog().delete_product(who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/products/{id}/variants", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = VariantRequest,
    responses((status = 201, description = "The new variant", body = VariantResponse), (status = 403, description = "Another seller's product", body = Problem, content_type = "application/problem+json"), (status = 409, description = "SKU taken (`sku_taken`), the variant's price out of range (`variant_price_out_of_range`), or too many variants (`too_many_variants`)", body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_variant(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    IdPath(id): IdPath<ProductId>,
    Json(body): Json<VariantRequest>,
) -> Result<(StatusCode, Json<VariantResponse>), ApiError> {
    let v = state
        .services
        .catalog()
        .add_variant(who, id, body.input())
        .await?;
    Ok((StatusCode::CREATED, Json((&v).into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    #[schema(schema_with = crate::schema::variant_name_nullable)]
    name: Option<String>,
    #[schema(schema_with = crate::schema::options_nullable)]
    options: Option<serde_json::Map<String, serde_json::Value>>,
    #[schema(schema_with = crate::schema::price_delta_nullable)]
    price_delta: Option<i64>,
}

#[utoipa::path(patch, path = "/api/v1/products/{id}/variants/{variant_id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("variant_id" = Uuid, Path)), request_body = VariantPatch,
    responses((status = 200, body = ProductResponse), (status = 403, description = "Another seller's product", body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, description = "The variant's price would leave the range (`variant_price_out_of_range`)", body = Problem, content_type = "application/problem+json")))]
pub async fn update_variant(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    IdPair(id, variant_id): IdPair<ProductId, VariantId>,
    Json(body): Json<VariantPatch>,
) -> Result<Json<ProductResponse>, ApiError> {
    let p = state
        .services
        .catalog()
        .update_variant(
            who,
            id,
            variant_id,
            body.name.as_deref(),
            body.options.as_ref(),
            body.price_delta,
        )
        .await?;
    Ok(Json((&p).into()))
}

// ---- listings

/// Orders of a product listing.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListSort {
    Newest,
    PriceAsc,
    PriceDesc,
    Popularity,
    Rating,
}

impl From<ListSort> for ProductSort {
    fn from(s: ListSort) -> Self {
        match s {
            ListSort::Newest => ProductSort::Newest,
            ListSort::PriceAsc => ProductSort::PriceAsc,
            ListSort::PriceDesc => ProductSort::PriceDesc,
            ListSort::Popularity => ProductSort::Popularity,
            ListSort::Rating => ProductSort::Rating,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A category id; sub-categories are included. An unknown category is 404.
    #[param(value_type = Option<Uuid>)]
    category: Option<CategoryId>,
    #[param(value_type = Option<Uuid>)]
    seller: Option<UserId>,
    /// Lowest price, minor units (a range with min above max matches nothing).
    #[param(minimum = 0, maximum = 10_000_000_000_i64)]
    min_price: Option<i64>,
    #[param(minimum = 0, maximum = 10_000_000_000_i64)]
    max_price: Option<i64>,
    /// Comma-separated statuses. Public listings show ON_SALE and SOLD_OUT (the default);
    /// DRAFT and HIDDEN are for the owning seller and admins (403 for anyone else).
    #[param(pattern = "^(DRAFT|ON_SALE|SOLD_OUT|HIDDEN)(,(DRAFT|ON_SALE|SOLD_OUT|HIDDEN)){0,3}$")]
    status: Option<String>,
    /// Default newest.
    #[param(inline)]
    sort: Option<ListSort>,
    /// `next_cursor` of the previous page (same sort): the sort key and the id of the
    /// page's last product.
    #[param(pattern = "^-?[0-9]{1,18}~[0-9a-f]{32}$")]
    after: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

fn parse_list(p: ListParams, seller_override: Option<UserId>) -> Result<ListQuery, ApiError> {
    let statuses = match p.status.as_deref() {
        None => Vec::new(),
        Some(s) => s
            .split(',')
            .map(|v| {
                ProductStatus::parse(v).ok_or_else(|| {
                    ApiError::invalid_query("status must be DRAFT, ON_SALE, SOLD_OUT or HIDDEN")
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_query("limit must be between 1 and 100"));
    }
    for (name, price) in [("min_price", p.min_price), ("max_price", p.max_price)] {
        if price.is_some_and(|v| !(0..=MAX_PRICE).contains(&v)) {
            return Err(ApiError::invalid_query(format!(
                "{name} must be between 0 and {MAX_PRICE}"
            )));
        }
    }
    if p.after.as_ref().is_some_and(|a| a.len() > 100) {
        return Err(ApiError::invalid_query("after is not a cursor"));
    }
    Ok(ListQuery {
        category_id: p.category,
        seller_id: seller_override.or(p.seller),
        min_price: p.min_price,
        max_price: p.max_price,
        statuses,
        sort: Some(p.sort.map_or(ProductSort::Newest, Into::into)),
        after: p.after,
        limit,
    })
}

#[utoipa::path(get, path = "/api/v1/products", tag = "catalog", security((), ("bearer" = [])), params(ListParams),
    responses((status = 200, body = ProductPage), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 403, description = "DRAFT or HIDDEN asked for by someone who may not see them (`status_not_public`)", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Query(params): Query<ListParams>,
) -> Result<Json<ProductPage>, ApiError> {
    let q = parse_list(params, None)?;
    let (items, next_cursor) = state
        .services
        .catalog()
        .list(viewer, q)
        .await
        .map_err(ApiError::from_query)?;
    Ok(Json(ProductPage {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/sellers/me/products", tag = "catalog", security(("bearer" = [])), params(ListParams),
    responses((status = 200, description = "The seller's own products in every status", body = ProductPage), (status = 403, description = "Not a seller", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json")))]
pub async fn mine(
    State(state): State<AppState>,
    SellerUser(seller): SellerUser,
    Query(params): Query<ListParams>,
) -> Result<Json<ProductPage>, ApiError> {
    let q = parse_list(params, Some(seller.user_id))?;
    let (items, next_cursor) = state
        .services
        .catalog()
        .list(Some(seller), q)
        .await
        .map_err(ApiError::from_query)?;
    Ok(Json(ProductPage {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PopularParams {
    /// Window in days, 1 to 365 (default 7).
    #[param(minimum = 1, maximum = 365)]
    days: Option<u32>,
    /// Bestsellers of a category (with sub-categories). An unknown category is 404.
    #[param(value_type = Option<Uuid>)]
    category: Option<CategoryId>,
    /// 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct PopularItem {
    product: ProductSummaryResponse,
    units_sold: i64,
}

#[derive(Serialize, ToSchema)]
pub struct PopularList {
    items: Vec<PopularItem>,
}

#[utoipa::path(get, path = "/api/v1/products/popular", tag = "catalog", params(PopularParams),
    responses((status = 200, description = "Products on sale by units sold in the window", body = PopularList), (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json")))]
pub async fn popular(
    State(state): State<AppState>,
    Query(p): Query<PopularParams>,
) -> Result<Json<PopularList>, ApiError> {
    let days = p.days.unwrap_or(7);
    let limit = p.limit.unwrap_or(10);
    if !(1..=365).contains(&days) || !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_query(
            "days must be 1-365 and limit 1-100",
        ));
    }
    let items = state
        .services
        .catalog()
        .popular(days, p.category, limit)
        .await?;
    Ok(Json(PopularList {
        items: items
            .into_iter()
            .map(|(s, units)| PopularItem {
                product: s.into(),
                units_sold: units,
            })
            .collect(),
    }))
}

// ---- stock

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAdjustment {
    #[schema(schema_with = crate::schema::stock_delta, required = true)]
    delta: Option<i64>,
    #[schema(schema_with = crate::schema::stock_reason, required = true)]
    reason: Option<String>,
    #[schema(schema_with = crate::schema::reference_nullable)]
    reference: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StockResponse {
    variant_id: Uuid,
    stock: i64,
}

#[utoipa::path(post, path = "/api/v1/products/{id}/variants/{variant_id}/stock-adjustments", tag = "inventory",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("variant_id" = Uuid, Path)), request_body = StockAdjustment,
    responses(
        (status = 200, body = StockResponse),
        (status = 403, description = "Another seller's product", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not enough stock (`insufficient_stock`), or more than the maximum (`stock_limit`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn adjust_stock(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    IdPair(id, variant_id): IdPair<ProductId, VariantId>,
    Json(body): Json<StockAdjustment>,
) -> Result<Json<StockResponse>, ApiError> {
    let stock = state
        .services
        .inventory()
        .adjust(
            who,
            id,
            variant_id,
            body.delta,
            body.reason.as_deref(),
            body.reference.as_deref(),
        )
        .await?;
    Ok(Json(StockResponse {
        variant_id: variant_id.into(),
        stock,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerParams {
    /// Cursor from the previous page (entries are newest first).
    before: Option<Uuid>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerEntry {
    id: Uuid,
    delta: i64,
    reason: String,
    reference: Option<String>,
    actor_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerPage {
    items: Vec<LedgerEntry>,
    next_cursor: Option<Uuid>,
}

#[utoipa::path(get, path = "/api/v1/products/{id}/variants/{variant_id}/ledger", tag = "inventory",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("variant_id" = Uuid, Path), LedgerParams),
    responses((status = 200, body = LedgerPage), (status = 403, description = "Another seller's product", body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn ledger(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    IdPair(id, variant_id): IdPair<ProductId, VariantId>,
    Query(p): Query<LedgerParams>,
) -> Result<Json<LedgerPage>, ApiError> {
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_query("limit must be between 1 and 100"));
    }
    let rows = state
        .services
        .inventory()
        .ledger(who, id, variant_id, p.before, limit)
        .await?;
    let next_cursor = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let items = rows
        .into_iter()
        .map(|r| LedgerEntry {
            id: r.id,
            delta: r.delta,
            reason: r.reason.as_str().to_owned(),
            reference: r.reference,
            actor_id: r.actor_id.map(Into::into),
            created_at: r.created_at,
        })
        .collect();
    Ok(Json(LedgerPage { items, next_cursor }))
}
