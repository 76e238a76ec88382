//! Catalog and inventory: categories (a tree with a materialised path), products, their
//! categories, variants with stock, the inventory ledger and daily sales.

use sea_orm_migration::prelude::*;

use super::utc_timestamp as ts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000002_catalog"
    }
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    ParentId,
    Name,
    Slug,
    Path,
    Depth,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    SellerId,
    Name,
    Description,
    Brand,
    Publisher,
    Price,
    Currency,
    Status,
    SalesCount,
    ViewCount,
    RatingCount,
    RatingSum,
    RatingAvgX100,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProductCategories {
    Table,
    ProductId,
    CategoryId,
}

#[derive(DeriveIden)]
enum Variants {
    Table,
    Id,
    ProductId,
    Sku,
    Name,
    Options,
    PriceDelta,
    Stock,
    InitialStock,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InventoryLedger {
    Table,
    Id,
    VariantId,
    Delta,
    Reason,
    Reference,
    ActorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProductSalesDaily {
    Table,
    ProductId,
    Day,
    Units,
}

#[derive(DeriveIden)]
enum ProductViewsDaily {
    Table,
    ProductId,
    Day,
    Visitors,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Categories::Table)
                .col(
                    ColumnDef::new(Categories::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Categories::ParentId).uuid().null())
                .col(ColumnDef::new(Categories::Name).string_len(60).not_null())
                .col(ColumnDef::new(Categories::Slug).string_len(80).not_null())
                // "/<root id>/<child id>/…/<own id>/": a subtree is one prefix match.
                .col(ColumnDef::new(Categories::Path).string_len(700).not_null())
                .col(ColumnDef::new(Categories::Depth).integer().not_null())
                .col(
                    ColumnDef::new(Categories::Position)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ts(m, Categories::CreatedAt).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(Categories::Table)
                        .from_col(Categories::ParentId)
                        .to_tbl(Categories::Table)
                        .to_col(Categories::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_categories_slug",
                Categories::Table,
                vec![Categories::Slug.into_iden()],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_categories_path",
            Categories::Table,
            vec![Categories::Path.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Products::Table)
                .col(ColumnDef::new(Products::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Products::SellerId).uuid().not_null())
                .col(ColumnDef::new(Products::Name).string_len(200).not_null())
                .col(ColumnDef::new(Products::Description).text().not_null())
                .col(ColumnDef::new(Products::Brand).string_len(100).null())
                .col(ColumnDef::new(Products::Publisher).string_len(100).null())
                .col(ColumnDef::new(Products::Price).big_integer().not_null())
                .col(ColumnDef::new(Products::Currency).string_len(3).not_null())
                .col(ColumnDef::new(Products::Status).string_len(16).not_null())
                .col(
                    ColumnDef::new(Products::SalesCount)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Products::ViewCount)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Products::RatingCount)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new(Products::RatingSum)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                // Average rating × 100 as an integer, kept for sorting without floats.
                .col(
                    ColumnDef::new(Products::RatingAvgX100)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ts(m, Products::DeletedAt).null())
                .col(ts(m, Products::CreatedAt).not_null())
                .col(ts(m, Products::UpdatedAt).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(Products::Table)
                        .from_col(Products::SellerId)
                        .to_tbl(Users::Table)
                        .to_col(Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // One index per listing order, each ending in id for the keyset tie-break.
        m.create_index(index(
            "ix_products_status_id",
            Products::Table,
            vec![Products::Status.into_iden(), Products::Id.into_iden()],
        ))
        .await?;
        m.create_index(index(
            "ix_products_status_price",
            Products::Table,
            vec![
                Products::Status.into_iden(),
                Products::Price.into_iden(),
                Products::Id.into_iden(),
            ],
        ))
        .await?;
        m.create_index(index(
            "ix_products_status_sales",
            Products::Table,
            vec![
                Products::Status.into_iden(),
                Products::SalesCount.into_iden(),
                Products::Id.into_iden(),
            ],
        ))
        .await?;
        m.create_index(index(
            "ix_products_status_rating",
            Products::Table,
            vec![
                Products::Status.into_iden(),
                Products::RatingAvgX100.into_iden(),
                Products::Id.into_iden(),
            ],
        ))
        .await?;
        m.create_index(index(
            "ix_products_seller",
            Products::Table,
            vec![Products::SellerId.into_iden(), Products::Id.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(ProductCategories::Table)
                .col(
                    ColumnDef::new(ProductCategories::ProductId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ProductCategories::CategoryId)
                        .uuid()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(ProductCategories::ProductId)
                        .col(ProductCategories::CategoryId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(ProductCategories::Table)
                        .from_col(ProductCategories::ProductId)
                        .to_tbl(Products::Table)
                        .to_col(Products::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(ProductCategories::Table)
                        .from_col(ProductCategories::CategoryId)
                        .to_tbl(Categories::Table)
                        .to_col(Categories::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_product_categories_category",
            ProductCategories::Table,
            vec![
                ProductCategories::CategoryId.into_iden(),
                ProductCategories::ProductId.into_iden(),
            ],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Variants::Table)
                .col(ColumnDef::new(Variants::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Variants::ProductId).uuid().not_null())
                .col(ColumnDef::new(Variants::Sku).string_len(64).not_null())
                .col(ColumnDef::new(Variants::Name).string_len(100).not_null())
                .col(ColumnDef::new(Variants::Options).text().not_null())
                .col(
                    ColumnDef::new(Variants::PriceDelta)
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(Variants::Stock).big_integer().not_null())
                .col(
                    ColumnDef::new(Variants::InitialStock)
                        .big_integer()
                        .not_null(),
                )
                .col(ts(m, Variants::DeletedAt).null())
                .col(ts(m, Variants::CreatedAt).not_null())
                .col(ts(m, Variants::UpdatedAt).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(Variants::Table)
                        .from_col(Variants::ProductId)
                        .to_tbl(Products::Table)
                        .to_col(Products::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index(
                "ux_variants_sku",
                Variants::Table,
                vec![Variants::Sku.into_iden()],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_variants_product",
            Variants::Table,
            vec![Variants::ProductId.into_iden()],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(InventoryLedger::Table)
                .col(
                    ColumnDef::new(InventoryLedger::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(InventoryLedger::VariantId).uuid().not_null())
                .col(
                    ColumnDef::new(InventoryLedger::Delta)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(InventoryLedger::Reason)
                        .string_len(32)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(InventoryLedger::Reference)
                        .string_len(100)
                        .null(),
                )
                .col(ColumnDef::new(InventoryLedger::ActorId).uuid().null())
                .col(ts(m, InventoryLedger::CreatedAt).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(InventoryLedger::Table)
                        .from_col(InventoryLedger::VariantId)
                        .to_tbl(Variants::Table)
                        .to_col(Variants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_inventory_ledger_variant",
            InventoryLedger::Table,
            vec![
                InventoryLedger::VariantId.into_iden(),
                InventoryLedger::Id.into_iden(),
            ],
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(ProductSalesDaily::Table)
                .col(
                    ColumnDef::new(ProductSalesDaily::ProductId)
                        .uuid()
                        .not_null(),
                )
                // Days since 1970-01-01 (UTC): an integer compares and ranges the same on
                // every engine.
                .col(ColumnDef::new(ProductSalesDaily::Day).integer().not_null())
                .col(
                    ColumnDef::new(ProductSalesDaily::Units)
                        .big_integer()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(ProductSalesDaily::ProductId)
                        .col(ProductSalesDaily::Day),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(ProductSalesDaily::Table)
                        .from_col(ProductSalesDaily::ProductId)
                        .to_tbl(Products::Table)
                        .to_col(Products::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_product_sales_daily_day",
            ProductSalesDaily::Table,
            vec![
                ProductSalesDaily::Day.into_iden(),
                ProductSalesDaily::ProductId.into_iden(),
            ],
        ))
        .await?;
        // Unique visitors per product and day, estimated with HyperLogLog and written
        // periodically (the estimate only grows during a day, so a write replaces it).
        m.create_table(
            Table::create()
                .table(ProductViewsDaily::Table)
                .col(
                    ColumnDef::new(ProductViewsDaily::ProductId)
                        .uuid()
                        .not_null(),
                )
                .col(ColumnDef::new(ProductViewsDaily::Day).integer().not_null())
                .col(
                    ColumnDef::new(ProductViewsDaily::Visitors)
                        .big_integer()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(ProductViewsDaily::ProductId)
                        .col(ProductViewsDaily::Day),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(ProductViewsDaily::Table)
                        .from_col(ProductViewsDaily::ProductId)
                        .to_tbl(Products::Table)
                        .to_col(Products::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ProductViewsDaily::Table.into_iden(),
            ProductSalesDaily::Table.into_iden(),
            InventoryLedger::Table.into_iden(),
            Variants::Table.into_iden(),
            ProductCategories::Table.into_iden(),
            Products::Table.into_iden(),
            Categories::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
