//! The skeleton every audited change of an account shares: one write transaction (the
//! account's write lock taken first, `db::begin_account_write`), the settings that changed
//! (before and after), and the audit entry written in the same transaction, so the change
//! and its entry land together or not at all.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    auth::{Actor, ClientInfo},
    error::AppError,
    service::audit,
    state::AppState,
};

/// One audited change in progress: who makes it, from where, when, and its transaction.
pub struct Change<'a> {
    txn: DatabaseTransaction,
    actor: &'a Actor,
    client: &'a ClientInfo,
    pub now: DateTime<Utc>,
}

impl<'a> Change<'a> {
    /// Begins a change of `actor`'s account: writers of one account take turns from here.
    pub async fn begin(
        state: &AppState,
        actor: &'a Actor,
        client: &'a ClientInfo,
    ) -> Result<Change<'a>, AppError> {
        Ok(Change {
            txn: crate::db::begin_account_write(&state.db, actor.account_id).await?,
            actor,
            client,
            now: state.clock.now(),
        })
    }

    /// The transaction every read and write of the change goes through.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Records `action` on `target` (of `target_type`) with what changed, and commits.
    pub async fn commit(
        self,
        target_type: audit::TargetType,
        action: audit::Action,
        target: Uuid,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Result<(), AppError> {
        let entry = audit::entry(
            self.actor,
            self.client,
            target_type,
            action,
            target,
            before,
            after,
        );
        audit::record(&self.txn, self.now, entry).await?;
        self.txn.commit().await?;
        Ok(())
    }

    /// Records several entries (one per target changed) and commits.
    pub async fn commit_all(self, entries: Vec<audit::AuditEntry<'_>>) -> Result<(), AppError> {
        audit::record_all(&self.txn, self.now, entries).await?;
        self.txn.commit().await?;
        Ok(())
    }
}

/// The settings a change touched, before and after, as the audit log keeps them.
#[derive(Debug, Default)]
pub struct Diff {
    before: Map<String, Value>,
    after: Map<String, Value>,
}

impl Diff {
    /// `field` went from `before` to `after`.
    pub fn set(&mut self, field: &str, before: impl Serialize, after: impl Serialize) {
        self.before.insert(field.to_owned(), json!(before));
        self.after.insert(field.to_owned(), json!(after));
    }

    pub fn is_empty(&self) -> bool {
        self.after.is_empty()
    }

    /// `(before, after)` for the audit entry.
    pub fn into_values(self) -> (Option<Value>, Option<Value>) {
        (
            Some(Value::Object(self.before)),
            Some(Value::Object(self.after)),
        )
    }
}
