//! OAuth access tokens of developer apps (SPEC 6, RFC 9068): a short-lived JWT, `typ: at+jwt`,
//! signed with the database's Ed25519 keys ([`super::oauth_keys`]), naming the authorization
//! and the token family it was issued under.
//!
//! The signature and claims prove the token was issued here and is current; the database
//! decides on every request whether it still counts: the authorization not revoked, the family
//! not revoked, the app not disabled, the manager still an API manager of an account that
//! allows them. So revocation takes effect on the very next request, on every replica.

use chrono::{DateTime, Duration, Utc};
use entity::{
    app_authorization,
    manager::{self, ManagerKind},
};
use futures_util::future::BoxFuture;
use jsonwebtoken::{Algorithm, Header, Validation};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, Iterable, QueryFilter,
    sea_query::Expr,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Actor, AppGrant, ManagerRow, Principal, Restriction,
    oauth_keys::OAuthKeys,
    plugin::{AuthPlugin, AuthRequest, Outcome},
    scope::ScopeSet,
};
use crate::{clock::SharedClock, error::AppError};

/// The JOSE `typ` of access tokens (RFC 9068 §2.1). Session tokens carry `JWT`.
pub const TOKEN_TYPE: &str = "at+jwt";
/// `lastUsedAt` is written at most this often per authorization (a write per request would
/// cost more than the request).
const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);
/// How far a replica's clock may lag the one that issued a token (`nbf` is the issue time).
const NBF_LEEWAY_SECS: i64 = 60;

/// Whether claims are current at `now`: not expired, and not before their time (with leeway).
fn current(claims: &Claims, now: DateTime<Utc>) -> bool {
    claims.exp > now.timestamp() && claims.nbf <= now.timestamp() + NBF_LEEWAY_SECS
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The API manager the app acts for.
    pub sub: Uuid,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    /// The authorization.
    pub authz: Uuid,
    /// The token family (one code redemption and its refreshes).
    pub fam: Uuid,
    pub jti: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Where tokens are issued and for whom: the issuer and the resource (the GraphQL endpoint).
#[derive(Clone, Debug)]
pub struct Audience {
    pub issuer: String,
    pub resource: String,
}

impl Audience {
    pub fn new(issuer: &str) -> Self {
        Audience {
            issuer: issuer.to_owned(),
            resource: format!("{issuer}/graphql"),
        }
    }
}

/// What one access token is issued for.
#[derive(Debug)]
pub struct Issue<'a> {
    pub manager_id: Uuid,
    pub client_id: &'a str,
    pub scopes: ScopeSet,
    pub authorization_id: Uuid,
    pub family_id: Uuid,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Signs an access token with the current key.
pub async fn issue(keys: &OAuthKeys, aud: &Audience, what: Issue<'_>) -> Result<String, AppError> {
    let (kid, key) = keys.signer().await?;
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(TOKEN_TYPE.to_owned());
    header.kid = Some(kid);
    let claims = Claims {
        iss: aud.issuer.clone(),
        sub: what.manager_id,
        aud: aud.resource.clone(),
        client_id: what.client_id.to_owned(),
        scope: what.scopes.to_string(),
        authz: what.authorization_id,
        fam: what.family_id,
        jti: Uuid::new_v4(),
        iat: what.now.timestamp(),
        nbf: what.now.timestamp(),
        exp: what.expires_at.timestamp(),
    };
    jsonwebtoken::encode(&header, &claims, &key).map_err(AppError::internal)
}

/// Whether a bearer token is meant to be an access token (by its header alone).
pub fn looks_like_access_token(token: &str) -> bool {
    jsonwebtoken::decode_header(token).is_ok_and(|h| {
        h.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
        })
    })
}

/// The claims of a token signed here, for this resource, current at `now`; `None` for
/// anything else. The algorithm is fixed (never taken from the token).
pub async fn verify(
    keys: &OAuthKeys,
    aud: &Audience,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Claims>, AppError> {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return Ok(None);
    };
    if header.alg != Algorithm::EdDSA || !looks_like_access_token(token) {
        return Ok(None);
    }
    let Some(kid) = header.kid else {
        return Ok(None);
    };
    let Some(key) = keys.verifier(&kid).await? else {
        return Ok(None);
    };
    let mut validation = Validation::new(Algorithm::EdDSA);
    // Time is checked below against the injected clock, not the library's wall clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.set_issuer(&[&aud.issuer]);
    validation.set_audience(&[&aud.resource]);
    Ok(jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .ok()
        .map(|data| data.claims)
        .filter(|c| current(c, now)))
}

const STANDING_SQL: &str = "SELECT f.revoked_at AS family_revoked_at, \
     f.expires_at AS family_expires_at, f.scopes AS family_scopes, \
     z.id AS authorization_id, z.manager_id, z.scopes AS authorization_scopes, z.revoked_at, \
     z.last_used_at, d.id AS app_id, d.client_id, d.scopes AS app_scopes, \
     d.account_id AS app_account_id, d.disabled_at, m.account_id, m.kind, m.login, \
     c.api_managers_allowed, {manager} \
     FROM token_families f \
     JOIN app_authorizations z ON z.id = f.authorization_id \
     JOIN developer_apps d ON d.id = z.app_id \
     JOIN managers m ON m.id = z.manager_id \
     JOIN accounts c ON c.id = m.account_id \
     WHERE f.id = $1";

/// What a token's authorization is now, read in one statement.
#[derive(Debug, FromQueryResult)]
pub struct Standing {
    pub family_revoked_at: Option<DateTime<Utc>>,
    pub family_expires_at: DateTime<Utc>,
    pub family_scopes: i64,
    pub authorization_id: Uuid,
    pub manager_id: Uuid,
    pub authorization_scopes: i64,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub app_id: Uuid,
    pub client_id: String,
    pub app_scopes: i64,
    pub app_account_id: Option<Uuid>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub account_id: Uuid,
    pub kind: ManagerKind,
    pub login: String,
    pub api_managers_allowed: bool,
}

impl Standing {
    /// Reads the standing of a token family (with its authorization, app, manager, account)
    /// in one statement. It runs on every request an app makes, so its SQL is written once
    /// here rather than built per request (the builder cost more than the lookups).
    pub async fn of_family(
        db: &impl sea_orm::ConnectionTrait,
        family_id: Uuid,
    ) -> Result<Option<Standing>, AppError> {
        Ok(Self::with_manager(db, family_id)
            .await?
            .map(|(standing, _)| standing))
    }

    /// [`Standing::of_family`] with the manager's row, read in the same statement.
    pub async fn with_manager(
        db: &impl sea_orm::ConnectionTrait,
        family_id: Uuid,
    ) -> Result<Option<(Standing, manager::Model)>, AppError> {
        /// The statement for each database, the manager's columns prefixed with `m_`.
        static SQL: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
            let columns: Vec<String> = manager::Column::iter()
                .map(|c| format!("m.{0} AS m_{0}", sea_orm::IdenStatic::as_str(&c)))
                .collect();
            let postgres = STANDING_SQL.replace("{manager}", &columns.join(", "));
            let sqlite = postgres.replace("$1", "?");
            [postgres, sqlite]
        });
        let backend = db.get_database_backend();
        let sql = match backend {
            sea_orm::DbBackend::Sqlite => &SQL[1],
            _ => &SQL[0],
        };
        let Some(row) = db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                sql.as_str(),
                [family_id.into()],
            ))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((
            Standing::from_query_result(&row, "")?,
            manager::Model::from_query_result(&row, "m_")?,
        )))
    }

    /// Whether tokens of this family may act at `now`: nothing revoked, disabled or expired,
    /// and the manager still an API manager of an account that allows them, the app's own
    /// account (if not platform-wide).
    pub fn is_good(&self, now: DateTime<Utc>) -> bool {
        self.family_revoked_at.is_none()
            && self.family_expires_at > now
            && self.revoked_at.is_none()
            && self.disabled_at.is_none()
            && self.kind == ManagerKind::Api
            && self.api_managers_allowed
            && self.app_account_id.is_none_or(|a| a == self.account_id)
    }

    /// The scopes a token of this family may use now: its own, narrowed by what the
    /// authorization and the app allow today.
    pub fn scopes(&self, token: ScopeSet) -> ScopeSet {
        token
            .intersect(ScopeSet::from_bits(self.family_scopes))
            .intersect(ScopeSet::from_bits(self.authorization_scopes))
            .intersect(ScopeSet::from_bits(self.app_scopes))
    }
}

/// How many verified tokens a replica remembers (see [`AppTokenPlugin`]).
const VERIFIED_CAPACITY: usize = 4096;

/// The plugin for app access tokens.
///
/// An app uses one access token for many requests, and checking its Ed25519 signature is the
/// dearest part of the check. So each replica remembers the claims of tokens whose signature
/// it has verified, keyed by the SHA-256 of the whole token: only those exact bytes hit. Time
/// (`exp`, `nbf`) and the database are still checked on every request, so revocation is as
/// immediate as without it. At most [`VERIFIED_CAPACITY`] tokens; expired ones go first.
pub struct AppTokenPlugin {
    db: DatabaseConnection,
    keys: OAuthKeys,
    audience: Audience,
    clock: SharedClock,
    verified: std::sync::Mutex<std::collections::HashMap<[u8; 32], Claims>>,
}

impl AppTokenPlugin {
    pub fn new(
        db: DatabaseConnection,
        keys: OAuthKeys,
        audience: Audience,
        clock: SharedClock,
    ) -> Self {
        AppTokenPlugin {
            db,
            keys,
            audience,
            clock,
            verified: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// The claims of `token`, current at `now`: remembered if its signature was verified
    /// before, else verified now (and remembered).
    async fn claims(&self, token: &str, now: DateTime<Utc>) -> Result<Option<Claims>, AppError> {
        use sha2::{Digest, Sha256};
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(claims) = self
            .verified
            .lock()
            .ok()
            .and_then(|seen| seen.get(&key).cloned())
        {
            return Ok(Some(claims).filter(|c| current(c, now)));
        }
        let Some(claims) = verify(&self.keys, &self.audience, token, now).await? else {
            return Ok(None);
        };
        if let Ok(mut seen) = self.verified.lock() {
            if seen.len() >= VERIFIED_CAPACITY {
                seen.retain(|_, c| c.exp > now.timestamp());
                if seen.len() >= VERIFIED_CAPACITY {
                    seen.clear();
                }
            }
            seen.insert(key, claims.clone());
        }
        Ok(Some(claims))
    }

    /// Records that the authorization was used, at most once a minute, off the request path.
    fn touch(&self, standing: &Standing, now: DateTime<Utc>) {
        if standing
            .last_used_at
            .is_some_and(|at| now - at < LAST_USED_GRANULARITY)
        {
            return;
        }
        let db = self.db.clone();
        let id = standing.authorization_id;
        tokio::spawn(async move {
            let result = app_authorization::Entity::update_many()
                .col_expr(app_authorization::Column::LastUsedAt, Expr::value(now))
                .filter(app_authorization::Column::Id.eq(id))
                .filter(
                    sea_orm::Condition::any()
                        .add(app_authorization::Column::LastUsedAt.is_null())
                        .add(app_authorization::Column::LastUsedAt.lt(now - LAST_USED_GRANULARITY)),
                )
                .exec(&db)
                .await;
            if let Err(err) = result {
                tracing::warn!(error = %err, "could not record when an authorization was used");
            }
        });
    }
}

impl AuthPlugin for AppTokenPlugin {
    fn name(&self) -> &'static str {
        "app-access-token"
    }

    fn authenticate<'a>(
        &'a self,
        request: &'a AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Outcome, AppError>> {
        Box::pin(async move {
            let Some(token) = request.bearer() else {
                return Ok(Outcome::Pass);
            };
            if !looks_like_access_token(token) {
                return Ok(Outcome::Pass);
            }
            let now = self.clock.now();
            let Some(claims) = self.claims(token, now).await? else {
                return Ok(Outcome::Reject);
            };
            let Some((standing, manager)) = Standing::with_manager(&self.db, claims.fam).await?
            else {
                return Ok(Outcome::Reject);
            };
            if !standing.is_good(now)
                || standing.authorization_id != claims.authz
                || standing.manager_id != claims.sub
                || standing.client_id != claims.client_id
            {
                return Ok(Outcome::Reject);
            }
            let scopes = standing.scopes(ScopeSet::parse(&claims.scope).unwrap_or_default());
            self.touch(&standing, now);
            Ok(Outcome::Accept(Principal::Manager(Actor {
                manager_id: standing.manager_id,
                account_id: standing.account_id,
                kind: standing.kind,
                login: standing.login,
                session_id: None,
                restriction: Restriction::Unrestricted,
                app: Some(AppGrant {
                    authorization_id: standing.authorization_id,
                    app_id: standing.app_id,
                    client_id: standing.client_id,
                    scopes,
                }),
                row: Some(ManagerRow(std::sync::Arc::new(manager))),
            })))
        })
    }
}
