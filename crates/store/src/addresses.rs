//! The shipping address book. Every query is scoped by owner: another user's address is
//! indistinguishable from a missing one.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::entities::addresses;
use crate::{StoreError, StoreResult};

pub async fn list(c: &impl ConnectionTrait, user_id: Uuid) -> StoreResult<Vec<addresses::Model>> {
    Ok(addresses::Entity::find()
        .filter(addresses::Column::UserId.eq(user_id))
        .order_by_asc(addresses::Column::Id)
        .all(c)
        .await?)
}

pub async fn count(c: &impl ConnectionTrait, user_id: Uuid) -> StoreResult<u64> {
    Ok(addresses::Entity::find()
        .filter(addresses::Column::UserId.eq(user_id))
        .count(c)
        .await?)
}

pub async fn find_owned(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> StoreResult<addresses::Model> {
    addresses::Entity::find_by_id(id)
        .filter(addresses::Column::UserId.eq(user_id))
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)
}

pub async fn insert(c: &impl ConnectionTrait, address: addresses::Model) -> StoreResult<()> {
    crate::insert_one(c, address.into_active_model()).await?;
    Ok(())
}

pub async fn update(
    c: &impl ConnectionTrait,
    address: addresses::Model,
) -> StoreResult<addresses::Model> {
    let mut am = address.clone().into_active_model();
    // Mark every column changed: the caller passes the full new state.
    am.label = Set(address.label);
    am.recipient = Set(address.recipient);
    am.phone = Set(address.phone);
    am.postal_code = Set(address.postal_code);
    am.line1 = Set(address.line1);
    am.line2 = Set(address.line2);
    am.is_default = Set(address.is_default);
    am.updated_at = Set(address.updated_at);
    Ok(am.update(c).await?)
}

pub async fn delete_owned(c: &impl ConnectionTrait, user_id: Uuid, id: Uuid) -> StoreResult<()> {
    let res = addresses::Entity::delete_many()
        .filter(addresses::Column::Id.eq(id))
        .filter(addresses::Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

/// Clears the default flag on all of a user's addresses except `keep`.
pub async fn clear_default(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    keep: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    addresses::Entity::update_many()
        .col_expr(addresses::Column::IsDefault, Expr::value(false))
        .col_expr(addresses::Column::UpdatedAt, Expr::value(now))
        .filter(addresses::Column::UserId.eq(user_id))
        .filter(addresses::Column::Id.ne(keep))
        .filter(addresses::Column::IsDefault.eq(true))
        .exec(c)
        .await?;
    Ok(())
}

/// Makes the oldest remaining address the default if none is; used after a delete.
pub async fn ensure_default(
    c: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let all = list(c, user_id).await?;
    if all.is_empty() || all.iter().any(|a| a.is_default) {
        return Ok(());
    }
    let mut first = all[0].clone().into_active_model();
    first.is_default = Set(true);
    first.updated_at = Set(now);
    first.update(c).await?;
    Ok(())
}
