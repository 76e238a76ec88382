//! Authentication as extractors: a handler's signature says who may call it.
//! `AuthUser` = any signed-in account, `SellerUser` = SELLER or ADMIN, `AdminUser` = ADMIN.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use jangteo_core::Role;
use jangteo_services::tokens::Principal;

use crate::observe::RequestContext;
use crate::{ApiError, AppState};

pub struct AuthUser(pub Principal);
pub struct SellerUser(pub Principal);
pub struct AdminUser(pub Principal);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing_token", "send Authorization: Bearer <access token>")
        })?;
        let token = value.to_str().ok().and_then(bearer_token).ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_token",
                "the Authorization header is not a bearer token",
            )
        })?;
        let principal = state
            .services
            .keys()
            .verify_access(token, state.services.clock().now())?;
        if let Some(ctx) = parts.extensions.get::<RequestContext>() {
            ctx.set_user(principal.user_id.uuid());
        }
        Ok(AuthUser(principal))
    }
}

/// The token of a `Bearer` credential. Auth schemes are case-insensitive (RFC 9110 §11.1),
/// and one or more spaces separate the scheme from the token.
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

fn require(principal: Principal, role: Role) -> Result<Principal, ApiError> {
    if principal.role.satisfies(role) {
        Ok(principal)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this route needs the {} role", role.as_str()),
        ))
    }
}

impl FromRequestParts<AppState> for SellerUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(p) = AuthUser::from_request_parts(parts, state).await?;
        require(p, Role::Seller).map(SellerUser)
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(p) = AuthUser::from_request_parts(parts, state).await?;
        require(p, Role::Admin).map(AdminUser)
    }
}

/// A signed-in caller if there is one. A present but invalid token is still refused (401),
/// so a client with an expired token learns it instead of silently seeing the guest view.
pub struct MaybeUser(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(MaybeUser(None));
        }
        let AuthUser(p) = AuthUser::from_request_parts(parts, state).await?;
        Ok(MaybeUser(Some(p)))
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_scheme_is_case_insensitive() {
        for h in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "bEaReR  abc ",
            "Bearer\u{20}abc",
        ] {
            assert_eq!(bearer_token(h), Some("abc"), "{h:?}");
        }
        for h in [
            "Basic abc",
            "Bearer",
            "Bearer ",
            "Bearerabc",
            "Bearer a b",
            "Token abc",
        ] {
            assert_eq!(bearer_token(h), None, "{h:?}");
        }
    }
}
