//! Signing keys shared by every replica. A key is created once by whichever replica starts
//! first; the primary key (its purpose) makes a concurrent second insert fail instead of
//! producing two keys.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string_len(SigningKeys::Purpose, 32).primary_key())
                    .col(string_len(SigningKeys::Algorithm, 16))
                    .col(text(SigningKeys::Secret))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SigningKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Purpose,
    Algorithm,
    Secret,
    CreatedAt,
}
