//! Product images: one row per stored file, ordered by position; the file itself lives in
//! the object store under `key`.

use sea_orm_migration::prelude::*;

use super::utc_timestamp as ts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000003_product_images"
    }
}

#[derive(DeriveIden)]
enum ProductImages {
    Table,
    Id,
    ProductId,
    Position,
    ObjectKey,
    ContentType,
    ByteSize,
    Width,
    Height,
    Sha256,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ProductImages::Table)
                .col(
                    ColumnDef::new(ProductImages::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(ProductImages::ProductId).uuid().not_null())
                .col(ColumnDef::new(ProductImages::Position).integer().not_null())
                .col(
                    ColumnDef::new(ProductImages::ObjectKey)
                        .string_len(200)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ProductImages::ContentType)
                        .string_len(40)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ProductImages::ByteSize)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(ProductImages::Width).integer().not_null())
                .col(ColumnDef::new(ProductImages::Height).integer().not_null())
                .col(
                    ColumnDef::new(ProductImages::Sha256)
                        .string_len(64)
                        .not_null(),
                )
                .col(ts(m, ProductImages::CreatedAt).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from_tbl(ProductImages::Table)
                        .from_col(ProductImages::ProductId)
                        .to_tbl(Products::Table)
                        .to_col(Products::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_product_images_key")
                .table(ProductImages::Table)
                .col(ProductImages::ObjectKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_product_images_product")
                .table(ProductImages::Table)
                .col(ProductImages::ProductId)
                .col(ProductImages::Position)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ProductImages::Table).to_owned())
            .await
    }
}
