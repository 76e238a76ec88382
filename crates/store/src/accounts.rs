//! Users, e-mail verification codes and refresh tokens.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use jangteo_core::Email;
use jangteo_core::Role;
use jangteo_core::ids::UserId;

use crate::entities::{email_codes, refresh_tokens, users};
use crate::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// Normalised when it was accepted (lower-case domain, NFC).
    pub email: Email,
    /// `None` for accounts that only sign in through a provider.
    pub password_hash: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// A new, unverified account.
    pub fn new(
        email: Email,
        password_hash: Option<String>,
        display_name: Option<String>,
        role: Role,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: UserId::new(),
            email,
            password_hash,
            display_name,
            phone: None,
            role,
            email_verified_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

impl TryFrom<users::Model> for User {
    type Error = StoreError;

    fn try_from(m: users::Model) -> StoreResult<Self> {
        let role = Role::parse(&m.role)
            .ok_or_else(|| StoreError::Corrupt(format!("user {} has role {:?}", m.id, m.role)))?;
        Ok(Self {
            id: m.id.into(),
            email: Email::from_trusted(m.email),
            password_hash: m.password_hash,
            display_name: m.display_name,
            phone: m.phone,
            role,
            email_verified_at: m.email_verified_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

impl From<User> for users::Model {
    fn from(u: User) -> Self {
        Self {
            id: u.id.uuid(),
            email: u.email.into_string(),
            password_hash: u.password_hash,
            display_name: u.display_name,
            phone: u.phone,
            role: u.role.as_str().to_owned(),
            email_verified_at: u.email_verified_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A pending e-mail verification code (only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailCode {
    pub user_id: UserId,
    pub code_hash: String,
    pub expires_at: DateTime<Utc>,
    pub attempts: i32,
    pub sent_at: DateTime<Utc>,
}

impl From<email_codes::Model> for EmailCode {
    fn from(m: email_codes::Model) -> Self {
        Self {
            user_id: m.user_id.into(),
            code_hash: m.code_hash,
            expires_at: m.expires_at,
            attempts: m.attempts,
            sent_at: m.sent_at,
        }
    }
}

impl From<EmailCode> for email_codes::Model {
    fn from(e: EmailCode) -> Self {
        Self {
            user_id: e.user_id.uuid(),
            code_hash: e.code_hash,
            expires_at: e.expires_at,
            attempts: e.attempts,
            sent_at: e.sent_at,
        }
    }
}

/// One refresh token of a session family (rotated on each use; only the hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: UserId,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<refresh_tokens::Model> for RefreshToken {
    fn from(m: refresh_tokens::Model) -> Self {
        Self {
            id: m.id,
            family_id: m.family_id,
            user_id: m.user_id.into(),
            token_hash: m.token_hash,
            expires_at: m.expires_at,
            used_at: m.used_at,
            revoked_at: m.revoked_at,
            created_at: m.created_at,
        }
    }
}

impl From<RefreshToken> for refresh_tokens::Model {
    fn from(t: RefreshToken) -> Self {
        Self {
            id: t.id,
            family_id: t.family_id,
            user_id: t.user_id.uuid(),
            token_hash: t.token_hash,
            expires_at: t.expires_at,
            used_at: t.used_at,
            revoked_at: t.revoked_at,
            created_at: t.created_at,
        }
    }
}

pub async fn insert_user(c: &impl ConnectionTrait, user: User) -> StoreResult<()> {
    crate::insert_one(c, users::Model::from(user).into_active_model()).await?;
    Ok(())
}

/// Many users in one statement (bulk loads such as `jangteo seed`).
pub async fn insert_users(c: &impl ConnectionTrait, rows: Vec<User>) -> StoreResult<()> {
    let rows = rows
        .into_iter()
        .map(|u| users::Model::from(u).into_active_model())
        .collect();
    crate::insert_many(c, rows).await
}

pub async fn find_user(c: &impl ConnectionTrait, id: UserId) -> StoreResult<User> {
    users::Entity::find_by_id(id.uuid())
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// The users of `ids` that exist, in no particular order.
pub async fn find_users(c: &impl ConnectionTrait, ids: &[UserId]) -> StoreResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    users::Entity::find()
        .filter(users::Column::Id.is_in(ids.iter().map(|id| id.uuid())))
        .all(c)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
}

pub async fn find_user_by_email(
    c: &impl ConnectionTrait,
    email: &str,
) -> StoreResult<Option<User>> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(c)
        .await?
        .map(User::try_from)
        .transpose()
}

pub async fn count_users_with_email(c: &impl ConnectionTrait, email: &str) -> StoreResult<u64> {
    Ok(users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .count(c)
        .await?)
}

/// Profile changes: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Default, Clone)]
pub struct ProfileChange {
    pub display_name: Option<Option<String>>,
    pub phone: Option<Option<String>>,
}

pub async fn update_profile(
    c: &impl ConnectionTrait,
    id: UserId,
    change: ProfileChange,
    now: DateTime<Utc>,
) -> StoreResult<User> {
    let mut user = users::Entity::find_by_id(id.uuid())
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)?
        .into_active_model();
    if let Some(v) = change.display_name {
        user.display_name = Set(v);
    }
    if let Some(v) = change.phone {
        user.phone = Set(v);
    }
    user.updated_at = Set(now);
    user.update(c).await?.try_into()
}

pub async fn set_role(
    c: &impl ConnectionTrait,
    id: UserId,
    role: Role,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let res = users::Entity::update_many()
        .col_expr(users::Column::Role, Expr::value(role.as_str()))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(id.uuid()))
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

pub async fn set_password_hash(
    c: &impl ConnectionTrait,
    id: UserId,
    hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(hash))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(id.uuid()))
        .exec(c)
        .await?;
    Ok(())
}

pub async fn mark_verified(
    c: &impl ConnectionTrait,
    id: UserId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::EmailVerifiedAt, Expr::value(now))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(id.uuid()))
        .filter(users::Column::EmailVerifiedAt.is_null())
        .exec(c)
        .await?;
    Ok(())
}

pub async fn any_user_with_role(c: &impl ConnectionTrait, role: Role) -> StoreResult<bool> {
    Ok(users::Entity::find()
        .filter(users::Column::Role.eq(role.as_str()))
        .one(c)
        .await?
        .is_some())
}

/// One keyset page of users ordered by id (UUIDv7, so by creation time).
pub async fn list_users(
    c: &impl ConnectionTrait,
    role: Option<Role>,
    after: Option<UserId>,
    limit: u64,
) -> StoreResult<Vec<User>> {
    let mut q = users::Entity::find()
        .order_by_asc(users::Column::Id)
        .limit(limit);
    if let Some(role) = role {
        q = q.filter(users::Column::Role.eq(role.as_str()));
    }
    if let Some(after) = after {
        q = q.filter(users::Column::Id.gt(after.uuid()));
    }
    q.all(c).await?.into_iter().map(User::try_from).collect()
}

/// Replaces any pending code of the user.
pub async fn put_email_code(c: &impl ConnectionTrait, code: EmailCode) -> StoreResult<()> {
    email_codes::Entity::delete_by_id(code.user_id.uuid())
        .exec(c)
        .await?;
    crate::insert_one(c, email_codes::Model::from(code).into_active_model()).await?;
    Ok(())
}

pub async fn find_email_code(
    c: &impl ConnectionTrait,
    user_id: UserId,
) -> StoreResult<Option<EmailCode>> {
    Ok(email_codes::Entity::find_by_id(user_id.uuid())
        .one(c)
        .await?
        .map(EmailCode::from))
}

/// Consumes the code if it matches, is unexpired and not locked — in one statement, so two
/// racing guesses cannot both succeed and a locked code cannot be used.
pub async fn consume_email_code(
    c: &impl ConnectionTrait,
    user_id: UserId,
    code_hash: &str,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = email_codes::Entity::delete_many()
        .filter(email_codes::Column::UserId.eq(user_id.uuid()))
        .filter(email_codes::Column::CodeHash.eq(code_hash))
        .filter(email_codes::Column::Attempts.lt(max_attempts))
        .filter(email_codes::Column::ExpiresAt.gt(now))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Counts one wrong guess; `false` when the code is already locked (or gone). Conditional,
/// so parallel wrong guesses cannot exceed the limit.
pub async fn count_failed_guess(
    c: &impl ConnectionTrait,
    user_id: UserId,
    max_attempts: i32,
) -> StoreResult<bool> {
    let res = email_codes::Entity::update_many()
        .col_expr(
            email_codes::Column::Attempts,
            Expr::col(email_codes::Column::Attempts).add(1),
        )
        .filter(email_codes::Column::UserId.eq(user_id.uuid()))
        .filter(email_codes::Column::Attempts.lt(max_attempts))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_refresh_token(
    c: &impl ConnectionTrait,
    token: RefreshToken,
) -> StoreResult<()> {
    crate::insert_one(c, refresh_tokens::Model::from(token).into_active_model()).await?;
    Ok(())
}

pub async fn find_refresh_token(
    c: &impl ConnectionTrait,
    token_hash: &str,
) -> StoreResult<Option<RefreshToken>> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .one(c)
        .await?
        .map(RefreshToken::from))
}

/// Marks a refresh token used if it is still live. Exactly one of several concurrent
/// presentations wins; the others see `false` and are treated as reuse.
pub async fn claim_refresh_token(
    c: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .filter(refresh_tokens::Column::ExpiresAt.gt(now))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn revoke_family(
    c: &impl ConnectionTrait,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let res = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}

/// Live (unused, unrevoked, unexpired) refresh tokens of a family; used by tests and audits.
pub async fn live_tokens_in_family(
    c: &impl ConnectionTrait,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .filter(refresh_tokens::Column::ExpiresAt.gt(now))
        .count(c)
        .await?)
}

/// Deletes refresh tokens that expired before `cutoff`; keeps the table small.
pub async fn purge_expired_refresh_tokens(
    c: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
) -> StoreResult<u64> {
    let res = refresh_tokens::Entity::delete_many()
        .filter(refresh_tokens::Column::ExpiresAt.lt(cutoff))
        .exec(c)
        .await?;
    Ok(res.rows_affected)
}
