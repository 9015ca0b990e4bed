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
        session::{SignedIn, hash_secret, open::open_session_as},
    },
    state::AppState,
};

/// `completeSsoLogin(code)`: the one-time code for a session. Throttled per client address
/// like password sign-ins; a code is good once, for [`super::flow::COMPLETION_TTL`]. Password
/// rules do not apply (no `PASSWORD_CHANGE` restriction); `EMAIL_VALIDATION` applies unless
/// the provider vouched for the manager's own address.
pub async fn complete(
    state: &AppState,
    code: &str,
    client: &ClientInfo,
) -> Result<SignedIn, AppError> {
    let now = state.clock.now();
    let keys = client
        .address
        .as_deref()
        .map(throttle::Key::address)
        .into_iter()
        .collect::<Vec<_>>();
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
    if !crate::service::sso::enabled(&txn, manager.account_id).await? {
        txn.commit().await?;
        return Err(AppError::BadSsoCode);
    }
    let restriction =
        if manager.force_validation_prompt && !manager.email_validated && !row.email_verified {
            entity::session::Restriction::EmailValidation
        } else {
            entity::session::Restriction::Unrestricted
        };
    let (signed_in, mail) = open_session_as(state, &txn, manager, client, now, restriction).await?;
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
