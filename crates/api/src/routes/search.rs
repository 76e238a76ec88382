//! Product search, autocomplete and popular search terms.

use axum::extract::State;
use jangteo_core::catalog::MAX_PRICE;
use jangteo_core::ids::CategoryId;
use jangteo_search::{Filters, SearchRequest, Sort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::MaybeUser;
use crate::json::Json;
use crate::params::Query;
use crate::rate_limit::ClientIp;
use crate::routes::products::ProductSummaryResponse;
use crate::{ApiError, AppState, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's operations, with their OpenAPI descriptions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(autocomplete))
        .routes(routes!(popular_terms))
}

/// Orders of search results.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    Relevance,
    Newest,
    PriceAsc,
    PriceDesc,
    Popularity,
}

impl From<SearchSort> for Sort {
    fn from(s: SearchSort) -> Self {
        match s {
            SearchSort::Relevance => Sort::Relevance,
            SearchSort::Newest => Sort::Newest,
            SearchSort::PriceAsc => Sort::PriceAsc,
            SearchSort::PriceDesc => Sort::PriceDesc,
            SearchSort::Popularity => Sort::Popularity,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find (Korean is analysed morphologically; 초성 such as ㅎㅈㅍ work; Latin
    /// words tolerate typos). Empty browses.
    #[param(max_length = 100)]
    q: Option<String>,
    /// A category id; sub-categories are included.
    #[param(value_type = Option<Uuid>)]
    category: Option<CategoryId>,
    /// Lowest price, minor units (a range with min above max matches nothing).
    #[param(minimum = 0, maximum = 10_000_000_000_i64)]
    min_price: Option<i64>,
    #[param(minimum = 0, maximum = 10_000_000_000_i64)]
    max_price: Option<i64>,
    /// Only products with stock.
    in_stock: Option<bool>,
    /// Default relevance (best-selling first when `q` is empty).
    #[param(inline)]
    sort: Option<SearchSort>,
    /// Zero-based page. Results reach 10,000 deep: a page past that is empty.
    #[param(minimum = 0, maximum = 9999)]
    page: Option<u32>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    size: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResponse {
    total: usize,
    /// True when nothing matched every word and these are the closest matches.
    relaxed: bool,
    page: u32,
    size: u32,
    items: Vec<ProductSummaryResponse>,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "search", security((), ("bearer" = [])), params(SearchParams),
    responses(
        (status = 200, body = SearchResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such category", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Search is not available in this process", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    ClientIp(ip): ClientIp,
    Query(p): Query<SearchParams>,
) -> Result<Json<SearchResponse>, ApiError> {
    let query = p.q.unwrap_or_default();
    if query.chars().count() > 100 {
        return Err(ApiError::invalid_query("q must be at most 100 characters"));
    }
    let size = p.size.unwrap_or(20);
    if !(1..=100).contains(&size) {
        return Err(ApiError::invalid_query("size must be between 1 and 100"));
    }
    let page = p.page.unwrap_or(0);
    if page > 9999 {
        return Err(ApiError::invalid_query("page must be between 0 and 9999"));
    }
    let price = |name: &str, v: Option<i64>| match v {
        None => Ok(None),
        Some(v) if (0..=MAX_PRICE).contains(&v) => Ok(v.try_into().ok()),
        Some(_) => Err(ApiError::invalid_query(format!(
            "{name} must be between 0 and {MAX_PRICE}"
        ))),
    };
    if let Some(category) = p.category {
        state.services.catalog().require_category(category).await?;
    }
    // Signed-in shoppers are counted by account, guests by address.
    let client = viewer.map_or_else(|| ip.to_string(), |v| v.user_id.to_string());
    let request = SearchRequest {
        query,
        filters: Filters {
            category_id: p.category.map(|c| c.to_string()),
            price_min: price("min_price", p.min_price)?,
            price_max: price("max_price", p.max_price)?,
            in_stock_only: p.in_stock.unwrap_or(false),
        },
        sort: p.sort.map_or(Sort::Relevance, Into::into),
        page: page as usize,
        size: size as usize,
    };
    let results = state
        .services
        .search_products(request, &client)
        .await
        .map_err(ApiError::from_query)?;
    Ok(Json(SearchResponse {
        total: results.total,
        relaxed: results.relaxed,
        page,
        size,
        items: results.items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AutocompleteParams {
    /// What the shopper has typed so far.
    #[param(max_length = 100)]
    q: Option<String>,
    /// 1 to 20 (default 8).
    #[param(minimum = 1, maximum = 20)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Suggestion {
    id: String,
    title: String,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionList {
    items: Vec<Suggestion>,
}

#[utoipa::path(get, path = "/api/v1/search/autocomplete", tag = "search", params(AutocompleteParams),
    responses((status = 200, body = SuggestionList)))]
pub async fn autocomplete(
    State(state): State<AppState>,
    Query(p): Query<AutocompleteParams>,
) -> Result<Json<SuggestionList>, ApiError> {
    let limit = p.limit.unwrap_or(8);
    let typed = p.q.unwrap_or_default();
    if !(1..=20).contains(&limit) || typed.chars().count() > 100 {
        return Err(ApiError::invalid_query(
            "limit must be 1-20 and q at most 100 characters",
        ));
    }
    let items = state.services.autocomplete(&typed, limit as usize).await?;
    Ok(Json(SuggestionList {
        items: items
            .into_iter()
            .map(|s| Suggestion {
                id: s.id,
                title: s.title,
            })
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TermsParams {
    /// 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Term {
    term: String,
    count: u64,
}

#[derive(Serialize, ToSchema)]
pub struct TermList {
    items: Vec<Term>,
}

#[utoipa::path(get, path = "/api/v1/search/popular-terms", tag = "search", params(TermsParams),
    responses((status = 200, description = "Most searched terms of the last hour", body = TermList)))]
pub async fn popular_terms(
    State(state): State<AppState>,
    Query(p): Query<TermsParams>,
) -> Result<Json<TermList>, ApiError> {
    let limit = p.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid_query("limit must be between 1 and 50"));
    }
    let items = state
        .services
        .popular_terms(limit as usize)
        .into_iter()
        .map(|(term, count)| Term { term, count })
        .collect();
    Ok(Json(TermList { items }))
}
