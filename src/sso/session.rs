//! The session a single sign-on ends in (`completeSsoLogin`), and the password sign-ins that
//! enforced single sign-on refuses.

use entity::{
    manager::{self, ManagerKind},
    sso_completion_code,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use crate::{
    auth::{ClientInfo, throttle},
    error::AppError,
    service::{
        audit::{self, Action, AuditActor, AuditEntry, TargetType},
        session::{
            SignedIn, hash_secret,
            open::{open_session_as, sso_restriction},
        },
    },
    state::AppState,
};

/// `completeSsoLogin(code, codeVerifier)`: the one-time code for a session. Throttled per
/// client address like password sign-ins; a code is good for one attempt, for
/// [`super::flow::COMPLETION_TTL`], and only with the verifier whose challenge the browser
/// that started the sign-in sent to `/start` (so a code sent to someone else's browser opens
/// nothing: no login CSRF, and a leaked URL alone is not a session). Password rules do not
/// apply (no `PASSWORD_CHANGE` restriction); `EMAIL_VALIDATION` applies unless the provider
/// vouched for the manager's own address. A code from another issuer than the account's
/// current one (the settings changed meanwhile) opens nothing.
pub async fn complete(
    state: &AppState,
    code: &str,
    code_verifier: &str,
    client: &ClientInfo,
) -> Result<SignedIn, AppError> {
    let now = state.clock.now();
    let keys = throttle::Key::address_only(client.address.as_deref());
    throttle::attempt(&state.db, now, &keys).await?;
    let code_hash = hash_secret(code.trim());
    let txn = crate::db::begin_write(&state.db).await?;
    let consumed = sso_completion_code::Entity::update_many()
        .col_expr(sso_completion_code::Column::UsedAt, Expr::value(now))
        .filter(sso_completion_code::Column::CodeHash.eq(code_hash.clone()))
        .filter(sso_completion_code::Column::UsedAt.is_null())
        .filter(sso_completion_code::Column::ExpiresAt.gt(now))
        // A link code never opens a session.
        .filter(sso_completion_code::Column::Subject.is_null())
        .exec(&txn)
        .await?;
    let row = sso_completion_code::Entity::find_by_id(code_hash)
        .one(&txn)
        .await?
        .filter(|_| consumed.rows_affected == 1);
    let manager = match row {
        Some(row) => manager::Entity::find_by_id(row.manager_id)
            .one(&txn)
            .await?
            .map(|m| (m, row)),
        None => None,
    };
    let Some((manager, row)) = manager else {
        txn.commit().await?;
        return Err(AppError::BadSsoCode);
    };
    // The code is spent either way (committed below): a wrong verifier gets one try.
    let verified = row
        .client_challenge
        .as_deref()
        .is_some_and(|challenge| super::flow::challenge_matches(challenge, code_verifier));
    let current_issuer = crate::service::sso::enabled_issuer(&txn, manager.account_id).await?;
    if !verified || current_issuer.as_deref() != Some(row.issuer.as_str()) {
        txn.commit().await?;
        return Err(AppError::BadSsoCode);
    }
    let restriction = sso_restriction(&manager, row.email_verified);
    let (signed_in, mail) = open_session_as(
        state,
        &txn,
        manager,
        client,
        now,
        (restriction, entity::session::SignInMethod::Sso),
    )
    .await?;
    let entry = AuditEntry {
        account_id: signed_in.manager.account_id,
        actor: AuditActor::Manager {
            id: signed_in.manager.id,
            login: &signed_in.manager.login,
        },
        action: Action::Login,
        target_type: TargetType::Manager,
        target_id: Some(signed_in.manager.id),
        before: None,
        after: Some(json!({
            "method": "sso",
            "issuer": row.issuer,
            "restriction": match signed_in.restriction {
                entity::session::Restriction::EmailValidation => "EMAIL_VALIDATION",
                entity::session::Restriction::PasswordChange => "PASSWORD_CHANGE",
                entity::session::Restriction::Unrestricted => "NONE",
            },
        })),
        client_address: client.address.clone(),
    };
    audit::record(&txn, now, entry).await?;
    txn.commit().await?;
    throttle::succeeded(&state.db, &keys).await?;
    crate::metrics::sso_login("success");
    if let Some(mail) = mail {
        state.mailer.send_later(mail);
    }
    Ok(signed_in)
}

/// Whether a password sign-in of `manager` is refused because its account enforces SSO:
/// company and team managers, except company managers flagged break-glass.
pub async fn password_refused(
    conn: &impl ConnectionTrait,
    manager: &manager::Model,
) -> Result<bool, AppError> {
    let exempt = match manager.kind {
        ManagerKind::Company => manager.sso_break_glass,
        ManagerKind::Team => false,
        ManagerKind::Api => true,
    };
    Ok(!exempt && crate::service::sso::enforced(conn, manager.account_id).await?)
}
