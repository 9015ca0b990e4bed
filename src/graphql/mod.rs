//! The GraphQL schema: one `<Domain>Query` per domain, merged. The schema is built without a
//! database (so `admin-center schema` and the SDL test need none); the `AppState` arrives as
//! schema data when serving, and the caller's `Principal` as request data.

mod account;
mod audit;
mod connection;
mod features;
mod loaders;
mod manager;
mod portal;
mod rep;
mod scalars;
mod session;
mod team;

use async_graphql::{
    EmptySubscription, ErrorExtensions, MergedObject, Request, Response, Schema, SchemaBuilder,
    ServerError,
};

pub use self::{
    account::Account, audit::AuditEvent, manager::Manager, portal::Portal, rep::Rep, team::Team,
};
use crate::{
    auth::{ClientInfo, Principal},
    config::GraphqlLimits,
    error::{AppError, ErrorCode},
    state::AppState,
};

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    account::AccountQuery,
    manager::ManagerQuery,
    team::TeamQuery,
    portal::PortalQuery,
    rep::RepQuery,
    audit::AuditQuery,
);

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    session::SessionMutation,
    manager::ManagerMutation,
    team::TeamMutation,
    portal::PortalMutation,
    rep::RepMutation,
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

/// The schema's SDL, with no database anywhere near.
pub fn sdl() -> String {
    builder(GraphqlLimits::default()).finish().sdl()
}

/// Runs one request for `principal`, then gives every error a code: errors raised before
/// execution (syntax, validation, limits, argument coercion) carry none of their own and are
/// the client's to fix, so they become `BAD_USER_INPUT`.
pub async fn execute(
    schema: &AppSchema,
    request: Request,
    principal: Principal,
    client: ClientInfo,
) -> Response {
    let loaders = schema
        .data::<AppState>()
        .map(|state| loaders::loaders(state.clone()));
    let mut request = request.data(principal).data(client);
    if let Some(loaders) = loaders {
        request = request.data(loaders);
    }
    let mut response = schema.execute(request).await;
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

/// This request's DataLoaders.
pub(crate) fn loaders<'a>(
    ctx: &async_graphql::Context<'a>,
) -> async_graphql::Result<&'a loaders::Loaders> {
    ctx.data::<loaders::Loaders>().map_err(|_| {
        AppError::internal(std::io::Error::other("loaders missing from request data")).extend()
    })
}

/// The teams the caller can see, from the request's loaders: one batched, cached lookup per
/// request however many nested fields ask.
pub(crate) async fn caller_reach(
    ctx: &async_graphql::Context<'_>,
) -> async_graphql::Result<crate::service::access::Reach> {
    use crate::service::access::Reach;
    let actor = principal(ctx).actor().map_err(|e| e.extend())?;
    if actor.kind != entity::manager::ManagerKind::Team {
        return Ok(Reach::Account);
    }
    let teams = loaders(ctx)?
        .load_one(loaders::TeamsOfManager(actor.manager_id))
        .await?
        .unwrap_or_default();
    Ok(Reach::Teams(teams.into_iter().map(|t| t.id).collect()))
}

/// A team the caller can see, from the request's loaders; `NOT_FOUND` otherwise.
pub(crate) async fn visible_team(
    ctx: &async_graphql::Context<'_>,
    team_id: uuid::Uuid,
) -> async_graphql::Result<entity::team::Model> {
    let actor = principal(ctx).actor().map_err(|e| e.extend())?;
    let not_found = || AppError::NotFound("team").extend();
    let team = loaders(ctx)?
        .load_one(loaders::TeamById(team_id))
        .await?
        .filter(|t| t.account_id == actor.account_id)
        .ok_or_else(not_found)?;
    if caller_reach(ctx).await?.sees(team.id) {
        Ok(team)
    } else {
        Err(not_found())
    }
}

/// Where the request came from.
pub(crate) fn client<'a>(ctx: &async_graphql::Context<'a>) -> &'a ClientInfo {
    const UNKNOWN: &ClientInfo = &ClientInfo { address: None };
    ctx.data_opt::<ClientInfo>().unwrap_or(UNKNOWN)
}

/// The caller. A request without one is anonymous.
pub(crate) fn principal<'a>(ctx: &async_graphql::Context<'a>) -> &'a Principal {
    const ANONYMOUS: &Principal = &Principal::Anonymous;
    ctx.data_opt::<Principal>().unwrap_or(ANONYMOUS)
}
