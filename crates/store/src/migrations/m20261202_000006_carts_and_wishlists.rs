//! Carts: one per user (`carts.updated_at` is the last change, from which the cart expires
//! after 7 days) with at most one line per variant, so the lines of one variant cannot
//! together ask for more than the variant's stock. Wishlists: the products a user likes.

use sea_orm_migration::prelude::*;

use super::utc_timestamp as ts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000006_carts_and_wishlists"
    }
}

#[derive(DeriveIden)]
enum Carts {
    Table,
    UserId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CartLines {
    Table,
    UserId,
    VariantId,
    Quantity,
    Selected,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WishlistItems {
    Table,
    UserId,
    ProductId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Variants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Carts::Table)
                .col(
                    ColumnDef::new(Carts::UserId)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ts(m, Carts::UpdatedAt).not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Carts::Table, Carts::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // The expiry sweep: carts whose last change is older than the cut-off.
        m.create_index(
            Index::create()
                .name("ix_carts_updated_at")
                .table(Carts::Table)
                .col(Carts::UpdatedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CartLines::Table)
                .col(ColumnDef::new(CartLines::UserId).uuid().not_null())
                .col(ColumnDef::new(CartLines::VariantId).uuid().not_null())
                .col(ColumnDef::new(CartLines::Quantity).big_integer().not_null())
                .col(ColumnDef::new(CartLines::Selected).boolean().not_null())
                .col(ts(m, CartLines::CreatedAt).not_null())
                .primary_key(
                    Index::create()
                        .col(CartLines::UserId)
                        .col(CartLines::VariantId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CartLines::Table, CartLines::UserId)
                        .to(Carts::Table, Carts::UserId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CartLines::Table, CartLines::VariantId)
                        .to(Variants::Table, Variants::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WishlistItems::Table)
                .col(ColumnDef::new(WishlistItems::UserId).uuid().not_null())
                .col(ColumnDef::new(WishlistItems::ProductId).uuid().not_null())
                .col(ts(m, WishlistItems::CreatedAt).not_null())
                .primary_key(
                    Index::create()
                        .col(WishlistItems::UserId)
                        .col(WishlistItems::ProductId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(WishlistItems::Table, WishlistItems::UserId)
                        .to(Users::Table, Users::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(WishlistItems::Table, WishlistItems::ProductId)
                        .to(Products::Table, Products::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WishlistItems::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(CartLines::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Carts::Table).to_owned())
            .await
    }
}
