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

/// What `/start` answers: where to send the browser, and the binding cookie to set (its name
/// is the flow's: [`binding_cookie_name`]).
pub struct StartAnswer {
    pub location: String,
    pub binding: String,
    pub cookie_name: String,
}

/// How often one client address may start sign-ins that it does not finish: a start costs a
/// row and a request to the provider. A finished sign-in gives its start back.
const STARTS_PER_ADDRESS: throttle::Policy = throttle::Policy {
    max_failures: 60,
    window: Duration::minutes(15),
    cooldown: Duration::minutes(5),
};

/// The throttle key of `/start` for a client address.
fn start_key(address: &str) -> throttle::Key {
    throttle::Key::custom(
        format!(
            "{}{}",
            throttle::SSO_START_PREFIX,
            throttle::address_key(address)
        ),
        STARTS_PER_ADDRESS,
    )
}

/// The binding cookie of one sign-in, named after its `state`: every flow has its own (two
/// tabs signing in at once do not overwrite each other's), and every value is fresh (a value
/// planted in the browser beforehand is never adopted). Behind https the name carries the
/// `__Host-` prefix, so a sibling domain cannot plant one either.
pub fn binding_cookie_name(state_value: &str, secure: bool) -> String {
    let hash = hash_secret(state_value);
    let short: String = hash.0.chars().take(16).collect();
    if secure {
        format!("__Host-ac_sso_{short}")
    } else {
        format!("ac_sso_{short}")
    }
}

/// Whether `verifier` (what the front end kept) answers `challenge` (what it sent to
/// `/start`), in constant time.
pub fn challenge_matches(challenge: &str, verifier: &str) -> bool {
    use subtle::ConstantTimeEq;
    crate::service::grant::is_verifier(verifier)
        && bool::from(
            crate::service::grant::s256(verifier)
                .as_bytes()
                .ct_eq(challenge.as_bytes()),
        )
}

/// Whether two e-mail addresses are the same, ASCII case aside.
fn same_address(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a.is_ascii() && a.eq_ignore_ascii_case(b)
}

/// What a browser asks `/sso/{account}/start` for.
#[derive(Default)]
pub struct StartRequest<'a> {
    pub return_to: Option<&'a str>,
    /// A ticket of [`super::link::start_link`]: link the identity instead of signing in.
    pub link: Option<&'a str>,
    /// The front end's PKCE challenge for the completion code (required to sign in).
    pub code_challenge: Option<&'a str>,
}

/// `/sso/{account}/start`: checks the account's settings and `return_to`, stores a pending
/// sign-in and gives the provider's authorization URL and a fresh binding cookie. With a link
/// ticket the sign-in links an identity instead of opening a session. Throttled per client
/// address. A failure is logged and counted, not audited: anyone can call `/start`, and the
/// account's audit log is for what happened to it (the callback's failures are audited).
pub async fn start(
    state: &AppState,
    account_id: Uuid,
    request: StartRequest<'_>,
    client: &ClientInfo,
) -> Result<StartAnswer, Result<Reason, AppError>> {
    let outcome = begin(state, account_id, request, client).await;
    reported(state, client, outcome, false).await
}

async fn begin(
    state: &AppState,
    account_id: Uuid,
    request: StartRequest<'_>,
    client: &ClientInfo,
) -> Outcome<StartAnswer> {
    let now = state.clock.now();
    if let Some(address) = client.address.as_deref() {
        throttle::attempt(&state.db, now, &[start_key(address)])
            .await
            .map_err(Err)?;
    }
    let StartRequest {
        return_to,
        link,
        code_challenge,
    } = request;
    // A sign-in needs the front end's challenge; a link is confirmed by the manager's own
    // session instead.
    let code_challenge = match (link, code_challenge) {
        (None, Some(challenge)) if crate::service::grant::is_s256_challenge(challenge) => {
            Some(challenge.to_owned())
        }
        (None, _) => {
            return fail(
                Reason::Challenge,
                "code_challenge missing or not a base64url SHA-256",
                None,
            );
        }
        (Some(_), _) => None,
    };
    let settings = match enabled_settings(state, account_id).await.map_err(Err)? {
        Some(settings) => settings,
        // An account without SSO is not audited: nothing of it was used.
        None => return fail(Reason::NotEnabled, "not enabled", None),
    };
    let account = Some(account_id);
    let allow_list = crate::service::sso::stored_allow_list(&settings.return_to_allow_list);
    let return_to = match return_to {
        Some(wanted) => match return_to_allowed(&allow_list, wanted) {
            Some(url) => url,
            None => return fail(Reason::ReturnTo, format!("{wanted:?} not allowed"), account),
        },
        None => match allow_list
            .first()
            .and_then(|first| url::Url::parse(first).ok())
        {
            Some(first) => first,
            None => return fail(Reason::ReturnTo, "empty allow-list", account),
        },
    };
    let return_to = without_codes(return_to);
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
    let binding = new_secret(BINDING_PREFIX);
    let cookie_name = binding_cookie_name(
        &started.state,
        state.config.issuer().starts_with("https://"),
    );
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
        issuer: Set(Some(settings.issuer.clone())),
        client_id: Set(Some(settings.client_id.clone())),
        client_challenge: Set(code_challenge),
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
        cookie_name,
    })
}

/// `return_to` without completion codes it may already carry: the front end reads the
/// first `sso_code`, which must be the one this sign-in adds.
fn without_codes(mut url: url::Url) -> String {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != CODE_PARAMETER && k != LINK_CODE_PARAMETER)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url.to_string()
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
    let keys = throttle::Key::address_only(client.address.as_deref());
    let outcome = finish(state, params, binding, client, &keys).await;
    // The provider's own failures are not the client's guesses: they give the attempt back,
    // so an outage does not block an office's address (and its break-glass password
    // sign-in) on top.
    if let Err(Ok(failed)) = &outcome
        && failed.failure.reason.is_provider_side()
        && let Err(e) = throttle::succeeded(&state.db, &keys).await
    {
        return Err(Err(e));
    }
    reported(state, client, outcome, true).await
}

/// Logs, counts and audits a failure; answers its reason.
async fn reported<T>(
    state: &AppState,
    client: &ClientInfo,
    outcome: Outcome<T>,
    audited: bool,
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
            if let Some(account_id) = account_id.filter(|_| audited) {
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
    keys: &[throttle::Key],
) -> Outcome<String> {
    let now = state.clock.now();
    throttle::attempt(&state.db, now, keys).await.map_err(Err)?;
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
    // The code and verifier go to the provider the sign-in started with, or nowhere.
    if pending.issuer.as_deref() != Some(settings.issuer.as_str())
        || pending.client_id.as_deref() != Some(settings.client_id.as_str())
    {
        return fail(
            Reason::Issuer,
            "the issuer or client id changed since the sign-in started",
            account,
        );
    }
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
    let binding = Binding {
        account_id: settings.account_id,
        issuer: &settings.issuer,
        client_id: &settings.client_id,
    };
    let secret = match state.sso_sealer.open(sealed, &binding) {
        Ok(secret) => secret,
        Err(e) => return fail(Reason::Secret, e, account),
    };
    // Opened with an older key of the ring: sealed again with the current one (unless the
    // settings changed meanwhile), so the old key can leave `SSO_SECRET_KEYS` later.
    if state.sso_sealer.needs_reseal(sealed) {
        account_sso::Entity::update_many()
            .col_expr(
                account_sso::Column::ClientSecret,
                Expr::value(state.sso_sealer.seal(&secret, &binding)),
            )
            .filter(account_sso::Column::AccountId.eq(settings.account_id))
            .filter(account_sso::Column::ClientSecret.eq(sealed.clone()))
            .exec(&state.db)
            .await
            .map_err(|e| Err(e.into()))?;
    }
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
        throttle::succeeded(&state.db, keys).await.map_err(Err)?;
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
        Ok((manager, newly_linked)) => {
            // A link made by an e-mail match is audited like one the manager confirmed: with
            // `SUB` it is what signs the manager in later.
            if newly_linked {
                let entry = AuditEntry {
                    account_id: manager.account_id,
                    actor: AuditActor::Manager {
                        id: manager.id,
                        login: &manager.login,
                    },
                    action: Action::LinkSsoIdentity,
                    target_type: TargetType::Manager,
                    target_id: Some(manager.id),
                    before: None,
                    after: Some(json!({ "issuer": settings.issuer, "by": "emailMatch" })),
                    client_address: client.address.clone(),
                };
                audit::record(&state.db, now, entry).await.map_err(Err)?;
            }
            manager
        }
        Err(reason) => {
            let who = identity.email.as_deref().unwrap_or(&identity.subject);
            return fail(reason, format!("identity {who:?}"), account);
        }
    };
    throttle::succeeded(&state.db, keys).await.map_err(Err)?;
    // The sign-in started here: its start is given back too.
    if let Some(address) = client.address.as_deref() {
        throttle::succeeded(&state.db, &[start_key(address)])
            .await
            .map_err(Err)?;
    }
    let vouched = identity.email_verified
        && identity
            .email
            .as_deref()
            .is_some_and(|e| same_address(e, &manager.email));
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
        client_challenge: Set(pending.client_challenge.clone()),
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

/// The manager of the account the identity names (and whether this sign-in linked the
/// identity to it just now), or why none.
async fn matching(
    state: &AppState,
    settings: &account_sso::Model,
    identity: &Identity,
) -> Result<Result<(manager::Model, bool), Reason>, AppError> {
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
            .map(|m| (m, false))
            .ok_or(Reason::NoManager));
    }
    let (Some(email), true) = (identity.email.as_deref(), identity.email_verified) else {
        return Ok(Err(Reason::UnverifiedEmail));
    };
    // Addresses are compared ASCII-case-insensitively here (not in SQL, so both databases
    // agree); an address with other characters matches nobody (Unicode folding would let
    // `\u{212A}ate@` match `kate@`).
    let found: Vec<manager::Model> = manager::Entity::find()
        .filter(manager::Column::AccountId.eq(settings.account_id))
        .filter(manager::Column::Kind.is_in(people))
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|m| same_address(email, &m.email))
        .collect();
    let manager = match <[manager::Model; 1]>::try_from(found) {
        Ok([manager]) => manager,
        Err(found) if found.is_empty() => return Ok(Err(Reason::NoManager)),
        Err(_) => return Ok(Err(Reason::Ambiguous)),
    };
    let newly = linked.as_ref().is_none_or(|l| l.manager_id != manager.id);
    if newly {
        link(
            state.db.clone(),
            settings,
            &manager,
            &identity.subject,
            state.clock.now(),
        )
        .await?;
    }
    Ok(Ok((manager, newly)))
}

/// Links `(issuer, subject)` to `manager`, replacing what either was linked to before. Two
/// first sign-ins of one manager at once (two devices) both end linked: the one that loses
/// the race on the unique index tries again, and then replaces the winner's row.
pub(super) async fn link(
    db: sea_orm::DatabaseConnection,
    settings: &account_sso::Model,
    manager: &manager::Model,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    match link_once(&db, settings, manager, subject, now).await {
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Ok(link_once(&db, settings, manager, subject, now).await?)
        }
        other => Ok(other?),
    }
}

async fn link_once(
    db: &sea_orm::DatabaseConnection,
    settings: &account_sso::Model,
    manager: &manager::Model,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let txn = crate::db::begin_write(db).await?;
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
