//! `DeveloperApp`, `AppAuthorization` and their operations (SPEC 6): company managers register
//! and manage their account's OAuth clients; a company manager or the API manager itself sees
//! and revokes the manager's authorized applications. App tokens reach none of this.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use entity::{app_authorization, developer_app};

use super::{
    Manager, client,
    connection::{self, DeveloperAppConnection},
    mutation_scope,
    scalars::{DateTime, Kind, id_of, ids_of, to_id},
    scope, state,
};
use crate::{
    auth::scope::{ApiScope as Stored, ScopeSet},
    error::GqlResultExt,
    service::{
        self,
        developer_app::{AppPatch, NewApp, Registered},
        paging::PageRequest,
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

/// The GraphQL object `DeveloperApp` (described on its `impl`).
pub struct DeveloperApp(pub developer_app::Model);

/// An OAuth client. Its secret is never readable: it is shown once, by
/// `registerDeveloperApp` or `rotateDeveloperAppSecret`.
#[Object]
impl DeveloperApp {
    /// The app's global id (also its `AuthorizedApplication` id).
    pub async fn id(&self) -> ID {
        to_id(Kind::DeveloperApp, self.0.id)
    }

    /// The OAuth `client_id`.
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// The name API managers see when they authorize the app.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the app does, shown on the consent page.
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

    /// When the secret was last replaced; `null` if never.
    async fn secret_rotated_at(&self) -> Option<DateTime> {
        self.0.secret_rotated_at.map(DateTime)
    }

    /// When it was disabled: it then gets no codes or tokens, and its tokens stop working.
    async fn disabled_at(&self) -> Option<DateTime> {
        self.0.disabled_at.map(DateTime)
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime {
        self.0.updated_at.into()
    }
}

/// The GraphQL object `RegisteredApp` (described on its `impl`).
pub struct RegisteredApp(Registered);

/// A newly registered app, or one with a new secret.
#[Object]
impl RegisteredApp {
    /// The app.
    async fn app(&self) -> DeveloperApp {
        DeveloperApp(self.0.app.clone())
    }

    /// The client secret, shown this once (only its hash is kept); `null` for a public app.
    async fn client_secret(&self) -> Option<&str> {
        self.0.client_secret.as_deref()
    }
}

/// The GraphQL object `AuthorizedApp` (described on its `impl`).
pub struct AuthorizedApp(developer_app::Model);

/// The application side of an authorization: what a person needs to recognise it.
#[Object(name = "AuthorizedApplication")]
impl AuthorizedApp {
    /// The app's global id: the same as its `DeveloperApp` id.
    pub async fn id(&self) -> ID {
        to_id(Kind::DeveloperApp, self.0.id)
    }

    /// The OAuth `client_id`.
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// The app's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the app does.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Registered by the platform operator for every account.
    async fn platform(&self) -> bool {
        self.0.account_id.is_none()
    }
}

/// The GraphQL object `AppAuthorization` (described on its `impl`).
pub struct AppAuthorization(pub app_authorization::Model, pub developer_app::Model);

/// An API manager's authorization of a developer app.
#[Object]
impl AppAuthorization {
    /// The authorization's global id.
    pub async fn id(&self) -> ID {
        to_id(Kind::AppAuthorization, self.0.id)
    }

    /// The app authorized.
    async fn application(&self) -> AuthorizedApp {
        AuthorizedApp(self.1.clone())
    }

    /// The scopes the API manager granted.
    async fn scopes(&self) -> Vec<ApiScope> {
        scopes_of(self.0.scopes)
    }

    /// When the API manager authorized the app.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// When the app last called the API with a token of this authorization (to the minute).
    async fn last_used_at(&self) -> Option<DateTime> {
        self.0.last_used_at.map(DateTime)
    }

    /// When it was revoked (its tokens stopped working then); `null` while active.
    async fn revoked_at(&self) -> Option<DateTime> {
        self.0.revoked_at.map(DateTime)
    }
}

#[derive(Default)]
pub struct DeveloperAppQuery;

#[Object]
impl DeveloperAppQuery {
    /// The account's own developer apps (company managers), by registration.
    #[graphql(
        complexity = "(first.or(last).unwrap_or(20).clamp(0, 100) as usize).saturating_mul(child_complexity)"
    )]
    async fn developer_apps(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first n rows (0 to 100; default 20), after `after`.")] first: Option<
            i32,
        >,
        #[graphql(desc = "A cursor: read on from that row.")] after: Option<String>,
        #[graphql(desc = "The last n rows (0 to 100), before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor: read back from that row.")] before: Option<String>,
    ) -> async_graphql::Result<DeveloperAppConnection> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
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
        let id = id_of(Kind::DeveloperApp, &id);
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
    /// The name API managers see when they authorize the app.
    pub name: String,
    /// What the app does, shown on the consent page.
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
    /// A new name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// Exactly these redirect URIs (same rules as on registration).
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
        let id = id_of(Kind::DeveloperApp, &id);
        service::developer_app::rotate_secret(state(ctx)?, scope.access(), client(ctx), id)
            .await
            .map(RegisteredApp)
            .gql()
    }

    /// Renames an app, or changes its description, redirect URIs or scopes.
    async fn update_developer_app(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: DeveloperAppPatch,
    ) -> async_graphql::Result<DeveloperApp> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::DeveloperApp, &id);
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
        let id = id_of(Kind::DeveloperApp, &id);
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
        let manager_id = id_of(Kind::Manager, &manager_id);
        let app_ids = ids_of(Kind::DeveloperApp, &app_ids);
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
