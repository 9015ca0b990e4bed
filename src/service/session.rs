//! Sign-in and everything that opens, ends or unlocks a session: `login`, `logout`,
//! `changePassword`, `requestPasswordReset`, `resetPassword`, `validateEmail`.

use chrono::{DateTime, Duration, Utc};
use entity::{
    SecretHash, manager,
    one_time_token::{self, Purpose},
    session::{self, Restriction},
};
use rand::{Rng, RngCore};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    auth::{
        Actor, ClientInfo, Principal, password,
        session_token::{self},
        throttle::{self, Key},
    },
    error::AppError,
    mail::Mail,
    service::{
        access::Access,
        audit::{self, AuditActor, AuditEntry},
    },
    state::AppState,
};

/// Password-reset tokens and e-mail validation codes are good for this long.
pub const ONE_TIME_TOKEN_TTL: Duration = Duration::minutes(30);
/// Prefix of password-reset tokens. Prefixes are public API: never change one.
const RESET_TOKEN_PREFIX: &str = "acpr_";
/// Requests for reset mail per login before further requests are silently dropped.
const RESET_MAIL_POLICY: throttle::Policy = throttle::Policy {
    max_failures: 3,
    window: Duration::minutes(15),
    cooldown: Duration::minutes(15),
};

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

fn sha256_hex(value: &str) -> SecretHash {
    SecretHash(hex::encode(Sha256::digest(value.as_bytes())))
}

/// Validation codes are short enough to type, so their hash is salted with the manager id:
/// equal codes of two managers never collide, and a code is only good for its own manager.
fn validation_code_hash(manager_id: Uuid, code: &str) -> SecretHash {
    sha256_hex(&format!("{manager_id}:{}", code.trim().to_uppercase()))
}

fn new_validation_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..10)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn new_reset_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{RESET_TOKEN_PREFIX}{}", hex::encode(bytes))
}

fn restriction_for(manager: &manager::Model) -> Restriction {
    if manager.force_password_change {
        Restriction::PasswordChange
    } else if manager.force_validation_prompt && !manager.email_validated {
        Restriction::EmailValidation
    } else {
        Restriction::Unrestricted
    }
}

fn throttle_keys(login_key: &str, client: &ClientInfo) -> Vec<Key> {
    Key::sign_in(login_key, client.address.as_deref())
}

/// A restricted session only lasts long enough to lift its restriction.
const RESTRICTED_SESSION_TTL: Duration = Duration::minutes(30);

/// Opens a session for `manager` inside `conn` (a transaction). When the session must validate
/// the e-mail address, it also stores a code and returns the mail to send after commit.
async fn open_session(
    state: &AppState,
    conn: &impl ConnectionTrait,
    manager: manager::Model,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(SignedIn, Option<Mail>), AppError> {
    let restriction = restriction_for(&manager);
    let session = session::Model {
        id: Uuid::now_v7(),
        manager_id: manager.id,
        restriction,
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

async fn insert_one_time_token(
    conn: &impl ConnectionTrait,
    manager_id: Uuid,
    purpose: Purpose,
    token_hash: SecretHash,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    one_time_token::Entity::insert(one_time_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        manager_id: Set(manager_id),
        purpose: Set(purpose),
        token_hash: Set(token_hash),
        created_at: Set(now),
        expires_at: Set(now + ONE_TIME_TOKEN_TTL),
        used_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Marks a token used, once: of two concurrent uses, exactly one gets `true`.
async fn consume_one_time_token(
    conn: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let result = one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, Expr::value(now))
        .filter(one_time_token::Column::Id.eq(id))
        .filter(one_time_token::Column::UsedAt.is_null())
        .filter(one_time_token::Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks every unused token of `purpose` of a manager as used.
async fn spend_unused_tokens(
    conn: &impl ConnectionTrait,
    manager_id: Uuid,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, Expr::value(now))
        .filter(one_time_token::Column::ManagerId.eq(manager_id))
        .filter(one_time_token::Column::Purpose.eq(purpose))
        .filter(one_time_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends every open session of a manager.
async fn revoke_all_sessions(
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

/// An entry about `manager` by the manager itself (signed in, or signing in successfully).
fn audit_entry<'a>(
    manager: &'a manager::Model,
    action: &'static str,
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
    action: &'static str,
    client: &ClientInfo,
) -> AuditEntry<'a> {
    AuditEntry {
        account_id: manager.account_id,
        actor: AuditActor::Anonymous,
        action,
        target_type: "manager",
        target_id: Some(manager.id),
        before: None,
        after: None,
        client_address: client.address.clone(),
    }
}

/// `login`. An unknown login and a wrong password give the same error after the same work: the
/// unknown login is checked against a dummy hash.
pub async fn login(
    state: &AppState,
    login: &str,
    password: String,
    client: &ClientInfo,
) -> Result<SignedIn, AppError> {
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
                    let entry = anonymous_entry(&known, "loginFailed", &client);
                    if let Err(err) = audit::record(&db, now, entry).await {
                        tracing::error!(error = %err, "could not audit a failed sign-in");
                    }
                });
            }
            return Err(AppError::BadCredentials);
        }
    };
    throttle::succeeded(&state.db, &keys).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let (signed_in, mail) = open_session(state, &txn, manager, client, now).await?;
    let mut entry = audit_entry(&signed_in.manager, "login", client);
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

/// `logout`: ends the caller's session (restricted sessions may sign out too).
pub async fn logout(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
) -> Result<bool, AppError> {
    let actor = caller.signed_in()?;
    let Some(session_id) = actor.session_id else {
        return Err(AppError::bad_input("this caller has no session to end"));
    };
    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        now,
        AuditEntry {
            account_id: actor.account_id,
            actor: AuditActor::of(actor),
            action: "logout",
            target_type: "manager",
            target_id: Some(actor.manager_id),
            before: None,
            after: None,
            client_address: client.address.clone(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

async fn load_manager(state: &AppState, id: Uuid) -> Result<manager::Model, AppError> {
    manager::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)
}

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
            audit_entry(&manager, "changePasswordFailed", client),
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
    let mut entry = audit_entry(&signed_in.manager, "changePassword", client);
    entry.before = Some(json!({ "forcePasswordChange": before }));
    entry.after = Some(json!({ "forcePasswordChange": false }));
    audit::record(&txn, now, entry).await?;
    txn.commit().await?;
    if let Some(mail) = mail {
        state.mailer.send_later(mail);
    }
    Ok(signed_in)
}

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
    if !manager.user_initiated_password_reset {
        return Ok(());
    }
    let key = Key::custom(format!("reset:{login_key}"), RESET_MAIL_POLICY);
    if throttle::attempt(&state.db, now, std::slice::from_ref(&key))
        .await
        .is_err()
    {
        return Ok(());
    }
    let token = new_reset_token();
    let txn = crate::db::begin_write(&state.db).await?;
    insert_one_time_token(
        &txn,
        manager.id,
        Purpose::PasswordReset,
        sha256_hex(&token),
        now,
    )
    .await?;
    audit::record(
        &txn,
        now,
        anonymous_entry(&manager, "requestPasswordReset", client),
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
        .filter(one_time_token::Column::TokenHash.eq(sha256_hex(token.trim())))
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
    one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, Expr::value(now))
        .filter(one_time_token::Column::ManagerId.eq(manager.id))
        .filter(one_time_token::Column::Purpose.eq(Purpose::PasswordReset))
        .filter(one_time_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    let mut active: manager::ActiveModel = manager.clone().into();
    active.password_hash = Set(new_hash);
    active.force_password_change = Set(false);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    revoke_all_sessions(&txn, manager.id, now).await?;
    audit::record(
        &txn,
        now,
        anonymous_entry(&manager, "resetPassword", client),
    )
    .await?;
    txn.commit().await?;
    Ok(manager.id)
}

/// `validateEmail`: a mailed code, once, marks the address validated, lifts
/// `EMAIL_VALIDATION` and replaces the session with a fresh one.
pub async fn validate_email(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    code: &str,
) -> Result<SignedIn, AppError> {
    let actor = caller.lifting(Restriction::EmailValidation)?;
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
    if let Some(session_id) = actor.session_id {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .filter(session::Column::Id.eq(session_id))
            .exec(&txn)
            .await?;
    }
    let (signed_in, mail) = open_session(state, &txn, manager, client, now).await?;
    let mut entry = audit_entry(&signed_in.manager, "validateEmail", client);
    entry.after = Some(json!({ "emailValidated": true }));
    audit::record(&txn, now, entry).await?;
    txn.commit().await?;
    if let Some(mail) = mail {
        state.mailer.send_later(mail);
    }
    Ok(signed_in)
}
