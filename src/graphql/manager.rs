//! `Manager`: company, team and API managers.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::manager::{self, ManagerKind as StoredKind};

use super::{
    Portal, Scope, Team, client,
    connection::{self, ManagerConnection},
    developer_app::AppAuthorization,
    features::{ManagerRightSet, ManagerRightSetPatch, RepFeatureSet, RepFeatureSetPatch},
    loaders::{AuthorizationsOf, PortalsOfManager, TeamById, TeamsOfManager},
    mutation_scope,
    scalars::{Kind, id_of, ids_of, to_id},
    scope, state,
};
use crate::{
    error::{AppError, GqlResultExt},
    service::{
        self, features,
        manager::{ManagerPatch, ManagerSet, NewManager},
        paging::PageRequest,
    },
};

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
    /// A company manager that keeps its password when the account enforces single sign-on
    /// (break-glass). While SSO is enforced at least one company manager has it.
    pub sso_break_glass: bool,
}

/// The GraphQL object `Manager` (described on its `impl`).
#[derive(Clone)]
pub struct Manager(pub manager::Model, pub Scope);

/// A manager of the account, with the scope it was reached in.
#[Object]
impl Manager {
    /// The manager's global id.
    pub async fn id(&self) -> ID {
        to_id(Kind::Manager, self.0.id)
    }

    /// Company, team or API manager.
    async fn kind(&self) -> ManagerKind {
        self.0.kind.into()
    }

    /// What the manager signs in with; unique among the account's managers and reps.
    async fn login(&self) -> &str {
        &self.0.login
    }

    /// The manager's full name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Where password resets and validation codes are mailed.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// Whether the manager proved it receives mail at `email`.
    async fn email_validated(&self) -> bool {
        self.0.email_validated
    }

    /// How the manager signs in.
    async fn login_settings(&self) -> LoginSettings {
        LoginSettings {
            force_password_change: self.0.force_password_change,
            user_initiated_password_reset: self.0.user_initiated_password_reset,
            force_validation_prompt: self.0.force_validation_prompt,
            sso_break_glass: self.0.sso_break_glass,
        }
    }

    /// The manager's own team-level rights (SPEC 4.1). What it may use on a given team is
    /// `effectiveRights`.
    async fn rights(&self) -> ManagerRightSet {
        features::RightSet::from_bits(self.0.rights).into()
    }

    /// Rep features this manager may switch for reps of its teams.
    async fn rep_controls(&self) -> RepFeatureSet {
        features::RepFeatureSet::from_bits(self.0.rep_controls).into()
    }

    /// Teams and sub-teams the manager is assigned to. (Beyond the manager itself: a
    /// restricted session, which may read `me`, gets its restriction's error here.)
    async fn teams(&self) -> async_graphql::Result<Vec<Team>> {
        let found = self.1.loaders().load_one(TeamsOfManager(self.0.id)).await?;
        Ok(self.1.teams(found))
    }

    /// Portals and sub-portals the manager is assigned to.
    async fn portals(&self) -> async_graphql::Result<Vec<Portal>> {
        let found = self
            .1
            .loaders()
            .load_one(PortalsOfManager(self.0.id))
            .await?;
        Ok(self.1.portals(found))
    }

    /// What this manager may use on `teamId` (SPEC 4.4): every right for a company manager;
    /// for a team manager, its rights that the team's `managerFeatures` also allow, if it is
    /// assigned to the team, else none; for an API manager, the provisioning rights (with an
    /// app token, those its scopes allow). The server enforces exactly this.
    async fn effective_rights(&self, team_id: ID) -> async_graphql::Result<ManagerRightSet> {
        let team_id = id_of(Kind::Team, &team_id);
        let loaders = self.1.loaders();
        let team = loaders
            .load_one(TeamById(team_id))
            .await?
            .ok_or_else(|| async_graphql::ErrorExtensions::extend(&AppError::NotFound("team")))?;
        let assigned = loaders
            .load_one(TeamsOfManager(self.0.id))
            .await?
            .unwrap_or_default()
            .iter()
            .any(|t| t.id == team_id);
        let rights = service::access::effective_rights(&self.0, &team, assigned);
        // Seen through an app token, what the token's scopes leave of them.
        Ok(match self.1.access().actor() {
            Ok(caller) => service::access::within_scopes(rights, caller),
            Err(_) => rights,
        }
        .into())
    }

    /// The identities at the account's identity providers linked to this manager (by its
    /// first single sign-on with a matching e-mail address, or by `completeSsoLink`), oldest
    /// first. Company managers see every manager's, a manager its own (others: empty); app
    /// tokens get `FORBIDDEN`.
    async fn sso_identities(&self) -> async_graphql::Result<Vec<super::sso::SsoIdentity>> {
        Ok(self
            .1
            .loaders()
            .load_one(super::loaders::SsoIdentitiesOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(super::sso::SsoIdentity)
            .collect())
    }

    /// The developer apps this (API) manager has authorized, newest first; with
    /// `includeRevoked`, also the authorizations revoked since. Company managers see every
    /// manager's, a manager its own; app tokens get `FORBIDDEN`.
    async fn authorized_applications(
        &self,
        #[graphql(default = false)] include_revoked: bool,
    ) -> async_graphql::Result<Vec<AppAuthorization>> {
        let found = self
            .1
            .loaders()
            .load_one(AuthorizationsOf(self.0.id, include_revoked))
            .await?
            .unwrap_or_default();
        Ok(found
            .into_iter()
            .map(|(authorization, app)| AppAuthorization(authorization, app))
            .collect())
    }
}

#[derive(Default)]
pub struct ManagerQuery;

#[Object]
impl ManagerQuery {
    /// The signed-in manager (for an app token, the API manager it acts for); `null` when
    /// anonymous.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Manager>> {
        let scope = scope(ctx)?;
        let Ok(actor) = scope.access().signed_in() else {
            return Ok(None);
        };
        service::manager::me(scope.access().db(), actor)
            .await
            .map(|m| Some(Manager(m, scope.clone())))
            .gql()
    }

    /// The account's managers (company managers); a team or API manager sees only itself.
    #[graphql(
        complexity = "(first.or(last).unwrap_or(20).clamp(0, 100) as usize).saturating_mul(child_complexity)"
    )]
    async fn managers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only managers of this kind.")] kind: Option<ManagerKind>,
        #[graphql(desc = "Part of the login, name or e-mail, any case.")] search: Option<String>,
        #[graphql(desc = "The first n rows (0 to 100; default 20), after `after`.")] first: Option<
            i32,
        >,
        #[graphql(desc = "A cursor: read on from that row.")] after: Option<String>,
        #[graphql(desc = "The last n rows (0 to 100), before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor: read back from that row.")] before: Option<String>,
    ) -> async_graphql::Result<ManagerConnection> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        let scope = scope(ctx)?;
        let found = service::manager::list(
            state(ctx)?,
            scope.access(),
            kind.map(ManagerKind::stored),
            search.as_deref(),
            page,
        )
        .await
        .gql()?;
        Ok(connection::from_page(
            found,
            |m| m.id,
            |m| Manager(m, scope.clone()),
        ))
    }

    /// One manager the caller can see (`NOT_FOUND` otherwise).
    async fn manager(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Manager> {
        let id = id_of(Kind::Manager, &id);
        let scope = scope(ctx)?;
        service::manager::get(scope.access(), id)
            .await
            .map(|m| Manager(m, scope))
            .gql()
    }
}

impl ManagerKind {
    fn stored(self) -> StoredKind {
        match self {
            ManagerKind::Company => StoredKind::Company,
            ManagerKind::Team => StoredKind::Team,
            ManagerKind::Api => StoredKind::Api,
        }
    }
}

/// A new team or API manager. It must change the password at first sign-in.
#[derive(InputObject)]
pub struct CreateManagerInput {
    /// What the manager signs in with: unique among the account's managers and reps.
    pub login: String,
    /// The manager's full name (1 to 200 characters).
    pub name: String,
    /// Where password resets and validation codes are mailed.
    pub email: String,
    /// The first password (policy of SPEC 5).
    pub password: String,
}

impl From<CreateManagerInput> for NewManager {
    fn from(input: CreateManagerInput) -> Self {
        NewManager {
            login: input.login,
            name: input.name,
            email: input.email,
            password: input.password,
        }
    }
}

/// Changes to a manager; absent fields stay as they are. None of them can be cleared.
#[derive(InputObject, Default)]
#[graphql(name = "ManagerPatch")]
pub struct ManagerPatchGql {
    /// A new login.
    pub login: Option<String>,
    /// A new full name.
    pub name: Option<String>,
    /// A new address; it is not validated yet.
    pub email: Option<String>,
}

/// Changes to `LoginSettings`; absent fields stay as they are.
#[derive(InputObject, Debug, Default)]
pub struct LoginSettingsPatch {
    /// The next sign-in is restricted until the password is changed.
    pub force_password_change: Option<bool>,
    /// The manager may reset its own password by e-mail.
    pub user_initiated_password_reset: Option<bool>,
    /// Sign-in is restricted until the e-mail address is validated.
    pub force_validation_prompt: Option<bool>,
    /// Keeps the password working when SSO is enforced. Company managers only; the last
    /// one of an enforced account cannot be turned off (`CONFLICT`).
    pub sso_break_glass: Option<bool>,
}

#[derive(Default)]
pub struct ManagerMutation;

#[Object]
impl ManagerMutation {
    /// Creates a team manager. Company managers only.
    async fn create_team_manager(
        &self,
        ctx: &Context<'_>,
        input: CreateManagerInput,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        service::manager::create(
            state(ctx)?,
            scope.access(),
            client(ctx),
            StoredKind::Team,
            input.into(),
        )
        .await
        .map(|m| Manager(m, scope))
        .gql()
    }

    /// Creates an API manager. Company managers only, while the account allows API managers.
    async fn create_api_manager(
        &self,
        ctx: &Context<'_>,
        input: CreateManagerInput,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        service::manager::create(
            state(ctx)?,
            scope.access(),
            client(ctx),
            StoredKind::Api,
            input.into(),
        )
        .await
        .map(|m| Manager(m, scope))
        .gql()
    }

    /// Changes a manager's login, name or e-mail. Company managers only.
    async fn update_manager(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ManagerPatchGql,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Manager, &id);
        let patch = ManagerPatch {
            login: input.login,
            name: input.name,
            email: input.email,
        };
        service::manager::update(state(ctx)?, scope.access(), client(ctx), id, patch)
            .await
            .map(|m| Manager(m, scope))
            .gql()
    }

    /// Deletes a manager (never the account's last company manager). Company managers only.
    async fn delete_manager(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Manager, &id);
        service::manager::delete(state(ctx)?, scope.access(), client(ctx), id)
            .await
            .map(|id| to_id(Kind::Manager, id))
            .gql()
    }

    /// Changes a team manager's rights. Company managers only.
    async fn update_manager_rights(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ManagerRightSetPatch,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Manager, &id);
        service::manager::update_set(
            state(ctx)?,
            scope.access(),
            client(ctx),
            id,
            ManagerSet::Rights,
            input.fields(),
        )
        .await
        .map(|m| Manager(m, scope))
        .gql()
    }

    /// Changes which rep features a team manager may switch. Company managers only.
    async fn update_manager_rep_controls(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: RepFeatureSetPatch,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Manager, &id);
        service::manager::update_set(
            state(ctx)?,
            scope.access(),
            client(ctx),
            id,
            ManagerSet::RepControls,
            input.fields(),
        )
        .await
        .map(|m| Manager(m, scope))
        .gql()
    }

    /// Assigns a team manager to exactly these teams and sub-teams. Company managers only.
    async fn set_manager_teams(
        &self,
        ctx: &Context<'_>,
        id: ID,
        team_ids: Vec<ID>,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Manager, &id);
        let teams = ids_of(Kind::Team, &team_ids);
        service::manager::set_teams(state(ctx)?, scope.access(), client(ctx), id, teams)
            .await
            .map(|m| Manager(m, scope))
            .gql()
    }

    /// Assigns a team manager to exactly these portals and sub-portals. Company managers only.
    async fn set_manager_portals(
        &self,
        ctx: &Context<'_>,
        id: ID,
        portal_ids: Vec<ID>,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Manager, &id);
        let portals = ids_of(Kind::Portal, &portal_ids);
        service::manager::set_portals(state(ctx)?, scope.access(), client(ctx), id, portals)
            .await
            .map(|m| Manager(m, scope))
            .gql()
    }

    /// Changes how a manager signs in. Company managers only.
    async fn update_manager_login_settings(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: LoginSettingsPatch,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Manager, &id);
        service::manager::update_login_settings(
            state(ctx)?,
            scope.access(),
            client(ctx),
            id,
            service::manager::LoginSettingsPatch {
                force_password_change: input.force_password_change,
                user_initiated_password_reset: input.user_initiated_password_reset,
                force_validation_prompt: input.force_validation_prompt,
                sso_break_glass: input.sso_break_glass,
            },
        )
        .await
        .map(|m| Manager(m, scope))
        .gql()
    }
}
