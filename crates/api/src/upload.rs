//! Image upload bodies: the file itself as the request body, its type in `Content-Type`.
//! Type and size are refused before the body is read (415, 413); whether the bytes really
//! are that type is the service's check.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use jangteo_core::images::ImageFormat;

use crate::{ApiError, AppState};

pub struct ImageBody {
    pub format: ImageFormat,
    pub bytes: Bytes,
}

fn too_large(max: usize) -> ApiError {
    ApiError::payload_too_large(format!("an image may be at most {max} bytes"))
}

impl FromRequest<AppState> for ImageBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let declared = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let Some(format) = declared.and_then(ImageFormat::from_content_type) else {
            let hint = if declared.is_some_and(|d| d.starts_with("multipart/")) {
                " (send the file itself as the body, not a multipart form)"
            } else {
                ""
            };
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "send the image as the body with Content-Type one of {}{hint}",
                    ImageFormat::accepted()
                ),
            ));
        };
        let max = state.services.image_settings().max_bytes;
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > max as u64) {
            return Err(too_large(max));
        }
        // The limit also bounds chunked bodies that announce no length.
        let bytes = axum::body::to_bytes(req.into_body(), max)
            .await
            .map_err(|e| {
                let inner = e.into_inner();
                if inner.is::<http_body_util::LengthLimitError>() {
                    too_large(max)
                } else {
                    ApiError::body_unreadable()
                }
            })?;
        Ok(Self { format, bytes })
    }
}
