//! Sign-up, e-mail verification, login, token refresh and logout.

use axum::extract::State;
use axum::http::StatusCode;
use jangteo_core::Role;
use jangteo_services::ServiceError;
use jangteo_services::accounts::{SignupInput, TokenPair};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::json::Json;
use crate::rate_limit::{Action, ClientIp};
use crate::routes::me::ProfileResponse;
use crate::{ApiError, AppState, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's operations, with their OpenAPI descriptions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(verify))
        .routes(routes!(resend_code))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    #[schema(schema_with = crate::schema::email, required = true)]
    email: Option<String>,
    #[schema(schema_with = crate::schema::new_password, required = true)]
    password: Option<String>,
    #[schema(schema_with = crate::schema::display_name)]
    display_name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth", request_body = SignupRequest,
    responses(
        (status = 201, description = "Account created; a verification code was mailed", body = ProfileResponse),
        (status = 409, description = "E-mail already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-ups from this address", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<SignupRequest>,
) -> Result<(StatusCode, Json<ProfileResponse>), ApiError> {
    state.limits.check(Action::Signup, ip, None).await?;
    state
        .limits
        .check(Action::Code, ip, body.email.as_deref())
        .await?;
    let profile = state
        .services
        .accounts()
        .signup(SignupInput {
            email: body.email.as_deref(),
            password: body.password.as_deref(),
            display_name: body.display_name.as_deref(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(profile.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    #[schema(schema_with = crate::schema::email, required = true)]
    email: Option<String>,
    #[schema(schema_with = crate::schema::code, required = true)]
    code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VerifyResponse {
    email_verified: bool,
}

#[utoipa::path(post, path = "/api/v1/auth/verify", tag = "auth", request_body = VerifyRequest,
    responses(
        (status = 200, description = "E-mail verified", body = VerifyResponse),
        (status = 401, description = "Wrong (`code_mismatch`) or expired (`code_expired`) code", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes (`code_attempts_exceeded`) or rate limited", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<VerifyRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    state
        .limits
        .check(Action::Code, ip, body.email.as_deref())
        .await?;
    state
        .services
        .accounts()
        .verify_email(body.email.as_deref(), body.code.as_deref())
        .await?;
    Ok(Json(VerifyResponse {
        email_verified: true,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendRequest {
    #[schema(schema_with = crate::schema::email, required = true)]
    email: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedResponse {
    status: &'static str,
}

#[utoipa::path(post, path = "/api/v1/auth/verify/resend", tag = "auth", request_body = ResendRequest,
    responses(
        (status = 202, description = "A new code is mailed if the address has an unverified account and no code was sent in the last minute. The answer is the same in every case, so it reveals nothing about the address", body = AcceptedResponse),
        (status = 429, description = "Too many requests from this client (`rate_limited`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resend_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<ResendRequest>,
) -> Result<(StatusCode, Json<AcceptedResponse>), ApiError> {
    state
        .limits
        .check(Action::Code, ip, body.email.as_deref())
        .await?;
    state
        .services
        .accounts()
        .resend_code(body.email.as_deref())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(AcceptedResponse { status: "accepted" }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(schema_with = crate::schema::email, required = true)]
    email: Option<String>,
    #[schema(schema_with = crate::schema::password, required = true)]
    password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer`.
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
    /// Opaque; exchange at `/api/v1/auth/refresh`. Single use.
    refresh_token: String,
    refresh_expires_in: i64,
    user_id: Uuid,
    #[schema(value_type = String, example = "USER")]
    role: Role,
}

impl From<TokenPair> for TokenResponse {
    fn from(t: TokenPair) -> Self {
        Self {
            access_token: t.access_token,
            token_type: "Bearer",
            expires_in: t.access_expires_in,
            refresh_token: t.refresh_token,
            refresh_expires_in: t.refresh_expires_in,
            user_id: t.user_id.into(),
            role: t.role,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong e-mail or password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "E-mail not verified yet", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    state.limits.check(Action::Login, ip, None).await?;
    let account = body.email.as_deref().unwrap_or_default();
    state.limits.login.check(account, ip)?;
    match state
        .services
        .accounts()
        .login(body.email.as_deref(), body.password.as_deref())
        .await
    {
        Ok(pair) => {
            state.limits.login.succeeded(account, ip);
            Ok(Json(pair.into()))
        }
        Err(e @ ServiceError::Unauthorized { .. }) => {
            let delay = state.limits.login.failed(account, ip);
            tokio::time::sleep(delay).await;
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(schema_with = crate::schema::refresh_token, required = true)]
    refresh_token: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "New access and refresh token; the old refresh token is spent", body = TokenResponse),
        (status = 401, description = "Invalid, expired or reused refresh token (reuse revokes the session)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let pair = state
        .services
        .accounts()
        .refresh(body.refresh_token.as_deref())
        .await?;
    Ok(Json(pair.into()))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "The session's refresh tokens are revoked"), (status = 401, description = "Not a live refresh token", body = Problem, content_type = "application/problem+json")))]
pub async fn logout(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .accounts()
        .logout(body.refresh_token.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
