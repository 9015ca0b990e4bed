//! Throttling of failed attempts, per login and per client address.
//!
//! Counters live in the database so that every replica sees them. After `max_failures` within
//! `window`, the key is blocked for `cooldown`; attempts while blocked answer `RATE_LIMITED`
//! (429 with `Retry-After` over HTTP) without being checked at all, so the cooldown cannot be
//! extended by guessing. A successful sign-in clears the login's counter. The per-login
//! cooldown is short (one minute) so that an attacker cannot lock the real owner out for long;
//! the per-address limit is looser but longer, and stops one client from sweeping many logins.

use chrono::{DateTime, Duration, Utc};
use entity::throttle_bucket;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait,
};

use crate::error::AppError;

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub max_failures: i32,
    pub window: Duration,
    pub cooldown: Duration,
}

/// Sign-in failures of one login.
pub const PER_LOGIN: Policy = Policy {
    max_failures: 5,
    window: Duration::minutes(15),
    cooldown: Duration::minutes(1),
};

/// Sign-in failures from one client address, whatever the login.
pub const PER_ADDRESS: Policy = Policy {
    max_failures: 30,
    window: Duration::minutes(15),
    cooldown: Duration::minutes(5),
};

/// A throttled key: the kind and the value (`login:jdoe`, `addr:203.0.113.9`).
#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub policy: Policy,
}

impl Key {
    pub fn login(login_key: &str) -> Key {
        Key {
            name: format!("login:{login_key}"),
            policy: PER_LOGIN,
        }
    }

    pub fn address(address: &str) -> Key {
        Key {
            name: format!("addr:{address}"),
            policy: PER_ADDRESS,
        }
    }
}

/// `RATE_LIMITED` with the longest remaining cooldown if any key is blocked.
pub async fn check(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    keys: &[Key],
) -> Result<(), AppError> {
    let names: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
    use sea_orm::{ColumnTrait, QueryFilter};
    let buckets = throttle_bucket::Entity::find()
        .filter(throttle_bucket::Column::Key.is_in(names))
        .all(db)
        .await?;
    let wait = buckets
        .iter()
        .filter_map(|b| b.blocked_until)
        .filter(|until| *until > now)
        .map(|until| (until - now).num_milliseconds())
        .max();
    match wait {
        Some(ms) => Err(AppError::RateLimited {
            retry_after_secs: u64::try_from(ms).unwrap_or(0).div_ceil(1000).max(1),
        }),
        None => Ok(()),
    }
}

/// Counts one failure against each key.
pub async fn record_failure(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    keys: &[Key],
) -> Result<(), AppError> {
    let txn = db.begin().await?;
    for key in keys {
        let existing = throttle_bucket::Entity::find_by_id(key.name.clone())
            .one(&txn)
            .await?;
        let (mut failures, mut window_started_at) = match &existing {
            Some(b) if now - b.window_started_at < key.policy.window => {
                (b.failures, b.window_started_at)
            }
            _ => (0, now),
        };
        failures += 1;
        let mut blocked_until = existing.as_ref().and_then(|b| b.blocked_until);
        if failures >= key.policy.max_failures {
            blocked_until = Some(now + key.policy.cooldown);
            failures = 0;
            window_started_at = now;
        }
        let row = throttle_bucket::ActiveModel {
            key: Set(key.name.clone()),
            failures: Set(failures),
            window_started_at: Set(window_started_at),
            blocked_until: Set(blocked_until),
        };
        if existing.is_some() {
            row.update(&txn).await?;
        } else {
            row.insert(&txn).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Forgets the failures of `key` (after a successful sign-in).
pub async fn clear(db: &DatabaseConnection, key: &Key) -> Result<(), AppError> {
    throttle_bucket::Entity::delete_by_id(key.name.clone())
        .exec(db)
        .await?;
    Ok(())
}
