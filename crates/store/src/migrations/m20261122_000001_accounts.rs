//! Accounts: users, e-mail verification codes, refresh tokens, addresses, sellers.

use sea_orm_migration::prelude::*;

use super::utc_timestamp as ts;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261122_000001_accounts"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    DisplayName,
    Phone,
    Role,
    EmailVerifiedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EmailCodes {
    Table,
    UserId,
    CodeHash,
    ExpiresAt,
    Attempts,
    SentAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    FamilyId,
    UserId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Addresses {
    Table,
    Id,
    UserId,
    Label,
    Recipient,
    Phone,
    PostalCode,
    Line1,
    Line2,
    IsDefault,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SellerApplications {
    Table,
    Id,
    UserId,
    ShopName,
    BusinessNumber,
    Status,
    PendingUserId,
    Reason,
    DecidedBy,
    DecidedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sellers {
    Table,
    UserId,
    ShopName,
    BusinessNumber,
    ApplicationId,
    CreatedAt,
}

fn fk(from: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(from.0)
        .from_col(from.1)
        .to_tbl(Users::Table)
        .to_col(Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Users::Email).string_len(254).not_null())
                .col(ColumnDef::new(Users::PasswordHash).string_len(255).null())
                .col(ColumnDef::new(Users::DisplayName).string_len(50).null())
                .col(ColumnDef::new(Users::Phone).string_len(20).null())
                .col(ColumnDef::new(Users::Role).string_len(16).not_null())
                .col(ts(m, Users::EmailVerifiedAt).null())
                .col(ts(m, Users::CreatedAt).not_null())
                .col(ts(m, Users::UpdatedAt).not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_users_email")
                .table(Users::Table)
                .col(Users::Email)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_users_role")
                .table(Users::Table)
                .col(Users::Role)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EmailCodes::Table)
                .col(
                    ColumnDef::new(EmailCodes::UserId)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(EmailCodes::CodeHash)
                        .string_len(64)
                        .not_null(),
                )
                .col(ts(m, EmailCodes::ExpiresAt).not_null())
                .col(
                    ColumnDef::new(EmailCodes::Attempts)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ts(m, EmailCodes::SentAt).not_null())
                .foreign_key(&mut fk((EmailCodes::Table, EmailCodes::UserId)))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(
                    ColumnDef::new(RefreshTokens::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(RefreshTokens::FamilyId).uuid().not_null())
                .col(ColumnDef::new(RefreshTokens::UserId).uuid().not_null())
                .col(
                    ColumnDef::new(RefreshTokens::TokenHash)
                        .string_len(64)
                        .not_null(),
                )
                .col(ts(m, RefreshTokens::ExpiresAt).not_null())
                .col(ts(m, RefreshTokens::UsedAt).null())
                .col(ts(m, RefreshTokens::RevokedAt).null())
                .col(ts(m, RefreshTokens::CreatedAt).not_null())
                .foreign_key(&mut fk((RefreshTokens::Table, RefreshTokens::UserId)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_refresh_tokens_hash")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::TokenHash)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_refresh_tokens_family")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::FamilyId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_refresh_tokens_user")
                .table(RefreshTokens::Table)
                .col(RefreshTokens::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Addresses::Table)
                .col(
                    ColumnDef::new(Addresses::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Addresses::UserId).uuid().not_null())
                .col(ColumnDef::new(Addresses::Label).string_len(30).null())
                .col(
                    ColumnDef::new(Addresses::Recipient)
                        .string_len(50)
                        .not_null(),
                )
                .col(ColumnDef::new(Addresses::Phone).string_len(20).not_null())
                .col(
                    ColumnDef::new(Addresses::PostalCode)
                        .string_len(10)
                        .not_null(),
                )
                .col(ColumnDef::new(Addresses::Line1).string_len(200).not_null())
                .col(ColumnDef::new(Addresses::Line2).string_len(200).null())
                .col(
                    ColumnDef::new(Addresses::IsDefault)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(ts(m, Addresses::CreatedAt).not_null())
                .col(ts(m, Addresses::UpdatedAt).not_null())
                .foreign_key(&mut fk((Addresses::Table, Addresses::UserId)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_addresses_user")
                .table(Addresses::Table)
                .col(Addresses::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SellerApplications::Table)
                .col(
                    ColumnDef::new(SellerApplications::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(SellerApplications::UserId).uuid().not_null())
                .col(
                    ColumnDef::new(SellerApplications::ShopName)
                        .string_len(60)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SellerApplications::BusinessNumber)
                        .string_len(10)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SellerApplications::Status)
                        .string_len(16)
                        .not_null(),
                )
                // Equals user_id while the application is pending and NULL once decided: a
                // unique index on it allows one pending application per user on every engine
                // (all three allow many NULLs in a unique index).
                .col(
                    ColumnDef::new(SellerApplications::PendingUserId)
                        .uuid()
                        .null(),
                )
                .col(
                    ColumnDef::new(SellerApplications::Reason)
                        .string_len(500)
                        .null(),
                )
                .col(ColumnDef::new(SellerApplications::DecidedBy).uuid().null())
                .col(ts(m, SellerApplications::DecidedAt).null())
                .col(ts(m, SellerApplications::CreatedAt).not_null())
                .foreign_key(&mut fk((
                    SellerApplications::Table,
                    SellerApplications::UserId,
                )))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_seller_applications_pending")
                .table(SellerApplications::Table)
                .col(SellerApplications::PendingUserId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_seller_applications_user")
                .table(SellerApplications::Table)
                .col(SellerApplications::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sellers::Table)
                .col(
                    ColumnDef::new(Sellers::UserId)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Sellers::ShopName).string_len(60).not_null())
                .col(
                    ColumnDef::new(Sellers::BusinessNumber)
                        .string_len(10)
                        .not_null(),
                )
                .col(ColumnDef::new(Sellers::ApplicationId).uuid().not_null())
                .col(ts(m, Sellers::CreatedAt).not_null())
                .foreign_key(&mut fk((Sellers::Table, Sellers::UserId)))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_sellers_shop_name")
                .table(Sellers::Table)
                .col(Sellers::ShopName)
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Sellers::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(SellerApplications::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Addresses::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(EmailCodes::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Users::Table).to_owned())
            .await?;
        Ok(())
    }
}
