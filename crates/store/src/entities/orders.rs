use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub buyer_id: Uuid,
    pub status: String,
    pub currency: String,
    pub items_total: i64,
    pub shipping_total: i64,
    pub discount_total: i64,
    pub total: i64,
    pub vat: i64,
    pub refunded_total: i64,
    pub recipient: String,
    pub phone: String,
    pub postal_code: String,
    pub line1: String,
    pub line2: Option<String>,
    pub payment_deadline: DateTime<Utc>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
