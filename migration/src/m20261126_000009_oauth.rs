//! Developer apps and OAuth 2 (SPEC 6): apps (secret hashed), authorizations (one active per
//! API manager × app), authorization codes (hashed, single use), token families (one per
//! code redemption: the refresh-token rotation chain with its absolute lifetime, and the
//! access tokens issued from it), refresh tokens (hashed), and the asymmetric keys that sign
//! access tokens.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{cascade, m20261124_000001_accounts::Accounts, m20261124_000002_managers::Managers};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeveloperApps::Table)
                    .col(uuid(DeveloperApps::Id).primary_key())
                    // NULL: a platform-wide app, registered by the operator.
                    .col(uuid_null(DeveloperApps::AccountId))
                    .col(string_len_uniq(DeveloperApps::ClientId, 64))
                    .col(string_len(DeveloperApps::Name, 200))
                    .col(text(DeveloperApps::Description))
                    // A JSON array of strings.
                    .col(text(DeveloperApps::RedirectUris))
                    .col(big_integer(DeveloperApps::Scopes))
                    .col(boolean(DeveloperApps::Confidential))
                    .col(string_len_null(DeveloperApps::SecretHash, 64))
                    .col(timestamp_with_time_zone_null(
                        DeveloperApps::SecretRotatedAt,
                    ))
                    .col(uuid_null(DeveloperApps::CreatedBy))
                    .col(timestamp_with_time_zone(DeveloperApps::CreatedAt))
                    .col(timestamp_with_time_zone(DeveloperApps::UpdatedAt))
                    .col(timestamp_with_time_zone_null(DeveloperApps::DisabledAt))
                    .foreign_key(&mut cascade(
                        "fk_developer_apps_account",
                        (DeveloperApps::Table, DeveloperApps::AccountId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_developer_apps_account")
                    .table(DeveloperApps::Table)
                    .col(DeveloperApps::AccountId)
                    .col(DeveloperApps::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AppAuthorizations::Table)
                    .col(uuid(AppAuthorizations::Id).primary_key())
                    .col(uuid(AppAuthorizations::AccountId))
                    .col(uuid(AppAuthorizations::ManagerId))
                    .col(uuid(AppAuthorizations::AppId))
                    .col(big_integer(AppAuthorizations::Scopes))
                    .col(timestamp_with_time_zone(AppAuthorizations::CreatedAt))
                    .col(timestamp_with_time_zone(AppAuthorizations::UpdatedAt))
                    .col(timestamp_with_time_zone_null(AppAuthorizations::LastUsedAt))
                    .col(timestamp_with_time_zone_null(AppAuthorizations::RevokedAt))
                    .col(uuid_null(AppAuthorizations::RevokedBy))
                    .foreign_key(&mut cascade(
                        "fk_app_authorizations_account",
                        (AppAuthorizations::Table, AppAuthorizations::AccountId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_app_authorizations_manager",
                        (AppAuthorizations::Table, AppAuthorizations::ManagerId),
                        (Managers::Table, Managers::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_app_authorizations_app",
                        (AppAuthorizations::Table, AppAuthorizations::AppId),
                        (DeveloperApps::Table, DeveloperApps::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_app_authorizations_manager")
                    .table(AppAuthorizations::Table)
                    .col(AppAuthorizations::ManagerId)
                    .col(AppAuthorizations::AppId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_app_authorizations_app")
                    .table(AppAuthorizations::Table)
                    .col(AppAuthorizations::AppId)
                    .to_owned(),
            )
            .await?;
        // One active authorization per API manager × app, whatever races (SQLite and
        // PostgreSQL both have partial indexes; sea-query has no portable builder for them).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_app_authorizations_active \
                 ON app_authorizations (manager_id, app_id) WHERE revoked_at IS NULL",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TokenFamilies::Table)
                    .col(uuid(TokenFamilies::Id).primary_key())
                    .col(uuid(TokenFamilies::AuthorizationId))
                    .col(big_integer(TokenFamilies::Scopes))
                    .col(timestamp_with_time_zone(TokenFamilies::CreatedAt))
                    .col(timestamp_with_time_zone(TokenFamilies::ExpiresAt))
                    .col(timestamp_with_time_zone_null(TokenFamilies::RevokedAt))
                    .foreign_key(&mut cascade(
                        "fk_token_families_authorization",
                        (TokenFamilies::Table, TokenFamilies::AuthorizationId),
                        (AppAuthorizations::Table, AppAuthorizations::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_token_families_authorization")
                    .table(TokenFamilies::Table)
                    .col(TokenFamilies::AuthorizationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthCodes::Table)
                    .col(string_len(OauthCodes::CodeHash, 64).primary_key())
                    .col(uuid(OauthCodes::AuthorizationId))
                    // NULL: the authorization request named none (the app's only one was used).
                    .col(text_null(OauthCodes::RedirectUri))
                    .col(string_len(OauthCodes::CodeChallenge, 128))
                    .col(big_integer(OauthCodes::Scopes))
                    .col(timestamp_with_time_zone(OauthCodes::CreatedAt))
                    .col(timestamp_with_time_zone(OauthCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OauthCodes::UsedAt))
                    .col(uuid_null(OauthCodes::FamilyId))
                    .foreign_key(&mut cascade(
                        "fk_oauth_codes_authorization",
                        (OauthCodes::Table, OauthCodes::AuthorizationId),
                        (AppAuthorizations::Table, AppAuthorizations::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_codes_authorization")
                    .table(OauthCodes::Table)
                    .col(OauthCodes::AuthorizationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(string_len(RefreshTokens::TokenHash, 64).primary_key())
                    .col(uuid(RefreshTokens::FamilyId))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                    .foreign_key(&mut cascade(
                        "fk_refresh_tokens_family",
                        (RefreshTokens::Table, RefreshTokens::FamilyId),
                        (TokenFamilies::Table, TokenFamilies::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OauthKeys::Table)
                    .col(string_len(OauthKeys::Kid, 64).primary_key())
                    .col(string_len(OauthKeys::Algorithm, 16))
                    .col(text(OauthKeys::PrivateKey))
                    .col(text(OauthKeys::PublicKey))
                    .col(timestamp_with_time_zone(OauthKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(OauthKeys::RetiredAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OauthKeys::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            OauthCodes::Table.into_iden(),
            TokenFamilies::Table.into_iden(),
            AppAuthorizations::Table.into_iden(),
            DeveloperApps::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum DeveloperApps {
    Table,
    Id,
    AccountId,
    ClientId,
    Name,
    Description,
    RedirectUris,
    Scopes,
    Confidential,
    SecretHash,
    SecretRotatedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DisabledAt,
}

#[derive(DeriveIden)]
enum AppAuthorizations {
    Table,
    Id,
    AccountId,
    ManagerId,
    AppId,
    Scopes,
    CreatedAt,
    UpdatedAt,
    LastUsedAt,
    RevokedAt,
    RevokedBy,
}

#[derive(DeriveIden)]
enum TokenFamilies {
    Table,
    Id,
    AuthorizationId,
    Scopes,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum OauthCodes {
    Table,
    CodeHash,
    AuthorizationId,
    RedirectUri,
    CodeChallenge,
    Scopes,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    FamilyId,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    FamilyId,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum OauthKeys {
    Table,
    Kid,
    Algorithm,
    PrivateKey,
    PublicKey,
    CreatedAt,
    RetiredAt,
}
