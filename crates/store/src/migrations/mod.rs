//! Versioned schema migrations. Each file is one released version of the schema and is
//! never edited after release; a change is a new file.

use sea_orm_migration::prelude::*;

mod lock;
mod m20261122_000001_accounts;
mod m20261122_000002_catalog;
mod m20261122_000003_product_images;
mod m20261201_000004_outbox_and_jobs;
mod m20261202_000005_idempotency;
mod m20261202_000006_carts_and_wishlists;
mod m20261203_000007_orders;
mod m20261203_000008_payments;
mod m20261204_000009_queue_claim_order;

pub use lock::MigrationLock;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_accounts::Migration),
            Box::new(m20261122_000002_catalog::Migration),
            Box::new(m20261122_000003_product_images::Migration),
            Box::new(m20261201_000004_outbox_and_jobs::Migration),
            Box::new(m20261202_000005_idempotency::Migration),
            Box::new(m20261202_000006_carts_and_wishlists::Migration),
            Box::new(m20261203_000007_orders::Migration),
            Box::new(m20261203_000008_payments::Migration),
            Box::new(m20261204_000009_queue_claim_order::Migration),
        ]
    }
}

/// A UTC timestamp column. PostgreSQL gets `timestamptz`; MySQL/MariaDB get `datetime(6)`
/// because their `timestamp` ends in 2038 and converts through the session time zone.
pub(crate) fn utc_timestamp(manager: &SchemaManager, name: impl IntoIden) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    match manager.get_database_backend() {
        sea_orm::DbBackend::MySql => col.custom(Alias::new("datetime(6)")),
        _ => col.timestamp_with_time_zone(),
    };
    col
}
