//! RFC 9457 problem details: the only error shape a client ever sees. Internal errors are
//! logged with their cause and answered with a generic 500 that carries no SQL and no trace.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jangteo_core::FieldError;
use jangteo_services::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// `application/problem+json` body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:jangteo:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `email_taken`.
    pub code: String,
    /// Field errors (422, and 400 `invalid_query` when a service refused a parameter).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<FieldError>,
    /// The lines stock could not cover (409 `insufficient_stock`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shortages: Vec<ShortageBody>,
}

/// A line of an order that stock could not cover.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShortageBody {
    pub variant_id: uuid::Uuid,
    /// Units the order asked for.
    pub requested: i64,
    /// Units in stock when the order was refused.
    pub available: i64,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub shortages: Vec<ShortageBody>,
    pub retry_after_secs: Option<u64>,
    pub www_authenticate: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            detail: detail.into(),
            errors: Vec::new(),
            shortages: Vec::new(),
            retry_after_secs: None,
            www_authenticate: false,
        }
    }

    pub fn unauthorized(code: &str, detail: impl Into<String>) -> Self {
        Self {
            www_authenticate: true,
            ..Self::new(StatusCode::UNAUTHORIZED, code, detail)
        }
    }

    pub fn too_many(code: &str, detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, detail)
        }
    }

    /// 413 for any body over its limit (`limit` in the message when the route has its own).
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", detail)
    }

    /// 400 for a body that broke off or could not be decoded while being read.
    pub fn body_unreadable() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "body_unreadable",
            "the request body could not be read",
        )
    }

    /// 400 for a query parameter that does not parse or is out of range. Query strings are
    /// not bodies: one rule for all of them, whichever layer noticed.
    pub fn invalid_query(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query", detail)
    }

    /// A service's verdict on input that came from the query string: field errors become
    /// 400 `invalid_query` (with the field list), anything else maps as usual.
    pub fn from_query(err: ServiceError) -> Self {
        match err {
            ServiceError::Validation(errors) => {
                let errors = errors.into_vec();
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                let detail = format!("invalid query parameters: {}", fields.join(", "));
                Self {
                    errors,
                    ..Self::invalid_query(detail)
                }
            }
            other => other.into(),
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let detail = format!("invalid fields: {}", fields.join(", "));
        Self {
            errors,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                detail,
            )
        }
    }

    fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:jangteo:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.clone(),
            errors: self.errors.clone(),
            shortages: self.shortages.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut res = (self.status, body).into_response();
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Validation(errors) => ApiError::validation(errors.into_vec()),
            ServiceError::NotFound(what) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            ServiceError::Conflict { code, detail } => {
                ApiError::new(StatusCode::CONFLICT, code, detail)
            }
            ServiceError::OutOfStock(lines) => {
                let detail = lines
                    .iter()
                    .map(|l| {
                        format!(
                            "variant {} has {} left of {} asked",
                            l.variant_id, l.available, l.requested
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError {
                    shortages: lines
                        .iter()
                        .map(|l| ShortageBody {
                            variant_id: l.variant_id.uuid(),
                            requested: l.requested,
                            available: l.available.max(0),
                        })
                        .collect(),
                    ..ApiError::new(
                        StatusCode::CONFLICT,
                        "insufficient_stock",
                        format!("not enough stock: {detail}"),
                    )
                }
            }
            ServiceError::Unprocessable { code, detail } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
            }
            ServiceError::Unauthorized { code, detail } => ApiError::unauthorized(code, detail),
            ServiceError::Forbidden { code, detail } => {
                ApiError::new(StatusCode::FORBIDDEN, code, detail)
            }
            ServiceError::TooManyRequests {
                code,
                detail,
                retry_after_secs,
            } => ApiError::too_many(code, detail, retry_after_secs),
            ServiceError::Unavailable("payment_gateway") => ApiError {
                retry_after_secs: Some(10),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "payment_gateway_unavailable",
                    "the payment gateway is not answering; nothing was charged twice — retry in a moment",
                )
            },
            ServiceError::Unavailable(what) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                format!("{what} is temporarily unavailable; try again later"),
            ),
            ServiceError::PaymentDeclined { code, message } => ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                "payment_declined",
                format!(
                    "the payment was declined ({code}: {message}); the order waits for another payment until its deadline"
                ),
            ),
            ServiceError::Internal(e) => internal(&e),
        }
    }
}

/// Logs the cause with its chain and answers with nothing but a generic message.
pub fn internal(err: &anyhow::Error) -> ApiError {
    tracing::error!(error = format!("{err:#}"), "internal error");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "an unexpected error occurred",
    )
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "no such route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
    )
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "an unexpected error occurred",
    )
    .into_response()
}
