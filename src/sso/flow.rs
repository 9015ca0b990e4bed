//! The single sign-on of a manager, from `/sso/{account}/start` to `completeSsoLogin`:
//! pending sign-ins (single use, [`PENDING_TTL`]), matching the identity to a manager of the
//! account (never creating one), the one-time completion code (single use,
//! [`COMPLETION_TTL`]); the session it is exchanged for is [`super::session`]. Throttled and
//! audited like a password sign-in.
//!
//! Matching: claim `EMAIL` takes the `email` claim only with `email_verified: true` and
//! compares it case-insensitively with the addresses of the account's company and team
//! managers (API managers are machine logins: they keep passwords and never sign in here);
//! exactly one must match. Such a sign-in links the identity (`iss` + `sub`) to the manager.
//! Claim `SUB` takes only identities linked that way, or linked by the manager itself
//! ([`super::link`], for providers that do not vouch for addresses, such as Entra ID): an
//! account can start with `EMAIL`, then switch to `SUB` so that a changed address at the
//! provider no longer moves anyone.

use chrono::{DateTime, Duration, Utc};
use entity::{
    SecretHash, account_sso,
    account_sso::IdentityClaim,
    manager::{self, ManagerKind},
    manager_sso_identity, sso_completion_code,
    sso_login::{self, Purpose},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, ExprTrait, QueryFilter, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    oidc::{Failure, Identity, Provider, Reason},
    sealed::Binding,
};
use crate::{
    auth::{ClientInfo, throttle},
    error::AppError,
    service::{
        audit::{self, Action, AuditActor, AuditEntry, TargetType},
        session::{hash_secret, new_secret},
        sso::return_to_allowed,
    },
    state::AppState,
};

/// A pending sign-in lasts this long (the person signs in at the provider meanwhile).
pub const PENDING_TTL: Duration = Duration::minutes(10);
/// The completion code is good this long: the front end exchanges it at once.
pub const COMPLETION_TTL: Duration = Duration::seconds(60);
/// Prefix of completion codes. Prefixes are public API: never change one.
pub const COMPLETION_CODE_PREFIX: &str = "acsc_";
/// The query parameter the completion code is added to `return_to` as.
pub const CODE_PARAMETER: &str = "sso_code";
/// The query parameter a link's completion code is added to `return_to` as.
pub const LINK_CODE_PARAMETER: &str = "sso_link_code";
/// Prefix of link tickets (`startSsoLink`). Prefixes are public API: never change one.
pub const LINK_TICKET_PREFIX: &str = "acsl_";

/// The redirect URI registered at every provider: one for all accounts.
pub fn redirect_uri(state: &AppState) -> String {
    format!(
        "{}/sso/callback",
        state.config.issuer().trim_end_matches('/')
    )
}

/// Where a browser starts signing in to `account_id` (add `?return_to=`).
pub fn start_url(state: &AppState, account_id: Uuid) -> String {
    format!(
        "{}/sso/{}/start",
        state.config.issuer().trim_end_matches('/'),
        crate::graphql::global_id(crate::graphql::IdKind::Account, account_id).0
    )
}

/// What `/start` answers: where to send the browser, and the binding cookie to set.
pub struct StartAnswer {
    pub location: String,
    pub binding: String,
}

/// `/sso/{account}/start`: checks the account's settings and `return_to`, stores a pending
/// sign-in and gives the provider's authorization URL. `binding` is the browser's cookie if
/// it has one (a new one otherwise). With `link` (a ticket of [`super::link::start_link`]) the sign-in
/// links an identity instead of opening a session. A failure is logged and audited like a
/// callback's.
pub async fn start(
    state: &AppState,
    account_id: Uuid,
    return_to: Option<&str>,
    link: Option<&str>,
    binding: Option<String>,
    client: &ClientInfo,
) -> Result<StartAnswer, Result<Reason, AppError>> {
    let outcome = begin(state, account_id, return_to, link, binding, client).await;
    reported(state, client, outcome).await
}

async fn begin(
    state: &AppState,
    account_id: Uuid,
    return_to: Option<&str>,
    link: Option<&str>,
    binding: Option<String>,
    client: &ClientInfo,
) -> Outcome<StartAnswer> {
    let now = state.clock.now();
    let settings = match enabled_settings(state, account_id).await.map_err(Err)? {
        Some(settings) => settings,
        // An account without SSO is not audited: nothing of it was used.
        None => return fail(Reason::NotEnabled, "not enabled", None),
    };
    let account = Some(account_id);
    let allow_list = crate::service::sso::stored_allow_list(&settings.return_to_allow_list);
    let return_to = match return_to {
        Some(wanted) => match return_to_allowed(&allow_list, wanted) {
            Some(url) => url.to_string(),
            None => return fail(Reason::ReturnTo, format!("{wanted:?} not allowed"), account),
        },
        None => match allow_list.first() {
            Some(first) => first.clone(),
            None => return fail(Reason::ReturnTo, "empty allow-list", account),
        },
    };
    let link_manager_id = match link {
        Some(ticket) => match super::link::spend_ticket(state, account_id, ticket, now)
            .await
            .map_err(Err)?
        {
            Some(manager_id) => Some(manager_id),
            None => {
                return fail(
                    Reason::Link,
                    "link ticket unknown, used or expired",
                    account,
                );
            }
        },
        None => None,
    };
    let redirect = redirect_uri(state);
    let started = match state
        .oidc
        .start(&Provider {
            issuer: &settings.issuer,
            client_id: &settings.client_id,
            redirect_uri: &redirect,
        })
        .await
    {
        Ok(started) => started,
        Err(failure) => return fail(failure.reason, failure.detail, account),
    };
    let binding = binding
        .filter(|b| b.starts_with(BINDING_PREFIX) && b.len() == BINDING_PREFIX.len() + 64)
        .unwrap_or_else(|| new_secret(BINDING_PREFIX));
    // Expired pending sign-ins are deleted as new ones come.
    sso_login::Entity::delete_many()
        .filter(sso_login::Column::ExpiresAt.lt(now - Duration::hours(1)))
        .exec(&state.db)
        .await
        .map_err(|e| Err(e.into()))?;
    sso_login::Entity::insert(sso_login::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account_id),
        state_hash: Set(hash_secret(&started.state)),
        binding_hash: Set(hash_secret(&binding)),
        nonce: Set(SecretHash(started.nonce)),
        pkce_verifier: Set(SecretHash(started.pkce_verifier)),
        purpose: Set(if link_manager_id.is_some() {
            Purpose::Link
        } else {
            Purpose::SignIn
        }),
        link_manager_id: Set(link_manager_id),
        return_to: Set(return_to),
        client_address: Set(client.address.clone()),
        created_at: Set(now),
        expires_at: Set(now + PENDING_TTL),
        used_at: Set(None),
    })
    .exec_without_returning(&state.db)
    .await
    .map_err(|e| Err(e.into()))?;
    Ok(StartAnswer {
        location: started.url,
        binding,
    })
}

/// Prefix of the browser-binding cookie's value.
pub const BINDING_PREFIX: &str = "acsb_";

pub(super) async fn enabled_settings(
    state: &AppState,
    account_id: Uuid,
) -> Result<Option<account_sso::Model>, AppError> {
    Ok(account_sso::Entity::find_by_id(account_id)
        .one(&state.db)
        .await?
        .filter(|s| s.enabled))
}

/// What the provider sent back to `/sso/callback`.
#[derive(Default)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
}

/// A failed sign-in: the reason, and the account when known (for the audit entry).
pub struct Failed {
    pub failure: Failure,
    pub account_id: Option<Uuid>,
}

/// `/sso/callback`: consumes the pending sign-in (before anything else: a replayed callback
/// fails here), checks the browser binding, exchanges the code, verifies the ID token,
/// matches a manager, and answers the `return_to` URL carrying a new completion code. Every
/// failure is logged and audited (`ssoLoginFailed`) with its reason, which is what the
/// error answers (`Err(Ok(reason))`; `Err(Err(_))` for the server's own failures).
pub async fn callback(
    state: &AppState,
    params: Callback,
    binding: Option<&str>,
    client: &ClientInfo,
) -> Result<String, Result<Reason, AppError>> {
    let outcome = finish(state, params, binding, client).await;
    reported(state, client, outcome).await
}

/// Logs, counts and audits a failure; answers its reason.
async fn reported<T>(
    state: &AppState,
    client: &ClientInfo,
    outcome: Outcome<T>,
) -> Result<T, Result<Reason, AppError>> {
    match outcome {
        Ok(value) => Ok(value),
        Err(Ok(Failed {
            failure,
            account_id,
        })) => {
            tracing::warn!(
                reason = failure.reason.as_str(),
                account = ?account_id,
                detail = %failure.detail,
                "sso_login_failed"
            );
            crate::metrics::sso_login(failure.reason.as_str());
            if let Some(account_id) = account_id {
                let entry = AuditEntry {
                    account_id,
                    actor: AuditActor::Anonymous,
                    action: Action::SsoLoginFailed,
                    target_type: TargetType::Account,
                    target_id: Some(account_id),
                    before: None,
                    after: Some(json!({ "reason": failure.reason.as_str() })),
                    client_address: client.address.clone(),
                };
                audit::record(&state.db, state.clock.now(), entry)
                    .await
                    .map_err(Err)?;
            }
            Err(Ok(failure.reason))
        }
        Err(Err(app)) => Err(Err(app)),
    }
}

type Outcome<T> = Result<T, Result<Failed, AppError>>;

fn fail<T>(reason: Reason, detail: impl std::fmt::Display, account_id: Option<Uuid>) -> Outcome<T> {
    Err(Ok(Failed {
        failure: Failure::new(reason, detail),
        account_id,
    }))
}

async fn finish(
    state: &AppState,
    params: Callback,
    binding: Option<&str>,
    client: &ClientInfo,
) -> Outcome<String> {
    let now = state.clock.now();
    let keys = client
        .address
        .as_deref()
        .map(throttle::Key::address)
        .into_iter()
        .collect::<Vec<_>>();
    throttle::attempt(&state.db, now, &keys)
        .await
        .map_err(Err)?;
    let Some(state_value) = params.state.as_deref() else {
        return fail(Reason::State, "no state", None);
    };
    let state_hash = hash_secret(state_value);
    let consumed = sso_login::Entity::update_many()
        .col_expr(sso_login::Column::UsedAt, Expr::value(now))
        .filter(sso_login::Column::StateHash.eq(state_hash.clone()))
        .filter(sso_login::Column::UsedAt.is_null())
        .filter(sso_login::Column::ExpiresAt.gt(now))
        .exec(&state.db)
        .await
        .map_err(|e| Err(e.into()))?;
    let pending = sso_login::Entity::find()
        .filter(sso_login::Column::StateHash.eq(state_hash))
        .one(&state.db)
        .await
        .map_err(|e| Err(e.into()))?;
    let pending = match pending {
        Some(pending) if consumed.rows_affected == 1 => pending,
        // A replayed or late callback: worth an audit entry on its account.
        Some(spent) => {
            return fail(
                Reason::State,
                "pending sign-in already used or expired",
                Some(spent.account_id),
            );
        }
        None => return fail(Reason::State, "no pending sign-in for this state", None),
    };
    let account = Some(pending.account_id);
    if binding.map(hash_secret) != Some(pending.binding_hash.clone()) {
        return fail(
            Reason::Binding,
            "binding cookie missing or different",
            account,
        );
    }
    let Some(settings) = enabled_settings(state, pending.account_id)
        .await
        .map_err(Err)?
    else {
        return fail(Reason::NotEnabled, "not enabled any more", account);
    };
    if let Some(error) = params.error {
        return fail(Reason::ProviderError, error, account);
    }
    // RFC 9207: a provider that names itself must name the configured issuer.
    if let Some(iss) = params.iss.as_deref()
        && iss != settings.issuer
    {
        return fail(Reason::Issuer, format!("callback iss {iss:?}"), account);
    }
    let Some(code) = params.code else {
        return fail(Reason::ProviderError, "no code", account);
    };
    let Some(sealed) = settings.client_secret.as_ref() else {
        return fail(Reason::Secret, "no client secret", account);
    };
    let secret = match state.sso_sealer.open(
        sealed,
        &Binding {
            account_id: settings.account_id,
            issuer: &settings.issuer,
            client_id: &settings.client_id,
        },
    ) {
        Ok(secret) => secret,
        Err(e) => return fail(Reason::Secret, e, account),
    };
    let redirect = redirect_uri(state);
    let provider = Provider {
        issuer: &settings.issuer,
        client_id: &settings.client_id,
        redirect_uri: &redirect,
    };
    let verified = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        state.oidc.finish(
            &provider,
            secret,
            code,
            pending.pkce_verifier.0.clone(),
            pending.nonce.0.clone(),
        ),
    )
    .await;
    let identity = match verified {
        Ok(Ok(identity)) => identity,
        Ok(Err(failure)) => return fail(failure.reason, failure.detail, account),
        Err(_) => return fail(Reason::Unreachable, "timed out", account),
    };
    if pending.purpose == Purpose::Link {
        let Some(manager_id) = pending.link_manager_id else {
            return fail(Reason::Link, "link without a manager", account);
        };
        throttle::succeeded(&state.db, &keys).await.map_err(Err)?;
        return completion_redirect(
            state,
            &pending,
            manager_id,
            &settings.issuer,
            Some(identity.subject),
            false,
            LINK_CODE_PARAMETER,
        )
        .await;
    }
    let manager = match matching(state, &settings, &identity).await.map_err(Err)? {
        Ok(manager) => manager,
        Err(reason) => {
            let who = identity.email.as_deref().unwrap_or(&identity.subject);
            return fail(reason, format!("identity {who:?}"), account);
        }
    };
    throttle::succeeded(&state.db, &keys).await.map_err(Err)?;
    let vouched = identity.email_verified
        && identity
            .email
            .as_deref()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case(manager.email.trim()));
    completion_redirect(
        state,
        &pending,
        manager.id,
        &settings.issuer,
        None,
        vouched,
        CODE_PARAMETER,
    )
    .await
}

/// Stores a completion code and answers `return_to` carrying it as `parameter`.
async fn completion_redirect(
    state: &AppState,
    pending: &sso_login::Model,
    manager_id: Uuid,
    issuer: &str,
    subject: Option<String>,
    email_verified: bool,
    parameter: &str,
) -> Outcome<String> {
    let now = state.clock.now();
    let code = new_secret(COMPLETION_CODE_PREFIX);
    sso_completion_code::Entity::delete_many()
        .filter(sso_completion_code::Column::ExpiresAt.lt(now - Duration::hours(1)))
        .exec(&state.db)
        .await
        .map_err(|e| Err(e.into()))?;
    sso_completion_code::Entity::insert(sso_completion_code::ActiveModel {
        code_hash: Set(hash_secret(&code)),
        sso_login_id: Set(pending.id),
        manager_id: Set(manager_id),
        issuer: Set(issuer.to_owned()),
        subject: Set(subject),
        email_verified: Set(email_verified),
        created_at: Set(now),
        expires_at: Set(now + COMPLETION_TTL),
        used_at: Set(None),
    })
    .exec_without_returning(&state.db)
    .await
    .map_err(|e| Err(e.into()))?;
    let mut location =
        url::Url::parse(&pending.return_to).map_err(|e| Err(AppError::internal(e)))?;
    location.query_pairs_mut().append_pair(parameter, &code);
    Ok(location.to_string())
}

/// The manager of the account the identity names, or why none.
async fn matching(
    state: &AppState,
    settings: &account_sso::Model,
    identity: &Identity,
) -> Result<Result<manager::Model, Reason>, AppError> {
    let people = [ManagerKind::Company, ManagerKind::Team];
    let linked = manager_sso_identity::Entity::find()
        .filter(manager_sso_identity::Column::AccountId.eq(settings.account_id))
        .filter(manager_sso_identity::Column::Issuer.eq(&settings.issuer))
        .filter(manager_sso_identity::Column::Subject.eq(&identity.subject))
        .one(&state.db)
        .await?;
    if settings.identity_claim == IdentityClaim::Sub {
        let Some(link) = linked else {
            return Ok(Err(Reason::NoManager));
        };
        return Ok(manager::Entity::find_by_id(link.manager_id)
            .filter(manager::Column::AccountId.eq(settings.account_id))
            .filter(manager::Column::Kind.is_in(people))
            .one(&state.db)
            .await?
            .ok_or(Reason::NoManager));
    }
    let (Some(email), true) = (identity.email.as_deref(), identity.email_verified) else {
        return Ok(Err(Reason::UnverifiedEmail));
    };
    // Addresses are compared case-insensitively here (not in SQL, so both databases agree).
    let wanted = email.trim().to_lowercase();
    let found: Vec<manager::Model> = manager::Entity::find()
        .filter(manager::Column::AccountId.eq(settings.account_id))
        .filter(manager::Column::Kind.is_in(people))
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|m| m.email.trim().to_lowercase() == wanted)
        .collect();
    let manager = match <[manager::Model; 1]>::try_from(found) {
        Ok([manager]) => manager,
        Err(found) if found.is_empty() => return Ok(Err(Reason::NoManager)),
        Err(_) => return Ok(Err(Reason::Ambiguous)),
    };
    if linked.as_ref().is_none_or(|l| l.manager_id != manager.id) {
        link(
            state.db.clone(),
            settings,
            &manager,
            &identity.subject,
            state.clock.now(),
        )
        .await?;
    }
    Ok(Ok(manager))
}

/// Links `(issuer, subject)` to `manager`, replacing what either was linked to before.
pub(super) async fn link(
    db: sea_orm::DatabaseConnection,
    settings: &account_sso::Model,
    manager: &manager::Model,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = crate::db::begin_write(&db).await?;
    manager_sso_identity::Entity::delete_many()
        .filter(manager_sso_identity::Column::AccountId.eq(settings.account_id))
        .filter(manager_sso_identity::Column::Issuer.eq(&settings.issuer))
        .filter(
            manager_sso_identity::Column::Subject
                .eq(subject)
                .or(manager_sso_identity::Column::ManagerId.eq(manager.id)),
        )
        .exec(&txn)
        .await?;
    manager_sso_identity::Entity::insert(manager_sso_identity::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(settings.account_id),
        manager_id: Set(manager.id),
        issuer: Set(settings.issuer.clone()),
        subject: Set(subject.to_owned()),
        linked_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}
