//! Manager session tokens: an HS256 JWT naming a session row. The signature proves the token
//! was issued here; the row decides whether it is still good, so logout, a password change or
//! a reset ends a session on the very next request.

use chrono::{DateTime, Utc};
use entity::{manager, session};
use futures_util::future::BoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Actor, ManagerRow, Principal, keys,
    plugin::{AuthPlugin, AuthRequest, Outcome},
};
use crate::{clock::SharedClock, error::AppError};

const ISSUER: &str = "admin-center";
/// Marks session tokens apart from OAuth access tokens (`typ: at+jwt`), which are signed with
/// other keys and have their own plugin.
const TOKEN_USE: &str = "session";
const KEY_PURPOSE: &str = "session";

#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(<redacted>)")
    }
}

impl SessionKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        SessionKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// The configured key, else the one shared through the database ([`keys::shared_secret`]).
    pub async fn load(
        db: &DatabaseConnection,
        configured: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Result<Self, AppError> {
        match configured {
            Some(secret) => Ok(Self::from_secret(secret)),
            None => Ok(Self::from_secret(
                &keys::shared_secret(db, KEY_PURPOSE, "HS256", now).await?,
            )),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: Uuid,
    sid: Uuid,
    iat: i64,
    exp: i64,
    token_use: String,
}

/// Signs a token for `session`.
pub fn issue(keys: &SessionKeys, session: &session::Model) -> Result<String, AppError> {
    let claims = Claims {
        iss: ISSUER.to_owned(),
        sub: session.manager_id,
        sid: session.id,
        iat: session.created_at.timestamp(),
        exp: session.expires_at.timestamp(),
        token_use: TOKEN_USE.to_owned(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding)
        .map_err(AppError::internal)
}

enum Verdict {
    NotOurs,
    Invalid,
    Valid(Claims),
}

fn verify(keys: &SessionKeys, token: &str, now: DateTime<Utc>) -> Verdict {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return Verdict::NotOurs;
    };
    if header.alg != Algorithm::HS256 || header.typ.as_deref().is_some_and(|t| t != "JWT") {
        return Verdict::NotOurs;
    }
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is checked below against the injected clock, not the library's wall clock.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[ISSUER]);
    match jsonwebtoken::decode::<Claims>(token, &keys.decoding, &validation) {
        Ok(data) if data.claims.token_use == TOKEN_USE && data.claims.exp > now.timestamp() => {
            Verdict::Valid(data.claims)
        }
        _ => Verdict::Invalid,
    }
}

/// The plugin for manager session tokens.
pub struct SessionTokenPlugin {
    db: DatabaseConnection,
    keys: SessionKeys,
    clock: SharedClock,
}

impl SessionTokenPlugin {
    pub fn new(db: DatabaseConnection, keys: SessionKeys, clock: SharedClock) -> Self {
        SessionTokenPlugin { db, keys, clock }
    }
}

impl AuthPlugin for SessionTokenPlugin {
    fn name(&self) -> &'static str {
        "session-token"
    }

    fn authenticate<'a>(
        &'a self,
        request: &'a AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Outcome, AppError>> {
        Box::pin(async move {
            let Some(token) = request.bearer() else {
                return Ok(Outcome::Pass);
            };
            let now = self.clock.now();
            let claims = match verify(&self.keys, token, now) {
                Verdict::NotOurs => return Ok(Outcome::Pass),
                Verdict::Invalid => return Ok(Outcome::Reject),
                Verdict::Valid(claims) => claims,
            };
            let Some((session, Some(manager))) = session::Entity::find_by_id(claims.sid)
                .find_also_related(manager::Entity)
                .one(&self.db)
                .await?
            else {
                return Ok(Outcome::Reject);
            };
            if session.revoked_at.is_some()
                || session.expires_at <= now
                || session.manager_id != claims.sub
            {
                return Ok(Outcome::Reject);
            }
            Ok(Outcome::Accept(Principal::Manager(Actor {
                manager_id: manager.id,
                account_id: manager.account_id,
                kind: manager.kind,
                login: manager.login.clone(),
                session_id: Some(session.id),
                restriction: session.restriction,
                app: None,
                row: Some(ManagerRow(std::sync::Arc::new(manager))),
            })))
        })
    }
}
