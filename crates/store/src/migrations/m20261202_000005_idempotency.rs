//! Idempotency keys: a client's `Idempotency-Key` for a write, reserved in the transaction
//! of the write itself, so the key, the effect and the recorded result commit together or
//! not at all (a retry after a failed attempt starts afresh; a retry after a success gets
//! the first result).

use sea_orm_migration::prelude::*;

use super::utc_timestamp as ts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000005_idempotency"
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Scope,
    OwnerId,
    IdemKey,
    RequestHash,
    Result,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(
                    ColumnDef::new(IdempotencyKeys::Scope)
                        .string_len(40)
                        .not_null(),
                )
                .col(ColumnDef::new(IdempotencyKeys::OwnerId).uuid().not_null())
                .col(
                    ColumnDef::new(IdempotencyKeys::IdemKey)
                        .string_len(255)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(IdempotencyKeys::RequestHash)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(IdempotencyKeys::Result).text().null())
                .col(ts(m, IdempotencyKeys::CreatedAt).not_null())
                .col(ts(m, IdempotencyKeys::ExpiresAt).not_null())
                // One key per owner and operation: the unique index is what makes two racing
                // requests with one key produce one effect.
                .primary_key(
                    Index::create()
                        .col(IdempotencyKeys::Scope)
                        .col(IdempotencyKeys::OwnerId)
                        .col(IdempotencyKeys::IdemKey),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_idempotency_keys_expires_at")
                .table(IdempotencyKeys::Table)
                .col(IdempotencyKeys::ExpiresAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}
