//! Signing keys kept in the database, so that every replica signs and verifies with the same
//! keys. One place for every kind of token: session tokens use a shared HMAC secret today;
//! other token kinds add their own `purpose`.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use entity::signing_key;
use rand::RngCore;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

use crate::error::AppError;

/// The shortest HMAC secret accepted (from the configuration or the database).
pub const MIN_SECRET_BYTES: usize = 32;

/// The secret stored for `purpose`, else a new random one stored for every replica to share.
/// Two replicas racing on an empty table both end up with the row that won the insert.
pub async fn shared_secret(
    conn: &impl ConnectionTrait,
    purpose: &str,
    algorithm: &str,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, AppError> {
    if let Some(stored) = signing_key::Entity::find_by_id(purpose).one(conn).await? {
        return decode(&stored);
    }
    let mut secret = vec![0u8; MIN_SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    let inserted = signing_key::Entity::insert(signing_key::ActiveModel {
        purpose: Set(purpose.to_owned()),
        algorithm: Set(algorithm.to_owned()),
        secret: Set(entity::SecretHash(STANDARD.encode(&secret))),
        created_at: Set(now),
    })
    .exec_without_returning(conn)
    .await;
    if inserted.is_ok() {
        return Ok(secret);
    }
    let stored = signing_key::Entity::find_by_id(purpose)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal(std::io::Error::other("signing key vanished")))?;
    decode(&stored)
}

fn decode(stored: &signing_key::Model) -> Result<Vec<u8>, AppError> {
    STANDARD
        .decode(&stored.secret.0)
        .map_err(AppError::internal)
}
