//! The transactional outbox (events written with the business change, delivered by a relay)
//! and durable jobs (work due at a time, claimed by lease). Both are claimed with a
//! conditional UPDATE of `lease_owner`/`lease_until`, which all three engines run the same
//! way (SQLite has no SKIP LOCKED).

use sea_orm_migration::prelude::*;

use super::utc_timestamp as ts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000004_outbox_and_jobs"
    }
}

#[derive(DeriveIden)]
enum OutboxEvents {
    Table,
    Id,
    Kind,
    Payload,
    Status,
    Attempts,
    AvailableAt,
    LeaseOwner,
    LeaseUntil,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum OutboxProcessed {
    Table,
    Consumer,
    EventId,
    ProcessedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    DedupKey,
    Status,
    DueAt,
    Attempts,
    MaxAttempts,
    LeaseOwner,
    LeaseUntil,
    LastError,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OutboxEvents::Table)
                .col(
                    ColumnDef::new(OutboxEvents::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(OutboxEvents::Kind).string_len(40).not_null())
                .col(ColumnDef::new(OutboxEvents::Payload).text().not_null())
                .col(
                    ColumnDef::new(OutboxEvents::Status)
                        .string_len(12)
                        .not_null(),
                )
                .col(ColumnDef::new(OutboxEvents::Attempts).integer().not_null())
                .col(ts(m, OutboxEvents::AvailableAt).not_null())
                .col(ColumnDef::new(OutboxEvents::LeaseOwner).uuid().null())
                .col(ts(m, OutboxEvents::LeaseUntil).null())
                .col(
                    ColumnDef::new(OutboxEvents::LastError)
                        .string_len(500)
                        .null(),
                )
                .col(ts(m, OutboxEvents::CreatedAt).not_null())
                .col(ts(m, OutboxEvents::DeliveredAt).null())
                .to_owned(),
        )
        .await?;
        // The relay's claim: pending events that are due, oldest first.
        m.create_index(
            Index::create()
                .name("ix_outbox_events_status_available")
                .table(OutboxEvents::Table)
                .col(OutboxEvents::Status)
                .col(OutboxEvents::AvailableAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outbox_events_lease_owner")
                .table(OutboxEvents::Table)
                .col(OutboxEvents::LeaseOwner)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(OutboxProcessed::Table)
                .col(
                    ColumnDef::new(OutboxProcessed::Consumer)
                        .string_len(40)
                        .not_null(),
                )
                .col(ColumnDef::new(OutboxProcessed::EventId).uuid().not_null())
                .col(ts(m, OutboxProcessed::ProcessedAt).not_null())
                .primary_key(
                    Index::create()
                        .col(OutboxProcessed::Consumer)
                        .col(OutboxProcessed::EventId),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_outbox_processed_at")
                .table(OutboxProcessed::Table)
                .col(OutboxProcessed::ProcessedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(ColumnDef::new(Jobs::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Jobs::Kind).string_len(40).not_null())
                .col(ColumnDef::new(Jobs::Payload).text().not_null())
                .col(ColumnDef::new(Jobs::DedupKey).string_len(120).null())
                .col(ColumnDef::new(Jobs::Status).string_len(12).not_null())
                .col(ts(m, Jobs::DueAt).not_null())
                .col(ColumnDef::new(Jobs::Attempts).integer().not_null())
                .col(ColumnDef::new(Jobs::MaxAttempts).integer().not_null())
                .col(ColumnDef::new(Jobs::LeaseOwner).uuid().null())
                .col(ts(m, Jobs::LeaseUntil).null())
                .col(ColumnDef::new(Jobs::LastError).string_len(500).null())
                .col(ts(m, Jobs::CreatedAt).not_null())
                .to_owned(),
        )
        .await?;
        // At most one queued job per dedup key (several NULLs are allowed on every engine).
        m.create_index(
            Index::create()
                .name("ux_jobs_dedup_key")
                .table(Jobs::Table)
                .col(Jobs::DedupKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_jobs_status_due")
                .table(Jobs::Table)
                .col(Jobs::Status)
                .col(Jobs::DueAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_jobs_lease_owner")
                .table(Jobs::Table)
                .col(Jobs::LeaseOwner)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(OutboxProcessed::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(OutboxEvents::Table).to_owned())
            .await
    }
}
