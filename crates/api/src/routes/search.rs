//! Product search, autocomplete and popular search terms.

use axum::extract::State;
use axum::http::StatusCode;
use jangteo_search::{Filters, SearchRequest, Sort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::json::Json;
use crate::params::Query;
use crate::routes::products::ProductSummaryResponse;
use crate::{ApiError, AppState, Problem};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find (Korean is analysed morphologically; 초성 such as ㅎㅈㅍ work; Latin
    /// words tolerate typos). Empty browses.
    q: Option<String>,
    /// A category id; sub-categories are included.
    category: Option<Uuid>,
    min_price: Option<u64>,
    max_price: Option<u64>,
    /// Only products with stock.
    in_stock: Option<bool>,
    /// relevance (default), newest, price_asc, price_desc, popularity.
    sort: Option<String>,
    /// Zero-based page (results are capped at 10,000 deep).
    page: Option<usize>,
    /// 1 to 100 (default 20).
    size: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResponse {
    total: usize,
    /// True when nothing matched every word and these are the closest matches.
    relaxed: bool,
    page: usize,
    size: usize,
    items: Vec<ProductSummaryResponse>,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses(
        (status = 200, body = SearchResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Search is not available in this process", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(state): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Result<Json<SearchResponse>, ApiError> {
    let bad = |msg: &str| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", msg);
    let sort = match p.sort.as_deref() {
        None | Some("relevance") => Sort::Relevance,
        Some("newest") => Sort::Newest,
        Some("price_asc") => Sort::PriceAsc,
        Some("price_desc") => Sort::PriceDesc,
        Some("popularity") => Sort::Popularity,
        Some(_) => {
            return Err(bad(
                "sort must be relevance, newest, price_asc, price_desc or popularity",
            ));
        }
    };
    let query = p.q.unwrap_or_default();
    if query.chars().count() > 100 {
        return Err(bad("q must be at most 100 characters"));
    }
    let size = p.size.unwrap_or(20);
    if !(1..=100).contains(&size) {
        return Err(bad("size must be between 1 and 100"));
    }
    let page = p.page.unwrap_or(0);
    let request = SearchRequest {
        query,
        filters: Filters {
            category_id: p.category.map(|c| c.to_string()),
            price_min: p.min_price,
            price_max: p.max_price,
            in_stock_only: p.in_stock.unwrap_or(false),
        },
        sort,
        page,
        size,
    };
    let results = state.services.search_products(request).await?;
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
    q: Option<String>,
    /// 1 to 20 (default 8).
    limit: Option<usize>,
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
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "limit must be 1-20 and q at most 100 characters",
        ));
    }
    let items = state.services.autocomplete(&typed, limit).await?;
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
    limit: Option<usize>,
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
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "limit must be between 1 and 50",
        ));
    }
    let items = state
        .services
        .popular_terms(limit)
        .into_iter()
        .map(|(term, count)| Term { term, count })
        .collect();
    Ok(Json(TermList { items }))
}
