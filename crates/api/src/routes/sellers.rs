//! Seller applications (customers apply, admins decide) and the seller's own shop profile.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use jangteo_core::ids::ApplicationId;
use jangteo_core::seller::ApplicationStatus;
use jangteo_services::sellers::{Application, Decision};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{AdminUser, AuthUser, SellerUser};
use crate::json::Json;
use crate::pagination::{Page, PageQuery};
use crate::params::{IdPath, Query};
use crate::{ApiError, AppState, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's operations, with their OpenAPI descriptions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apply, list_applications))
        .routes(routes!(get_application))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(my_shop))
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationResponse {
    id: Uuid,
    user_id: Uuid,
    shop_name: String,
    business_number: String,
    #[schema(value_type = String, example = "PENDING")]
    status: ApplicationStatus,
    reason: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<Application> for ApplicationResponse {
    fn from(a: Application) -> Self {
        Self {
            id: a.id.into(),
            user_id: a.user_id.into(),
            shop_name: a.shop_name,
            business_number: a.business_number,
            status: a.status,
            reason: a.reason,
            decided_at: a.decided_at,
            created_at: a.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    #[schema(schema_with = crate::schema::shop_name, required = true)]
    shop_name: Option<String>,
    #[schema(schema_with = crate::schema::business_number, required = true)]
    business_number: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/sellers/applications", tag = "sellers", security(("bearer" = [])),
    request_body = ApplyRequest,
    responses(
        (status = 201, body = ApplicationResponse),
        (status = 409, description = "Already a seller, or an application is pending", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn apply(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    Json(body): Json<ApplyRequest>,
) -> Result<(StatusCode, Json<ApplicationResponse>), ApiError> {
    let app = state
        .services
        .sellers()
        .apply(
            me,
            body.shop_name.as_deref(),
            body.business_number.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(app.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationFilter {
    #[param(schema_with = crate::openapi::application_statuses)]
    status: Option<String>,
    /// `next_cursor` of the previous page.
    after: Option<Uuid>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

#[utoipa::path(get, path = "/api/v1/sellers/applications", tag = "sellers", security(("bearer" = [])),
    params(ApplicationFilter),
    responses((status = 200, description = "Admins see all applications, others their own", body = Page<ApplicationResponse>)))]
pub async fn list_applications(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    Query(q): Query<ApplicationFilter>,
) -> Result<Json<Page<ApplicationResponse>>, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(ApplicationStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_query("status must be PENDING, APPROVED or REJECTED")
        })?),
    };
    let page = PageQuery {
        after: q.after,
        limit: q.limit,
    };
    let limit = page.limit()?;
    let apps = state
        .services
        .sellers()
        .list(me, status, page.after.map(Into::into), limit)
        .await?;
    let items = apps.into_iter().map(ApplicationResponse::from).collect();
    Ok(Json(Page::new(items, limit, |a| a.id)))
}

#[utoipa::path(get, path = "/api/v1/sellers/applications/{id}", tag = "sellers", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ApplicationResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_application(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(id): IdPath<ApplicationId>,
) -> Result<Json<ApplicationResponse>, ApiError> {
    Ok(Json(state.services.sellers().get(me, id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/sellers/applications/{id}/approve", tag = "sellers", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Approved; the applicant becomes SELLER (on their next token refresh)", body = ApplicationResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided or shop name taken", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn approve(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    IdPath(id): IdPath<ApplicationId>,
) -> Result<Json<ApplicationResponse>, ApiError> {
    Ok(Json(
        state
            .services
            .sellers()
            .decide(admin, id, Decision::Approve)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    #[schema(schema_with = crate::schema::reject_reason)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/sellers/applications/{id}/reject", tag = "sellers", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RejectRequest,
    responses(
        (status = 200, body = ApplicationResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reject(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    IdPath(id): IdPath<ApplicationId>,
    Json(body): Json<RejectRequest>,
) -> Result<Json<ApplicationResponse>, ApiError> {
    let decision = Decision::Reject {
        reason: body.reason.as_deref(),
    };
    Ok(Json(
        state
            .services
            .sellers()
            .decide(admin, id, decision)
            .await?
            .into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ShopResponse {
    user_id: Uuid,
    shop_name: String,
    business_number: String,
    created_at: DateTime<Utc>,
}

#[utoipa::path(get, path = "/api/v1/sellers/me", tag = "sellers", security(("bearer" = [])),
    responses(
        (status = 200, description = "The seller's shop profile", body = ShopResponse),
        (status = 403, description = "Not a seller", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No shop profile (an admin who never applied)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_shop(
    State(state): State<AppState>,
    SellerUser(me): SellerUser,
) -> Result<Json<ShopResponse>, ApiError> {
    let s = state.services.sellers().profile(me).await?;
    Ok(Json(ShopResponse {
        user_id: s.user_id.into(),
        shop_name: s.shop_name,
        business_number: s.business_number,
        created_at: s.created_at,
    }))
}
