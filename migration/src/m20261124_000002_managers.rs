//! Managers of all three kinds (COMPANY, TEAM, API), with their login settings.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_accounts::Accounts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Managers::Table)
                    .col(uuid(Managers::Id).primary_key())
                    .col(uuid(Managers::AccountId))
                    .col(string_len(Managers::Kind, 16))
                    .col(string_len(Managers::Login, 128))
                    // Logins are unique across the installation, case-insensitively: the key is
                    // the lower-cased login, so the database enforces it under concurrency.
                    .col(string_len_uniq(Managers::LoginKey, 128))
                    .col(string_len(Managers::Name, 200))
                    .col(string_len(Managers::Email, 320))
                    .col(boolean(Managers::EmailValidated).default(false))
                    .col(text(Managers::PasswordHash))
                    .col(boolean(Managers::ForcePasswordChange).default(true))
                    .col(boolean(Managers::UserInitiatedPasswordReset).default(true))
                    .col(boolean(Managers::ForceValidationPrompt).default(false))
                    .col(timestamp_with_time_zone(Managers::CreatedAt))
                    .col(timestamp_with_time_zone(Managers::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_managers_account")
                            .from(Managers::Table, Managers::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_managers_account_kind")
                    .table(Managers::Table)
                    .col(Managers::AccountId)
                    .col(Managers::Kind)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Managers::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Managers {
    Table,
    Id,
    AccountId,
    Kind,
    Login,
    LoginKey,
    Name,
    Email,
    EmailValidated,
    PasswordHash,
    ForcePasswordChange,
    UserInitiatedPasswordReset,
    ForceValidationPrompt,
    CreatedAt,
    UpdatedAt,
}
