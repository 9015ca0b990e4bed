//! The GraphQL schema: one `<Domain>Query` per domain, merged. The schema is built without a
//! database (so `admin-center schema` and the SDL test need none); the `AppState` arrives as
//! schema data when serving, and the caller ([`RequestCaller`]) as request data.

mod account;
mod audit;
mod connection;
mod developer_app;
mod errors;
mod features;
mod introspection;
mod loaders;
mod manager;
mod node;
mod portal;
mod rep;
mod scalars;
mod sdl;
mod session;
mod sso;
mod team;

use async_graphql::{
    EmptySubscription, ErrorExtensions, MergedObject, Request, Response, Schema, SchemaBuilder,
};

pub use self::introspection::IntrospectionSchema;
pub use self::scalars::{Kind as IdKind, decode as decode_global_id, to_id as global_id};
pub use self::{
    account::Account, audit::AuditEvent, manager::Manager, portal::Portal, rep::Rep, team::Team,
};
use crate::{
    auth::{ClientInfo, Principal},
    config::GraphqlLimits,
    error::AppError,
    state::AppState,
};

/// What can be read. Lists are Relay connections; every object with an `id` is a `Node`.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    account::AccountQuery,
    manager::ManagerQuery,
    team::TeamQuery,
    portal::PortalQuery,
    rep::RepQuery,
    audit::AuditQuery,
    developer_app::DeveloperAppQuery,
    node::NodeQuery,
);

/// What can be changed. Every change is checked against the caller's rights first and
/// recorded in the audit log.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    session::SessionMutation,
    manager::ManagerMutation,
    team::TeamMutation,
    portal::PortalMutation,
    rep::RepMutation,
    developer_app::DeveloperAppMutation,
    sso::SsoMutation,
);

type RawSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The schema as served, twice: the `fast` one, with no extension, runs requests; the
/// `checked` one, with [`errors`]' shaping extension, answers a request the fast one refuses
/// before running anything, so its errors carry their codes and numbers. (An extension, even
/// one that only looks at parsing and validation, puts a chain of futures around every field
/// async-graphql resolves: a tenth of the server's time on a list of fifty managers.)
#[derive(Clone)]
pub struct AppSchema {
    fast: RawSchema,
    checked: RawSchema,
}

impl AppSchema {
    fn new(state: AppState, max_depth: usize, max_complexity: usize) -> Self {
        AppSchema {
            fast: errors::fast(root(), max_depth, max_complexity)
                .data(state.clone())
                .finish(),
            checked: errors::limited(root(), max_depth, max_complexity)
                .data(state)
                .finish(),
        }
    }
}

fn root() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
}

/// The schema as served: limits from the configuration, the state as data.
pub fn schema(state: AppState) -> AppSchema {
    let limits = state.config.graphql;
    AppSchema::new(state, limits.max_depth, limits.max_complexity)
}

/// The same schema with limits sized for introspection, for documents that only read the
/// schema in the shape of an introspection query (see [`introspection`]).
pub fn introspection_schema(state: AppState) -> IntrospectionSchema {
    IntrospectionSchema(AppSchema::new(
        state,
        introspection::MAX_DEPTH,
        introspection::MAX_COMPLEXITY,
    ))
}

/// The schema `request` runs against: the introspection one for a schema-only document
/// shaped like introspection, else the one with the data limits.
pub fn pick<'a>(
    schema: &'a AppSchema,
    introspection: &'a IntrospectionSchema,
    request: &Request,
) -> &'a AppSchema {
    if introspection::is_schema_query(&request.query, request.operation_name.as_deref()) {
        &introspection.0
    } else {
        schema
    }
}

/// The schema's SDL, with no database anywhere near.
pub fn sdl() -> String {
    let limits = GraphqlLimits::default();
    sdl::export(&errors::limited(root(), limits.max_depth, limits.max_complexity).finish())
}

/// The caller of one HTTP request, shared by every operation of a batch. Each root field reads
/// its [`Scope`] here when it starts, so what an earlier operation did to the caller holds for
/// the later ones: after `logout` (or a password change that ends this session) the rest of
/// the request runs as anonymous, and every mutation starts with fresh loaders and reach, so it
/// and the operations after it see the world as the previous mutation left it.
pub struct RequestCaller {
    db: sea_orm::DatabaseConnection,
    client: ClientInfo,
    current: std::sync::Mutex<Scope>,
}

impl RequestCaller {
    pub fn new(
        db: sea_orm::DatabaseConnection,
        principal: Principal,
        client: ClientInfo,
    ) -> std::sync::Arc<Self> {
        std::sync::Arc::new(RequestCaller {
            current: std::sync::Mutex::new(Scope::new(db.clone(), principal)),
            db,
            client,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Scope> {
        // A panic elsewhere cannot leave a half-written `Scope`: the value is replaced whole.
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The scope root fields of queries share: one reach and one set of loaders.
    fn scope(&self) -> Scope {
        self.lock().clone()
    }

    /// A new scope for the same principal, for a mutation and what follows it.
    fn renew(&self) -> Scope {
        let mut current = self.lock();
        let fresh = Scope::new(self.db.clone(), current.access().principal().without_row());
        *current = fresh.clone();
        fresh
    }

    /// The rest of the request runs as anonymous.
    fn sign_out(&self) {
        *self.lock() = Scope::new(self.db.clone(), Principal::Anonymous);
    }
}

/// Who a GraphQL object was reached for: its [`Access`](crate::service::access::Access) and
/// the DataLoaders built for that access. Every object carries the scope it was reached
/// with, and its nested fields load through that scope only, so a nested field is checked
/// against the principal its parent was reached for (the manager a `login` answer names,
/// not the bearer of the request's token).
#[derive(Clone)]
pub struct Scope(std::sync::Arc<ScopeInner>);

struct ScopeInner {
    access: crate::service::access::Access,
    loaders: loaders::Loaders,
}

impl Scope {
    pub fn new(db: sea_orm::DatabaseConnection, principal: Principal) -> Self {
        let access = crate::service::access::Access::new(db, principal);
        Scope(std::sync::Arc::new(ScopeInner {
            loaders: loaders::loaders(access.clone()),
            access,
        }))
    }

    pub fn access(&self) -> &crate::service::access::Access {
        &self.0.access
    }

    pub(crate) fn loaders(&self) -> &loaders::Loaders {
        &self.0.loaders
    }

    /// Refuses an app token without `scope`, before a field answers anything (even `null`:
    /// an empty answer would tell what the scope hides).
    pub(crate) fn require(&self, scope: crate::auth::scope::ApiScope) -> async_graphql::Result<()> {
        self.0.access.require(scope).map_err(|e| e.extend())
    }

    /// Rows a loader answered, as objects of this scope.
    fn teams(&self, rows: Option<Vec<entity::team::Model>>) -> Vec<Team> {
        self.wrap(rows, Team)
    }

    fn portals(&self, rows: Option<Vec<entity::portal::Model>>) -> Vec<Portal> {
        self.wrap(rows, Portal)
    }

    fn managers(&self, rows: Option<Vec<entity::manager::Model>>) -> Vec<Manager> {
        self.wrap(rows, Manager)
    }

    fn wrap<M, T>(&self, rows: Option<Vec<M>>, object: fn(M, Scope) -> T) -> Vec<T> {
        rows.unwrap_or_default()
            .into_iter()
            .map(|row| object(row, self.clone()))
            .collect()
    }
}

/// Runs one request for `caller`, then gives every error a code and takes request text out of
/// the messages (see [`errors`]).
pub async fn execute(
    schema: &AppSchema,
    request: Request,
    caller: &std::sync::Arc<RequestCaller>,
) -> Response {
    let mut response = match errors::prepare(&request.query, &request.variables) {
        Some(document) => {
            // What a second run needs: the request as it came, less its (cheap) document.
            let mut again = Request::new(request.query.clone());
            again.operation_name = request.operation_name.clone();
            again.variables = request.variables.clone();
            again.extensions = request.extensions.clone();
            again.introspection_mode = request.introspection_mode;
            let mut prepared = request.data(caller.clone());
            prepared.set_parsed_query(document);
            let response = schema.fast.execute(prepared).await;
            if errors::failed_before_running(&response) {
                schema.checked.execute(again.data(caller.clone())).await
            } else {
                response
            }
        }
        None => schema.checked.execute(request.data(caller.clone())).await,
    };
    errors::shape(&mut response);
    response
}

/// The state, from schema data. Missing state is a wiring bug, reported as `INTERNAL`.
pub(crate) fn state<'a>(ctx: &async_graphql::Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>().map_err(|_| {
        AppError::internal(std::io::Error::other("AppState missing from schema data")).extend()
    })
}

fn request_caller<'a>(
    ctx: &async_graphql::Context<'a>,
) -> async_graphql::Result<&'a std::sync::Arc<RequestCaller>> {
    ctx.data::<std::sync::Arc<RequestCaller>>().map_err(|_| {
        AppError::internal(std::io::Error::other("caller missing from request data")).extend()
    })
}

/// The scope a root query field runs in.
pub(crate) fn scope(ctx: &async_graphql::Context<'_>) -> async_graphql::Result<Scope> {
    Ok(request_caller(ctx)?.scope())
}

/// The scope a root mutation field runs in: fresh, so nothing loaded before the mutation is
/// served after it.
pub(crate) fn mutation_scope(ctx: &async_graphql::Context<'_>) -> async_graphql::Result<Scope> {
    Ok(request_caller(ctx)?.renew())
}

/// After an operation that ended the session the request came with.
pub(crate) fn signed_out(ctx: &async_graphql::Context<'_>) -> async_graphql::Result<()> {
    request_caller(ctx)?.sign_out();
    Ok(())
}

/// Where the request came from.
pub(crate) fn client<'a>(ctx: &async_graphql::Context<'a>) -> &'a ClientInfo {
    const UNKNOWN: &ClientInfo = &ClientInfo { address: None };
    request_caller(ctx).map_or(UNKNOWN, |caller| &caller.client)
}
