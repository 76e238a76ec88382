//! Strict JSON bodies: the right content type, a bounded size, valid syntax, and exactly the
//! expected fields with the expected types. Each failure has its own status and code.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jangteo_core::FieldError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::ApiError;

/// A JSON request body (as extractor) or response body.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        from_tree(parse_tree(&bytes)?).map(Json)
    }
}

/// The digest of a body sent to one resource (`/orders/{id}/…`): the same body sent to
/// another order is another request.
pub fn digest_for(resource: impl std::fmt::Display, body_digest: &str) -> String {
    format!("{:x}", Sha256::digest(format!("{resource}:{body_digest}")))
}

/// A JSON request body with a digest of its content (SHA-256 over the parsed body with
/// sorted keys, so whitespace and key order do not change it): what an idempotency key is
/// checked against.
pub struct JsonDigest<T>(pub T, pub String);

impl<S, T> FromRequest<S> for JsonDigest<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        let tree = parse_tree(&bytes)?;
        // serde_json's maps are ordered by key, so this serialisation is canonical.
        let canonical = serde_json::to_vec(&tree).map_err(|_| ApiError::body_unreadable())?;
        let digest = format!("{:x}", Sha256::digest(&canonical));
        from_tree(tree).map(|value| JsonDigest(value, digest))
    }
}

#[cfg(test)]
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    from_tree(parse_tree(bytes)?)
}

async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as Content-Type: application/json",
        ));
    }
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large("the request body is too large")
        } else {
            ApiError::body_unreadable()
        }
    })
}

fn parse_tree(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    // Syntax first: a body that is both malformed and mistyped is malformed (400), and
    // serde would otherwise stop at the first type error.
    let mut tree: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!(
                "the body is not valid JSON: {}",
                strip_position(&e.to_string())
            ),
        )
    })?;
    // Every body is an object. serde would also fill a struct from an array, by position
    // (`["x", "010-…"]` as a profile patch), which no client means to send.
    if !tree.is_object() {
        return Err(ApiError::validation(vec![FieldError {
            field: "(body)".into(),
            code: "invalid_type".into(),
            message: "the body must be a JSON object".into(),
        }]));
    }
    integral_numbers(&mut tree);
    Ok(tree)
}

fn from_tree<T: DeserializeOwned>(tree: serde_json::Value) -> Result<T, ApiError> {
    let value: T = serde_path_to_error::deserialize(tree).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." {
                    "(body)".to_owned()
                } else {
                    path
                };
                ApiError::validation(vec![FieldError {
                    field,
                    code: "invalid_type".into(),
                    message: strip_position(&inner.to_string()),
                }])
            }
            _ => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!(
                    "the body is not valid JSON: {}",
                    strip_position(&inner.to_string())
                ),
            ),
        }
    })?;
    Ok(value)
}

/// JSON has one number type: `15000.0` and `1.5e4` are the integer 15000 to JSON Schema
/// (and to JavaScript clients), but serde refuses them for an `i64`. Numbers with no
/// fraction that fit an `i64` become integers before the body is typed; anything else
/// stays as it is and fails where an integer is expected.
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
            {
                // In range and integral, so the cast is exact.
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// serde_json appends " at line L column C"; the position means nothing to an API client
/// once the field path is known.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// For PATCH bodies: distinguishes an absent field (`None`) from an explicit `null`
/// (`Some(None)`, meaning "clear it").
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: Option<String>,
        #[serde(default, deserialize_with = "double_option")]
        phone: Option<Option<String>>,
    }

    #[test]
    fn classifies_errors() {
        assert_eq!(
            parse::<Body>(b"{\"email\":").unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse::<Body>(b"{\"email\":5").unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        let e = parse::<Body>(b"{\"email\": 5}").unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.errors[0].field, "email");
        assert_eq!(
            parse::<Body>(b"{\"nope\": 1}").unwrap_err().status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            parse::<Body>(b"{} {}").unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse::<Body>(b"{\"phone\": null}").unwrap().phone,
            Some(None)
        );
        assert_eq!(parse::<Body>(b"{}").unwrap().phone, None);

        #[derive(Debug, Deserialize)]
        struct Numbers {
            n: i64,
        }
        assert_eq!(parse::<Numbers>(b"{\"n\": 15000.0}").unwrap().n, 15000);
        assert_eq!(parse::<Numbers>(b"{\"n\": 1.5e4}").unwrap().n, 15000);
        assert_eq!(parse::<Numbers>(b"{\"n\": -0.0}").unwrap().n, 0);
        for bad in [&b"{\"n\": 1.5}"[..], b"{\"n\": 1e19}", b"{\"n\": -1e19}"] {
            let e = parse::<Numbers>(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(e.errors[0].field, "n");
        }
        for not_an_object in [
            &b"[\"x\", \"010\"]"[..],
            b"[]",
            b"\"x\"",
            b"1",
            b"null",
            b" true",
        ] {
            let e = parse::<Body>(not_an_object).unwrap_err();
            assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(e.errors[0].field, "(body)");
        }
    }
}
