//! Opening a session (with the restriction the manager's state calls for) and ending all of a
//! manager's sessions.

use chrono::{DateTime, Duration, Utc};
use entity::{
    manager,
    one_time_token::Purpose,
    session::{self, Restriction, SignInMethod},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use super::{
    SignedIn,
    one_time::{insert_one_time_token, spend_unused_tokens},
    secrets::{new_validation_code, validation_code_hash},
};
use crate::{
    auth::{ClientInfo, session_token},
    error::AppError,
    mail::Mail,
    state::AppState,
};

/// A restricted session only lasts long enough to lift its restriction.
const RESTRICTED_SESSION_TTL: Duration = Duration::minutes(30);

/// The restriction a sign-in of `manager` gets (the OAuth sign-in page refuses any).
pub fn restriction_for(manager: &manager::Model) -> Restriction {
    if manager.force_password_change {
        Restriction::PasswordChange
    } else if manager.force_validation_prompt && !manager.email_validated {
        Restriction::EmailValidation
    } else {
        Restriction::Unrestricted
    }
}

/// The restriction a single sign-on of `manager` gets: no password rule (forced change, self
/// reset) applies to a sign-in that used no password; `EMAIL_VALIDATION` applies unless the
/// provider vouched for the manager's own address.
pub fn sso_restriction(manager: &manager::Model, provider_vouched: bool) -> Restriction {
    if manager.force_validation_prompt && !manager.email_validated && !provider_vouched {
        Restriction::EmailValidation
    } else {
        Restriction::Unrestricted
    }
}

/// Opens a password session for `manager` inside `conn` (a transaction). When the session
/// must validate the e-mail address, it also stores a code and returns the mail to send after
/// commit.
pub async fn open_session(
    state: &AppState,
    conn: &impl ConnectionTrait,
    manager: manager::Model,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(SignedIn, Option<Mail>), AppError> {
    let restriction = restriction_for(&manager);
    open_session_as(
        state,
        conn,
        manager,
        client,
        now,
        (restriction, SignInMethod::Password),
    )
    .await
}

/// [`open_session`] with a restriction and method the caller decided (a single sign-on applies
/// no password rule: [`sso_restriction`]).
pub async fn open_session_as(
    state: &AppState,
    conn: &impl ConnectionTrait,
    manager: manager::Model,
    client: &ClientInfo,
    now: DateTime<Utc>,
    (restriction, method): (Restriction, SignInMethod),
) -> Result<(SignedIn, Option<Mail>), AppError> {
    let session = session::Model {
        id: Uuid::now_v7(),
        manager_id: manager.id,
        restriction,
        method,
        created_at: now,
        expires_at: now
            + match restriction {
                Restriction::Unrestricted => state.config.session_ttl,
                _ => RESTRICTED_SESSION_TTL.min(state.config.session_ttl),
            },
        revoked_at: None,
        client_address: client.address.clone(),
    };
    session::Entity::insert(session::ActiveModel::from(session.clone()))
        .exec_without_returning(conn)
        .await?;
    let mut mail = None;
    if restriction == Restriction::EmailValidation {
        // Only the newest code works: earlier ones die with this one.
        spend_unused_tokens(conn, manager.id, Purpose::EmailValidation, now).await?;
        let code = new_validation_code();
        insert_one_time_token(
            conn,
            manager.id,
            Purpose::EmailValidation,
            validation_code_hash(manager.id, &code),
            now,
        )
        .await?;
        mail = Some(Mail {
            to: manager.email.clone(),
            subject: "Your admin-center validation code".into(),
            body: format!(
                "Hello {},\n\nYour code to validate this e-mail address is:\n\n    {code}\n\n\
                 It works once, within 30 minutes. If you did not just sign in, tell your \
                 company manager.\n",
                manager.name
            ),
        });
    }
    let token = session_token::issue(&state.session_keys, &session)?;
    Ok((
        SignedIn {
            token,
            session_id: session.id,
            expires_at: session.expires_at,
            restriction,
            manager,
        },
        mail,
    ))
}

/// Ends one session (if it is still open).
pub async fn revoke_session(
    conn: &impl ConnectionTrait,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends every open session of a manager.
pub async fn revoke_all_sessions(
    conn: &impl ConnectionTrait,
    manager_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::ManagerId.eq(manager_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}
