//! Accounts: sign-up with e-mail verification, login, refresh-token rotation with reuse
//! detection, logout, the profile, and the admin bootstrap.
//!
//! One file per concern: `signup`, `email_verification`, `sessions`, `profile`, `admin`; the
//! types they share are here.

mod admin;
mod email_verification;
mod profile;
mod sessions;
mod signup;

use chrono::{DateTime, Utc};
use jangteo_core::Role;
use jangteo_core::ids::UserId;
use jangteo_core::verification;
use jangteo_store::accounts::User;
use jangteo_store::{ConnectionTrait, StoreError, accounts as store};
use sea_orm::DatabaseConnection;

use crate::{ServiceError, ServiceResult, Services};

pub struct Accounts<'a> {
    s: &'a Services,
}

#[derive(Debug, Clone, Default)]
pub struct SignupInput<'a> {
    pub email: Option<&'a str>,
    pub password: Option<&'a str>,
    pub display_name: Option<&'a str>,
}

/// A freshly issued token pair.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    pub user_id: UserId,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub id: UserId,
    pub email: String,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for Profile {
    fn from(u: User) -> Self {
        Profile {
            id: u.id,
            role: u.role,
            email: u.email.into_string(),
            display_name: u.display_name,
            phone: u.phone,
            email_verified: u.email_verified_at.is_some(),
            created_at: u.created_at,
        }
    }
}

/// Inserts a new account; a taken address is 409 `email_taken` whoever checked first.
pub(super) async fn insert_new_user(c: &impl ConnectionTrait, user: User) -> ServiceResult<()> {
    store::insert_user(c, user).await.map_err(|e| match e {
        StoreError::Conflict {
            index: Some("ux_users_email"),
        } => email_taken(),
        other => other.into(),
    })
}

/// Profile fields a user may change; `Some(None)` clears a field.
#[derive(Debug, Default)]
pub struct ProfilePatch<'a> {
    pub display_name: Option<Option<&'a str>>,
    pub phone: Option<Option<&'a str>>,
}

impl<'a> Accounts<'a> {
    pub(crate) fn new(s: &'a Services) -> Self {
        Self { s }
    }

    pub(super) fn db(&self) -> &DatabaseConnection {
        &self.s.db
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.s.clock.now()
    }
}

pub(super) fn email_taken() -> ServiceError {
    ServiceError::conflict(
        "email_taken",
        "an account with this e-mail address already exists",
    )
}

pub(super) fn code_locked() -> ServiceError {
    ServiceError::TooManyRequests {
        code: "code_attempts_exceeded",
        detail: "too many wrong codes; request a new code".into(),
        retry_after_secs: verification::RESEND_COOLDOWN_SECONDS as u64,
    }
}
