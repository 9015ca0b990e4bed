//! Sign-in and everything that opens, ends or unlocks a session, one module per action
//! (`login`, `logout`, `changePassword`, `requestPasswordReset` and `resetPassword`,
//! `validateEmail`), and the primitives the OAuth sign-in page reuses: [`verify`] a password,
//! [`open`] a session, [`one_time`] tokens, prefixed random [`secrets`] and their hashes.

use crate::service::audit::{Action, TargetType};
use chrono::{DateTime, Utc};
use entity::{manager, session::Restriction};
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::{
    auth::{Actor, ClientInfo, Principal, throttle::Key},
    error::AppError,
    service::audit::{AuditActor, AuditEntry},
    state::AppState,
};

mod login;
mod logout;
pub mod one_time;
pub mod open;
mod password;
mod reset;
pub mod secrets;
mod validation;
pub mod verify;

pub use login::login;
pub use logout::logout;
pub use one_time::ONE_TIME_TOKEN_TTL;
pub use open::{open_session, restriction_for, revoke_all_sessions, revoke_session};
pub use password::change_password;
pub use reset::{
    OperatorReset, request_password_reset, reset_password, reset_password_by_operator,
};
pub use secrets::{hash_secret, new_secret};
pub use validation::validate_email;
pub use verify::verify_password;

/// A new session. `Debug` leaves the token out.
pub struct SignedIn {
    pub token: String,
    pub session_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub restriction: Restriction,
    pub manager: manager::Model,
}

impl SignedIn {
    /// Who the new session's token stands for: what the objects of a sign-in answer are read
    /// as (not the caller that sent the request).
    pub fn principal(&self) -> Principal {
        Principal::Manager(Actor {
            manager_id: self.manager.id,
            account_id: self.manager.account_id,
            kind: self.manager.kind,
            login: self.manager.login.clone(),
            session_id: Some(self.session_id),
            restriction: self.restriction,
            app: None,
            row: None,
        })
    }
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("restriction", &self.restriction)
            .field("manager", &self.manager.id)
            .finish()
    }
}

fn throttle_keys(login_key: &str, client: &ClientInfo) -> Vec<Key> {
    Key::sign_in(login_key, client.address.as_deref())
}

async fn load_manager(state: &AppState, id: Uuid) -> Result<manager::Model, AppError> {
    manager::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// An entry about `manager` by the manager itself (signed in, or signing in successfully).
fn audit_entry<'a>(
    manager: &'a manager::Model,
    action: Action,
    client: &ClientInfo,
) -> AuditEntry<'a> {
    AuditEntry {
        actor: AuditActor::Manager {
            id: manager.id,
            login: &manager.login,
        },
        ..anonymous_entry(manager, action, client)
    }
}

/// An entry about `manager` by an anonymous caller: a failed sign-in or a password reset is
/// not proof that the manager did it.
fn anonymous_entry<'a>(
    manager: &manager::Model,
    action: Action,
    client: &ClientInfo,
) -> AuditEntry<'a> {
    AuditEntry {
        account_id: manager.account_id,
        actor: AuditActor::Anonymous,
        action,
        target_type: TargetType::Manager,
        target_id: Some(manager.id),
        before: None,
        after: None,
        client_address: client.address.clone(),
    }
}
