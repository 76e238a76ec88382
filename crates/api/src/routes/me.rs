//! The signed-in account: profile and shipping address book.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use jangteo_core::Role;
use jangteo_core::address::AddressInput;
use jangteo_core::ids::AddressId;
use jangteo_services::accounts::{Profile, ProfilePatch};
use jangteo_services::addresses::AddressPatch;
use jangteo_store::addresses::Address;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::json::{Json, double_option};
use crate::params::IdPath;
use crate::schema::Patch;
use crate::{ApiError, AppState, Problem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// This resource's operations, with their OpenAPI descriptions.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, patch_me))
        .routes(routes!(list_addresses, create_address))
        .routes(routes!(get_address, patch_address, delete_address))
}

#[derive(Serialize, ToSchema)]
pub struct ProfileResponse {
    id: Uuid,
    email: String,
    display_name: Option<String>,
    phone: Option<String>,
    #[schema(value_type = String, example = "USER")]
    role: Role,
    email_verified: bool,
    created_at: DateTime<Utc>,
}

impl ProfileResponse {
    pub fn id(&self) -> Uuid {
        self.id
    }
}

impl From<Profile> for ProfileResponse {
    fn from(p: Profile) -> Self {
        Self {
            id: p.id.into(),
            email: p.email,
            display_name: p.display_name,
            phone: p.phone,
            role: p.role,
            email_verified: p.email_verified,
            created_at: p.created_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, body = ProfileResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_me(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
) -> Result<Json<ProfileResponse>, ApiError> {
    Ok(Json(
        state.services.accounts().profile(me.user_id).await?.into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMeRequest {
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schema::display_name)]
    display_name: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::schema::phone_nullable)]
    phone: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "me", security(("bearer" = [])), request_body = PatchMeRequest,
    responses(
        (status = 200, body = ProfileResponse),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch_me(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    Json(body): Json<PatchMeRequest>,
) -> Result<Json<ProfileResponse>, ApiError> {
    let patch = ProfilePatch {
        display_name: body.display_name.as_ref().map(Option::as_deref),
        phone: body.phone.as_ref().map(Option::as_deref),
    };
    Ok(Json(
        state
            .services
            .accounts()
            .update_profile(me.user_id, patch)
            .await?
            .into(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AddressResponse {
    id: Uuid,
    label: Option<String>,
    recipient: String,
    phone: String,
    postal_code: String,
    line1: String,
    line2: Option<String>,
    is_default: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Address> for AddressResponse {
    fn from(a: Address) -> Self {
        Self {
            id: a.id.into(),
            label: a.label,
            recipient: a.recipient,
            phone: a.phone,
            postal_code: a.postal_code,
            line1: a.line1,
            line2: a.line2,
            is_default: a.is_default,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AddressList {
    items: Vec<AddressResponse>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    #[schema(schema_with = crate::schema::address_label)]
    label: Option<String>,
    #[schema(schema_with = crate::schema::recipient, required = true)]
    recipient: Option<String>,
    #[schema(schema_with = crate::schema::phone, required = true)]
    phone: Option<String>,
    #[schema(schema_with = crate::schema::postal_code, required = true)]
    postal_code: Option<String>,
    #[schema(schema_with = crate::schema::address_line, required = true)]
    line1: Option<String>,
    #[schema(schema_with = crate::schema::address_line2)]
    line2: Option<String>,
    /// Make this the default address (the first address always is).
    is_default: Option<bool>,
}

/// Changes of an address: any fields of [`AddressRequest`].
pub type AddressChanges = Patch<AddressRequest>;

impl AddressRequest {
    fn input(&self) -> AddressInput<'_> {
        AddressInput {
            label: self.label.as_deref(),
            recipient: self.recipient.as_deref(),
            phone: self.phone.as_deref(),
            postal_code: self.postal_code.as_deref(),
            line1: self.line1.as_deref(),
            line2: self.line2.as_deref(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/me/addresses", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = AddressList)))]
pub async fn list_addresses(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
) -> Result<Json<AddressList>, ApiError> {
    let items = state.services.addresses().list(me.user_id).await?;
    Ok(Json(AddressList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/me/addresses", tag = "me", security(("bearer" = [])), request_body = AddressRequest,
    responses(
        (status = 201, body = AddressResponse),
        (status = 409, description = "Address book full", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_address(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    Json(body): Json<AddressRequest>,
) -> Result<(StatusCode, Json<AddressResponse>), ApiError> {
    let a = state
        .services
        .addresses()
        .create(me.user_id, body.input(), body.is_default.unwrap_or(false))
        .await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

#[utoipa::path(get, path = "/api/v1/me/addresses/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AddressResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_address(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(id): IdPath<AddressId>,
) -> Result<Json<AddressResponse>, ApiError> {
    Ok(Json(
        state.services.addresses().get(me.user_id, id).await?.into(),
    ))
}

#[utoipa::path(patch, path = "/api/v1/me/addresses/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = AddressChanges,
    responses((status = 200, body = AddressResponse), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, description = "The default address cannot be unset; make another one the default (`default_address_required`)", body = Problem, content_type = "application/problem+json")))]
pub async fn patch_address(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(id): IdPath<AddressId>,
    Json(Patch(body)): Json<AddressChanges>,
) -> Result<Json<AddressResponse>, ApiError> {
    let patch = AddressPatch {
        fields: body.input(),
        is_default: body.is_default,
    };
    Ok(Json(
        state
            .services
            .addresses()
            .update(me.user_id, id, patch)
            .await?
            .into(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/me/addresses/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_address(
    State(state): State<AppState>,
    AuthUser(me): AuthUser,
    IdPath(id): IdPath<AddressId>,
) -> Result<StatusCode, ApiError> {
    state.services.addresses().delete(me.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
