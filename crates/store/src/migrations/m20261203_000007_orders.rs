//! Orders: the order (its totals and a copy of the shipping address, so editing the address
//! book never rewrites history), its lines (a copy of what was bought and at what price)
//! and one shipment per seller (its own delivery state and shipping fee). Sellers' shipping
//! rules live beside the sellers; a seller without a row has the default rule.

use sea_orm_migration::prelude::*;

use super::utc_timestamp as ts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000007_orders"
    }
}

#[derive(DeriveIden)]
enum ShippingRules {
    Table,
    SellerId,
    BaseFee,
    FreeFrom,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    BuyerId,
    Status,
    Currency,
    ItemsTotal,
    ShippingTotal,
    DiscountTotal,
    Total,
    Vat,
    RefundedTotal,
    Recipient,
    Phone,
    PostalCode,
    Line1,
    Line2,
    PaymentDeadline,
    CancelReason,
    CreatedAt,
    UpdatedAt,
    PaidAt,
    CancelledAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    OrderId,
    LineNo,
    ProductId,
    VariantId,
    SellerId,
    ProductName,
    VariantName,
    Sku,
    UnitPrice,
    Quantity,
    LineTotal,
    Discount,
    RefundedQuantity,
}

#[derive(DeriveIden)]
enum OrderShipments {
    Table,
    OrderId,
    SellerId,
    Status,
    ItemsTotal,
    ShippingFee,
    TrackingNumber,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ShippingRules::Table)
                .col(
                    ColumnDef::new(ShippingRules::SellerId)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ShippingRules::BaseFee)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(ShippingRules::FreeFrom).big_integer().null())
                .col(ts(m, ShippingRules::UpdatedAt).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(ShippingRules::Table, ShippingRules::SellerId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        let money = |c: Orders| ColumnDef::new(c).big_integer().not_null().to_owned();
        m.create_table(
            Table::create()
                .table(Orders::Table)
                .col(ColumnDef::new(Orders::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Orders::BuyerId).uuid().not_null())
                .col(ColumnDef::new(Orders::Status).string_len(16).not_null())
                .col(ColumnDef::new(Orders::Currency).string_len(3).not_null())
                .col(money(Orders::ItemsTotal))
                .col(money(Orders::ShippingTotal))
                .col(money(Orders::DiscountTotal))
                .col(money(Orders::Total))
                .col(money(Orders::Vat))
                .col(money(Orders::RefundedTotal))
                .col(ColumnDef::new(Orders::Recipient).string_len(100).not_null())
                .col(ColumnDef::new(Orders::Phone).string_len(32).not_null())
                .col(ColumnDef::new(Orders::PostalCode).string_len(16).not_null())
                .col(ColumnDef::new(Orders::Line1).string_len(200).not_null())
                .col(ColumnDef::new(Orders::Line2).string_len(200).null())
                .col(ts(m, Orders::PaymentDeadline).not_null())
                .col(ColumnDef::new(Orders::CancelReason).string_len(32).null())
                .col(ts(m, Orders::CreatedAt).not_null())
                .col(ts(m, Orders::UpdatedAt).not_null())
                .col(ts(m, Orders::PaidAt).null())
                .col(ts(m, Orders::CancelledAt).null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Orders::Table, Orders::BuyerId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // A buyer's history, newest first (ids are time-ordered).
        m.create_index(
            Index::create()
                .name("ix_orders_buyer")
                .table(Orders::Table)
                .col(Orders::BuyerId)
                .col(Orders::Id)
                .to_owned(),
        )
        .await?;
        // The deadline sweep: PENDING orders whose deadline has passed.
        m.create_index(
            Index::create()
                .name("ix_orders_status_deadline")
                .table(Orders::Table)
                .col(Orders::Status)
                .col(Orders::PaymentDeadline)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OrderLines::Table)
                .col(ColumnDef::new(OrderLines::OrderId).uuid().not_null())
                .col(ColumnDef::new(OrderLines::LineNo).integer().not_null())
                .col(ColumnDef::new(OrderLines::ProductId).uuid().not_null())
                .col(ColumnDef::new(OrderLines::VariantId).uuid().not_null())
                .col(ColumnDef::new(OrderLines::SellerId).uuid().not_null())
                .col(
                    ColumnDef::new(OrderLines::ProductName)
                        .string_len(200)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OrderLines::VariantName)
                        .string_len(100)
                        .not_null(),
                )
                .col(ColumnDef::new(OrderLines::Sku).string_len(64).not_null())
                .col(
                    ColumnDef::new(OrderLines::UnitPrice)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OrderLines::Quantity)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OrderLines::LineTotal)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OrderLines::Discount)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OrderLines::RefundedQuantity)
                        .big_integer()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(OrderLines::OrderId)
                        .col(OrderLines::LineNo),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(OrderLines::Table, OrderLines::OrderId)
                        .to(Orders::Table, Orders::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OrderShipments::Table)
                .col(ColumnDef::new(OrderShipments::OrderId).uuid().not_null())
                .col(ColumnDef::new(OrderShipments::SellerId).uuid().not_null())
                .col(
                    ColumnDef::new(OrderShipments::Status)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OrderShipments::ItemsTotal)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OrderShipments::ShippingFee)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(OrderShipments::TrackingNumber)
                        .string_len(64)
                        .null(),
                )
                .col(ts(m, OrderShipments::UpdatedAt).not_null())
                .primary_key(
                    Index::create()
                        .col(OrderShipments::OrderId)
                        .col(OrderShipments::SellerId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(OrderShipments::Table, OrderShipments::OrderId)
                        .to(Orders::Table, Orders::Id),
                )
                .to_owned(),
        )
        .await?;
        // A seller's orders, newest first.
        m.create_index(
            Index::create()
                .name("ix_order_shipments_seller")
                .table(OrderShipments::Table)
                .col(OrderShipments::SellerId)
                .col(OrderShipments::OrderId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OrderShipments::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(OrderLines::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Orders::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ShippingRules::Table).to_owned())
            .await
    }
}
