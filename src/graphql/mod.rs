//! The GraphQL schema: one `<Domain>Query` per domain, merged. The schema is built without a
//! database (so `admin-center schema` and the SDL test need none); the `AppState` arrives as
//! schema data when serving, and the caller ([`RequestCaller`]) as request data.

mod account;
mod audit;
mod connection;
mod developer_app;
mod features;
mod introspection;
mod loaders;
mod manager;
mod node;
mod portal;
mod rep;
mod scalars;
mod session;
mod team;

use async_graphql::{
    EmptySubscription, ErrorExtensions, MergedObject, Request, Response, Schema, SchemaBuilder,
    ServerError,
};

pub use self::introspection::IntrospectionSchema;
pub use self::scalars::{Kind as IdKind, decode as decode_global_id, to_id as global_id};
pub use self::{
    account::Account, audit::AuditEvent, manager::Manager, portal::Portal, rep::Rep, team::Team,
};
use crate::{
    auth::{ClientInfo, Principal},
    config::GraphqlLimits,
    error::{AppError, ErrorCode},
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
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

fn builder(limits: GraphqlLimits) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .limit_directives(16)
}

/// The schema as served: limits from the configuration, the state as data.
pub fn schema(state: AppState) -> AppSchema {
    builder(state.config.graphql).data(state).finish()
}

/// The same schema with limits sized for introspection, for documents that only read the
/// schema in the shape of an introspection query (see [`introspection`]).
pub fn introspection_schema(state: AppState) -> IntrospectionSchema {
    IntrospectionSchema(
        Schema::build(
            QueryRoot::default(),
            MutationRoot::default(),
            EmptySubscription,
        )
        .limit_depth(introspection::MAX_DEPTH)
        .limit_complexity(introspection::MAX_COMPLEXITY)
        .limit_directives(16)
        .data(state)
        .finish(),
    )
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
    builder(GraphqlLimits::default()).finish().sdl()
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
        let fresh = Scope::new(self.db.clone(), current.access().principal().clone());
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

/// Runs one request for `caller`, then gives every error a code: errors raised before
/// execution (syntax, validation, limits, argument coercion) carry none of their own and are
/// the client's to fix, so they become `BAD_USER_INPUT`.
pub async fn execute(
    schema: &AppSchema,
    request: Request,
    caller: &std::sync::Arc<RequestCaller>,
) -> Response {
    let mut response = schema.execute(request.data(caller.clone())).await;
    for error in &mut response.errors {
        ensure_code(error);
    }
    response
}

/// Also takes request text out of async-graphql's own messages: a syntax error prints the
/// document's line, an invalid enum value is quoted ("does not contain the value \"…\"") and
/// a failed coercion shows what it found ("Expected input type \"…\", found …"); any of them
/// may hold a secret sent in the wrong place (the password of a `login` typed inline). The
/// message keeps what is wrong and where (`locations`), never the text.
fn ensure_code(error: &mut ServerError) {
    const ENUM_VALUE: &str = " does not contain the value ";
    const FOUND: &str = ", found ";
    const PARSER_NOTE: &str = "\n  = ";
    if error.message.starts_with(" --> ") {
        let reason = error
            .message
            .rfind(PARSER_NOTE)
            .map_or("the document does not parse", |at| {
                &error.message[at + PARSER_NOTE.len()..]
            });
        error.message = format!("syntax error: {reason}");
    } else if let Some(at) = error.message.find(ENUM_VALUE) {
        error.message = format!("{} does not contain that value", &error.message[..at]);
    } else if let Some(at) = error
        .message
        .find("Expected input type ")
        .and_then(|start| Some(start + error.message[start..].find(FOUND)?))
    {
        error.message = format!("{}.", &error.message[..at]);
    }
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|ext| ext.get("code").is_some());
    if !has_code {
        let ext = error.extensions.get_or_insert_with(Default::default);
        ext.set("code", ErrorCode::BadUserInput.as_str());
    }
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
