//! Sign-in sessions of managers. A session token names its row; revoking the row ends the
//! session on the very next request.

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
                    .table(Sessions::Table)
                    .col(uuid(Sessions::Id).primary_key())
                    .col(uuid(Sessions::ManagerId))
                    .col(string_len(Sessions::Restriction, 32))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(string_len_null(Sessions::ClientAddress, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_manager")
                            .from(Sessions::Table, Sessions::ManagerId)
                            .to(Managers::Table, Managers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_manager")
                    .table(Sessions::Table)
                    .col(Sessions::ManagerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Sessions {
    Table,
    Id,
    ManagerId,
    Restriction,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    ClientAddress,
}
