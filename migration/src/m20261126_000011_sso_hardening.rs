//! Single sign-on, hardened after review (issue 11): how each session was opened
//! (`sessions.method`: a session from a single sign-on keeps the SSO rules when it is
//! replaced, and enforcing SSO ends only password sessions); the provider and client a
//! pending sign-in was started for (`sso_logins.issuer`, `client_id`: a callback after the
//! settings changed is refused); and the front end's PKCE challenge for the completion code
//! (`client_challenge` on both: the code is good only with the verifier the browser that
//! started kept). One column per statement: SQLite alters one at a time.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000003_sessions::Sessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn columns() -> Vec<(DynIden, ColumnDef)> {
    vec![
        (
            Sessions::Table.into_iden(),
            string_len(SessionMethod::Method, 16)
                .default("PASSWORD")
                .to_owned(),
        ),
        (
            SsoLogins::Table.into_iden(),
            text_null(SsoLogins::Issuer).to_owned(),
        ),
        (
            SsoLogins::Table.into_iden(),
            text_null(SsoLogins::ClientId).to_owned(),
        ),
        (
            SsoLogins::Table.into_iden(),
            string_len_null(SsoLogins::ClientChallenge, 64).to_owned(),
        ),
        (
            SsoCompletionCodes::Table.into_iden(),
            string_len_null(SsoCompletionCodes::ClientChallenge, 64).to_owned(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, mut column) in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in columns().into_iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Alias::new(column.get_column_name()))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum SessionMethod {
    Method,
}

#[derive(DeriveIden)]
enum SsoLogins {
    Table,
    Issuer,
    ClientId,
    ClientChallenge,
}

#[derive(DeriveIden)]
enum SsoCompletionCodes {
    Table,
    ClientChallenge,
}
