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
use jangteo_core::verification;
use jangteo_store::entities::users;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

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
    pub user_id: Uuid,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub id: Uuid,
    pub email: String,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<users::Model> for Profile {
    type Error = ServiceError;

    fn try_from(u: users::Model) -> ServiceResult<Self> {
        Ok(Profile {
            id: u.id,
            role: parse_role(&u.role)?,
            email: u.email,
            display_name: u.display_name,
            phone: u.phone,
            email_verified: u.email_verified_at.is_some(),
            created_at: u.created_at,
        })
    }
}

fn parse_role(value: &str) -> ServiceResult<Role> {
    Role::parse(value).ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("unknown role {value:?} in users table"))
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
