//! The keys that sign OAuth access tokens: Ed25519 (JWS `EdDSA`), kept in the database so that
//! every replica signs and verifies with the same keys, and a resource server can verify with
//! the JWKS alone.
//!
//! The newest unretired key signs. `admin-center keys rotate` adds a key and retires the
//! others; a retired key still verifies, and stays in the JWKS, until every token it can have
//! signed has expired (its retirement plus the access-token lifetime plus the reload period).
//! Each replica caches the keys and reloads them every [`RELOAD_EVERY`], or at once (at most
//! every few seconds) when a token names a key it does not know.

use std::sync::{Arc, RwLock};

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::{SigningKey, pkcs8::EncodePrivateKey};
use entity::oauth_key;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::RngCore;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{clock::SharedClock, error::AppError};

pub const ALGORITHM: &str = "EdDSA";
/// How often a replica reloads the keys (so a rotation reaches every replica).
pub const RELOAD_EVERY: Duration = Duration::seconds(60);
/// The least time between two reloads caused by an unknown `kid` (a token naming random
/// key ids must not turn every request into a database read).
const UNKNOWN_KID_RELOAD: Duration = Duration::seconds(5);

struct PublicKey {
    kid: String,
    x: String,
}

#[derive(Clone)]
struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    retired_at: Option<DateTime<Utc>>,
}

struct Loaded {
    at: DateTime<Utc>,
    /// Newest first: the first unretired key signs.
    keys: Vec<Key>,
}

/// The cached key ring of one replica. Cheap to clone.
#[derive(Clone)]
pub struct OAuthKeys(Arc<Inner>);

struct Inner {
    db: DatabaseConnection,
    clock: SharedClock,
    access_ttl: Duration,
    loaded: RwLock<Loaded>,
    reload: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for OAuthKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OAuthKeys(<redacted>)")
    }
}

/// A new key, retiring the others: what `keys rotate` does. Returns its `kid`.
pub async fn rotate(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<String, AppError> {
    oauth_key::Entity::update_many()
        .col_expr(oauth_key::Column::RetiredAt, Expr::value(now))
        .filter(oauth_key::Column::RetiredAt.is_null())
        .exec(conn)
        .await?;
    insert_new(conn, now).await
}

async fn insert_new(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<String, AppError> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let signing = SigningKey::from_bytes(&seed);
    let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
    let kid = thumbprint(&x);
    oauth_key::Entity::insert(oauth_key::ActiveModel {
        kid: Set(kid.clone()),
        algorithm: Set(ALGORITHM.to_owned()),
        private_key: Set(entity::SecretHash(STANDARD.encode(seed))),
        public_key: Set(x),
        created_at: Set(now),
        retired_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(kid)
}

/// The JWK thumbprint (RFC 7638) of an Ed25519 public key: a `kid` anyone can recompute.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn decode(row: &oauth_key::Model) -> Result<Key, AppError> {
    let seed: [u8; 32] = STANDARD
        .decode(&row.private_key.0)
        .map_err(AppError::internal)?
        .try_into()
        .map_err(|_| AppError::internal(std::io::Error::other("stored key is not 32 bytes")))?;
    let signing = SigningKey::from_bytes(&seed);
    let der = signing.to_pkcs8_der().map_err(AppError::internal)?;
    Ok(Key {
        kid: row.kid.clone(),
        encoding: EncodingKey::from_ed_der(der.as_bytes()),
        decoding: DecodingKey::from_ed_der(signing.verifying_key().as_bytes()),
        retired_at: row.retired_at,
    })
}

impl OAuthKeys {
    /// Loads the keys, creating the first one if there is none yet (two replicas starting
    /// together may both create one: both then verify, and the newer signs).
    pub async fn load(
        db: DatabaseConnection,
        clock: SharedClock,
        access_ttl: Duration,
    ) -> Result<Self, AppError> {
        let now = clock.now();
        let keys = OAuthKeys(Arc::new(Inner {
            db,
            clock,
            access_ttl,
            loaded: RwLock::new(Loaded {
                at: now,
                keys: Vec::new(),
            }),
            reload: tokio::sync::Mutex::new(()),
        }));
        let active = oauth_key::Entity::find()
            .filter(oauth_key::Column::RetiredAt.is_null())
            .one(&keys.0.db)
            .await?;
        if active.is_none() {
            insert_new(&keys.0.db, now).await?;
        }
        keys.reload(now).await?;
        Ok(keys)
    }

    /// Keys retired before this may have signed no token still valid at `now`.
    fn horizon(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.0.access_ttl - RELOAD_EVERY
    }

    /// Keys still good for verification at `now`: unretired, or retired recently enough that
    /// a token they signed may still be valid.
    async fn read(&self, now: DateTime<Utc>) -> Result<Vec<Key>, AppError> {
        let rows = oauth_key::Entity::find()
            .order_by_desc(oauth_key::Column::CreatedAt)
            .order_by_desc(oauth_key::Column::Kid)
            .all(&self.0.db)
            .await?;
        let horizon = self.horizon(now);
        rows.iter()
            .filter(|r| r.retired_at.is_none_or(|at| at > horizon))
            .map(decode)
            .collect()
    }

    async fn reload(&self, now: DateTime<Utc>) -> Result<(), AppError> {
        let keys = self.read(now).await?;
        if let Ok(mut loaded) = self.0.loaded.write() {
            *loaded = Loaded { at: now, keys };
        }
        Ok(())
    }

    fn cached<T>(&self, f: impl FnOnce(&Loaded) -> T) -> Option<T> {
        self.0.loaded.read().ok().map(|l| f(&l))
    }

    /// Reloads if the cache is older than `max_age` (one replica-wide reload at a time).
    async fn refresh_if_older(&self, max_age: Duration) -> Result<(), AppError> {
        let now = self.0.clock.now();
        let stale = |at: DateTime<Utc>| now - at >= max_age;
        if !self.cached(|l| stale(l.at)).unwrap_or(true) {
            return Ok(());
        }
        let _one = self.0.reload.lock().await;
        if self.cached(|l| stale(l.at)).unwrap_or(true) {
            self.reload(now).await?;
        }
        Ok(())
    }

    /// The key that signs new tokens: `(kid, key)`.
    pub async fn signer(&self) -> Result<(String, EncodingKey), AppError> {
        self.refresh_if_older(RELOAD_EVERY).await?;
        self.cached(|l| {
            l.keys
                .iter()
                .find(|k| k.retired_at.is_none())
                .or(l.keys.first())
                .map(|k| (k.kid.clone(), k.encoding.clone()))
        })
        .flatten()
        .ok_or_else(|| AppError::internal(std::io::Error::other("no OAuth signing key")))
    }

    /// The key named `kid`, if it may verify tokens now.
    pub async fn verifier(&self, kid: &str) -> Result<Option<DecodingKey>, AppError> {
        self.refresh_if_older(RELOAD_EVERY).await?;
        let find = |l: &Loaded| {
            l.keys
                .iter()
                .find(|k| k.kid == kid)
                .map(|k| k.decoding.clone())
        };
        if let Some(key) = self.cached(find).flatten() {
            return Ok(Some(key));
        }
        self.refresh_if_older(UNKNOWN_KID_RELOAD).await?;
        Ok(self.cached(find).flatten())
    }

    /// The JSON Web Key Set (RFC 7517) of every key that may verify a token now, read from
    /// the database (not the cache), so that it shows a rotation at once.
    pub async fn jwks(&self) -> Result<Value, AppError> {
        let horizon = self.horizon(self.0.clock.now());
        // Public halves only: the private keys are not even read.
        let rows: Vec<(String, String, Option<DateTime<Utc>>)> = oauth_key::Entity::find()
            .select_only()
            .column(oauth_key::Column::Kid)
            .column(oauth_key::Column::PublicKey)
            .column(oauth_key::Column::RetiredAt)
            .order_by_desc(oauth_key::Column::CreatedAt)
            .order_by_desc(oauth_key::Column::Kid)
            .into_tuple()
            .all(&self.0.db)
            .await?;
        let keys = rows
            .into_iter()
            .filter(|(_, _, retired)| retired.is_none_or(|at| at > horizon))
            .map(|(kid, x, _)| PublicKey { kid, x });
        Ok(json!({
            "keys": keys.map(|k| json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": ALGORITHM,
                "use": "sig",
                "kid": k.kid,
                "x": k.x,
            })).collect::<Vec<_>>()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::thumbprint;

    #[test]
    fn kid_is_the_rfc_7638_thumbprint() {
        // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }
}
