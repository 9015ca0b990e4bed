//! `Manager`: company, team and API managers.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::manager::{self, ManagerKind as StoredKind};

use super::{
    client, principal,
    scalars::{parse_id, to_id},
    state,
};
use crate::{auth::Principal, error::GqlResultExt, service};

/// What a manager may do in general (what it may do on a team is `effectiveRights`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ManagerKind {
    /// Account-level manager: may do everything inside the account.
    Company,
    /// Acts only on the teams it is assigned to, within its rights.
    Team,
    /// A login for machine provisioning; the only kind that can authorize developer apps.
    Api,
}

impl From<StoredKind> for ManagerKind {
    fn from(kind: StoredKind) -> Self {
        match kind {
            StoredKind::Company => ManagerKind::Company,
            StoredKind::Team => ManagerKind::Team,
            StoredKind::Api => ManagerKind::Api,
        }
    }
}

/// How a manager signs in. Edited by company managers only.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct LoginSettings {
    /// The next sign-in is restricted until the password is changed.
    pub force_password_change: bool,
    /// The manager may reset its own password by e-mail.
    pub user_initiated_password_reset: bool,
    /// Sign-in is restricted until the e-mail address is validated.
    pub force_validation_prompt: bool,
}

/// A manager of the account.
pub struct Manager(pub manager::Model);

#[Object]
impl Manager {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn kind(&self) -> ManagerKind {
        self.0.kind.into()
    }

    async fn login(&self) -> &str {
        &self.0.login
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    /// Whether the manager proved it receives mail at `email`.
    async fn email_validated(&self) -> bool {
        self.0.email_validated
    }

    async fn login_settings(&self) -> LoginSettings {
        LoginSettings {
            force_password_change: self.0.force_password_change,
            user_initiated_password_reset: self.0.user_initiated_password_reset,
            force_validation_prompt: self.0.force_validation_prompt,
        }
    }
}

#[derive(Default)]
pub struct ManagerQuery;

#[Object]
impl ManagerQuery {
    /// The signed-in manager (for an app token, the API manager it acts for); `null` when
    /// anonymous.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Manager>> {
        let Principal::Manager(actor) = principal(ctx) else {
            return Ok(None);
        };
        let state = state(ctx)?;
        service::manager::me(&state.db, actor)
            .await
            .map(|m| Some(Manager(m)))
            .gql()
    }
}

/// Changes to `LoginSettings`; absent fields stay as they are.
#[derive(InputObject, Debug, Default)]
pub struct LoginSettingsPatch {
    pub force_password_change: Option<bool>,
    pub user_initiated_password_reset: Option<bool>,
    pub force_validation_prompt: Option<bool>,
}

#[derive(Default)]
pub struct ManagerMutation;

#[Object]
impl ManagerMutation {
    /// Changes how a manager signs in. Company managers only.
    async fn update_manager_login_settings(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: LoginSettingsPatch,
    ) -> async_graphql::Result<Manager> {
        let id = parse_id("id", &id).gql()?;
        service::manager::update_login_settings(
            state(ctx)?,
            principal(ctx),
            client(ctx),
            id,
            service::manager::LoginSettingsPatch {
                force_password_change: input.force_password_change,
                user_initiated_password_reset: input.user_initiated_password_reset,
                force_validation_prompt: input.force_validation_prompt,
            },
        )
        .await
        .map(Manager)
        .gql()
    }
}
