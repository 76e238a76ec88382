//! Admin-only views and actions: users, and the outbox (failed events and their retry).

use axum::extract::State;
use chrono::{DateTime, Utc};
use jangteo_core::Role;
use jangteo_store::outbox::{EventStatus, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AdminUser;
use crate::json::Json;
use crate::pagination::{Page, PageQuery};
use crate::params::{IdPath, Query};
use crate::routes::me::ProfileResponse;
use crate::{ApiError, AppState, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's operations, with their OpenAPI descriptions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(list_events))
        .routes(routes!(retry_event))
}

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
        .list_users(role, page.after.map(Into::into), limit)
        .await?;
    let items: Vec<ProfileResponse> = users.into_iter().map(Into::into).collect();
    Ok(Json(Page::new(items, limit, |u| u.id())))
}

// ---- the outbox ------------------------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    #[param(schema_with = crate::openapi::event_statuses)]
    status: Option<String>,
    /// `next_cursor` of the previous page (pages go from newest to oldest).
    after: Option<Uuid>,
    /// 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u64>,
}

/// An outbox event as admins see it: what happened, and where its delivery stands.
#[derive(Serialize, ToSchema)]
pub struct OutboxEvent {
    id: Uuid,
    /// e.g. `product_changed`, `stock_changed`, `category_changed`.
    kind: String,
    #[schema(schema_with = crate::openapi::event_statuses)]
    status: String,
    /// Failed delivery attempts so far.
    attempts: u32,
    /// The last subscriber error (for failed and retried events).
    last_error: Option<String>,
    /// The event as stored.
    #[schema(value_type = Object)]
    payload: serde_json::Value,
    created_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
}

impl From<StoredEvent> for OutboxEvent {
    fn from(e: StoredEvent) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            status: e.status.as_str().to_owned(),
            attempts: e.attempts,
            last_error: e.last_error,
            payload: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
            created_at: e.created_at,
            delivered_at: e.delivered_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/admin/events", tag = "admin", security(("bearer" = [])), params(EventFilter),
    responses(
        (status = 200, description = "Outbox events, newest first", body = Page<OutboxEvent>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_events(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Query(q): Query<EventFilter>,
) -> Result<Json<Page<OutboxEvent>>, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(EventStatus::parse(s).ok_or_else(|| {
            ApiError::invalid_query("status must be pending, delivered or failed")
        })?),
    };
    let page = PageQuery {
        after: q.after,
        limit: q.limit,
    };
    let limit = page.limit()?;
    let events = state
        .services
        .outbox_events(status, page.after, limit)
        .await?;
    let items: Vec<OutboxEvent> = events.into_iter().map(Into::into).collect();
    Ok(Json(Page::new(items, limit, |e| e.id)))
}

#[utoipa::path(post, path = "/api/v1/admin/events/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A failed (parked) event")),
    responses(
        (status = 200, description = "Back to pending; the relay delivers it again", body = OutboxEvent),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`event_not_failed`: only parked events are retried", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retry_event(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    IdPath(id): IdPath,
) -> Result<Json<OutboxEvent>, ApiError> {
    Ok(Json(state.services.retry_event(id).await?.into()))
}
