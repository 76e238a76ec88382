//! Users, e-mail verification codes and refresh tokens.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entities::{email_codes, refresh_tokens, users};
use crate::{StoreError, StoreResult};

pub async fn insert_user(c: &impl ConnectionTrait, user: users::Model) -> StoreResult<()> {
    crate::insert_one(c, user.into_active_model()).await?;
    Ok(())
}

pub async fn find_user(c: &impl ConnectionTrait, id: Uuid) -> StoreResult<users::Model> {
    users::Entity::find_by_id(id)
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn find_user_by_email(
    c: &impl ConnectionTrait,
    email: &str,
) -> StoreResult<Option<users::Model>> {
    Ok(users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(c)
        .await?)
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
    id: Uuid,
    change: ProfileChange,
    now: DateTime<Utc>,
) -> StoreResult<users::Model> {
    let mut user = find_user(c, id).await?.into_active_model();
    if let Some(v) = change.display_name {
        user.display_name = Set(v);
    }
    if let Some(v) = change.phone {
        user.phone = Set(v);
    }
    user.updated_at = Set(now);
    Ok(user.update(c).await?)
}

pub async fn set_role(
    c: &impl ConnectionTrait,
    id: Uuid,
    role: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let res = users::Entity::update_many()
        .col_expr(users::Column::Role, Expr::value(role))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(id))
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

pub async fn set_password_hash(
    c: &impl ConnectionTrait,
    id: Uuid,
    hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(hash))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(id))
        .exec(c)
        .await?;
    Ok(())
}

pub async fn mark_verified(
    c: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::EmailVerifiedAt, Expr::value(now))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::EmailVerifiedAt.is_null())
        .exec(c)
        .await?;
    Ok(())
}

pub async fn any_user_with_role(c: &impl ConnectionTrait, role: &str) -> StoreResult<bool> {
    Ok(users::Entity::find()
        .filter(users::Column::Role.eq(role))
        .one(c)
        .await?
        .is_some())
}

/// One keyset page of users ordered by id (UUIDv7, so by creation time).
pub async fn list_users(
    c: &impl ConnectionTrait,
    role: Option<&str>,
    after: Option<Uuid>,
    limit: u64,
) -> StoreResult<Vec<users::Model>> {
    let mut q = users::Entity::find()
        .order_by_asc(users::Column::Id)
        .limit(limit);
    if let Some(role) = role {
        q = q.filter(users::Column::Role.eq(role));
    }
    if let Some(after) = after {
        q = q.filter(users::Column::Id.gt(after));
    }
    Ok(q.all(c).await?)
}

/// Replaces any pending code of the user.
pub async fn put_email_code(c: &impl ConnectionTrait, code: email_codes::Model) -> StoreResult<()> {
    email_codes::Entity::delete_by_id(code.user_id)
        .exec(c)
        .await?;
    crate::insert_one(c, code.into_active_model()).await?;
    Ok(())
}

pub async fn find_email_code(
    c: &impl ConnectionTrait,
    user_id: Uuid,
) -> StoreResult<Option<email_codes::Model>> {
    Ok(email_codes::Entity::find_by_id(user_id).one(c).await?)
}

/// Consumes the code if it matches, is unexpired and not locked — in one statement, so two
/// racing guesses cannot both succeed and a locked code cannot be used.
pub async fn consume_email_code(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    code_hash: &str,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = email_codes::Entity::delete_many()
        .filter(email_codes::Column::UserId.eq(user_id))
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
    user_id: Uuid,
    max_attempts: i32,
) -> StoreResult<bool> {
    let res = email_codes::Entity::update_many()
        .col_expr(
            email_codes::Column::Attempts,
            Expr::col(email_codes::Column::Attempts).add(1),
        )
        .filter(email_codes::Column::UserId.eq(user_id))
        .filter(email_codes::Column::Attempts.lt(max_attempts))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_refresh_token(
    c: &impl ConnectionTrait,
    token: refresh_tokens::Model,
) -> StoreResult<()> {
    crate::insert_one(c, token.into_active_model()).await?;
    Ok(())
}

pub async fn find_refresh_token(
    c: &impl ConnectionTrait,
    token_hash: &str,
) -> StoreResult<Option<refresh_tokens::Model>> {
    Ok(refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .one(c)
        .await?)
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
