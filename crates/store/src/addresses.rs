//! The shipping address book. Every query is scoped by owner: another user's address is
//! indistinguishable from a missing one.

use chrono::{DateTime, Utc};
use jangteo_core::ids::{AddressId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::entities::addresses;
use crate::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub id: AddressId,
    pub user_id: UserId,
    pub label: Option<String>,
    pub recipient: String,
    pub phone: String,
    pub postal_code: String,
    pub line1: String,
    pub line2: Option<String>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<addresses::Model> for Address {
    fn from(m: addresses::Model) -> Self {
        Self {
            id: m.id.into(),
            user_id: m.user_id.into(),
            label: m.label,
            recipient: m.recipient,
            phone: m.phone,
            postal_code: m.postal_code,
            line1: m.line1,
            line2: m.line2,
            is_default: m.is_default,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl From<Address> for addresses::Model {
    fn from(a: Address) -> Self {
        Self {
            id: a.id.uuid(),
            user_id: a.user_id.uuid(),
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

pub async fn list(c: &impl ConnectionTrait, user_id: UserId) -> StoreResult<Vec<Address>> {
    Ok(addresses::Entity::find()
        .filter(addresses::Column::UserId.eq(user_id.uuid()))
        .order_by_asc(addresses::Column::Id)
        .all(c)
        .await?
        .into_iter()
        .map(Address::from)
        .collect())
}

pub async fn count(c: &impl ConnectionTrait, user_id: UserId) -> StoreResult<u64> {
    Ok(addresses::Entity::find()
        .filter(addresses::Column::UserId.eq(user_id.uuid()))
        .count(c)
        .await?)
}

pub async fn find_owned(
    c: &impl ConnectionTrait,
    user_id: UserId,
    id: AddressId,
) -> StoreResult<Address> {
    addresses::Entity::find_by_id(id.uuid())
        .filter(addresses::Column::UserId.eq(user_id.uuid()))
        .one(c)
        .await?
        .map(Address::from)
        .ok_or(StoreError::NotFound)
}

pub async fn insert(c: &impl ConnectionTrait, address: Address) -> StoreResult<()> {
    crate::insert_one(c, addresses::Model::from(address).into_active_model()).await?;
    Ok(())
}

pub async fn update(c: &impl ConnectionTrait, address: Address) -> StoreResult<Address> {
    let mut am = addresses::Model::from(address.clone()).into_active_model();
    // Mark every column changed: the caller passes the full new state.
    am.label = Set(address.label);
    am.recipient = Set(address.recipient);
    am.phone = Set(address.phone);
    am.postal_code = Set(address.postal_code);
    am.line1 = Set(address.line1);
    am.line2 = Set(address.line2);
    am.is_default = Set(address.is_default);
    am.updated_at = Set(address.updated_at);
    Ok(am.update(c).await?.into())
}

pub async fn delete_owned(
    c: &impl ConnectionTrait,
    user_id: UserId,
    id: AddressId,
) -> StoreResult<()> {
    let res = addresses::Entity::delete_many()
        .filter(addresses::Column::Id.eq(id.uuid()))
        .filter(addresses::Column::UserId.eq(user_id.uuid()))
        .exec(c)
        .await?;
    crate::touched(res.rows_affected)
}

/// Clears the default flag on all of a user's addresses except `keep`.
pub async fn clear_default(
    c: &impl ConnectionTrait,
    user_id: UserId,
    keep: AddressId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    addresses::Entity::update_many()
        .col_expr(addresses::Column::IsDefault, Expr::value(false))
        .col_expr(addresses::Column::UpdatedAt, Expr::value(now))
        .filter(addresses::Column::UserId.eq(user_id.uuid()))
        .filter(addresses::Column::Id.ne(keep.uuid()))
        .filter(addresses::Column::IsDefault.eq(true))
        .exec(c)
        .await?;
    Ok(())
}

/// Makes the oldest remaining address the default if none is; used after a delete.
pub async fn ensure_default(
    c: &impl ConnectionTrait,
    user_id: UserId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let all = list(c, user_id).await?;
    if all.is_empty() || all.iter().any(|a| a.is_default) {
        return Ok(());
    }
    let mut first = addresses::Model::from(all[0].clone()).into_active_model();
    first.is_default = Set(true);
    first.updated_at = Set(now);
    first.update(c).await?;
    Ok(())
}
