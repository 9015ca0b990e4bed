//! Counters of failed attempts (per login, per client address), kept in the database so every
//! replica sees the same counts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ThrottleBuckets::Table)
                    .col(string_len(ThrottleBuckets::Key, 200).primary_key())
                    .col(integer(ThrottleBuckets::Failures))
                    .col(timestamp_with_time_zone(ThrottleBuckets::WindowStartedAt))
                    .col(timestamp_with_time_zone_null(ThrottleBuckets::BlockedUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ThrottleBuckets::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ThrottleBuckets {
    Table,
    Key,
    Failures,
    WindowStartedAt,
    BlockedUntil,
}
