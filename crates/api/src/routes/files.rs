//! Serves stored files (product images) from the file store, whichever adapter holds them.
//! Keys are unique and never rewritten, so responses may be cached for a year.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jangteo_services::images::{Audience, format_of_key};

use crate::auth::MaybeUser;
use crate::{ApiError, AppState, Problem};

/// The file route is a plain axum route (a wildcard path); its description is added to the
/// OpenAPI document from here.
#[derive(utoipa::OpenApi)]
#[openapi(paths(serve))]
pub struct FilesDoc;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/files/{*key}", get(serve))
}

fn missing() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "file_not_found", "no such file")
}

/// ETags as HTTP wants them: quoted. Stores differ (S3 quotes, the local store does not).
fn quoted(tag: &str) -> String {
    if tag.starts_with('"') || tag.starts_with("W/") {
        tag.to_owned()
    } else {
        format!("\"{tag}\"")
    }
}

fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag.trim_start_matches("W/"))
}

#[utoipa::path(get, path = "/files/{key}", tag = "files", security((), ("bearer" = [])),
    params(("key" = String, Path, description = "The file's key, as in an image's `url`: `products/<product>/<image>.<ext>`")),
    responses(
        (status = 200, description = "The file, with its image type and an ETag. Images of products on sale are public (`Cache-Control: public, max-age=31536000, immutable`); those of drafts and hidden products only for their seller and admins (`private, no-store`)", content_type = "image/*"),
        (status = 304, description = "`If-None-Match` matched the ETag"),
        (status = 401, description = "A bearer token was sent but is invalid or expired", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such file, or not visible to the caller (an image of a draft, hidden or deleted product, or a deleted image)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn serve(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The raw path: keys are plain ASCII, so anything percent-encoded is not one of ours.
    let key = uri.path().strip_prefix("/files/").ok_or_else(missing)?;
    let format = format_of_key(key).ok_or_else(missing)?;
    // Only images still attached to a product the caller may see: a draft's or a deleted
    // image's URL answers like a missing file.
    let audience = match state.services.images().audience(viewer, key).await {
        Ok(a) => a,
        Err(jangteo_services::ServiceError::NotFound(_)) => return Err(missing()),
        Err(e) => return Err(e.into()),
    };
    let file = match state.services.files().get(key).await {
        Ok(Some(file)) => file,
        Ok(None) => return Err(missing()),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "file store failed");
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "the file store is temporarily unavailable; try again later",
            ));
        }
    };
    let etag = file.e_tag.as_deref().map(quoted);
    let mut res = match (&etag, headers.get(header::IF_NONE_MATCH)) {
        (Some(tag), Some(inm)) if inm.to_str().is_ok_and(|inm| matches(inm, tag)) => {
            StatusCode::NOT_MODIFIED.into_response()
        }
        _ => {
            let mut res = Body::from_stream(file.body).into_response();
            res.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
            res
        }
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match audience {
            Audience::Public => "public, max-age=31536000, immutable",
            // A draft's image, shown to its seller: no shared cache may keep it.
            Audience::Private => "private, no-store",
        }),
    );
    // Uploads were checked to be images; these make sure a browser never treats one as
    // anything else (no sniffing, no scripts even if opened directly).
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        h.insert(header::ETAG, tag);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_and_matched_weakly() {
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted("\"abc\""), "\"abc\"");
        assert!(matches("\"x\", \"abc\"", "\"abc\""));
        assert!(matches("W/\"abc\"", "\"abc\""));
        assert!(matches("*", "\"abc\""));
        assert!(!matches("\"abd\"", "\"abc\""));
    }
}
