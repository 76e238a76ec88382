//! Paying and refunding orders. Paying takes two calls: `POST /orders/{id}/payments` starts
//! an attempt at a gateway (the fake one unless configured otherwise) and answers what the
//! buyer's client needs (`payment_key`, or a `redirect_url` to send the buyer to); after the
//! buyer paid, `POST /payments/{id}/confirm` with the amount paid completes it. Refunds, of
//! some lines or of everything left, are `POST /orders/{id}/refunds`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use jangteo_core::ids::{OrderId, PaymentId, RefundId};
use jangteo_services::payments::RefundLine;
use jangteo_store::payments::{Payment, RefundRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::json::{Json, JsonDigest, digest_for};
use crate::params::{IdPath, IdempotencyKeyHeader, replay_headers};
use crate::{ApiError, AppState, Problem};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(confirm))
        .routes(routes!(refund))
        .routes(routes!(portone_webhook))
        .routes(routes!(toss_webhook))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookAck {
    /// Always true: the webhook was verified and taken.
    received: bool,
}

/// PortOne V2 webhooks (Standard Webhooks signature). Configure this URL and the secret
/// (`payments.portone.webhook_secret`) in PortOne's console.
#[utoipa::path(post, path = "/api/v1/webhooks/portone", tag = "payments",
    request_body(content = Object, content_type = "application/json",
        description = "PortOne's event: `{\"type\": \"Transaction.Paid\", \"timestamp\", \"data\": {\"paymentId\", …}}`"),
    params(
        ("webhook-id" = Option<String>, Header),
        ("webhook-timestamp" = Option<String>, Header, description = "Unix seconds; refused beyond five minutes"),
        ("webhook-signature" = Option<String>, Header, description = "`v1,<base64 HMAC-SHA256>` entries, space-separated"),
    ),
    responses(
        (status = 200, description = "Verified; the payment it names is settled by asking PortOne", body = WebhookAck),
        (status = 401, description = "Missing or invalid signature, or a stale timestamp (`invalid_signature`); nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "This shop has no PortOne webhook secret configured", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A verified body that is not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn portone_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<WebhookAck>, ApiError> {
    state
        .services
        .payments()
        .portone_webhook(&headers, &body)
        .await?;
    Ok(Json(WebhookAck { received: true }))
}

/// Toss Payments webhooks. Toss signs no payment webhook, so nothing in the body is
/// trusted: the payment it names is read back from Toss before anything changes. Register
/// this URL for `PAYMENT_STATUS_CHANGED` in Toss's developer center.
#[utoipa::path(post, path = "/api/v1/webhooks/toss", tag = "payments",
    request_body(content = Object, content_type = "application/json",
        description = "Toss's event: `{\"eventType\": \"PAYMENT_STATUS_CHANGED\", \"createdAt\", \"data\": <Payment with orderId, paymentKey, status…>}`"),
    responses(
        (status = 200, description = "Taken; the payment it names is settled by asking Toss (other events are ignored)", body = WebhookAck),
        (status = 404, description = "This shop does not take Toss Payments", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A body that is not JSON", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn toss_webhook(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<WebhookAck>, ApiError> {
    state.services.payments().toss_webhook(&body).await?;
    Ok(Json(WebhookAck { received: true }))
}

#[derive(Serialize, ToSchema)]
pub struct PaymentResponse {
    #[schema(value_type = Uuid)]
    id: PaymentId,
    #[schema(value_type = Uuid)]
    order_id: OrderId,
    /// The gateway: `fake`, `toss`, `portone` or `kakaopay`.
    provider: String,
    /// PENDING (started), PAID, FAILED (declined: start another) or CANCELLED (refunded in
    /// full).
    #[schema(example = "PENDING")]
    status: &'static str,
    amount: i64,
    currency: String,
    refunded: i64,
    /// The gateway's key for this payment (send it back to confirm, for the fake gateway).
    payment_key: Option<String>,
    /// Where to send the buyer to pay (KakaoPay).
    redirect_url: Option<String>,
    /// Why the gateway declined it.
    failure_code: Option<String>,
    failure_message: Option<String>,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
}

impl From<&Payment> for PaymentResponse {
    fn from(p: &Payment) -> Self {
        Self {
            id: p.id,
            order_id: p.order_id,
            provider: p.provider.clone(),
            status: p.status.as_str(),
            amount: p.amount.minor(),
            currency: p.amount.currency().as_str().to_owned(),
            refunded: p.refunded.minor(),
            payment_key: p.gateway_key.clone(),
            redirect_url: p.redirect_url.clone(),
            failure_code: p.failure_code.clone(),
            failure_message: p.failure_message.clone(),
            created_at: p.created_at,
            paid_at: p.paid_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RefundLineResponse {
    line_no: i32,
    quantity: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RefundResponse {
    #[schema(value_type = Uuid)]
    id: RefundId,
    #[schema(value_type = Uuid)]
    order_id: OrderId,
    #[schema(value_type = Uuid)]
    payment_id: PaymentId,
    /// What goes back to the buyer, minor units.
    amount: i64,
    reason: String,
    /// The units returned to stock, by line.
    lines: Vec<RefundLineResponse>,
    /// REQUESTED (recorded, units back in stock, the gateway not yet done) or DONE.
    #[schema(example = "DONE")]
    status: &'static str,
    created_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
}

impl From<&RefundRecord> for RefundResponse {
    fn from(r: &RefundRecord) -> Self {
        Self {
            id: r.id,
            order_id: r.order_id,
            payment_id: r.payment_id,
            amount: r.amount.minor(),
            reason: r.reason.clone(),
            lines: r
                .lines
                .iter()
                .map(|(line_no, quantity)| RefundLineResponse {
                    line_no: *line_no,
                    quantity: *quantity,
                })
                .collect(),
            status: if r.done { "DONE" } else { "REQUESTED" },
            created_at: r.created_at,
            done_at: r.done_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// A configured gateway (default: the shop's default, `fake` in embedded mode).
    #[schema(example = "fake")]
    provider: Option<String>,
    /// Fake gateway only: how the payment is to end (APPROVE by default).
    #[schema(value_type = Option<String>, pattern = "^(APPROVE|DECLINE|FAIL)$")]
    outcome: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/payments", tag = "payments", security(("bearer" = [])),
    params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, max_length = 255,
        description = "A retry with the same key and body within 24 hours answers with the attempt the first request started")),
    request_body = StartRequest,
    responses(
        (status = 201, description = "A payment attempt, PENDING until confirmed", body = PaymentResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when an earlier request with this Idempotency-Key started the attempt"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order is paid (`order_already_paid`) or cancelled (`order_cancelled`), its deadline passed (`payment_deadline_passed`), the gateway refused the request (`payment_rejected`), or a request with this Idempotency-Key is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown provider (`unknown_provider`), `outcome` for a real gateway (`outcome_not_supported`), or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The gateway is not answering (`payment_gateway_unavailable`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(order): IdPath<OrderId>,
    key: IdempotencyKeyHeader,
    JsonDigest(body, digest): JsonDigest<StartRequest>,
) -> Result<(StatusCode, HeaderMap, Json<PaymentResponse>), ApiError> {
    let request = key.with_hash(digest_for(order, &digest));
    let started = state
        .services
        .payments()
        .start(
            me,
            order,
            body.provider.as_deref(),
            body.outcome.as_deref(),
            request.as_ref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        replay_headers(started.replayed),
        Json((&started.value).into()),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The amount the buyer paid, minor units: must be the order's total.
    #[schema(value_type = i64, required = true, minimum = 0)]
    amount: Option<i64>,
    /// The gateway's payment key (Toss `paymentKey`; the fake's `payment_key`, which is
    /// also taken from the attempt when absent).
    #[schema(max_length = 200)]
    payment_key: Option<String>,
    /// KakaoPay's `pg_token` from the approval redirect.
    #[schema(max_length = 200)]
    pg_token: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/payments/{id}/confirm", tag = "payments", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ConfirmRequest,
    responses(
        (status = 200, description = "PAID: the order is ORDERED. Confirming again answers the same, with `Idempotent-Replayed: true`", body = PaymentResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when the payment was confirmed before"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "The gateway declined the payment (`payment_declined`): the order stays PENDING, start another attempt", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such payment of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order was paid by another attempt (`order_already_paid`) or cancelled (`order_cancelled`) — any charge is refunded; the attempt is closed (`payment_closed`) or being confirmed (`payment_in_progress`); the gateway refused the request (`payment_rejected`) or charged another amount (`payment_amount_mismatch`, refunded)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`amount` is not the order's total (`amount_mismatch`): nothing was sent to the gateway", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The gateway is not answering (`payment_gateway_unavailable`): confirm again", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(id): IdPath<PaymentId>,
    Json(body): Json<ConfirmRequest>,
) -> Result<(HeaderMap, Json<PaymentResponse>), ApiError> {
    for (field, value) in [
        ("payment_key", &body.payment_key),
        ("pg_token", &body.pg_token),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > 200) {
            return Err(ApiError::validation(vec![jangteo_core::FieldError {
                field: field.into(),
                code: "too_long".into(),
                message: format!("{field} is at most 200 characters"),
            }]));
        }
    }
    let paid = state
        .services
        .payments()
        .confirm(me, id, body.payment_key, body.pg_token, body.amount)
        .await?;
    Ok((replay_headers(paid.replayed), Json((&paid.value).into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundLineRequest {
    #[schema(value_type = i32, required = true, minimum = 1)]
    line_no: Option<i32>,
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 999)]
    quantity: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// The units to refund, by line; absent or null: everything left (which cancels the
    /// order).
    #[schema(min_items = 1, max_items = 100)]
    lines: Option<Vec<RefundLineRequest>>,
    #[schema(max_length = 200)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/refunds", tag = "payments", security(("bearer" = [])),
    params(("id" = Uuid, Path),
        ("Idempotency-Key" = Option<String>, Header, max_length = 255,
        description = "A retry with the same key and body within 24 hours answers with the refund the first request made")),
    request_body = RefundRequest,
    responses(
        (status = 201, description = "The refund: its units are back in stock; DONE once the gateway refunded it (a gateway that is down is retried until it answers)", body = RefundResponse,
            headers(("Idempotent-Replayed" = String, description = "`true` when an earlier request with this Idempotency-Key made the refund"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order of the caller's (admins may refund any)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order is not paid (`order_not_paid`: cancel it), cancelled or complete (`illegal_transition`), or the lines have fewer units left (`refund_exceeds_quantity`, `nothing_to_refund`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid lines or reason, or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refund(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(order): IdPath<OrderId>,
    key: IdempotencyKeyHeader,
    JsonDigest(body, digest): JsonDigest<RefundRequest>,
) -> Result<(StatusCode, HeaderMap, Json<RefundResponse>), ApiError> {
    if body.lines.as_ref().is_some_and(|l| l.len() > 100) {
        return Err(ApiError::validation(vec![jangteo_core::FieldError {
            field: "lines".into(),
            code: "out_of_range".into(),
            message: "name 1 to 100 lines".into(),
        }]));
    }
    let request = key.with_hash(digest_for(order, &digest));
    let lines: Option<Vec<RefundLine>> = body.lines.map(|lines| {
        lines
            .into_iter()
            .map(|l| RefundLine {
                line_no: l.line_no,
                quantity: l.quantity,
            })
            .collect()
    });
    let done = state
        .services
        .payments()
        .refund(
            me,
            order,
            lines.as_deref(),
            body.reason.as_deref(),
            request.as_ref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        replay_headers(done.replayed),
        Json((&done.value).into()),
    ))
}
