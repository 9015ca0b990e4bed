//! Single-use secrets mailed to a manager: password-reset tokens and e-mail validation codes.
//! Only a SHA-256 of each is stored.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000002_managers::Managers;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OneTimeTokens::Table)
                    .col(uuid(OneTimeTokens::Id).primary_key())
                    .col(uuid(OneTimeTokens::ManagerId))
                    .col(string_len(OneTimeTokens::Purpose, 32))
                    .col(string_len_uniq(OneTimeTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(OneTimeTokens::CreatedAt))
                    .col(timestamp_with_time_zone(OneTimeTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OneTimeTokens::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_one_time_tokens_manager")
                            .from(OneTimeTokens::Table, OneTimeTokens::ManagerId)
                            .to(Managers::Table, Managers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_one_time_tokens_manager")
                    .table(OneTimeTokens::Table)
                    .col(OneTimeTokens::ManagerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OneTimeTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OneTimeTokens {
    Table,
    Id,
    ManagerId,
    Purpose,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}
