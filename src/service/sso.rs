//! Single sign-on settings of an account (`account { sso }`, `updateAccountSso`) and the
//! break-glass rule: while SSO is enforced, at least one company manager keeps its password
//! (`LoginSettings.ssoBreakGlass`), so an identity provider that is down or misconfigured
//! never locks the whole account out. The sign-in flow itself is `src/sso/`.
//!
//! Only company managers (with their own session, never an app token) read or change these
//! settings. The client secret is write-only: it is sealed at rest ([`crate::sso::sealed`])
//! and only whether one is set is ever answered.

use entity::{
    account_sso::{self, IdentityClaim, SsoKind},
    manager::{self, ManagerKind},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use serde_json::json;
use url::Url;
use uuid::Uuid;

use crate::{
    auth::ClientInfo,
    error::AppError,
    service::{
        access::{self, Access},
        audit::{Action, TargetType},
        change::{Change, Diff},
    },
    sso::sealed::Binding,
    state::AppState,
};

/// The longest issuer or `return_to` prefix accepted.
const MAX_URL_CHARS: usize = 2048;
/// The longest client id (identity providers use UUIDs or short names).
const MAX_CLIENT_ID_CHARS: usize = 255;
/// The longest client secret.
const MAX_SECRET_CHARS: usize = 1024;
/// The most `return_to` prefixes.
const MAX_RETURN_TO: usize = 20;

/// The account's SSO settings, `None` when never configured. Company managers only.
pub async fn get(caller: &Access) -> Result<Option<account_sso::Model>, AppError> {
    let actor = caller.person()?;
    access::company_only(actor)?;
    Ok(account_sso::Entity::find_by_id(actor.account_id)
        .one(caller.db())
        .await?)
}

/// A patch of the settings: absent fields stay as they are.
#[derive(Default)]
pub struct SsoPatch {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// Write-only.
    pub client_secret: Option<String>,
    pub identity_claim: Option<IdentityClaim>,
    pub enabled: Option<bool>,
    pub enforced: Option<bool>,
    pub return_to_allow_list: Option<Vec<String>>,
}

impl std::fmt::Debug for SsoPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoPatch")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("identity_claim", &self.identity_claim)
            .field("enabled", &self.enabled)
            .field("enforced", &self.enforced)
            .field("return_to_allow_list", &self.return_to_allow_list)
            .finish()
    }
}

/// `updateAccountSso`: company managers only. The first patch must name the issuer and the
/// client id. Changing either needs the client secret in the same patch (the stored one is
/// bound to them, and a secret is never sent to a provider it was not entered for).
/// `enforced` depends on `enabled` like the feature settings of SPEC 4.3: turning `enabled`
/// off turns `enforced` off; turning `enforced` on while `enabled` ends up off is refused
/// (`DEPENDENCY_VIOLATION`). Enabling needs a client secret and a `return_to` allow-list.
/// Enforcing needs a company manager with `ssoBreakGlass` (`CONFLICT` otherwise). The audit
/// entry holds what changed; for the secret only that it changed.
pub async fn update(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    patch: SsoPatch,
) -> Result<account_sso::Model, AppError> {
    let actor = caller.person()?;
    access::company_only(actor)?;
    let issuer = patch
        .issuer
        .as_deref()
        .map(|value| issuer(value, state.config.sso_allow_private_networks))
        .transpose()?;
    let client_id = patch.client_id.as_deref().map(client_id).transpose()?;
    let secret = patch.client_secret.as_deref().map(secret).transpose()?;
    let allow_list = patch
        .return_to_allow_list
        .as_deref()
        .map(allow_list)
        .transpose()?;

    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let account_id = actor.account_id;
    let current = account_sso::Entity::find_by_id(account_id)
        .one(change.txn())
        .await?;
    let (issuer, client_id) = match (&current, issuer, client_id) {
        (_, Some(issuer), Some(client_id)) => (issuer, client_id),
        (Some(current), issuer, client_id) => (
            issuer.unwrap_or_else(|| current.issuer.clone()),
            client_id.unwrap_or_else(|| current.client_id.clone()),
        ),
        (None, _, _) => {
            return Err(AppError::bad_input(
                "issuer and clientId are required to set up single sign-on",
            ));
        }
    };
    let rebound = current
        .as_ref()
        .is_some_and(|c| c.issuer != issuer || c.client_id != client_id);
    if rebound && secret.is_none() && current.as_ref().is_some_and(|c| c.client_secret.is_some()) {
        return Err(AppError::bad_input(
            "a new issuer or clientId needs its clientSecret in the same change",
        ));
    }
    let binding = Binding {
        account_id,
        issuer: &issuer,
        client_id: &client_id,
    };
    let sealed = match secret {
        Some(secret) => Some(state.sso_sealer.seal(secret, &binding)),
        None => current.as_ref().and_then(|c| c.client_secret.clone()),
    };
    let identity_claim = patch
        .identity_claim
        .or(current.as_ref().map(|c| c.identity_claim))
        .unwrap_or(IdentityClaim::Email);
    let allow_list = match allow_list {
        Some(list) => list,
        None => current
            .as_ref()
            .map(|c| stored_allow_list(&c.return_to_allow_list))
            .unwrap_or_default(),
    };
    let was_enabled = current.as_ref().is_some_and(|c| c.enabled);
    let was_enforced = current.as_ref().is_some_and(|c| c.enforced);
    let enabled = patch.enabled.unwrap_or(was_enabled);
    // Turning the parent off turns the dependent off (SPEC 4.3's rule, applied here too).
    let enforced = if patch.enabled == Some(false) && patch.enforced != Some(true) {
        false
    } else {
        patch.enforced.unwrap_or(was_enforced)
    };
    if enforced && !enabled {
        return Err(AppError::DependencyViolation {
            needs: vec![("enforced".into(), vec!["enabled".into()])],
        });
    }
    if enabled && sealed.is_none() {
        return Err(AppError::bad_input(
            "enabling single sign-on needs a clientSecret",
        ));
    }
    if enabled && allow_list.is_empty() {
        return Err(AppError::bad_input(
            "enabling single sign-on needs at least one returnToAllowList entry",
        ));
    }
    if enforced && break_glass_managers(change.txn(), account_id, None).await? == 0 {
        return Err(no_break_glass());
    }

    let after = account_sso::Model {
        account_id,
        kind: SsoKind::Oidc,
        issuer,
        client_id,
        client_secret: sealed,
        identity_claim,
        enabled,
        enforced,
        return_to_allow_list: json!(allow_list).to_string(),
        updated_at: now,
        updated_by: Some(actor.manager_id),
    };
    let mut diff = Diff::default();
    let before = current.as_ref();
    let old = |f: fn(&account_sso::Model) -> serde_json::Value| before.map(f);
    let fields: [(&str, Option<serde_json::Value>, serde_json::Value); 7] = [
        ("issuer", old(|c| json!(c.issuer)), json!(after.issuer)),
        (
            "clientId",
            old(|c| json!(c.client_id)),
            json!(after.client_id),
        ),
        (
            "identityClaim",
            old(|c| json!(claim_name(c.identity_claim))),
            json!(claim_name(after.identity_claim)),
        ),
        ("enabled", old(|c| json!(c.enabled)), json!(after.enabled)),
        (
            "enforced",
            old(|c| json!(c.enforced)),
            json!(after.enforced),
        ),
        (
            "returnToAllowList",
            old(|c| json!(stored_allow_list(&c.return_to_allow_list))),
            json!(allow_list),
        ),
        (
            "clientSecretSet",
            old(|c| json!(c.client_secret.is_some())),
            json!(after.client_secret.is_some()),
        ),
    ];
    for (name, old, new) in fields {
        if old.as_ref() != Some(&new) {
            diff.set(name, old, new);
        }
    }
    if secret.is_some() {
        // Never the value: only that a new one was entered.
        diff.set("clientSecretChanged", false, true);
    }
    if diff.is_empty() {
        return Ok(after_or(current, after));
    }
    let active = account_sso::ActiveModel {
        account_id: Set(account_id),
        kind: Set(after.kind),
        issuer: Set(after.issuer.clone()),
        client_id: Set(after.client_id.clone()),
        client_secret: Set(after.client_secret.clone()),
        identity_claim: Set(after.identity_claim),
        enabled: Set(after.enabled),
        enforced: Set(after.enforced),
        return_to_allow_list: Set(after.return_to_allow_list.clone()),
        updated_at: Set(after.updated_at),
        updated_by: Set(after.updated_by),
    };
    let saved = if current.is_some() {
        active.update(change.txn()).await?
    } else {
        active.insert(change.txn()).await?
    };
    if enforced && !was_enforced {
        end_password_sessions(change.txn(), account_id, now).await?;
    }
    let (before, after) = diff.into_values();
    change
        .commit(
            TargetType::Account,
            Action::UpdateAccountSso,
            account_id,
            before,
            after,
        )
        .await?;
    Ok(saved)
}

/// Enforcing single sign-on ends the password sessions of everyone it now refuses a password
/// (team managers, company managers without break-glass); their SSO sessions, API managers
/// and break-glass company managers keep theirs.
async fn end_password_sessions(
    conn: &impl ConnectionTrait,
    account_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    use entity::session::{self, SignInMethod};
    use sea_orm::{ExprTrait, QuerySelect, QueryTrait, sea_query::Expr};
    let refused = manager::Entity::find()
        .select_only()
        .column(manager::Column::Id)
        .filter(manager::Column::AccountId.eq(account_id))
        .filter(
            manager::Column::Kind
                .eq(ManagerKind::Team)
                .or(manager::Column::Kind
                    .eq(ManagerKind::Company)
                    .and(manager::Column::SsoBreakGlass.eq(false))),
        )
        .into_query();
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::ManagerId.in_subquery(refused))
        .filter(session::Column::Method.eq(SignInMethod::Password))
        .filter(session::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// An unchanged patch answers the stored row.
fn after_or(current: Option<account_sso::Model>, after: account_sso::Model) -> account_sso::Model {
    current.unwrap_or(after)
}

/// The GraphQL name of a claim, as the audit log keeps it.
pub fn claim_name(claim: IdentityClaim) -> &'static str {
    match claim {
        IdentityClaim::Email => "EMAIL",
        IdentityClaim::Sub => "SUB",
    }
}

/// The stored allow-list (a JSON array written by [`update`]).
pub fn stored_allow_list(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}

/// The refusal of a change that would leave an enforced account without a break-glass
/// company manager.
fn no_break_glass() -> AppError {
    AppError::Conflict(
        "enforced single sign-on needs at least one company manager with ssoBreakGlass (a \
         password that still works when the identity provider does not): set it on one \
         first with updateManagerLoginSettings"
            .into(),
    )
}

/// Company managers of the account flagged break-glass, leaving `except` out (the one a
/// change is about to unflag or delete).
async fn break_glass_managers(
    conn: &impl ConnectionTrait,
    account_id: Uuid,
    except: Option<Uuid>,
) -> Result<u64, AppError> {
    let mut query = manager::Entity::find()
        .filter(manager::Column::AccountId.eq(account_id))
        .filter(manager::Column::Kind.eq(ManagerKind::Company))
        .filter(manager::Column::SsoBreakGlass.eq(true));
    if let Some(except) = except {
        query = query.filter(manager::Column::Id.ne(except));
    }
    Ok(query.count(conn).await?)
}

/// Whether the account enforces SSO (then only break-glass company managers use passwords).
pub async fn enforced(conn: &impl ConnectionTrait, account_id: Uuid) -> Result<bool, AppError> {
    Ok(account_sso::Entity::find_by_id(account_id)
        .one(conn)
        .await?
        .is_some_and(|sso| sso.enabled && sso.enforced))
}

/// Whether the account's managers may sign in through SSO now.
pub async fn enabled(conn: &impl ConnectionTrait, account_id: Uuid) -> Result<bool, AppError> {
    Ok(enabled_issuer(conn, account_id).await?.is_some())
}

/// The issuer of the account's single sign-on when it is enabled.
pub async fn enabled_issuer(
    conn: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Option<String>, AppError> {
    Ok(account_sso::Entity::find_by_id(account_id)
        .one(conn)
        .await?
        .filter(|sso| sso.enabled)
        .map(|sso| sso.issuer))
}

/// Refuses, inside a change of the account, taking `manager` out of the break-glass company
/// managers (unflagging, deleting) when it is the last one and SSO is enforced.
pub async fn keep_break_glass(
    conn: &impl ConnectionTrait,
    manager: &manager::Model,
) -> Result<(), AppError> {
    if manager.kind == ManagerKind::Company
        && manager.sso_break_glass
        && enforced(conn, manager.account_id).await?
        && break_glass_managers(conn, manager.account_id, Some(manager.id)).await? == 0
    {
        return Err(no_break_glass());
    }
    Ok(())
}

/// Whether `url` may be a return address: `https`, or `http` to this machine (a front end
/// under development). The browser goes there, never this server; the issuer's rule is
/// [`crate::sso::http_client::check_url`]'s.
pub fn secure_or_loopback(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// Parses an absolute URL with a host and no user name, password or fragment.
fn absolute(field: &str, value: &str) -> Result<Url, AppError> {
    let trimmed = value.trim();
    if trimmed.chars().count() > MAX_URL_CHARS {
        return Err(AppError::bad_input(format!(
            "{field} must be at most {MAX_URL_CHARS} characters"
        )));
    }
    let url = Url::parse(trimmed)
        .map_err(|_| AppError::bad_input(format!("{field} must be an absolute URL")))?;
    if url.host().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.fragment().is_some()
    {
        return Err(AppError::bad_input(format!(
            "{field} must be an absolute URL with a host and no credentials or fragment"
        )));
    }
    Ok(url)
}

/// The issuer, kept as typed (trimmed): ID tokens' `iss` must equal it exactly, and the
/// discovery document must name exactly it. `https`; plain `http` only with
/// `allow_private_networks` (`SSO_ALLOW_PRIVATE_NETWORKS`), to localhost or a private
/// address. Whether its host is public is
/// checked when the server connects (a name can resolve elsewhere later), and for an address
/// given as the host, here too.
fn issuer(value: &str, allow_private_networks: bool) -> Result<String, AppError> {
    let url = absolute("issuer", value)?;
    if let Err(refused) = crate::sso::http_client::check_url(&url, allow_private_networks) {
        return Err(AppError::bad_input(match refused {
            crate::sso::http_client::HttpError::NotPublic(_) => {
                "issuer must be a public address (a provider on a private network needs \
                 SSO_ALLOW_PRIVATE_NETWORKS on the server)"
            }
            _ => {
                "issuer must use https (plain http only to localhost or a private address, \
                 when the server sets SSO_ALLOW_PRIVATE_NETWORKS)"
            }
        }));
    }
    if url.query().is_some() {
        return Err(AppError::bad_input("issuer must not have a query"));
    }
    Ok(value.trim().to_owned())
}

fn client_id(value: &str) -> Result<String, AppError> {
    crate::service::validate::name("clientId", value, MAX_CLIENT_ID_CHARS)
}

fn secret(value: &str) -> Result<&str, AppError> {
    if value.is_empty() || value.chars().count() > MAX_SECRET_CHARS {
        return Err(AppError::bad_input(format!(
            "clientSecret must be 1 to {MAX_SECRET_CHARS} characters"
        )));
    }
    Ok(value)
}

/// The allow-list: absolute `https` (or loopback `http`) URLs without query, each a prefix a
/// `return_to` may start with (see [`return_to_allowed`]). Normalized by URL parsing.
fn allow_list(values: &[String]) -> Result<Vec<String>, AppError> {
    if values.len() > MAX_RETURN_TO {
        return Err(AppError::bad_input(format!(
            "returnToAllowList takes at most {MAX_RETURN_TO} entries"
        )));
    }
    let mut list = Vec::new();
    for value in values {
        let url = absolute("returnToAllowList", value)?;
        if !secure_or_loopback(&url) {
            return Err(AppError::bad_input(
                "returnToAllowList must use https (http only on localhost)",
            ));
        }
        if url.query().is_some() {
            return Err(AppError::bad_input(
                "returnToAllowList entries must not have a query",
            ));
        }
        let entry = url.to_string();
        if !list.contains(&entry) {
            list.push(entry);
        }
    }
    Ok(list)
}

/// Whether `return_to` is allowed by `allow_list`: the same scheme, host and port as an entry,
/// and a path under the entry's path, on a `/` boundary (`https://a.example/app` allows
/// `/app` and `/app/x`, not `/apple`). No fragment, no credentials. Compared after URL
/// parsing, so `https://a.example:443/` and `https://A.example/` are the same place.
pub fn return_to_allowed(allow_list: &[String], return_to: &str) -> Option<Url> {
    let url = Url::parse(return_to).ok()?;
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let allowed = allow_list
        .iter()
        .filter_map(|e| Url::parse(e).ok())
        .any(|entry| {
            entry.scheme() == url.scheme()
                && entry.host() == url.host()
                && entry.port_or_known_default() == url.port_or_known_default()
                && under(entry.path(), url.path())
        });
    allowed.then_some(url)
}

fn under(prefix: &str, path: &str) -> bool {
    path == prefix
        || prefix.ends_with('/') && path.starts_with(prefix)
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_must_sit_under_an_allowed_prefix() {
        let list = vec![
            "https://admin.example.com/".to_owned(),
            "https://other.example.com/app".to_owned(),
            "http://127.0.0.1:3000/".to_owned(),
        ];
        for ok in [
            "https://admin.example.com/",
            "https://admin.example.com/sso/done?x=1",
            "https://ADMIN.example.com:443/x",
            "https://other.example.com/app",
            "https://other.example.com/app/done",
            "http://127.0.0.1:3000/cb",
            // An encoded slash stays inside the allowed path; the explicit default port is
            // the same origin.
            "https://other.example.com/app/%2F..",
            "https://other.example.com:443/app/x",
        ] {
            assert!(return_to_allowed(&list, ok).is_some(), "{ok}");
        }
        // A backslash is a slash to the parser (and to browsers), so "userinfo" behind one is
        // a path on the allowed host: the re-serialized URL, which is what is sent, says so.
        assert_eq!(
            return_to_allowed(&list, "https://admin.example.com\\@evil.example/").map(String::from),
            Some("https://admin.example.com/@evil.example/".to_owned())
        );
        for refused in [
            "https://evil.example/",
            "http://admin.example.com/",
            "https://admin.example.com.evil.example/",
            "https://admin.example.com:8443/",
            "https://other.example.com/apple",
            "https://other.example.com/",
            "https://user@admin.example.com/",
            "https://admin.example.com/#frag",
            "http://127.0.0.1:3001/",
            "/relative",
            "javascript:alert(1)",
            // Dot segments and backslashes are resolved by the URL parser before matching.
            "https://other.example.com/app/../x",
            "https://other.example.com/app/%2e%2e/x",
            "https://other.example.com/app\\..\\x",
            // An IDN look-alike host (Cyrillic `а`): punycode, another host.
            "https://аdmin.example.com/",
        ] {
            assert!(return_to_allowed(&list, refused).is_none(), "{refused}");
        }
    }

    #[test]
    fn issuers_use_https_unless_private_networks_are_allowed() {
        for ok in [
            "https://login.microsoftonline.com/tenant/v2.0",
            "https://accounts.google.com",
            // A name is checked when it resolves, not here.
            "https://localhost:8443",
        ] {
            assert!(issuer(ok, false).is_ok(), "{ok}");
            assert!(issuer(ok, true).is_ok(), "{ok}");
        }
        for private in [
            "http://127.0.0.1:4000",
            "http://localhost:8080/realms/x",
            "http://[::1]:9000",
            "http://10.0.0.5:8080",
            "https://10.0.0.5/realms/x",
            "https://[::1]:9000",
        ] {
            assert!(issuer(private, false).is_err(), "{private}");
            assert!(issuer(private, true).is_ok(), "{private}");
        }
        for refused in [
            // Plain http never goes over the internet.
            "http://idp.example.com",
            "http://8.8.8.8",
            "ftp://idp.example.com",
            "https://idp.example.com/?x=1",
            "https://user:pw@idp.example.com",
            "idp.example.com",
        ] {
            assert!(issuer(refused, false).is_err(), "{refused}");
            assert!(issuer(refused, true).is_err(), "{refused}");
        }
    }
}
