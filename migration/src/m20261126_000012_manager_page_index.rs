//! The account's managers in id order (issue 12): `managers(first:)` reads one account's
//! managers by id, which `(account_id, kind)` could only find all of and sort. Teams, reps,
//! portals and audit events have their `(account_id, id)` index already.

use sea_orm_migration::prelude::*;

use crate::m20261124_000002_managers::Managers;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_managers_account_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Managers::Table)
                    .col(Managers::AccountId)
                    .col(Managers::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Managers::Table).to_owned())
            .await
    }
}
