//! Payments and refunds. A payment is one attempt to pay an order at a gateway (a failed
//! one leaves the order PENDING and the buyer may try again); the order's move PENDING →
//! ORDERED decides which attempt pays it, and an attempt that loses is refunded. A refund is
//! recorded (its lines' quantities and the stock returned) before the gateway is asked, and
//! a durable job retries the gateway until it answers, so a refund is never lost or doubled.

use sea_orm_migration::prelude::*;

use super::utc_timestamp as ts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000008_payments"
    }
}

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    BuyerId,
    Provider,
    Status,
    Amount,
    Currency,
    Refunded,
    GatewayKey,
    RedirectUrl,
    FailureCode,
    FailureMessage,
    ConfirmingSince,
    CreatedAt,
    UpdatedAt,
    PaidAt,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    Id,
    PaymentId,
    OrderId,
    Amount,
    Reason,
    Lines,
    Status,
    Attempts,
    LastError,
    CreatedAt,
    DoneAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Payments::Table)
                .col(ColumnDef::new(Payments::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Payments::OrderId).uuid().not_null())
                .col(ColumnDef::new(Payments::BuyerId).uuid().not_null())
                .col(ColumnDef::new(Payments::Provider).string_len(16).not_null())
                .col(ColumnDef::new(Payments::Status).string_len(16).not_null())
                .col(ColumnDef::new(Payments::Amount).big_integer().not_null())
                .col(ColumnDef::new(Payments::Currency).string_len(3).not_null())
                .col(ColumnDef::new(Payments::Refunded).big_integer().not_null())
                .col(ColumnDef::new(Payments::GatewayKey).string_len(200).null())
                .col(ColumnDef::new(Payments::RedirectUrl).string_len(500).null())
                .col(ColumnDef::new(Payments::FailureCode).string_len(64).null())
                .col(
                    ColumnDef::new(Payments::FailureMessage)
                        .string_len(500)
                        .null(),
                )
                .col(ts(m, Payments::ConfirmingSince).null())
                .col(ts(m, Payments::CreatedAt).not_null())
                .col(ts(m, Payments::UpdatedAt).not_null())
                .col(ts(m, Payments::PaidAt).null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Payments::Table, Payments::OrderId)
                        .to(Orders::Table, Orders::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_payments_order")
                .table(Payments::Table)
                .col(Payments::OrderId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Refunds::Table)
                .col(ColumnDef::new(Refunds::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Refunds::PaymentId).uuid().not_null())
                .col(ColumnDef::new(Refunds::OrderId).uuid().not_null())
                .col(ColumnDef::new(Refunds::Amount).big_integer().not_null())
                .col(ColumnDef::new(Refunds::Reason).string_len(200).not_null())
                .col(ColumnDef::new(Refunds::Lines).text().not_null())
                .col(ColumnDef::new(Refunds::Status).string_len(16).not_null())
                .col(ColumnDef::new(Refunds::Attempts).integer().not_null())
                .col(ColumnDef::new(Refunds::LastError).string_len(500).null())
                .col(ts(m, Refunds::CreatedAt).not_null())
                .col(ts(m, Refunds::DoneAt).null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Refunds::Table, Refunds::PaymentId)
                        .to(Payments::Table, Payments::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_refunds_order")
                .table(Refunds::Table)
                .col(Refunds::OrderId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Refunds::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Payments::Table).to_owned())
            .await
    }
}
