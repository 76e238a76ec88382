//! Wishlists ("likes", 찜): the products a user likes, newest first.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use jangteo_core::ids::{ProductId, UserId};

use crate::entities::wishlist_items as items;
use crate::{StoreResult, uuids};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Like {
    pub product_id: ProductId,
    pub liked_at: DateTime<Utc>,
}

/// Likes a product; liking it again changes nothing. Returns whether it is new. Runs in the
/// caller's transaction; the insert sits under a savepoint so that a racing second like
/// (the primary key refuses it) leaves that transaction usable on PostgreSQL.
pub async fn like(
    c: &DatabaseTransaction,
    user: UserId,
    product: ProductId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    if items::Entity::find_by_id((user.uuid(), product.uuid()))
        .one(c)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let row = items::Model {
        user_id: user.uuid(),
        product_id: product.uuid(),
        created_at: now,
    };
    crate::insert_unless_taken(c, row.into_active_model()).await
}

/// Unlikes the given products; returns how many were liked.
pub async fn unlike(
    c: &impl ConnectionTrait,
    user: UserId,
    products: &[ProductId],
) -> StoreResult<u64> {
    if products.is_empty() {
        return Ok(0);
    }
    Ok(items::Entity::delete_many()
        .filter(items::Column::UserId.eq(user.uuid()))
        .filter(items::Column::ProductId.is_in(uuids(products)))
        .exec(c)
        .await?
        .rows_affected)
}

/// The user's likes, newest first.
pub async fn list(c: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<Like>> {
    Ok(items::Entity::find()
        .filter(items::Column::UserId.eq(user.uuid()))
        .order_by_desc(items::Column::CreatedAt)
        .order_by_desc(items::Column::ProductId)
        .all(c)
        .await?
        .into_iter()
        .map(|m| Like {
            product_id: m.product_id.into(),
            liked_at: m.created_at,
        })
        .collect())
}

pub async fn count(c: &impl ConnectionTrait, user: UserId) -> StoreResult<u64> {
    Ok(items::Entity::find()
        .filter(items::Column::UserId.eq(user.uuid()))
        .count(c)
        .await?)
}
