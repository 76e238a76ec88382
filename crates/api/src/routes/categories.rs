//! The category tree: public to read, admins change it.

use axum::extract::State;
use axum::http::StatusCode;
use jangteo_core::ids::CategoryId;
use jangteo_services::catalog::{CategoryNode, CategoryRef};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AdminUser;
use crate::json::Json;
use crate::params::IdPath;
use crate::{ApiError, AppState, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's operations, with their OpenAPI descriptions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tree, create))
        .routes(routes!(rename))
}

#[derive(Serialize, ToSchema)]
pub struct CategoryResponse {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

impl From<CategoryRef> for CategoryResponse {
    fn from(c: CategoryRef) -> Self {
        Self {
            id: c.id.into(),
            name: c.name,
            slug: c.slug,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CategoryNodeResponse {
    id: Uuid,
    name: String,
    slug: String,
    #[schema(no_recursion)]
    children: Vec<CategoryNodeResponse>,
}

impl From<CategoryNode> for CategoryNodeResponse {
    fn from(n: CategoryNode) -> Self {
        Self {
            id: n.id.into(),
            name: n.name,
            slug: n.slug,
            children: n.children.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CategoryTree {
    items: Vec<CategoryNodeResponse>,
}

#[utoipa::path(get, path = "/api/v1/categories", tag = "catalog",
    responses((status = 200, description = "The whole tree, roots first", body = CategoryTree)))]
pub async fn tree(State(state): State<AppState>) -> Result<Json<CategoryTree>, ApiError> {
    let items = state.services.catalog().category_tree().await?;
    Ok(Json(CategoryTree {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCategoryRequest {
    #[schema(schema_with = crate::schema::category_name, required = true)]
    name: Option<String>,
    #[schema(schema_with = crate::schema::slug_nullable)]
    slug: Option<String>,
    /// The parent category (404 for an unknown one); top level when absent.
    #[schema(value_type = Option<Uuid>)]
    parent_id: Option<CategoryId>,
    #[schema(schema_with = crate::schema::position_nullable)]
    position: Option<i32>,
}

#[utoipa::path(post, path = "/api/v1/categories", tag = "catalog", security(("bearer" = [])),
    request_body = CreateCategoryRequest,
    responses(
        (status = 201, body = CategoryResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such parent category", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken (`slug_taken`), or the parent is at the deepest level (`category_too_deep`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Json(body): Json<CreateCategoryRequest>,
) -> Result<(StatusCode, Json<CategoryResponse>), ApiError> {
    let c = state
        .services
        .catalog()
        .create_category(
            body.name.as_deref(),
            body.slug.as_deref(),
            body.parent_id,
            body.position,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameCategoryRequest {
    #[schema(schema_with = crate::schema::category_name, required = true)]
    name: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/categories/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RenameCategoryRequest,
    responses((status = 200, body = CategoryResponse), (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn rename(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    IdPath(id): IdPath<CategoryId>,
    Json(body): Json<RenameCategoryRequest>,
) -> Result<Json<CategoryResponse>, ApiError> {
    Ok(Json(
        state
            .services
            .catalog()
            .rename_category(id, body.name.as_deref())
            .await?
            .into(),
    ))
}
