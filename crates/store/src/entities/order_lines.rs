use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub line_no: i32,
    pub product_id: Uuid,
    pub variant_id: Uuid,
    pub seller_id: Uuid,
    pub product_name: String,
    pub variant_name: String,
    pub sku: String,
    pub unit_price: i64,
    pub quantity: i64,
    pub line_total: i64,
    pub discount: i64,
    pub refunded_quantity: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
