//! Product images: sellers upload, reorder and delete them; everyone who may see the
//! product sees them (in the product detail, and the cover in listings).

use axum::extract::State;
use axum::http::{StatusCode, header};
use chrono::{DateTime, Utc};
use jangteo_core::ids::{ImageId, ProductId};
use jangteo_services::images::ImageView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{AuthUser, MaybeUser};
use crate::json::Json;
use crate::params::{IdPair, IdPath, at_most};
use crate::schema::FileBytes;
use crate::upload::ImageBody;
use crate::{ApiError, AppState, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's operations, with their OpenAPI descriptions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload, list))
        .routes(routes!(delete))
        .routes(routes!(reorder))
}

#[derive(Serialize, ToSchema)]
pub struct ImageResponse {
    id: Uuid,
    /// Where to fetch the file (`/files/…` when jangteo serves it).
    url: String,
    #[schema(example = "image/jpeg")]
    content_type: String,
    width: i32,
    height: i32,
    byte_size: i64,
    /// 0 is the cover.
    position: i32,
    /// Hex SHA-256 of the file.
    sha256: String,
    created_at: DateTime<Utc>,
}

impl From<&ImageView> for ImageResponse {
    fn from(i: &ImageView) -> Self {
        Self {
            id: i.id.into(),
            url: i.url.clone(),
            content_type: i.content_type.clone(),
            width: i.width,
            height: i.height,
            byte_size: i.byte_size,
            position: i.position,
            sha256: i.sha256.clone(),
            created_at: i.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ImageList {
    items: Vec<ImageResponse>,
}

#[utoipa::path(post, path = "/api/v1/products/{id}/images", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(description = "The image file itself (JPEG, PNG, WebP or GIF; at most files.max_image_bytes, default 5 MiB)",
        content((FileBytes = "image/jpeg"), (FileBytes = "image/png"), (FileBytes = "image/webp"), (FileBytes = "image/gif"))),
    responses(
        (status = 201, body = ImageResponse),
        (status = 403, description = "Another seller's product", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The product already has the maximum number of images", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not an accepted image type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The bytes are not the declared image type, or are damaged, or too many pixels", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    IdPath(id): IdPath<ProductId>,
    body: ImageBody,
) -> Result<
    (
        StatusCode,
        [(header::HeaderName, String); 1],
        Json<ImageResponse>,
    ),
    ApiError,
> {
    let image = state
        .services
        .images()
        .add(who, id, body.format, body.bytes)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, image.url.clone())],
        Json((&image).into()),
    ))
}

#[utoipa::path(get, path = "/api/v1/products/{id}/images", tag = "catalog", security((), ("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ImageList), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    IdPath(id): IdPath<ProductId>,
) -> Result<Json<ImageList>, ApiError> {
    let p = state.services.catalog().product(viewer, id).await?;
    Ok(Json(ImageList {
        items: p.images.iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(delete, path = "/api/v1/products/{id}/images/{image_id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("image_id" = Uuid, Path)),
    responses((status = 204, description = "Deleted, file removed"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    IdPair(id, image_id): IdPair<ProductId, ImageId>,
) -> Result<StatusCode, ApiError> {
    state.services.images().delete(who, id, image_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageOrder {
    /// Every image of the product exactly once; the first becomes the cover (409
    /// `image_set_mismatch` when the list is not exactly the product's images).
    #[schema(max_items = 20, value_type = Vec<Uuid>)]
    image_ids: Vec<ImageId>,
}

#[utoipa::path(put, path = "/api/v1/products/{id}/images/order", tag = "catalog", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ImageOrder,
    responses((status = 200, body = ImageList), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, description = "Not exactly the product's images (`image_set_mismatch`)", body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn reorder(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    IdPath(id): IdPath<ProductId>,
    Json(body): Json<ImageOrder>,
) -> Result<Json<ImageList>, ApiError> {
    at_most("image_ids", body.image_ids.len(), 100)?;
    let images = state
        .services
        .images()
        .reorder(who, id, &body.image_ids)
        .await?;
    Ok(Json(ImageList {
        items: images.iter().map(Into::into).collect(),
    }))
}
