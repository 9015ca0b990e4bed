//! Single sign-on with OpenID Connect (issue 11): per-account settings (the client secret
//! sealed, see `src/sso/sealed.rs`), the identities linked to managers (`sub` per issuer),
//! pending sign-ins (state, nonce and PKCE verifier; single use, 10 minutes), the one-time
//! codes the front end exchanges for a session (hashed, single use, 60 seconds), and the
//! managers' break-glass flag (may still use a password when SSO is enforced).

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
                    .table(AccountSso::Table)
                    .col(uuid(AccountSso::AccountId).primary_key())
                    // `OIDC` today; another kind of upstream provider (SAML) adds a value.
                    .col(string_len(AccountSso::Kind, 16))
                    .col(text(AccountSso::Issuer))
                    .col(text(AccountSso::ClientId))
                    // `v1.<kid>.<nonce>.<ciphertext>`; NULL until a secret is entered.
                    .col(text_null(AccountSso::ClientSecret))
                    .col(string_len(AccountSso::IdentityClaim, 16))
                    .col(boolean(AccountSso::Enabled))
                    .col(boolean(AccountSso::Enforced))
                    // A JSON array of allowed `return_to` prefixes.
                    .col(text(AccountSso::ReturnToAllowList))
                    .col(timestamp_with_time_zone(AccountSso::UpdatedAt))
                    .col(uuid_null(AccountSso::UpdatedBy))
                    .foreign_key(&mut cascade(
                        "fk_account_sso_account",
                        (AccountSso::Table, AccountSso::AccountId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ManagerSsoIdentities::Table)
                    .col(uuid(ManagerSsoIdentities::Id).primary_key())
                    .col(uuid(ManagerSsoIdentities::AccountId))
                    .col(uuid(ManagerSsoIdentities::ManagerId))
                    .col(string_len(ManagerSsoIdentities::Issuer, 2048))
                    .col(string_len(ManagerSsoIdentities::Subject, 255))
                    .col(timestamp_with_time_zone(ManagerSsoIdentities::LinkedAt))
                    .foreign_key(&mut cascade(
                        "fk_manager_sso_identities_account",
                        (ManagerSsoIdentities::Table, ManagerSsoIdentities::AccountId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_manager_sso_identities_manager",
                        (ManagerSsoIdentities::Table, ManagerSsoIdentities::ManagerId),
                        (Managers::Table, Managers::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // One manager per identity of an issuer within an account, whatever races.
        manager
            .create_index(
                Index::create()
                    .name("uq_manager_sso_identities_subject")
                    .table(ManagerSsoIdentities::Table)
                    .col(ManagerSsoIdentities::AccountId)
                    .col(ManagerSsoIdentities::Issuer)
                    .col(ManagerSsoIdentities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One identity per manager and issuer.
        manager
            .create_index(
                Index::create()
                    .name("uq_manager_sso_identities_manager")
                    .table(ManagerSsoIdentities::Table)
                    .col(ManagerSsoIdentities::ManagerId)
                    .col(ManagerSsoIdentities::Issuer)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SsoLogins::Table)
                    .col(uuid(SsoLogins::Id).primary_key())
                    .col(uuid(SsoLogins::AccountId))
                    // SHA-256 (hex) of `state`: the lookup key; `state` itself is not kept.
                    .col(string_len_uniq(SsoLogins::StateHash, 64))
                    // SHA-256 (hex) of the browser-binding cookie set by `/start`.
                    .col(string_len(SsoLogins::BindingHash, 64))
                    .col(string_len(SsoLogins::Nonce, 128))
                    .col(string_len(SsoLogins::PkceVerifier, 128))
                    .col(string_len(SsoLogins::Purpose, 16))
                    .col(uuid_null(SsoLogins::LinkManagerId))
                    .col(text(SsoLogins::ReturnTo))
                    .col(string_len_null(SsoLogins::ClientAddress, 64))
                    .col(timestamp_with_time_zone(SsoLogins::CreatedAt))
                    .col(timestamp_with_time_zone(SsoLogins::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SsoLogins::UsedAt))
                    .foreign_key(&mut cascade(
                        "fk_sso_logins_account",
                        (SsoLogins::Table, SsoLogins::AccountId),
                        (Accounts::Table, Accounts::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_sso_logins_link_manager",
                        (SsoLogins::Table, SsoLogins::LinkManagerId),
                        (Managers::Table, Managers::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sso_logins_expires")
                    .table(SsoLogins::Table)
                    .col(SsoLogins::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SsoCompletionCodes::Table)
                    // SHA-256 (hex) of the code.
                    .col(string_len(SsoCompletionCodes::CodeHash, 64).primary_key())
                    .col(uuid(SsoCompletionCodes::SsoLoginId))
                    .col(uuid(SsoCompletionCodes::ManagerId))
                    .col(text(SsoCompletionCodes::Issuer))
                    // Set for a link code: the `sub` to link to the manager once the manager's
                    // own session confirms it (`completeSsoLink`).
                    .col(string_len_null(SsoCompletionCodes::Subject, 255))
                    .col(boolean(SsoCompletionCodes::EmailVerified))
                    .col(timestamp_with_time_zone(SsoCompletionCodes::CreatedAt))
                    .col(timestamp_with_time_zone(SsoCompletionCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SsoCompletionCodes::UsedAt))
                    .foreign_key(&mut cascade(
                        "fk_sso_completion_codes_login",
                        (SsoCompletionCodes::Table, SsoCompletionCodes::SsoLoginId),
                        (SsoLogins::Table, SsoLogins::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_sso_completion_codes_manager",
                        (SsoCompletionCodes::Table, SsoCompletionCodes::ManagerId),
                        (Managers::Table, Managers::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Managers::Table)
                    .add_column(boolean(ManagerSso::SsoBreakGlass).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Managers::Table)
                    .drop_column(ManagerSso::SsoBreakGlass)
                    .to_owned(),
            )
            .await?;
        for table in [
            SsoCompletionCodes::Table.into_iden(),
            SsoLogins::Table.into_iden(),
            ManagerSsoIdentities::Table.into_iden(),
            AccountSso::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AccountSso {
    Table,
    AccountId,
    Kind,
    Issuer,
    ClientId,
    ClientSecret,
    IdentityClaim,
    Enabled,
    Enforced,
    ReturnToAllowList,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum ManagerSsoIdentities {
    Table,
    Id,
    AccountId,
    ManagerId,
    Issuer,
    Subject,
    LinkedAt,
}

#[derive(DeriveIden)]
enum SsoLogins {
    Table,
    Id,
    AccountId,
    StateHash,
    BindingHash,
    Nonce,
    PkceVerifier,
    Purpose,
    LinkManagerId,
    ReturnTo,
    ClientAddress,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum SsoCompletionCodes {
    Table,
    CodeHash,
    SsoLoginId,
    ManagerId,
    Issuer,
    Subject,
    EmailVerified,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum ManagerSso {
    SsoBreakGlass,
}
