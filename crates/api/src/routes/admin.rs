//! Admin-only views.

use axum::extract::State;
use jangteo_core::Role;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::AdminUser;
use crate::json::Json;
use crate::pagination::{Page, PageQuery};
use crate::params::Query;
use crate::routes::me::ProfileResponse;
use crate::{ApiError, AppState, Problem};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    #[param(schema_with = crate::openapi::role_values)]
    role: Option<String>,
    /// `next_cursor` of the previous page.
    after: Option<Uuid>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])), params(UserFilter),
    responses(
        (status = 200, body = Page<ProfileResponse>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Query(q): Query<UserFilter>,
) -> Result<Json<Page<ProfileResponse>>, ApiError> {
    let role = match q.role.as_deref() {
        None => None,
        Some(r) => Some(
            Role::parse(r)
                .ok_or_else(|| ApiError::invalid_query("role must be USER, SELLER or ADMIN"))?,
        ),
    };
    let page = PageQuery {
        after: q.after,
        limit: q.limit,
    };
    let limit = page.limit()?;
    let users = state
        .services
        .accounts()
        .list_users(role, page.after, limit)
        .await?;
    let items: Vec<ProfileResponse> = users.into_iter().map(Into::into).collect();
    Ok(Json(Page::new(items, limit, |u| u.id())))
}
