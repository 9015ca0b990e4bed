//! `Account`: the caller's company.

use async_graphql::{Context, ID, Object};
use entity::account;

use super::{
    scalars::{DateTime, Kind, to_id},
    scope,
};
use crate::{error::GqlResultExt, service};

/// The GraphQL object `Account` (described on its `impl`).
pub struct Account(pub account::Model);

/// A customer company. Everything a manager sees belongs to its account.
#[Object]
impl Account {
    /// The account's global id.
    pub async fn id(&self) -> ID {
        to_id(Kind::Account, self.0.id)
    }

    /// The company's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether company managers may create API managers. Set by the platform operator only.
    async fn api_managers_allowed(&self) -> bool {
        self.0.api_managers_allowed
    }

    /// When the platform operator created the account.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// Single sign-on through the company's OpenID Connect provider; `null` until set up.
    /// Company managers only (`FORBIDDEN` for others, and for app tokens).
    async fn sso(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<super::sso::AccountSso>> {
        let scope = scope(ctx)?;
        let row = service::sso::get(scope.access()).await.gql()?;
        match row.filter(|row| row.account_id == self.0.id) {
            Some(row) => super::sso::answer(ctx, row).map(Some),
            None => Ok(None),
        }
    }
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in manager's account. `UNAUTHENTICATED` for anonymous callers.
    async fn account(&self, ctx: &Context<'_>) -> async_graphql::Result<Account> {
        let scope = scope(ctx)?;
        let actor = scope.access().actor().gql()?;
        service::account::get(scope.access().db(), actor.account_id)
            .await
            .map(Account)
            .gql()
    }
}
