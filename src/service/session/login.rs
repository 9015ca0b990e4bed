//! `login`: a verified password opens a session.

use crate::service::audit::Action;
use entity::session::Restriction;
use serde_json::json;

use super::{SignedIn, audit_entry, open_session, verify_password};
use crate::{auth::ClientInfo, error::AppError, service::audit, state::AppState};

/// `login`. An unknown login and a wrong password give the same error after the same work
/// (see [`verify_password`]). When the manager's account enforces single sign-on (and the
/// manager is not a break-glass company manager), a *correct* password is refused with
/// `FORBIDDEN` and the account's SSO start URL (`extensions.ssoStartUrl`): only someone who
/// knows the password learns that SSO is required, so logins cannot be probed this way.
pub async fn login(
    state: &AppState,
    login: &str,
    password: String,
    client: &ClientInfo,
) -> Result<SignedIn, AppError> {
    let manager = verify_password(state, login, password, client).await?;
    let now = state.clock.now();
    if crate::sso::session::password_refused(&state.db, &manager).await? {
        let mut entry = super::anonymous_entry(&manager, Action::LoginFailed, client);
        entry.after = Some(json!({ "reason": "ssoEnforced" }));
        audit::record(&state.db, now, entry).await?;
        return Err(AppError::SsoRequired {
            start_url: crate::sso::flow::start_url(state, manager.account_id),
        });
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let (signed_in, mail) = open_session(state, &txn, manager, client, now).await?;
    let mut entry = audit_entry(&signed_in.manager, Action::Login, client);
    entry.after = Some(json!({ "restriction": restriction_name(signed_in.restriction) }));
    audit::record(&txn, now, entry).await?;
    txn.commit().await?;
    if let Some(mail) = mail {
        state.mailer.send_later(mail);
    }
    Ok(signed_in)
}

fn restriction_name(restriction: Restriction) -> &'static str {
    match restriction {
        Restriction::Unrestricted => "NONE",
        Restriction::PasswordChange => "PASSWORD_CHANGE",
        Restriction::EmailValidation => "EMAIL_VALIDATION",
    }
}
