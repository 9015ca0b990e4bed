//! Accounts: created by the platform operator (CLI) or by the first `serve` on an empty
//! database, each with its first company manager.

use crate::service::audit::{Action, TargetType};
use chrono::{DateTime, Utc};
use entity::{
    account,
    manager::{self, ManagerKind},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    auth::password,
    error::AppError,
    service::{
        audit::{self, AuditActor, AuditEntry},
        logins, validate,
    },
};

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub owner_login: String,
    pub owner_name: String,
    pub owner_email: String,
    pub allow_api_managers: bool,
}

/// A new account and its first company manager. `Debug` leaves the password out.
pub struct CreatedAccount {
    pub account: account::Model,
    pub owner: manager::Model,
    /// Shown once to the operator; only its argon2 hash is stored.
    pub owner_password: String,
}

impl std::fmt::Debug for CreatedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedAccount")
            .field("account", &self.account)
            .field("owner", &self.owner)
            .field("owner_password", &"<redacted>")
            .finish()
    }
}

/// Creates an account and its owner, a company manager with a one-time password and
/// `forcePasswordChange` on, so the first sign-in must replace it.
pub async fn create(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    input: NewAccount,
) -> Result<CreatedAccount, AppError> {
    let new = prepare(now, input).await?;
    let txn = crate::db::begin_write(db).await?;
    insert(&txn, now, &new).await?;
    txn.commit().await?;
    Ok(new)
}

/// Checks the input and hashes a new one-time password: everything before the writes.
async fn prepare(now: DateTime<Utc>, input: NewAccount) -> Result<CreatedAccount, AppError> {
    let name = validate::name("name", &input.name, 200)?;
    let login = validate::login(&input.owner_login)?;
    let owner_name = validate::name("owner name", &input.owner_name, 200)?;
    let email = validate::email(&input.owner_email)?;
    let owner_password = password::generate_one_time();
    let password_hash = password::hash(owner_password.clone()).await?;

    let account = account::Model {
        id: Uuid::now_v7(),
        name,
        api_managers_allowed: input.allow_api_managers,
        created_at: now,
    };
    let owner = manager::Model {
        id: Uuid::now_v7(),
        account_id: account.id,
        kind: ManagerKind::Company,
        login_key: manager::login_key(&login),
        login,
        name: owner_name,
        email,
        email_validated: false,
        password_hash,
        force_password_change: true,
        user_initiated_password_reset: true,
        force_validation_prompt: false,
        sso_break_glass: false,
        rights: 0,
        rep_controls: 0,
        created_at: now,
        updated_at: now,
    };
    Ok(CreatedAccount {
        account,
        owner,
        owner_password,
    })
}

/// The writes of [`create`], inside the caller's transaction.
async fn insert(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    new: &CreatedAccount,
) -> Result<(), AppError> {
    let CreatedAccount { account, owner, .. } = new;
    account::Entity::insert(account::ActiveModel::from(account.clone()))
        .exec_without_returning(txn)
        .await?;
    logins::claim(txn, &owner.login, logins::Owner::Manager, owner.id).await?;
    manager::Entity::insert(manager::ActiveModel::from(owner.clone()))
        .exec_without_returning(txn)
        .await?;
    audit::record(
        txn,
        now,
        AuditEntry {
            account_id: account.id,
            actor: AuditActor::Operator,
            action: Action::CreateAccount,
            target_type: TargetType::Account,
            target_id: Some(account.id),
            before: None,
            after: Some(json!({
                "name": account.name,
                "apiManagersAllowed": account.api_managers_allowed,
                "ownerLogin": owner.login,
            })),
            client_address: None,
        },
    )
    .await?;
    Ok(())
}

/// Login of the company manager made by the first start.
pub const BOOTSTRAP_LOGIN: &str = "admin";

/// On an empty database, creates a first account and company manager inside `setup` (the
/// transaction of [`crate::db::begin_setup`], which admits one process at a time) and returns
/// them; the caller commits, then prints the one-time password, once. Returns `None` when any
/// account exists, as it does for every replica but the first when several start together.
pub async fn bootstrap_if_empty(
    setup: &DatabaseTransaction,
    now: DateTime<Utc>,
) -> Result<Option<CreatedAccount>, AppError> {
    if account::Entity::find().count(setup).await? > 0 {
        return Ok(None);
    }
    let new = prepare(
        now,
        NewAccount {
            name: "My company".into(),
            owner_login: BOOTSTRAP_LOGIN.into(),
            owner_name: "Administrator".into(),
            owner_email: "admin@example.com".into(),
            allow_api_managers: false,
        },
    )
    .await?;
    insert(setup, now, &new).await?;
    Ok(Some(new))
}

pub async fn get(db: &DatabaseConnection, id: Uuid) -> Result<account::Model, AppError> {
    account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("account"))
}

/// The operator's switch for API managers on one account.
pub async fn set_api_managers_allowed(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    id: Uuid,
    allowed: bool,
) -> Result<account::Model, AppError> {
    let txn = crate::db::begin_account_write(db, id).await?;
    let before = account::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    if before.api_managers_allowed == allowed {
        return Ok(before);
    }
    let mut active: account::ActiveModel = before.clone().into();
    active.api_managers_allowed = Set(allowed);
    let after = active.update(&txn).await?;
    audit::record(
        &txn,
        now,
        AuditEntry {
            account_id: id,
            actor: AuditActor::Operator,
            action: Action::AllowApiManagers,
            target_type: TargetType::Account,
            target_id: Some(id),
            before: Some(json!({ "apiManagersAllowed": before.api_managers_allowed })),
            after: Some(json!({ "apiManagersAllowed": after.api_managers_allowed })),
            client_address: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
