//! `Account`: the caller's company.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::account;

use super::{scalars::to_id, scope};
use crate::{error::GqlResultExt, service};

/// A customer company. Everything a manager sees belongs to its account.
pub struct Account(pub account::Model);

#[Object]
impl Account {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether company managers may create API managers. Set by the platform operator only.
    async fn api_managers_allowed(&self) -> bool {
        self.0.api_managers_allowed
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
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
