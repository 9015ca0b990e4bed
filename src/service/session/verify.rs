//! The throttled, audited password check behind every sign-in.

use crate::service::audit::Action;
use entity::manager;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{anonymous_entry, throttle_keys};
use crate::{
    auth::{ClientInfo, throttle},
    error::AppError,
    service::audit,
    state::AppState,
};

/// Checks `password` for `login` and returns the manager it belongs to. The attempt counts
/// against the throttle before any hashing, and a success gives it back. An unknown login and a
/// wrong password give the same error after the same work: the unknown login is checked
/// against a dummy hash. A failure on a known login is audited as `loginFailed` by the
/// anonymous actor (a wrong password is not proof that the manager tried it).
///
/// Opens no session and looks at no restriction: the caller decides what a verified manager
/// may do next.
pub async fn verify_password(
    state: &AppState,
    login: &str,
    password: String,
    client: &ClientInfo,
) -> Result<manager::Model, AppError> {
    let result = check(state, login, password, client).await;
    crate::metrics::sign_in(&result, |m| {
        super::restriction_for(m) != entity::session::Restriction::Unrestricted
    });
    result
}

async fn check(
    state: &AppState,
    login: &str,
    password: String,
    client: &ClientInfo,
) -> Result<manager::Model, AppError> {
    let now = state.clock.now();
    let login_key = manager::login_key(login);
    let keys = throttle_keys(&login_key, client);
    throttle::attempt(&state.db, now, &keys).await?;
    let found = manager::Entity::find()
        .filter(manager::Column::LoginKey.eq(&login_key))
        .one(&state.db)
        .await?;
    let matches = state
        .hasher
        .verify(password, found.as_ref().map(|m| m.password_hash.clone()))
        .await?;
    let manager = match found {
        Some(manager) if matches => manager,
        known => {
            if let Some(known) = known {
                // Written off the response path: an audit insert that only known logins pay
                // for would tell them apart by timing.
                let (db, client) = (state.db.clone(), client.clone());
                tokio::spawn(async move {
                    let entry = anonymous_entry(&known, Action::LoginFailed, &client);
                    if let Err(err) = audit::record(&db, now, entry).await {
                        tracing::error!(error = %err, "could not audit a failed sign-in");
                    }
                });
            }
            return Err(AppError::BadCredentials);
        }
    };
    throttle::succeeded(&state.db, &keys).await?;
    Ok(manager)
}
