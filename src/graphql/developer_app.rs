//! `DeveloperApp`, `AppAuthorization` and their operations (SPEC 6): company managers register
//! and manage their account's OAuth clients; a company manager or the API manager itself sees
//! and revokes the manager's authorized applications. App tokens reach none of this.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::{app_authorization, developer_app};

use super::{
    Manager, client,
    connection::{self, DeveloperAppConnection},
    mutation_scope,
    scalars::{parse_id, to_id},
    scope, state,
};
use crate::{
    auth::scope::{ApiScope as Stored, ScopeSet},
    error::{AppError, GqlResultExt},
    service::{
        self,
        developer_app::{AppPatch, NewApp, Registered},
        paging::PageArgs,
    },
};

/// What an app token may do, on top of what its API manager may do. On the wire of OAuth
/// (the `scope` parameter) these are `reps:read`, `reps:write`, `teams:read`, `teams:write`
/// and `portals:read`.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ApiScope {
    /// `reps:read`: read reps and their settings.
    RepsRead,
    /// `reps:write`: create, change and delete reps (and set their passwords).
    RepsWrite,
    /// `teams:read`: read teams and sub-teams.
    TeamsRead,
    /// `teams:write`: create, change and delete teams and sub-teams.
    TeamsWrite,
    /// `portals:read`: read portals and sub-portals.
    PortalsRead,
}

impl From<Stored> for ApiScope {
    fn from(scope: Stored) -> Self {
        match scope {
            Stored::RepsRead => ApiScope::RepsRead,
            Stored::RepsWrite => ApiScope::RepsWrite,
            Stored::TeamsRead => ApiScope::TeamsRead,
            Stored::TeamsWrite => ApiScope::TeamsWrite,
            Stored::PortalsRead => ApiScope::PortalsRead,
        }
    }
}

impl From<ApiScope> for Stored {
    fn from(scope: ApiScope) -> Self {
        match scope {
            ApiScope::RepsRead => Stored::RepsRead,
            ApiScope::RepsWrite => Stored::RepsWrite,
            ApiScope::TeamsRead => Stored::TeamsRead,
            ApiScope::TeamsWrite => Stored::TeamsWrite,
            ApiScope::PortalsRead => Stored::PortalsRead,
        }
    }
}

fn scopes_of(bits: i64) -> Vec<ApiScope> {
    ScopeSet::from_bits(bits)
        .iter()
        .map(ApiScope::from)
        .collect()
}

fn scope_set(scopes: &[ApiScope]) -> ScopeSet {
    scopes.iter().map(|s| Stored::from(*s)).collect()
}

/// An OAuth client. Its secret is never readable: it is shown once, by
/// `registerDeveloperApp` or `rotateDeveloperAppSecret`.
pub struct DeveloperApp(pub developer_app::Model);

#[Object]
impl DeveloperApp {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    /// The OAuth `client_id`.
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Where the authorization endpoint may send the API manager back; compared exactly.
    async fn redirect_uris(&self) -> Vec<String> {
        service::developer_app::redirect_uris(&self.0)
    }

    /// The scopes the app may ask for.
    async fn scopes(&self) -> Vec<ApiScope> {
        scopes_of(self.0.scopes)
    }

    /// A confidential app authenticates with its secret; a public one (a native or browser
    /// app) cannot keep one and relies on PKCE alone.
    async fn confidential(&self) -> bool {
        self.0.confidential
    }

    /// Registered by the platform operator for every account, rather than by this account.
    async fn platform(&self) -> bool {
        self.0.account_id.is_none()
    }

    async fn secret_rotated_at(&self) -> Option<DateTime<Utc>> {
        self.0.secret_rotated_at
    }

    /// When it was disabled: it then gets no codes or tokens, and its tokens stop working.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A newly registered app, or one with a new secret.
pub struct RegisteredApp(Registered);

#[Object]
impl RegisteredApp {
    async fn app(&self) -> DeveloperApp {
        DeveloperApp(self.0.app.clone())
    }

    /// The client secret, shown this once (only its hash is kept); `null` for a public app.
    async fn client_secret(&self) -> Option<&str> {
        self.0.client_secret.as_deref()
    }
}

/// The application side of an authorization: what a person needs to recognise it.
pub struct AuthorizedApp(developer_app::Model);

#[Object(name = "AuthorizedApplication")]
impl AuthorizedApp {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn client_id(&self) -> &str {
        &self.0.client_id
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    async fn platform(&self) -> bool {
        self.0.account_id.is_none()
    }
}

/// An API manager's authorization of a developer app.
pub struct AppAuthorization(pub app_authorization::Model, pub developer_app::Model);

#[Object]
impl AppAuthorization {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn application(&self) -> AuthorizedApp {
        AuthorizedApp(self.1.clone())
    }

    /// The scopes the API manager granted.
    async fn scopes(&self) -> Vec<ApiScope> {
        scopes_of(self.0.scopes)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the app last called the API with a token of this authorization (to the minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }

    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

#[derive(Default)]
pub struct DeveloperAppQuery;

#[Object]
impl DeveloperAppQuery {
    /// The account's own developer apps (company managers), by registration.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn developer_apps(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<DeveloperAppConnection> {
        let page = PageArgs::relay(first, after.as_deref(), last, before.as_deref()).gql()?;
        let scope = scope(ctx)?;
        let found = service::developer_app::list(state(ctx)?, scope.access(), page)
            .await
            .gql()?;
        Ok(connection::from_page(found, |a| a.id, DeveloperApp))
    }

    /// One of the account's developer apps.
    async fn developer_app(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<DeveloperApp> {
        let id = parse_id("id", &id).gql()?;
        let scope = scope(ctx)?;
        service::developer_app::get(scope.access(), id)
            .await
            .map(DeveloperApp)
            .gql()
    }
}

/// A new developer app.
#[derive(InputObject)]
pub struct RegisterDeveloperAppInput {
    pub name: String,
    pub description: Option<String>,
    /// 1 to 10 addresses: https, or http to a loopback address (127.0.0.1, [::1],
    /// localhost); no fragment.
    pub redirect_uris: Vec<String>,
    /// The scopes the app may ask for (at least one).
    pub scopes: Vec<ApiScope>,
    /// `true` for a server-side app that can keep a secret; `false` for a public client.
    pub confidential: bool,
}

/// Changes to a developer app; absent fields are unchanged.
#[derive(InputObject, Default)]
pub struct DeveloperAppPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    /// Narrowing the scopes narrows the app's live tokens at once.
    pub scopes: Option<Vec<ApiScope>>,
}

#[derive(Default)]
pub struct DeveloperAppMutation;

#[Object]
impl DeveloperAppMutation {
    /// Registers an app of the account; its secret is in the answer, this once.
    async fn register_developer_app(
        &self,
        ctx: &Context<'_>,
        input: RegisterDeveloperAppInput,
    ) -> async_graphql::Result<RegisteredApp> {
        let scope = mutation_scope(ctx)?;
        let new = NewApp {
            name: input.name,
            description: input.description,
            redirect_uris: input.redirect_uris,
            scopes: scope_set(&input.scopes),
            confidential: input.confidential,
        };
        service::developer_app::register(state(ctx)?, scope.access(), client(ctx), new)
            .await
            .map(RegisteredApp)
            .gql()
    }

    /// Replaces a confidential app's secret; the old one stops working at once.
    async fn rotate_developer_app_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<RegisteredApp> {
        let scope = mutation_scope(ctx)?;
        let id = parse_id("id", &id).gql()?;
        service::developer_app::rotate_secret(state(ctx)?, scope.access(), client(ctx), id)
            .await
            .map(RegisteredApp)
            .gql()
    }

    async fn update_developer_app(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: DeveloperAppPatch,
    ) -> async_graphql::Result<DeveloperApp> {
        let scope = mutation_scope(ctx)?;
        let id = parse_id("id", &id).gql()?;
        let patch = AppPatch {
            name: input.name,
            description: input.description,
            redirect_uris: input.redirect_uris,
            scopes: input.scopes.as_deref().map(scope_set),
        };
        service::developer_app::update(state(ctx)?, scope.access(), client(ctx), id, patch)
            .await
            .map(DeveloperApp)
            .gql()
    }

    /// Disables an app for good: it gets no more codes or tokens, and every token it holds
    /// stops working on its next request.
    async fn disable_developer_app(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<DeveloperApp> {
        let scope = mutation_scope(ctx)?;
        let id = parse_id("id", &id).gql()?;
        service::developer_app::disable(state(ctx)?, scope.access(), client(ctx), id)
            .await
            .map(DeveloperApp)
            .gql()
    }

    /// Revokes the API manager's authorizations of these apps at once: every token they
    /// issued stops working on its next request. Apps it has not authorized are ignored.
    async fn revoke_api_manager_applications(
        &self,
        ctx: &Context<'_>,
        manager_id: ID,
        app_ids: Vec<ID>,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        let manager_id = parse_id("managerId", &manager_id).gql()?;
        if app_ids.len() > service::authorization::MAX_REVOKE {
            return Err(AppError::bad_input(format!(
                "appIds must hold at most {} ids",
                service::authorization::MAX_REVOKE
            )))
            .gql();
        }
        let app_ids = app_ids
            .iter()
            .map(|id| parse_id("appIds", id))
            .collect::<Result<Vec<_>, _>>()
            .gql()?;
        service::authorization::revoke(
            state(ctx)?,
            scope.access(),
            client(ctx),
            manager_id,
            &app_ids,
        )
        .await
        .map(|m| Manager(m, scope))
        .gql()
    }
}
