//! `changePassword`: the signed-in manager replaces its password and gets a fresh session.

use crate::service::audit::Action;
use entity::{manager, one_time_token::Purpose, session::Restriction};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;

use super::{
    SignedIn, audit_entry, load_manager, one_time::spend_unused_tokens, open_session,
    revoke_all_sessions, throttle_keys,
};
use crate::{
    auth::{ClientInfo, password, throttle},
    error::AppError,
    service::{access::Access, audit},
    state::AppState,
};

/// `changePassword`: lifts `PASSWORD_CHANGE`, clears `forcePasswordChange`, ends every session
/// of the manager (this one included) and opens a fresh one.
pub async fn change_password(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    current_password: String,
    new_password: String,
) -> Result<SignedIn, AppError> {
    let actor = caller.lifting(Restriction::PasswordChange)?;
    // Sessions are people's: an app token neither ends nor changes one.
    actor.not_app()?;
    let now = state.clock.now();
    let manager = load_manager(state, actor.manager_id).await?;
    let keys = throttle_keys(&manager.login_key, client);
    throttle::attempt(&state.db, now, &keys).await?;
    if !state
        .hasher
        .verify(
            current_password.clone(),
            Some(manager.password_hash.clone()),
        )
        .await?
    {
        audit::record(
            &state.db,
            now,
            audit_entry(&manager, Action::ChangePasswordFailed, client),
        )
        .await?;
        return Err(AppError::bad_input("current password is incorrect"));
    }
    throttle::succeeded(&state.db, &keys).await?;
    password::check_policy(&new_password, &manager.login, &manager.name)?;
    if new_password == current_password {
        return Err(AppError::bad_input(
            "new password must differ from the current one",
        ));
    }
    let new_hash = state.hasher.hash(new_password).await?;
    let before = manager.force_password_change;
    let txn = crate::db::begin_write(&state.db).await?;
    let mut active: manager::ActiveModel = manager.into();
    active.password_hash = Set(new_hash);
    active.force_password_change = Set(false);
    active.updated_at = Set(now);
    let manager = active.update(&txn).await?;
    revoke_all_sessions(&txn, manager.id, now).await?;
    // A reset token mailed before the change must not undo it.
    spend_unused_tokens(&txn, manager.id, Purpose::PasswordReset, now).await?;
    let (signed_in, mail) = open_session(state, &txn, manager, client, now).await?;
    let mut entry = audit_entry(&signed_in.manager, Action::ChangePassword, client);
    entry.before = Some(json!({ "forcePasswordChange": before }));
    entry.after = Some(json!({ "forcePasswordChange": false }));
    audit::record(&txn, now, entry).await?;
    txn.commit().await?;
    if let Some(mail) = mail {
        state.mailer.send_later(mail);
    }
    Ok(signed_in)
}
