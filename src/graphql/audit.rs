//! `AuditEvent`: the audit log, for company managers.

use async_graphql::{Context, ID, Json, Object};
use chrono::{DateTime, Utc};
use entity::audit_event;

use super::{
    connection::{self, AuditEventConnection},
    scalars::{parse_id, to_id},
    scope, state,
};
use crate::{error::GqlResultExt, service, service::paging::PageArgs};

/// One change: who, what, on what, the settings before and after, when, from where.
#[derive(Clone)]
pub struct AuditEvent(pub audit_event::Model);

#[Object]
impl AuditEvent {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    /// The manager who acted; `null` for the platform operator (CLI) and for anonymous
    /// callers (a failed sign-in, a password-reset request or reset).
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(to_id)
    }

    /// The actor's login at the time, `operator`, or `anonymous`.
    async fn actor_login(&self) -> &str {
        &self.0.actor_label
    }

    /// The mutation (or CLI command) name, e.g. `updateManagerRights`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// `account`, `manager`, `team`, `portal` or `rep`.
    async fn target_type(&self) -> &str {
        &self.0.target_type
    }

    async fn target_id(&self) -> Option<ID> {
        self.0.target_id.map(to_id)
    }

    /// The settings that changed, as they were (never a password or token).
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.0.before.clone().map(Json)
    }

    /// The settings that changed, as they became.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.0.after.clone().map(Json)
    }

    async fn client_address(&self) -> Option<&str> {
        self.0.client_address.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The account's audit log, newest first. Company managers only.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        action: Option<String>,
        target_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<AuditEventConnection> {
        let page = PageArgs::relay(first, after.as_deref(), last, before.as_deref()).gql()?;
        let target = target_id
            .map(|t| parse_id("targetId", &t))
            .transpose()
            .gql()?;
        let scope = scope(ctx)?;
        let found =
            service::audit::list(state(ctx)?, scope.access(), action.as_deref(), target, page)
                .await
                .gql()?;
        Ok(connection::from_page(found, |e| e.id, AuditEvent))
    }
}
