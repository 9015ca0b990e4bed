//! Writing the audit log. Every change goes through [`record`] inside the change's own
//! transaction, so a change and its audit entry land together or not at all.

use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::{Actor, ClientInfo},
    error::AppError,
    service::{
        access::{self, Access},
        paging::{self, Order, Page, PageArgs},
    },
    state::AppState,
};

/// Who did it: a signed-in manager, the platform operator at the CLI, or an anonymous caller
/// (a failed sign-in, a reset request, a reset with a mailed token: whoever sent it is not
/// known to be the manager, who stays the target).
#[derive(Clone, Debug)]
pub enum AuditActor<'a> {
    Manager { id: Uuid, login: &'a str },
    Operator,
    Anonymous,
}

impl<'a> AuditActor<'a> {
    pub fn of(actor: &'a Actor) -> Self {
        AuditActor::Manager {
            id: actor.manager_id,
            login: &actor.login,
        }
    }
}

#[derive(Debug)]
pub struct AuditEntry<'a> {
    pub account_id: Uuid,
    pub actor: AuditActor<'a>,
    /// The GraphQL mutation name (or its CLI equivalent), e.g. `createAccount`.
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub client_address: Option<String>,
}

/// The entry for a change `actor` made to `target` (of `target_type`), with the settings
/// that changed.
pub fn entry<'a>(
    actor: &'a Actor,
    client: &ClientInfo,
    target_type: &'static str,
    action: &'static str,
    target: Uuid,
    before: Option<Value>,
    after: Option<Value>,
) -> AuditEntry<'a> {
    AuditEntry {
        account_id: actor.account_id,
        actor: AuditActor::of(actor),
        action,
        target_type,
        target_id: Some(target),
        before,
        after,
        client_address: client.address.clone(),
    }
}

pub async fn record(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    entry: AuditEntry<'_>,
) -> Result<(), AppError> {
    audit_event::Entity::insert(row(now, entry))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Rows per multi-row insert: 11 parameters each stays well under SQLite's and PostgreSQL's
/// limits on bound parameters.
const ROWS_PER_INSERT: usize = 500;

/// Several entries, a few hundred per statement (nothing when there are none).
pub async fn record_all<'a>(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    entries: impl IntoIterator<Item = AuditEntry<'a>>,
) -> Result<(), AppError> {
    let rows: Vec<audit_event::ActiveModel> =
        entries.into_iter().map(|entry| row(now, entry)).collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        audit_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

fn row(now: DateTime<Utc>, entry: AuditEntry<'_>) -> audit_event::ActiveModel {
    let (actor_id, actor_label) = match entry.actor {
        AuditActor::Manager { id, login } => (Some(id), login.to_owned()),
        AuditActor::Operator => (None, "operator".to_owned()),
        AuditActor::Anonymous => (None, "anonymous".to_owned()),
    };
    audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(entry.account_id),
        actor_id: Set(actor_id),
        actor_label: Set(actor_label),
        action: Set(entry.action.to_owned()),
        target_type: Set(entry.target_type.to_owned()),
        target_id: Set(entry.target_id),
        before: Set(entry.before),
        after: Set(entry.after),
        client_address: Set(entry.client_address),
        created_at: Set(now),
    }
}

/// `auditEvents(action, targetId, first, after)`: the account's log, newest first. Company
/// managers only.
pub async fn list(
    state: &AppState,
    caller: &Access,
    action: Option<&str>,
    target_id: Option<Uuid>,
    page: PageArgs,
) -> Result<Page<audit_event::Model>, AppError> {
    let actor = caller.person()?;
    access::company_only(actor)?;
    let mut query =
        audit_event::Entity::find().filter(audit_event::Column::AccountId.eq(actor.account_id));
    if let Some(action) = action {
        query = query.filter(audit_event::Column::Action.eq(action));
    }
    if let Some(target) = target_id {
        query = query.filter(audit_event::Column::TargetId.eq(target));
    }
    paging::fetch(
        &state.db,
        query,
        audit_event::Column::Id,
        page,
        Order::NewestFirst,
    )
    .await
}
