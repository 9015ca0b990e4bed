//! `requestPasswordReset` mails a one-time reset token; `resetPassword` spends it. The
//! platform operator's reset (`admin-center manager reset-password`) needs no mail.

use crate::service::audit::{Action, AuditActor, AuditEntry, TargetType};
use chrono::{DateTime, Duration, Utc};
use entity::{
    manager,
    one_time_token::{self, Purpose},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    anonymous_entry,
    one_time::{consume_one_time_token, insert_one_time_token, spend_unused_tokens},
    revoke_all_sessions,
    secrets::{RESET_TOKEN_PREFIX, hash_secret, new_secret},
};
use crate::{
    auth::{
        ClientInfo, password,
        throttle::{self, Key},
    },
    error::AppError,
    mail::Mail,
    service::audit,
    state::AppState,
};

/// Requests for reset mail per login before further requests are silently dropped.
const RESET_MAIL_POLICY: throttle::Policy = throttle::Policy {
    max_failures: 3,
    window: Duration::minutes(15),
    cooldown: Duration::minutes(15),
};

/// `requestPasswordReset`: always answers `true` at once, whether the login exists, may reset,
/// or has asked too often; the lookup and the mail happen in the background so that neither
/// the answer nor its timing says which.
pub async fn request_password_reset(
    state: &AppState,
    login: &str,
    client: &ClientInfo,
) -> Result<bool, AppError> {
    let now = state.clock.now();
    // Every request counts against the address: one client cannot mail every manager.
    if let Some(address) = &client.address {
        throttle::attempt(&state.db, now, &[Key::address(address)]).await?;
    }
    // Bounded background work: past the bound a request is dropped (and logged), the answer
    // stays the same.
    let Ok(permit) = state.background.clone().try_acquire_owned() else {
        tracing::warn!("too many password reset requests in flight; one was dropped");
        return Ok(true);
    };
    let state = state.clone();
    let login_key = manager::login_key(login);
    let client = client.clone();
    tokio::spawn(async move {
        if let Err(err) = send_reset_mail(&state, &login_key, &client, now).await {
            tracing::error!(error = %err, "password reset request failed");
        }
        drop(permit);
    });
    Ok(true)
}

async fn send_reset_mail(
    state: &AppState,
    login_key: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(manager) = manager::Entity::find()
        .filter(manager::Column::LoginKey.eq(login_key))
        .one(&state.db)
        .await?
    else {
        return Ok(());
    };
    // A manager whose account enforces single sign-on has no password to sign in with: a
    // reset mail would only be a phishing-shaped surprise.
    if !manager.user_initiated_password_reset
        || crate::sso::session::password_refused(&state.db, &manager).await?
    {
        return Ok(());
    }
    let key = Key::custom(format!("reset:{login_key}"), RESET_MAIL_POLICY);
    if throttle::attempt(&state.db, now, std::slice::from_ref(&key))
        .await
        .is_err()
    {
        return Ok(());
    }
    let token = new_secret(RESET_TOKEN_PREFIX);
    let txn = crate::db::begin_write(&state.db).await?;
    insert_one_time_token(
        &txn,
        manager.id,
        Purpose::PasswordReset,
        hash_secret(&token),
        now,
    )
    .await?;
    audit::record(
        &txn,
        now,
        anonymous_entry(&manager, Action::RequestPasswordReset, client),
    )
    .await?;
    txn.commit().await?;
    state
        .mailer
        .send(Mail {
            to: manager.email.clone(),
            subject: "Reset your admin-center password".into(),
            body: format!(
                "Hello {},\n\nSomeone asked to reset the password of the login {}.\n\
                 Your reset token (it works once, within 30 minutes):\n\n    {token}\n\n\
                 If it was not you, ignore this message: nothing changes.\n",
                manager.name, manager.login
            ),
        })
        .await
        .map_err(AppError::internal)
}

/// `resetPassword`: a valid, unused, unexpired token sets the password, clears
/// `forcePasswordChange` and ends every session of the manager, whose id it returns.
pub async fn reset_password(
    state: &AppState,
    token: &str,
    new_password: String,
    client: &ClientInfo,
) -> Result<Uuid, AppError> {
    let now = state.clock.now();
    let keys: Vec<Key> = client.address.iter().map(|a| Key::address(a)).collect();
    throttle::attempt(&state.db, now, &keys).await?;
    let invalid = || AppError::bad_input("reset token is invalid, used or expired");
    let found = one_time_token::Entity::find()
        .filter(one_time_token::Column::TokenHash.eq(hash_secret(token.trim())))
        .filter(one_time_token::Column::Purpose.eq(Purpose::PasswordReset))
        .find_also_related(manager::Entity)
        .one(&state.db)
        .await?;
    let usable = found.filter(|(row, manager)| {
        row.used_at.is_none()
            && row.expires_at > now
            && manager
                .as_ref()
                .is_some_and(|m| m.user_initiated_password_reset)
    });
    let Some((row, Some(manager))) = usable else {
        return Err(invalid());
    };
    throttle::succeeded(&state.db, &keys).await?;
    password::check_policy(&new_password, &manager.login, &manager.name)?;
    let new_hash = state.hasher.hash(new_password).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    if !consume_one_time_token(&txn, row.id, now).await? {
        return Err(invalid());
    }
    // Other reset tokens of this manager die with this one.
    spend_unused_tokens(&txn, manager.id, Purpose::PasswordReset, now).await?;
    let mut active: manager::ActiveModel = manager.clone().into();
    active.password_hash = Set(new_hash);
    active.force_password_change = Set(false);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    revoke_all_sessions(&txn, manager.id, now).await?;
    audit::record(
        &txn,
        now,
        anonymous_entry(&manager, Action::ResetPassword, client),
    )
    .await?;
    txn.commit().await?;
    Ok(manager.id)
}

/// A manager's new one-time password, set by the platform operator. `Debug` leaves the
/// password out.
pub struct OperatorReset {
    pub manager: manager::Model,
    /// Shown once to the operator; only its argon2 hash is stored.
    pub password: String,
}

impl std::fmt::Debug for OperatorReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorReset")
            .field("manager", &self.manager)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// `admin-center manager reset-password LOGIN`: the way back in for a manager (the first
/// start's `admin` included) whose password is lost and who cannot reset it by mail. Sets a
/// new one-time password with `forcePasswordChange` on, ends every session of the manager and
/// spends the reset tokens mailed before; the audit entry names the operator and holds no
/// secret.
pub async fn reset_password_by_operator(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    login: &str,
) -> Result<OperatorReset, AppError> {
    let not_found = || AppError::NotFound("manager");
    let found = manager::Entity::find()
        .filter(manager::Column::LoginKey.eq(manager::login_key(login.trim())))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let password = password::generate_one_time();
    let new_hash = password::hash(password.clone()).await?;
    let txn = crate::db::begin_account_write(db, found.account_id).await?;
    // Read again under the account's lock: the manager may have been deleted meanwhile.
    let current = manager::Entity::find_by_id(found.id)
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    let mut active: manager::ActiveModel = current.clone().into();
    active.password_hash = Set(new_hash);
    active.force_password_change = Set(true);
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    revoke_all_sessions(&txn, current.id, now).await?;
    spend_unused_tokens(&txn, current.id, Purpose::PasswordReset, now).await?;
    audit::record(
        &txn,
        now,
        AuditEntry {
            account_id: current.account_id,
            actor: AuditActor::Operator,
            action: Action::ResetPasswordByOperator,
            target_type: TargetType::Manager,
            target_id: Some(current.id),
            before: Some(json!({ "forcePasswordChange": current.force_password_change })),
            after: Some(json!({ "forcePasswordChange": true, "sessionsEnded": true })),
            client_address: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(OperatorReset {
        manager: updated,
        password,
    })
}
