//! The OAuth 2 grants (RFC 6749, 7636, 7009, 7662): client authentication, authorization
//! codes, token families, refresh-token rotation, revocation and introspection. The HTTP
//! adapters in `crate::oauth` turn [`GrantError`] into RFC error bodies.
//!
//! - A code is single use, lives [`CODE_TTL`], and is bound to its app (through the
//!   authorization), its redirect URI and its PKCE S256 challenge. Presenting it again revokes
//!   the token family its first redemption started.
//! - Each redemption starts a *token family*: its refresh tokens (rotated on every use) and
//!   every access token issued from them, with an absolute lifetime. Revoking a token revokes
//!   its family; reusing a spent refresh token revokes the whole authorization (RFC 9700
//!   §4.14.2: a spent token presented again means it was stolen, or the client lost track —
//!   both end the grant). Two refreshes racing with one token are the same case: exactly one
//!   wins, and the authorization is revoked.
//! - Every step re-checks the authorization's standing ([`Standing`]): not revoked, the app
//!   not disabled, the manager an API manager of an account that allows them.

use crate::service::audit::{Action, TargetType};
use chrono::{DateTime, Duration, Utc};
use entity::{
    SecretHash, app_authorization, developer_app, oauth_code, refresh_token, token_family,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::{
    auth::{
        app_token::{self, Standing},
        scope::ScopeSet,
    },
    error::AppError,
    service::{
        audit::{self, AuditActor, AuditEntry},
        session::{hash_secret, new_secret},
    },
    state::AppState,
};

/// What `invalid_grant` says of a code or refresh token that is unknown, spent, expired, or
/// another client's: the same for each, so the answer tells nothing more.
const BAD_CODE: &str = "the code is invalid, expired or already used";
const BAD_REFRESH: &str = "the refresh token is invalid, expired or revoked";

/// How long an authorization code lives (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_TTL: Duration = Duration::minutes(10);
/// Prefixes of codes and refresh tokens. Public API: never change one.
pub const CODE_PREFIX: &str = "acc_";
pub const REFRESH_TOKEN_PREFIX: &str = "acr_";

/// The errors of RFC 6749 §5.2 (and 4.1.2.1), with a description safe to show.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("client authentication failed")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidScope(String),
    #[error("{0}")]
    UnauthorizedClient(&'static str),
    #[error("only the authorization_code and refresh_token grants are supported")]
    UnsupportedGrantType,
    #[error(transparent)]
    Internal(#[from] AppError),
}

impl From<sea_orm::DbErr> for GrantError {
    fn from(err: sea_orm::DbErr) -> Self {
        GrantError::Internal(err.into())
    }
}

impl GrantError {
    /// The RFC 6749 `error` string.
    pub fn code(&self) -> &'static str {
        match self {
            GrantError::InvalidClient => "invalid_client",
            GrantError::InvalidGrant(_) => "invalid_grant",
            GrantError::InvalidRequest(_) => "invalid_request",
            GrantError::InvalidScope(_) => "invalid_scope",
            GrantError::UnauthorizedClient(_) => "unauthorized_client",
            GrantError::UnsupportedGrantType => "unsupported_grant_type",
            GrantError::Internal(_) => "server_error",
        }
    }
}

/// What a client presented to authenticate.
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The app behind `credentials`: a confidential app with its current secret, or a public app
/// with none. Secrets are compared as hashes in constant time, and an unknown client does the
/// same work as a wrong secret, so the two cannot be told apart. Disabled apps do not
/// authenticate.
pub async fn authenticate_client(
    conn: &impl ConnectionTrait,
    credentials: &ClientCredentials,
) -> Result<developer_app::Model, GrantError> {
    let found = developer_app::Entity::find()
        .filter(developer_app::Column::ClientId.eq(&credentials.client_id))
        .one(conn)
        .await?;
    let presented = hash_secret(credentials.secret.as_deref().unwrap_or(""));
    let stored = found
        .as_ref()
        .and_then(|app| app.secret_hash.clone())
        .unwrap_or_else(|| SecretHash("0".repeat(64)));
    let secret_matches: bool = presented.0.as_bytes().ct_eq(stored.0.as_bytes()).into();
    // A public client has nothing to send; an empty secret (`id:` in Basic) is the same.
    let sent_secret = credentials.secret.as_deref().is_some_and(|s| !s.is_empty());
    match found {
        Some(app) if app.disabled_at.is_none() => match (app.confidential, sent_secret) {
            (true, true) if secret_matches => Ok(app),
            (false, false) => Ok(app),
            _ => Err(GrantError::InvalidClient),
        },
        _ => Err(GrantError::InvalidClient),
    }
}

/// Tokens issued by one grant (RFC 6749 §5.1).
pub struct Tokens {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scopes: ScopeSet,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Stores a new code for `authorization` and returns it (shown once, in the redirect).
pub async fn issue_code(
    conn: &impl ConnectionTrait,
    authorization_id: Uuid,
    redirect_uri: Option<&str>,
    code_challenge: &str,
    scopes: ScopeSet,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let code = new_secret(CODE_PREFIX);
    oauth_code::Entity::insert(oauth_code::ActiveModel {
        code_hash: Set(hash_secret(&code)),
        authorization_id: Set(authorization_id),
        redirect_uri: Set(redirect_uri.map(str::to_owned)),
        code_challenge: Set(code_challenge.to_owned()),
        scopes: Set(scopes.bits()),
        created_at: Set(now),
        expires_at: Set(now + CODE_TTL),
        used_at: Set(None),
        family_id: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(code)
}

/// The S256 challenge of a verifier (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A verifier of RFC 7636 §4.1: 43 to 128 unreserved characters.
pub fn is_verifier(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A challenge as this server accepts it: the S256 of some verifier (43 base64url characters).
pub fn is_s256_challenge(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Revokes token families (and so every token of them) at `now`.
async fn revoke_families(
    conn: &impl ConnectionTrait,
    filter: sea_orm::Condition,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    token_family::Entity::update_many()
        .col_expr(token_family::Column::RevokedAt, Expr::value(now))
        .filter(filter)
        .filter(token_family::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Revokes one token family.
async fn revoke_family(
    conn: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    revoke_families(
        conn,
        sea_orm::Condition::all().add(token_family::Column::Id.eq(id)),
        now,
    )
    .await
}

/// Revokes authorizations and all their token families: what `revokeApiManagerApplications`
/// and a reused refresh token do.
pub async fn revoke_authorizations(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    app_authorization::Entity::update_many()
        .col_expr(app_authorization::Column::RevokedAt, Expr::value(now))
        .col_expr(app_authorization::Column::RevokedBy, Expr::value(by))
        .filter(app_authorization::Column::Id.is_in(ids.iter().copied()))
        .filter(app_authorization::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    revoke_families(
        conn,
        sea_orm::Condition::all()
            .add(token_family::Column::AuthorizationId.is_in(ids.iter().copied())),
        now,
    )
    .await
}

/// A new family for `authorization_id`, with its first refresh token and access token.
async fn start_family(
    state: &AppState,
    conn: &impl ConnectionTrait,
    app: &developer_app::Model,
    family_id: Uuid,
    authorization_id: Uuid,
    scopes: ScopeSet,
    now: DateTime<Utc>,
) -> Result<Tokens, GrantError> {
    let family = token_family::Model {
        id: family_id,
        authorization_id,
        scopes: scopes.bits(),
        created_at: now,
        expires_at: now + state.config.refresh_token_ttl,
        revoked_at: None,
    };
    token_family::Entity::insert(token_family::ActiveModel::from(family.clone()))
        .exec_without_returning(conn)
        .await?;
    next_tokens(state, conn, app, &family, scopes, now).await
}

/// The next refresh token of `family` and an access token with `scopes`, after checking that
/// the family's authorization still stands.
async fn next_tokens(
    state: &AppState,
    conn: &impl ConnectionTrait,
    app: &developer_app::Model,
    family: &token_family::Model,
    scopes: ScopeSet,
    now: DateTime<Utc>,
) -> Result<Tokens, GrantError> {
    let standing = Standing::of_family(conn, family.id)
        .await?
        .filter(|s| s.is_good(now) && s.app_id == app.id)
        .ok_or(GrantError::InvalidGrant(
            "the authorization was revoked or is no longer allowed",
        ))?;
    let scopes = standing.scopes(scopes);
    let refresh = new_secret(REFRESH_TOKEN_PREFIX);
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        token_hash: Set(hash_secret(&refresh)),
        family_id: Set(family.id),
        created_at: Set(now),
        used_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    let expires_at = (now + state.config.access_token_ttl).min(family.expires_at);
    let access = app_token::issue(
        &state.oauth_keys,
        &state.audience,
        app_token::Issue {
            manager_id: standing.manager_id,
            client_id: &app.client_id,
            scopes,
            authorization_id: standing.authorization_id,
            family_id: family.id,
            now,
            expires_at,
        },
    )
    .await?;
    Ok(Tokens {
        access_token: access,
        expires_in: (expires_at - now).num_seconds(),
        refresh_token: refresh,
        scopes,
    })
}

/// Audits a code presented again (its first redemption's tokens were just revoked).
async fn audit_code_reuse(
    conn: &impl ConnectionTrait,
    authorization: &app_authorization::Model,
    app: &developer_app::Model,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    tracing::warn!(authorization = %authorization.id, "authorization code reused: its tokens revoked");
    audit::record(
        conn,
        now,
        AuditEntry {
            account_id: authorization.account_id,
            actor: AuditActor::Anonymous,
            action: Action::AuthorizationCodeReuse,
            target_type: TargetType::AppAuthorization,
            target_id: Some(authorization.id),
            before: None,
            after: Some(json!({ "tokensRevoked": true, "clientId": app.client_id })),
            client_address: None,
        },
    )
    .await
}

/// The `authorization_code` grant (RFC 6749 §4.1.3 with RFC 7636 §4.6).
pub async fn redeem_code(
    state: &AppState,
    app: &developer_app::Model,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<Tokens, GrantError> {
    let now = state.clock.now();
    let txn = crate::db::begin_write(&state.db).await?;
    let invalid = GrantError::InvalidGrant(BAD_CODE);
    let Some(found) = oauth_code::Entity::find_by_id(hash_secret(code))
        .one(&txn)
        .await?
    else {
        return Err(invalid);
    };
    let authorization = app_authorization::Entity::find_by_id(found.authorization_id)
        .one(&txn)
        .await?
        .ok_or(GrantError::InvalidGrant(BAD_CODE))?;
    if authorization.app_id != app.id {
        // Another client's code: refused without touching it (it may still be its owner's).
        return Err(invalid);
    }
    if found.used_at.is_some() {
        // A second redemption: whatever the first one issued is revoked (RFC 6749 §4.1.2).
        if let Some(family) = found.family_id {
            revoke_family(&txn, family, now).await?;
            audit_code_reuse(&txn, &authorization, app, now).await?;
        }
        txn.commit().await?;
        return Err(invalid);
    }
    if found.expires_at <= now {
        return Err(invalid);
    }
    // RFC 6749 §4.1.3: required, and identical, if the authorization request named one; if
    // it did not, the token request may name none, or the app's registered one.
    let redirect_matches = match (&found.redirect_uri, redirect_uri) {
        (Some(bound), given) => given == Some(bound.as_str()),
        (None, None) => true,
        (None, Some(given)) => crate::service::developer_app::redirect_uris(app)
            .iter()
            .any(|r| r == given),
    };
    if !redirect_matches {
        return Err(GrantError::InvalidGrant(
            "redirect_uri does not match the authorization request",
        ));
    }
    let verified = verifier.is_some_and(|v| {
        is_verifier(v) && bool::from(s256(v).as_bytes().ct_eq(found.code_challenge.as_bytes()))
    });
    if !verified {
        return Err(GrantError::InvalidGrant(
            "code_verifier is missing or does not match the code_challenge",
        ));
    }
    // Spent first, under the row's lock: of two redemptions racing, the second finds it spent
    // and is treated like any second redemption.
    let family_id = Uuid::now_v7();
    let spent = oauth_code::Entity::update_many()
        .col_expr(oauth_code::Column::UsedAt, Expr::value(now))
        .col_expr(oauth_code::Column::FamilyId, Expr::value(family_id))
        .filter(oauth_code::Column::CodeHash.eq(found.code_hash.clone()))
        .filter(oauth_code::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        let first = oauth_code::Entity::find_by_id(found.code_hash.clone())
            .one(&txn)
            .await?
            .and_then(|c| c.family_id);
        if let Some(family) = first {
            revoke_family(&txn, family, now).await?;
            audit_code_reuse(&txn, &authorization, app, now).await?;
        }
        txn.commit().await?;
        return Err(invalid);
    }
    let tokens = start_family(
        state,
        &txn,
        app,
        family_id,
        authorization.id,
        ScopeSet::from_bits(found.scopes),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(tokens)
}

/// The `refresh_token` grant (RFC 6749 §6), rotating the token.
pub async fn refresh(
    state: &AppState,
    app: &developer_app::Model,
    token: &str,
    scope: Option<ScopeSet>,
) -> Result<Tokens, GrantError> {
    let now = state.clock.now();
    let invalid = GrantError::InvalidGrant(BAD_REFRESH);
    let txn = crate::db::begin_write(&state.db).await?;
    let Some(found) = refresh_token::Entity::find_by_id(hash_secret(token))
        .one(&txn)
        .await?
    else {
        return Err(invalid);
    };
    let family = token_family::Entity::find_by_id(found.family_id)
        .one(&txn)
        .await?
        .ok_or(GrantError::InvalidGrant(BAD_REFRESH))?;
    let authorization = app_authorization::Entity::find_by_id(family.authorization_id)
        .one(&txn)
        .await?
        .ok_or(GrantError::InvalidGrant(BAD_REFRESH))?;
    if authorization.app_id != app.id {
        return Err(invalid);
    }
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(found.token_hash.clone()))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        // A spent token of a live family: stolen, or a confused client. One of a family that
        // ended anyway (revoked, expired) changes nothing: an old leaked token must not let
        // anyone end a newer grant.
        let live = family.revoked_at.is_none() && family.expires_at > now;
        if live && authorization.revoked_at.is_none() {
            revoke_authorizations(&txn, &[authorization.id], None, now).await?;
            audit::record(
                &txn,
                now,
                AuditEntry {
                    account_id: authorization.account_id,
                    actor: AuditActor::Anonymous,
                    action: Action::RefreshTokenReuse,
                    target_type: TargetType::AppAuthorization,
                    target_id: Some(authorization.id),
                    before: None,
                    after: Some(json!({ "revoked": true, "clientId": app.client_id })),
                    client_address: None,
                },
            )
            .await?;
            tracing::warn!(authorization = %authorization.id, "refresh token reused: authorization revoked");
        }
        txn.commit().await?;
        return Err(invalid);
    }
    if family.revoked_at.is_some() || family.expires_at <= now {
        return Err(invalid);
    }
    let granted = ScopeSet::from_bits(family.scopes);
    let scopes = match scope {
        Some(asked) if !granted.contains(asked) => {
            return Err(GrantError::InvalidScope(
                "a refresh may narrow the scope, never widen it".into(),
            ));
        }
        Some(asked) => asked,
        None => granted,
    };
    let tokens = next_tokens(state, &txn, app, &family, scopes, now).await?;
    txn.commit().await?;
    Ok(tokens)
}

/// The family a token of `app` belongs to, if it is one: a refresh token by its hash, an
/// access token by its (verified, possibly expired) claims.
async fn family_of(
    state: &AppState,
    app: &developer_app::Model,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, TokenKind)>, AppError> {
    if token.starts_with(REFRESH_TOKEN_PREFIX) {
        let Some(found) = refresh_token::Entity::find_by_id(hash_secret(token))
            .one(&state.db)
            .await?
        else {
            return Ok(None);
        };
        return Ok(Some((found.family_id, TokenKind::Refresh(found))));
    }
    let claims = app_token::verify(&state.oauth_keys, &state.audience, token, now).await?;
    Ok(claims
        .filter(|c| c.client_id == app.client_id)
        .map(|c| (c.fam, TokenKind::Access(c))))
}

enum TokenKind {
    Refresh(refresh_token::Model),
    Access(app_token::Claims),
}

/// Token revocation (RFC 7009): a token of `app` ends its family (the refresh chain and its
/// access tokens). Unknown tokens and other clients' tokens are left alone, and the answer is
/// the same (§2.2).
pub async fn revoke(
    state: &AppState,
    app: &developer_app::Model,
    token: &str,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let Some((family_id, _)) = family_of(state, app, token, now).await? else {
        return Ok(());
    };
    let Some(standing) = Standing::of_family(&state.db, family_id).await? else {
        return Ok(());
    };
    if standing.app_id != app.id {
        return Ok(());
    }
    revoke_family(&state.db, family_id, now).await
}

/// Token introspection (RFC 7662) for `app`'s own tokens. Anything else — foreign, expired,
/// revoked, unknown — is exactly `{"active": false}` (§2.2).
pub async fn introspect(
    state: &AppState,
    app: &developer_app::Model,
    token: &str,
) -> Result<Value, AppError> {
    let inactive = json!({ "active": false });
    let now = state.clock.now();
    let Some((family_id, kind)) = family_of(state, app, token, now).await? else {
        return Ok(inactive);
    };
    let Some(standing) = Standing::of_family(&state.db, family_id).await? else {
        return Ok(inactive);
    };
    if standing.app_id != app.id || !standing.is_good(now) {
        return Ok(inactive);
    }
    Ok(match kind {
        TokenKind::Refresh(found) if found.used_at.is_none() => json!({
            "active": true,
            "token_type": "refresh_token",
            "client_id": app.client_id,
            "sub": standing.manager_id,
            "scope": standing.scopes(ScopeSet::from_bits(standing.family_scopes)).to_string(),
            "iat": found.created_at.timestamp(),
            "exp": standing.family_expires_at.timestamp(),
            "iss": state.audience.issuer,
        }),
        TokenKind::Refresh(_) => inactive,
        TokenKind::Access(claims) => json!({
            "active": true,
            "token_type": "Bearer",
            "client_id": claims.client_id,
            "sub": claims.sub,
            "scope": standing
                .scopes(ScopeSet::parse(&claims.scope).unwrap_or_default())
                .to_string(),
            "iat": claims.iat,
            "exp": claims.exp,
            "iss": claims.iss,
            "aud": claims.aud,
            "jti": claims.jti,
        }),
    })
}
