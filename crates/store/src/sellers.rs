//! Seller applications and approved sellers.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use jangteo_core::ids::{ApplicationId, UserId};
use jangteo_core::seller::ApplicationStatus;

use crate::entities::{seller_applications as apps, sellers};
use crate::{StoreError, StoreResult};

/// A request to become a seller and, once decided, the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: ApplicationId,
    pub user_id: UserId,
    pub shop_name: String,
    pub business_number: String,
    pub status: ApplicationStatus,
    /// Set while PENDING: its unique index allows one pending application per user.
    pub pending_user_id: Option<UserId>,
    pub reason: Option<String>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<apps::Model> for Application {
    type Error = StoreError;

    fn try_from(m: apps::Model) -> StoreResult<Self> {
        let status = ApplicationStatus::parse(&m.status).ok_or_else(|| {
            StoreError::Corrupt(format!("application {} has status {:?}", m.id, m.status))
        })?;
        Ok(Self {
            id: m.id.into(),
            user_id: m.user_id.into(),
            shop_name: m.shop_name,
            business_number: m.business_number,
            status,
            pending_user_id: m.pending_user_id.map(Into::into),
            reason: m.reason,
            decided_by: m.decided_by.map(Into::into),
            decided_at: m.decided_at,
            created_at: m.created_at,
        })
    }
}

impl From<Application> for apps::Model {
    fn from(a: Application) -> Self {
        Self {
            id: a.id.uuid(),
            user_id: a.user_id.uuid(),
            shop_name: a.shop_name,
            business_number: a.business_number,
            status: a.status.as_str().to_owned(),
            pending_user_id: a.pending_user_id.map(UserId::uuid),
            reason: a.reason,
            decided_by: a.decided_by.map(UserId::uuid),
            decided_at: a.decided_at,
            created_at: a.created_at,
        }
    }
}

/// An approved seller: a user with a shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    pub user_id: UserId,
    pub shop_name: String,
    pub business_number: String,
    pub application_id: ApplicationId,
    pub created_at: DateTime<Utc>,
}

impl From<sellers::Model> for Seller {
    fn from(m: sellers::Model) -> Self {
        Self {
            user_id: m.user_id.into(),
            shop_name: m.shop_name,
            business_number: m.business_number,
            application_id: m.application_id.into(),
            created_at: m.created_at,
        }
    }
}

impl From<Seller> for sellers::Model {
    fn from(s: Seller) -> Self {
        Self {
            user_id: s.user_id.uuid(),
            shop_name: s.shop_name,
            business_number: s.business_number,
            application_id: s.application_id.uuid(),
            created_at: s.created_at,
        }
    }
}

pub async fn insert_application(c: &impl ConnectionTrait, app: Application) -> StoreResult<()> {
    crate::insert_one(c, apps::Model::from(app).into_active_model()).await?;
    Ok(())
}

pub async fn find_application(
    c: &impl ConnectionTrait,
    id: ApplicationId,
) -> StoreResult<Application> {
    apps::Entity::find_by_id(id.uuid())
        .one(c)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// Keyset page of applications, newest last; optionally one user's or one status.
pub async fn list_applications(
    c: &impl ConnectionTrait,
    user_id: Option<UserId>,
    status: Option<ApplicationStatus>,
    after: Option<ApplicationId>,
    limit: u64,
) -> StoreResult<Vec<Application>> {
    let mut q = apps::Entity::find()
        .order_by_asc(apps::Column::Id)
        .limit(limit);
    if let Some(user_id) = user_id {
        q = q.filter(apps::Column::UserId.eq(user_id.uuid()));
    }
    if let Some(status) = status {
        q = q.filter(apps::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = after {
        q = q.filter(apps::Column::Id.gt(after.uuid()));
    }
    q.all(c)
        .await?
        .into_iter()
        .map(Application::try_from)
        .collect()
}

/// Records a decision if the application is still pending; `false` if someone decided it
/// first (two admins clicking at once).
pub async fn decide_application(
    c: &impl ConnectionTrait,
    id: ApplicationId,
    status: ApplicationStatus,
    reason: Option<String>,
    decided_by: UserId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let res = apps::Entity::update_many()
        .col_expr(apps::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            apps::Column::PendingUserId,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(apps::Column::Reason, Expr::value(reason))
        .col_expr(apps::Column::DecidedBy, Expr::value(decided_by.uuid()))
        .col_expr(apps::Column::DecidedAt, Expr::value(now))
        .filter(apps::Column::Id.eq(id.uuid()))
        .filter(apps::Column::Status.eq(ApplicationStatus::Pending.as_str()))
        .exec(c)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_seller(c: &impl ConnectionTrait, seller: Seller) -> StoreResult<()> {
    crate::insert_one(c, sellers::Model::from(seller).into_active_model()).await?;
    Ok(())
}

/// Many sellers in one statement (bulk loads such as `jangteo seed`).
pub async fn insert_sellers(c: &impl ConnectionTrait, rows: Vec<Seller>) -> StoreResult<()> {
    let rows = rows
        .into_iter()
        .map(|s| sellers::Model::from(s).into_active_model())
        .collect();
    crate::insert_many(c, rows).await
}

pub async fn find_seller(c: &impl ConnectionTrait, user_id: UserId) -> StoreResult<Seller> {
    sellers::Entity::find_by_id(user_id.uuid())
        .one(c)
        .await?
        .map(Seller::from)
        .ok_or(StoreError::NotFound)
}
