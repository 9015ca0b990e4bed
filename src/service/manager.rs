//! Managers: reading them within the caller's account, and their login settings.

use entity::manager::{self, ManagerKind};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, TransactionTrait,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    auth::{Actor, ClientInfo, Principal},
    error::AppError,
    service::audit::{self, AuditActor, AuditEntry},
    state::AppState,
};

/// The signed-in manager's own row.
pub async fn me(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
) -> Result<manager::Model, AppError> {
    manager::Entity::find_by_id(actor.manager_id)
        .filter(manager::Column::AccountId.eq(actor.account_id))
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// A patch of `LoginSettings`: absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct LoginSettingsPatch {
    pub force_password_change: Option<bool>,
    pub user_initiated_password_reset: Option<bool>,
    pub force_validation_prompt: Option<bool>,
}

/// `updateManagerLoginSettings`: company managers only, on an existing manager of their
/// account. The audit entry holds the settings that changed, before and after.
pub async fn update_login_settings(
    state: &AppState,
    principal: &Principal,
    client: &ClientInfo,
    id: Uuid,
    patch: LoginSettingsPatch,
) -> Result<manager::Model, AppError> {
    let actor = principal.actor()?;
    if actor.kind != ManagerKind::Company {
        return Err(AppError::Forbidden);
    }
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let current = manager::Entity::find_by_id(id)
        .filter(manager::Column::AccountId.eq(actor.account_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("manager"))?;
    let mut before = Map::new();
    let mut after = Map::new();
    let mut active: manager::ActiveModel = current.clone().into();
    let fields = [
        (
            "forcePasswordChange",
            current.force_password_change,
            patch.force_password_change,
        ),
        (
            "userInitiatedPasswordReset",
            current.user_initiated_password_reset,
            patch.user_initiated_password_reset,
        ),
        (
            "forceValidationPrompt",
            current.force_validation_prompt,
            patch.force_validation_prompt,
        ),
    ];
    for (name, old, new) in fields {
        let Some(new) = new.filter(|new| *new != old) else {
            continue;
        };
        before.insert(name.into(), Value::Bool(old));
        after.insert(name.into(), Value::Bool(new));
        match name {
            "forcePasswordChange" => active.force_password_change = Set(new),
            "userInitiatedPasswordReset" => active.user_initiated_password_reset = Set(new),
            _ => active.force_validation_prompt = Set(new),
        }
    }
    if after.is_empty() {
        return Ok(current);
    }
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    audit::record(
        &txn,
        now,
        AuditEntry {
            account_id: actor.account_id,
            actor: AuditActor::of(actor),
            action: "updateManagerLoginSettings",
            target_type: "manager",
            target_id: Some(id),
            before: Some(Value::Object(before)),
            after: Some(Value::Object(after)),
            client_address: client.address.clone(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
