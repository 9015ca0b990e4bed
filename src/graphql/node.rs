//! Relay's `Node`: every object with a global id, `node(id:)` and `nodes(ids:)`. An object is
//! found exactly where the caller could read it through the matching single-object query
//! (`team(id:)`, `manager(id:)`, …): the same reach, the same app-token scopes. What the caller
//! cannot see, and ids that are malformed, answer `null`; a caller that may not read that kind
//! of object at all (anonymous, a restricted session, an app token without the scope) gets
//! that error, as the single-object query would give it. Lookups go through the caller's
//! DataLoaders, so `nodes` costs one query per kind, not one per id.

use async_graphql::{Context, ErrorExtensions, ID, Interface, Object};
use futures_util::future::try_join_all;
use uuid::Uuid;

use super::{
    Account, Manager, Portal, Rep, Scope, Team,
    developer_app::{AppAuthorization, DeveloperApp},
    loaders::{
        AccountById, AuthorizationById, DeveloperAppById, ManagerById, PortalById, RepById,
        TeamById,
    },
    scalars::{Kind, decode},
    scope,
};
use crate::{auth::scope::ApiScope, error::AppError};

/// An object with a global id, which `node(id:)` finds again.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "ID",
    desc = "The object's global id: opaque, stable, and enough for `node(id:)` to find it."
))]
pub enum Node {
    Account(Account),
    Manager(Manager),
    Team(Team),
    Portal(Portal),
    Rep(Rep),
    DeveloperApp(DeveloperApp),
    AppAuthorization(AppAuthorization),
}

/// The most ids one `nodes` call takes.
pub const MAX_NODES: usize = 100;

/// Refuses a caller that may not read `kind` at all, as the single-object query would.
fn may_read(scope: &Scope, kind: Kind) -> async_graphql::Result<()> {
    let access = scope.access();
    match kind {
        Kind::Team => access.require(ApiScope::TeamsRead),
        Kind::Portal => access.require(ApiScope::PortalsRead),
        Kind::Rep => access.require(ApiScope::RepsRead),
        // As `manager(id:)`: people only.
        Kind::Manager => access.person().map(|_| ()),
        // As `developerApp(id:)`: company managers.
        Kind::DeveloperApp => access
            .person()
            .and_then(crate::service::access::company_only),
        // As `authorizedApplications`: company and API managers, with their own session.
        Kind::AppAuthorization => access.person().and_then(|actor| match actor.kind {
            entity::manager::ManagerKind::Team => Err(AppError::Forbidden),
            _ => Ok(()),
        }),
        Kind::Account | Kind::AuditEvent => access.actor().map(|_| ()),
    }
    .map_err(|e| e.extend())
}

/// The object `kind`/`id` names, as `scope` may read it.
pub async fn load(scope: &Scope, kind: Kind, id: Uuid) -> async_graphql::Result<Option<Node>> {
    may_read(scope, kind)?;
    let loaders = scope.loaders();
    let s = || scope.clone();
    Ok(match kind {
        Kind::Account => loaders
            .load_one(AccountById(id))
            .await?
            .map(|a| Node::Account(Account(a))),
        Kind::Manager => loaders
            .load_one(ManagerById(id))
            .await?
            .map(|m| Node::Manager(Manager(m, s()))),
        Kind::Team => loaders
            .load_one(TeamById(id))
            .await?
            .map(|t| Node::Team(Team(t, s()))),
        Kind::Portal => loaders
            .load_one(PortalById(id))
            .await?
            .map(|p| Node::Portal(Portal(p, s()))),
        Kind::Rep => loaders
            .load_one(RepById(id))
            .await?
            .map(|r| Node::Rep(Rep(r, s()))),
        Kind::DeveloperApp => loaders
            .load_one(DeveloperAppById(id))
            .await?
            .map(|a| Node::DeveloperApp(DeveloperApp(a))),
        Kind::AppAuthorization => {
            loaders
                .load_one(AuthorizationById(id))
                .await?
                .map(|(authorization, app)| {
                    Node::AppAuthorization(AppAuthorization(authorization, app))
                })
        }
        // Audit events are read through `auditEvents` only.
        Kind::AuditEvent => None,
    })
}

async fn load_id(scope: &Scope, id: &ID) -> async_graphql::Result<Option<Node>> {
    match decode(id) {
        Some((kind, uuid)) => load(scope, kind, uuid).await,
        None => Ok(None),
    }
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this global id, if the caller can see it; `null` otherwise (also for
    /// an id that is malformed).
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let scope = scope(ctx)?;
        scope.access().actor().map_err(|e| e.extend())?;
        load_id(&scope, &id).await
    }

    /// The objects with these global ids (at most 100), in the same order; `null` for each one
    /// the caller cannot see.
    #[graphql(complexity = "ids.len().saturating_mul(child_complexity)")]
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        let scope = scope(ctx)?;
        // Permission first: an anonymous or restricted caller learns nothing, not even a limit.
        scope.access().actor().map_err(|e| e.extend())?;
        if ids.len() > MAX_NODES {
            return Err(AppError::bad_input(format!(
                "ids holds {} ids; at most {MAX_NODES} are allowed",
                ids.len()
            ))
            .extend());
        }
        // Each kind's permission in the order the ids name them, before anything loads: the
        // first refusal is the answer, whatever finishes loading first.
        let decoded: Vec<Option<(Kind, Uuid)>> = ids.iter().map(|id| decode(id)).collect();
        for (kind, _) in decoded.iter().flatten() {
            may_read(&scope, *kind)?;
        }
        try_join_all(decoded.into_iter().map(|found| {
            let scope = &scope;
            async move {
                match found {
                    Some((kind, uuid)) => load(scope, kind, uuid).await,
                    None => Ok(None),
                }
            }
        }))
        .await
    }
}
