//! Seller applications and approved sellers.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::entities::{seller_applications as apps, sellers};
use crate::{StoreError, StoreResult};

pub async fn insert_application(c: &impl ConnectionTrait, app: apps::Model) -> StoreResult<()> {
    crate::insert_one(c, app.into_active_model()).await?;
    Ok(())
}

pub async fn find_application(c: &impl ConnectionTrait, id: Uuid) -> StoreResult<apps::Model> {
    apps::Entity::find_by_id(id)
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Keyset page of applications, newest last; optionally one user's or one status.
pub async fn list_applications(
    c: &impl ConnectionTrait,
    user_id: Option<Uuid>,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: u64,
) -> StoreResult<Vec<apps::Model>> {
    let mut q = apps::Entity::find()
        .order_by_asc(apps::Column::Id)
        .limit(limit);
    if let Some(user_id) = user_id {
        q = q.filter(apps::Column::UserId.eq(user_id));
    }
    if let Some(status) = status {
        q = q.filter(apps::Column::Status.eq(status));
    }
    if let Some(after) = after {
        q = q.filter(apps::Column::Id.gt(after));
    }
    Ok(q.all(c).await?)
}

/// Records a decision if the application is still pending; `false` if someone decided it
/// first (two admins clicking at once).
pub async fn decide_application(
    c: &impl ConnectionTrait,
    id: Uuid,
    status: &str,
    reason: Option<String>,
    decided_by: Uuid,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = apps::Entity::update_many()
        .col_expr(apps::Column::Status, Expr::value(status))
        .col_expr(
            apps::Column::PendingUserId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(apps::Column::Reason, Expr::value(reason))
        .col_expr(apps::Column::DecidedBy, Expr::value(decided_by))
        .col_expr(apps::Column::DecidedAt, Expr::value(now))
        .filter(apps::Column::Id.eq(id))
        .filter(apps::Column::Status.eq("PENDING"))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_seller(c: &impl ConnectionTrait, seller: sellers::Model) -> StoreResult<()> {
    crate::insert_one(c, seller.into_active_model()).await?;
    Ok(())
}

pub async fn find_seller(c: &impl ConnectionTrait, user_id: Uuid) -> StoreResult<sellers::Model> {
    sellers::Entity::find_by_id(user_id)
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)
}
