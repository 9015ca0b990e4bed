//! `AuditEvent`: the audit log, for company managers.

use async_graphql::{Context, ID, Json, Object};
use entity::audit_event;
use serde_json::Value;

use super::{
    Manager, Scope,
    connection::{self, AuditEventConnection},
    loaders::ManagerById,
    node::{self, Node},
    scalars::{DateTime, Kind, id_of, to_id},
    scope, state,
};
use crate::{
    error::{AppError, GqlResultExt},
    service::{
        self,
        audit::{Action, AuditFilter, TargetType},
        paging::PageRequest,
    },
};

/// The GraphQL object `AuditEvent` (described on its `impl`).
#[derive(Clone)]
pub struct AuditEvent(pub audit_event::Model, pub Scope);

fn kind_of(target: TargetType) -> Kind {
    match target {
        TargetType::Account => Kind::Account,
        TargetType::Manager => Kind::Manager,
        TargetType::Team => Kind::Team,
        TargetType::Portal => Kind::Portal,
        TargetType::Rep => Kind::Rep,
        TargetType::DeveloperApp => Kind::DeveloperApp,
        TargetType::AppAuthorization => Kind::AppAuthorization,
    }
}

/// A stored name the code no longer knows: a bug, not the client's doing.
fn unknown(what: &str) -> async_graphql::Error {
    async_graphql::ErrorExtensions::extend(&AppError::internal(std::io::Error::other(format!(
        "unknown audit {what} in the database"
    ))))
}

impl AuditEvent {
    fn target_kind(&self) -> async_graphql::Result<Kind> {
        TargetType::parse(&self.0.target_type)
            .map(kind_of)
            .ok_or_else(|| unknown("target type"))
    }

    /// The settings as stored, with storage ids turned into the global ids clients know.
    fn with_global_ids(&self, value: &Option<Value>) -> async_graphql::Result<Option<Json<Value>>> {
        let target = self.target_kind()?;
        Ok(value.clone().map(|mut value| {
            if let Value::Object(fields) = &mut value {
                for (key, field) in fields.iter_mut() {
                    if let Some(kind) = id_kind(key, target) {
                        globalize(field, kind);
                    }
                }
            }
            Json(value)
        }))
    }
}

/// What the ids under `key` in an event about `target` name.
fn id_kind(key: &str, target: Kind) -> Option<Kind> {
    match key {
        "parentId" => Some(target),
        "teamId" | "teamIds" => Some(Kind::Team),
        "portalId" | "portalIds" | "subportalIds" | "firstSubportalId" => Some(Kind::Portal),
        "managerId" => Some(Kind::Manager),
        "appId" => Some(Kind::DeveloperApp),
        _ => None,
    }
}

fn globalize(value: &mut Value, kind: Kind) {
    match value {
        Value::String(text) => {
            if let Ok(uuid) = uuid::Uuid::try_parse(text) {
                *text = to_id(kind, uuid).0;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| globalize(item, kind)),
        _ => {}
    }
}

/// One change: who, what, on what, the settings before and after, when, from where.
#[Object]
impl AuditEvent {
    /// The event's global id.
    async fn id(&self) -> ID {
        to_id(Kind::AuditEvent, self.0.id)
    }

    /// The manager who acted, if it still exists; `null` for the platform operator (CLI), for
    /// anonymous callers (a failed sign-in, a password-reset request or reset) and for a
    /// manager deleted since (`actorLogin` still names it).
    async fn actor(&self) -> async_graphql::Result<Option<Manager>> {
        let Some(id) = self.0.actor_id else {
            return Ok(None);
        };
        let found = self.1.loaders().load_one(ManagerById(id)).await?;
        Ok(found.map(|m| Manager(m, self.1.clone())))
    }

    /// The global id of the manager who acted (kept when the manager is deleted).
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| to_id(Kind::Manager, id))
    }

    /// The actor's login at the time, `operator`, or `anonymous`.
    async fn actor_login(&self) -> &str {
        &self.0.actor_label
    }

    /// What was done.
    async fn action(&self) -> async_graphql::Result<Action> {
        Action::parse(&self.0.action).ok_or_else(|| unknown("action"))
    }

    /// What kind of thing it was done to.
    async fn target_type(&self) -> async_graphql::Result<TargetType> {
        TargetType::parse(&self.0.target_type).ok_or_else(|| unknown("target type"))
    }

    /// The global id of what it was done to (kept when that is deleted).
    async fn target_id(&self) -> async_graphql::Result<Option<ID>> {
        let kind = self.target_kind()?;
        Ok(self.0.target_id.map(|id| to_id(kind, id)))
    }

    /// What it was done to, if it still exists: select its fields with `... on Team { name }`.
    async fn target(&self) -> async_graphql::Result<Option<Node>> {
        let Some(id) = self.0.target_id else {
            return Ok(None);
        };
        node::load(&self.1, self.target_kind()?, id).await
    }

    /// The settings that changed, as they were (never a password or token). Ids in it are
    /// global ids.
    async fn before(&self) -> async_graphql::Result<Option<Json<Value>>> {
        self.with_global_ids(&self.0.before)
    }

    /// The settings that changed, as they became.
    async fn after(&self) -> async_graphql::Result<Option<Json<Value>>> {
        self.with_global_ids(&self.0.after)
    }

    /// The caller's address (behind a trusted proxy, the address the proxy forwarded).
    async fn client_address(&self) -> Option<&str> {
        self.0.client_address.as_deref()
    }

    /// When it happened.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The account's audit log, newest first. Company managers only. Filters combine.
    #[graphql(
        complexity = "(first.or(last).unwrap_or(20).clamp(0, 100) as usize).saturating_mul(child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this action.")] action: Option<Action>,
        #[graphql(desc = "Only events about this object (any type).")] target_id: Option<ID>,
        #[graphql(desc = "Only what this manager did.")] actor_id: Option<ID>,
        #[graphql(desc = "Only events at or after this time.")] since: Option<DateTime>,
        #[graphql(desc = "Only events before this time.")] until: Option<DateTime>,
        #[graphql(desc = "The first n rows (0 to 100; default 20), after `after`.")] first: Option<
            i32,
        >,
        #[graphql(desc = "A cursor: read on from that row.")] after: Option<String>,
        #[graphql(desc = "The last n rows (0 to 100), before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor: read back from that row.")] before: Option<String>,
    ) -> async_graphql::Result<AuditEventConnection> {
        let scope = scope(ctx)?;
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        let filter = AuditFilter {
            action,
            // Any kind: the stored target id is the object's own; an id that is no global
            // id names nothing.
            target_id: target_id
                .map(|t| super::scalars::decode(&t).map_or(uuid::Uuid::nil(), |(_, uuid)| uuid)),
            actor_id: actor_id.map(|a| id_of(Kind::Manager, &a)),
            since: since.map(|t| t.0),
            until: until.map(|t| t.0),
        };
        let found = service::audit::list(state(ctx)?, scope.access(), filter, page)
            .await
            .gql()?;
        Ok(connection::from_page(
            found,
            |e| e.id,
            |e| AuditEvent(e, scope.clone()),
        ))
    }
}
