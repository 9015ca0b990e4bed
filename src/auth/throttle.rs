//! Throttling of sign-in attempts, per login and per client address.
//!
//! Counters live in the database so every replica sees them. An attempt is counted *before*
//! its password is checked, by single atomic statements, so parallel attempts cannot slip
//! past the limit while the slow hash runs. A success gives the attempt back (and clears the
//! login's counters). After `max_failures` within `window`, a key is blocked for `cooldown`;
//! attempts while blocked answer `RATE_LIMITED` (429 with `Retry-After` over HTTP) without
//! being checked or counted, so guessing cannot extend a block.
//!
//! The keys of an attempt are counted in order, most specific first (login and address, then
//! address, then login alone), and counting stops at the first key that refuses: an attempt
//! refused for its pair or its address does not count against the login, so a burst of
//! guesses from one address cannot lock the owner out elsewhere.
//!
//! Keys, so that an attacker cannot lock the real owner out for long:
//! - login and address together: 5 failures in 15 minutes block that pair for 1 minute (the
//!   owner at another address is not affected);
//! - login alone, from any address: 20 in 15 minutes block it for 1 minute (a distributed
//!   guess can delay the owner by a minute at a time, never lock it out);
//! - address alone, whatever the login: 30 in 15 minutes block it for 5 minutes. IPv6
//!   addresses count by /64, the block one client usually holds; an IPv4 client seen by a
//!   dual-stack listener (`::ffff:a.b.c.d`) counts as its IPv4 address.

use chrono::{DateTime, Duration, Utc};
use entity::throttle_bucket::{self, Column};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};

use crate::error::AppError;

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub max_failures: i32,
    pub window: Duration,
    pub cooldown: Duration,
}

pub const PER_LOGIN_AND_ADDRESS: Policy = Policy {
    max_failures: 5,
    window: Duration::minutes(15),
    cooldown: Duration::minutes(1),
};

pub const PER_LOGIN: Policy = Policy {
    max_failures: 20,
    window: Duration::minutes(15),
    cooldown: Duration::minutes(1),
};

pub const PER_ADDRESS: Policy = Policy {
    max_failures: 30,
    window: Duration::minutes(15),
    cooldown: Duration::minutes(5),
};

/// A throttled key and its policy.
#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub policy: Policy,
}

/// Keys are bounded: a login longer than any real one is cut, so junk cannot grow rows.
fn bounded(value: &str) -> String {
    value.chars().take(128).collect()
}

/// The longest key the `throttle_buckets.key` column holds (characters).
const MAX_KEY_CHARS: usize = 200;

/// The address as throttled: IPv4 as is (also when it arrives IPv4-mapped, `::ffff:a.b.c.d`,
/// from a dual-stack listener), IPv6 by its /64 prefix.
pub fn address_key(address: &str) -> String {
    match address
        .parse::<std::net::IpAddr>()
        .map(|ip| ip.to_canonical())
    {
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => bounded(address),
    }
}

impl Key {
    /// A key of its own kind; a name past the column's length is cut.
    pub fn custom(name: String, policy: Policy) -> Key {
        Key {
            name: name.chars().take(MAX_KEY_CHARS).collect(),
            policy,
        }
    }

    pub fn address(address: &str) -> Key {
        Key {
            name: format!("addr:{}", address_key(address)),
            policy: PER_ADDRESS,
        }
    }

    /// The keys of an attempt that names no login (a single sign-on's callback or code):
    /// the client's address alone, if known.
    pub fn address_only(address: Option<&str>) -> Vec<Key> {
        address.map(Key::address).into_iter().collect()
    }

    /// The keys of a sign-in attempt for `login_key` from `address`, in the order they are
    /// counted: the pair, the address, then the login alone.
    pub fn sign_in(login_key: &str, address: Option<&str>) -> Vec<Key> {
        let login = bounded(login_key);
        let mut keys = Vec::with_capacity(3);
        if let Some(address) = address {
            keys.push(Key {
                name: format!("pair:{}|{login}", address_key(address)),
                policy: PER_LOGIN_AND_ADDRESS,
            });
            keys.push(Key::address(address));
        }
        keys.push(Key {
            name: format!("login:{login}"),
            policy: PER_LOGIN,
        });
        keys
    }

    /// Address keys give one attempt back on success; other keys are forgotten.
    fn is_address(&self) -> bool {
        self.name.starts_with("addr:") || self.name.starts_with(SSO_START_PREFIX)
    }
}

/// Prefix of the keys counting single sign-on starts per address (`src/sso/flow.rs`): like
/// an address key, a finished sign-in gives its start back.
pub const SSO_START_PREFIX: &str = "sso-start:";

fn blocked(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    crate::metrics::throttle_refusal();
    let ms = std::cmp::max((until - now).num_milliseconds(), 0);
    AppError::RateLimited {
        retry_after_secs: u64::try_from(ms).unwrap_or(0).div_ceil(1000).max(1),
    }
}

/// Counts one attempt against the keys in their order, or refuses with `RATE_LIMITED` if any
/// key is blocked or already over its limit. Counting stops at the first key that refuses,
/// so the keys after it (the login alone, last) only see attempts the earlier ones let
/// through; each count is one atomic increment, so parallel attempts cannot slip past. Call
/// it before checking the secret.
pub async fn attempt(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    keys: &[Key],
) -> Result<(), AppError> {
    // A blocked key refuses without counting anything.
    let names: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
    let rows = throttle_bucket::Entity::find()
        .filter(Column::Key.is_in(names))
        .all(db)
        .await?;
    if let Some(until) = rows
        .iter()
        .filter_map(|r| r.blocked_until)
        .filter(|until| *until > now)
        .max()
    {
        return Err(blocked(until, now));
    }
    for key in keys {
        count(db, now, key).await??;
    }
    Ok(())
}

/// One key: each step is a single statement, atomic on its own.
async fn count(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    key: &Key,
) -> Result<Result<(), AppError>, AppError> {
    // Scoped: the trait is implemented for every type and shadows `Ord::max` elsewhere.
    use sea_orm::sea_query::ExprTrait;
    throttle_bucket::Entity::insert(throttle_bucket::ActiveModel {
        key: sea_orm::Set(key.name.clone()),
        failures: sea_orm::Set(0),
        window_started_at: sea_orm::Set(now),
        blocked_until: sea_orm::Set(None),
    })
    .on_conflict(OnConflict::column(Column::Key).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    // A window that ran out, or a block that is over, starts the count again.
    throttle_bucket::Entity::update_many()
        .col_expr(Column::Failures, Expr::value(0))
        .col_expr(Column::WindowStartedAt, Expr::value(now))
        .col_expr(
            Column::BlockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Key.eq(&key.name))
        .filter(
            Column::WindowStartedAt
                .lte(now - key.policy.window)
                .or(Column::BlockedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    throttle_bucket::Entity::update_many()
        .col_expr(Column::Failures, Expr::col(Column::Failures).add(1))
        .filter(Column::Key.eq(&key.name))
        .exec(db)
        .await?;
    let Some(row) = throttle_bucket::Entity::find_by_id(key.name.clone())
        .one(db)
        .await?
    else {
        return Ok(Ok(()));
    };
    if row.failures >= key.policy.max_failures {
        // Whoever reaches the limit starts the block; the attempt that reached it exactly
        // still goes ahead, later ones (even those already in flight) are refused. The count
        // is kept until the block is over, so nothing slips in meanwhile.
        let until = now + key.policy.cooldown;
        throttle_bucket::Entity::update_many()
            .col_expr(Column::BlockedUntil, Expr::value(until))
            .filter(Column::Key.eq(&key.name))
            .filter(Column::BlockedUntil.is_null())
            .exec(db)
            .await?;
        if row.failures > key.policy.max_failures {
            return Ok(Err(blocked(row.blocked_until.unwrap_or(until), now)));
        }
    }
    Ok(Ok(()))
}

/// After a successful attempt: the login's counters are forgotten and the address gets its
/// attempt back.
pub async fn succeeded(db: &DatabaseConnection, keys: &[Key]) -> Result<(), AppError> {
    use sea_orm::sea_query::ExprTrait;
    let (addresses, others): (Vec<&Key>, Vec<&Key>) = keys.iter().partition(|k| k.is_address());
    if !others.is_empty() {
        throttle_bucket::Entity::delete_many()
            .filter(Column::Key.is_in(others.iter().map(|k| k.name.clone())))
            .exec(db)
            .await?;
    }
    for key in addresses {
        throttle_bucket::Entity::update_many()
            .col_expr(Column::Failures, Expr::col(Column::Failures).sub(1))
            .filter(Column::Key.eq(&key.name))
            .filter(Column::Failures.gt(0))
            .exec(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64_block() {
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            address_key("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(address_key("203.0.113.9"), "203.0.113.9");
    }

    #[test]
    fn ipv4_mapped_clients_count_as_their_ipv4_address() {
        assert_eq!(address_key("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(address_key("::ffff:cb00:710a"), "203.0.113.10");
        assert_ne!(
            Key::address("::ffff:203.0.113.9").name,
            Key::address("::ffff:203.0.113.10").name,
            "two IPv4 clients are two buckets"
        );
        assert_eq!(
            Key::sign_in("jdoe", Some("::ffff:203.0.113.9"))[0].name,
            "pair:203.0.113.9|jdoe"
        );
    }

    #[test]
    fn custom_keys_fit_the_column() {
        let key = Key::custom(format!("reset:{}", "İ".repeat(300)), PER_LOGIN);
        assert_eq!(key.name.chars().count(), MAX_KEY_CHARS);
    }

    #[test]
    fn sign_in_keys_cover_login_pair_and_address() {
        let names: Vec<String> = Key::sign_in("jdoe", Some("203.0.113.9"))
            .into_iter()
            .map(|k| k.name)
            .collect();
        assert_eq!(
            names,
            ["pair:203.0.113.9|jdoe", "addr:203.0.113.9", "login:jdoe"],
            "most specific first: the login alone is counted last"
        );
        assert_eq!(Key::sign_in(&"x".repeat(500), None)[0].name.len(), 6 + 128);
    }
}
