//! `validateEmail`: a mailed code validates the manager's e-mail address.

use crate::service::audit::Action;
use entity::{
    manager,
    one_time_token::{self, Purpose},
    session::{self, Restriction, SignInMethod},
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::{
    SignedIn, audit_entry, load_manager,
    one_time::consume_one_time_token,
    open::{open_session_as, restriction_for, sso_restriction},
    revoke_session,
    secrets::validation_code_hash,
    throttle_keys,
};
use crate::{
    auth::{ClientInfo, throttle},
    error::AppError,
    service::{access::Access, audit},
    state::AppState,
};

/// `validateEmail`: a mailed code, once, marks the address validated, lifts
/// `EMAIL_VALIDATION` and replaces the session with a fresh one.
pub async fn validate_email(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    code: &str,
) -> Result<SignedIn, AppError> {
    let actor = caller.lifting(Restriction::EmailValidation)?;
    // Sessions are people's: an app token neither ends nor changes one.
    actor.not_app()?;
    let now = state.clock.now();
    let manager = load_manager(state, actor.manager_id).await?;
    let keys = throttle_keys(&manager.login_key, client);
    throttle::attempt(&state.db, now, &keys).await?;
    let found = one_time_token::Entity::find()
        .filter(one_time_token::Column::TokenHash.eq(validation_code_hash(manager.id, code)))
        .filter(one_time_token::Column::Purpose.eq(Purpose::EmailValidation))
        .filter(one_time_token::Column::ManagerId.eq(manager.id))
        .one(&state.db)
        .await?
        .filter(|row| row.used_at.is_none() && row.expires_at > now);
    let invalid = || AppError::bad_input("validation code is invalid, used or expired");
    let Some(row) = found else {
        return Err(invalid());
    };
    throttle::succeeded(&state.db, &keys).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    if !consume_one_time_token(&txn, row.id, now).await? {
        return Err(invalid());
    }
    let mut active: manager::ActiveModel = manager.into();
    active.email_validated = Set(true);
    active.updated_at = Set(now);
    let manager = active.update(&txn).await?;
    // The new session is opened the way the old one was: one from a single sign-on gets no
    // password rule now either (a forced password change would ask for a password the
    // manager may never have used).
    let mut method = SignInMethod::Password;
    if let Some(session_id) = actor.session_id {
        if let Some(replaced) = session::Entity::find_by_id(session_id).one(&txn).await? {
            method = replaced.method;
        }
        revoke_session(&txn, session_id, now).await?;
    }
    let restriction = match method {
        SignInMethod::Password => restriction_for(&manager),
        SignInMethod::Sso => sso_restriction(&manager, false),
    };
    let (signed_in, mail) =
        open_session_as(state, &txn, manager, client, now, (restriction, method)).await?;
    let mut entry = audit_entry(&signed_in.manager, Action::ValidateEmail, client);
    entry.after = Some(json!({ "emailValidated": true }));
    audit::record(&txn, now, entry).await?;
    txn.commit().await?;
    if let Some(mail) = mail {
        state.mailer.send_later(mail);
    }
    Ok(signed_in)
}
