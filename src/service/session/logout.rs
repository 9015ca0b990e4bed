//! `logout`: ends the caller's own session.

use super::revoke_session;
use crate::service::audit::{Action, TargetType};

use crate::{
    auth::ClientInfo,
    error::AppError,
    service::{
        access::Access,
        audit::{self, AuditActor, AuditEntry},
    },
    state::AppState,
};

/// `logout`: ends the caller's session (restricted sessions may sign out too).
pub async fn logout(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
) -> Result<bool, AppError> {
    let actor = caller.signed_in()?;
    // Sessions are people's: an app token neither ends nor changes one.
    actor.not_app()?;
    let Some(session_id) = actor.session_id else {
        return Err(AppError::bad_input("this caller has no session to end"));
    };
    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    revoke_session(&txn, session_id, now).await?;
    audit::record(
        &txn,
        now,
        AuditEntry {
            account_id: actor.account_id,
            actor: AuditActor::of(actor),
            action: Action::Logout,
            target_type: TargetType::Manager,
            target_id: Some(actor.manager_id),
            before: None,
            after: None,
            client_address: client.address.clone(),
        },
    )
    .await?;
    txn.commit().await?;
    crate::metrics::revoked(crate::metrics::Revocation::SessionLogout, 1);
    Ok(true)
}
