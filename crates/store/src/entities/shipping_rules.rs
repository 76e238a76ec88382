use chrono::{DateTime, Utc};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipping_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seller_id: Uuid,
    pub base_fee: i64,
    pub free_from: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
