//! Prometheus metrics: the process-wide recorder of the `metrics` facade, the names and
//! labels of everything recorded (one function per event, so call sites stay one line), and
//! the text exposition served at `GET /metrics`.
//!
//! Every label takes its values from a fixed set: routes are the matched patterns, never raw
//! paths; statuses and methods are bounded; GraphQL operation names are kept for the first
//! [`MAX_OPERATION_NAMES`] distinct names this process sees and folded into `other` after
//! that (see the README, "Metrics").

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use ::metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::{
    auth::password::Hasher, error::AppError, error::ErrorCode, service::grant::GrantError,
};

const HTTP_REQUESTS: &str = "admin_center_http_requests_total";
const HTTP_DURATION: &str = "admin_center_http_request_duration_seconds";
const GRAPHQL_OPERATIONS: &str = "admin_center_graphql_operations_total";
const GRAPHQL_ERRORS: &str = "admin_center_graphql_errors_total";
const GRAPHQL_DURATION: &str = "admin_center_graphql_operation_duration_seconds";
const SIGN_INS: &str = "admin_center_sign_ins_total";
const THROTTLE_REFUSALS: &str = "admin_center_throttle_refusals_total";
const SSO_LOGINS: &str = "admin_center_sso_logins_total";
const TOKEN_GRANTS: &str = "admin_center_oauth_token_grants_total";
const REVOCATIONS: &str = "admin_center_revocations_total";
const HASH_QUEUE: &str = "admin_center_password_hash_queue";
const POOL_IN_USE: &str = "admin_center_db_pool_connections_in_use";
const POOL_IDLE: &str = "admin_center_db_pool_connections_idle";
const POOL_MAX: &str = "admin_center_db_pool_connections_max";
const POOL_ACQUIRE: &str = "admin_center_db_pool_acquire_seconds";

/// Distinct GraphQL operation names kept as label values; later names count as `other`.
pub const MAX_OPERATION_NAMES: usize = 100;
/// Longer operation names count as `other` too.
const MAX_OPERATION_NAME_LEN: usize = 64;

/// Latency buckets, in seconds: from a cached read to a slow password hash under load.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder, once per process (the `metrics` facade has one global recorder;
/// the tests run many servers in one process and share it). `None` when another recorder was
/// installed first: then nothing is recorded and `/metrics` answers 503.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| match build() {
            Ok(handle) => Some(handle),
            Err(err) => {
                tracing::warn!(error = %err, "metrics are off: cannot install the recorder");
                None
            }
        })
        .as_ref()
}

fn build() -> Result<PrometheusHandle, metrics_exporter_prometheus::BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)?
        .install_recorder()?;
    describe();
    // Histograms buffer their samples until drained; without the exporter's own listener the
    // draining ("upkeep") is ours to run, scraped or not.
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            }
        });
    if let Err(err) = spawned {
        tracing::warn!(error = %err, "cannot start the metrics upkeep thread");
    }
    Ok(handle)
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route pattern, method and status."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by route pattern."
    );
    describe_counter!(
        GRAPHQL_OPERATIONS,
        "GraphQL operations run, by operation name and outcome (ok or error)."
    );
    describe_counter!(
        GRAPHQL_ERRORS,
        "Errors in GraphQL responses, by operation name and error code."
    );
    describe_histogram!(
        GRAPHQL_DURATION,
        Unit::Seconds,
        "Time to run a GraphQL operation, by operation name."
    );
    describe_counter!(
        SIGN_INS,
        "Password checks (GraphQL login and the OAuth sign-in page), by outcome."
    );
    describe_counter!(
        SSO_LOGINS,
        "Single sign-ons, by outcome: success, or the reason it failed (state, nonce, …)."
    );
    describe_counter!(
        THROTTLE_REFUSALS,
        "Attempts refused by the sign-in/secret throttle (RATE_LIMITED)."
    );
    describe_counter!(
        TOKEN_GRANTS,
        "POST /oauth/token requests, by grant type and outcome (success or the OAuth error)."
    );
    describe_counter!(
        REVOCATIONS,
        "Revocations: session logouts, app authorizations revoked, OAuth tokens revoked."
    );
    describe_gauge!(
        HASH_QUEUE,
        "Password hashes queued or running, sampled at scrape time."
    );
    describe_gauge!(
        POOL_IN_USE,
        "Database connections checked out of the pool, sampled at scrape time."
    );
    describe_gauge!(
        POOL_IDLE,
        "Idle database connections in the pool, sampled at scrape time."
    );
    describe_gauge!(POOL_MAX, "The database pool's maximum size.");
    describe_histogram!(
        POOL_ACQUIRE,
        Unit::Seconds,
        "Time a statement or transaction waited for a database connection from the pool."
    );
    // Series with a fixed label set start at 0, so a rate is defined before the first event.
    for outcome in [
        "success",
        "restricted",
        "invalid_credentials",
        "rate_limited",
        "error",
    ] {
        counter!(SIGN_INS, "outcome" => outcome).increment(0);
    }
    counter!(THROTTLE_REFUSALS).increment(0);
    for kind in ["session_logout", "app_authorization", "oauth_token"] {
        counter!(REVOCATIONS, "kind" => kind).increment(0);
    }
}

/// The exposition text, after sampling the gauges that are read rather than counted.
pub fn render(db: &DatabaseConnection, hasher: &Hasher) -> Option<String> {
    let handle = install()?;
    gauge!(HASH_QUEUE).set(hasher.queued() as f64);
    let pool = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            Some((
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ))
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            Some((
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            ))
        }
        _ => None,
    };
    if let Some((size, idle, max)) = pool {
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        gauge!(POOL_IN_USE).set(f64::from(size.saturating_sub(idle)));
        gauge!(POOL_IDLE).set(f64::from(idle));
        gauge!(POOL_MAX).set(f64::from(max));
    }
    Some(handle.render())
}

/// One connection taken from the database pool after waiting `seconds` (reported by sqlx, see
/// [`crate::telemetry`]).
pub fn db_pool_acquire(seconds: f64) {
    histogram!(POOL_ACQUIRE).record(seconds);
}

/// Methods outside the standard set would let a client mint label values.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

/// One HTTP request. `route` is the pattern actix matched (`None`: no route matched).
pub fn http_request(route: Option<&str>, method: &str, status: u16, elapsed: Duration) {
    let route = route.unwrap_or("unmatched").to_owned();
    counter!(
        HTTP_REQUESTS,
        "route" => route.clone(),
        "method" => method_label(method),
        "status" => status.to_string()
    )
    .increment(1);
    histogram!(HTTP_DURATION, "route" => route).record(elapsed.as_secs_f64());
}

/// The operation-name label: the name the client sent while fewer than
/// [`MAX_OPERATION_NAMES`] distinct names have been seen (or it is one of them), else
/// `other`; no name is `anonymous`. A client sending random names fills the set once and
/// then only moves `other`: the series stay bounded.
fn operation_label(name: Option<&str>) -> ::metrics::SharedString {
    static SEEN: OnceLock<Mutex<HashSet<Arc<str>>>> = OnceLock::new();
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return ::metrics::SharedString::const_str("anonymous");
    };
    let other = ::metrics::SharedString::const_str("other");
    let valid = name.len() <= MAX_OPERATION_NAME_LEN
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        return other;
    }
    let Ok(mut seen) = SEEN.get_or_init(Default::default).lock() else {
        return other;
    };
    if let Some(kept) = seen.get(name) {
        return ::metrics::SharedString::from_shared(kept.clone());
    }
    if seen.len() >= MAX_OPERATION_NAMES {
        return other;
    }
    let kept: Arc<str> = Arc::from(name);
    seen.insert(kept.clone());
    ::metrics::SharedString::from_shared(kept)
}

/// The error-code label: one of the stable codes, else `OTHER`.
fn code_label(code: Option<&async_graphql::Value>) -> &'static str {
    match code {
        Some(async_graphql::Value::String(code)) => ErrorCode::ALL
            .into_iter()
            .map(ErrorCode::as_str)
            .find(|known| known == code)
            .unwrap_or("OTHER"),
        _ => "OTHER",
    }
}

/// One GraphQL operation (each entry of a batch counts as one).
pub fn graphql_operation(
    name: Option<&str>,
    response: &async_graphql::Response,
    elapsed: Duration,
) {
    let operation = operation_label(name);
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    counter!(GRAPHQL_OPERATIONS, "operation" => operation.clone(), "outcome" => outcome)
        .increment(1);
    for error in &response.errors {
        let code = code_label(error.extensions.as_ref().and_then(|x| x.get("code")));
        counter!(GRAPHQL_ERRORS, "operation" => operation.clone(), "code" => code).increment(1);
    }
    histogram!(GRAPHQL_DURATION, "operation" => operation).record(elapsed.as_secs_f64());
}

/// One password check; `restricted` when the password was right but the session it opens
/// (or would open) is restricted.
pub fn sign_in<T>(result: &Result<T, AppError>, restricted: impl FnOnce(&T) -> bool) {
    let outcome = match result {
        Ok(value) if restricted(value) => "restricted",
        Ok(_) => "success",
        Err(AppError::BadCredentials) => "invalid_credentials",
        Err(AppError::RateLimited { .. }) => "rate_limited",
        Err(_) => "error",
    };
    counter!(SIGN_INS, "outcome" => outcome).increment(1);
}

/// One single sign-on: `success` (a session opened) or the failure's reason.
pub fn sso_login(outcome: &'static str) {
    counter!(SSO_LOGINS, "outcome" => outcome).increment(1);
}

pub fn throttle_refusal() {
    counter!(THROTTLE_REFUSALS).increment(1);
}

/// The grant-type label of a token request.
pub fn grant_type_label(grant_type: Option<&str>) -> &'static str {
    match grant_type {
        Some("authorization_code") => "authorization_code",
        Some("refresh_token") => "refresh_token",
        Some(_) => "other",
        None => "none",
    }
}

/// One `POST /oauth/token`: `success`, or the RFC 6749 error it answered.
pub fn token_grant<T>(grant_type: &'static str, result: &Result<T, GrantError>) {
    let outcome = match result {
        Ok(_) => "success",
        Err(err) => err.code(),
    };
    counter!(TOKEN_GRANTS, "grant_type" => grant_type, "outcome" => outcome).increment(1);
}

/// What was revoked.
#[derive(Clone, Copy, Debug)]
pub enum Revocation {
    /// A manager signed out (`logout`).
    SessionLogout,
    /// An app authorization revoked (`revokeApiManagerApplications`).
    AppAuthorization,
    /// A token revoked by its app (`POST /oauth/revoke`).
    OAuthToken,
}

pub fn revoked(kind: Revocation, count: usize) {
    let kind = match kind {
        Revocation::SessionLogout => "session_logout",
        Revocation::AppAuthorization => "app_authorization",
        Revocation::OAuthToken => "oauth_token",
    };
    counter!(REVOCATIONS, "kind" => kind).increment(count as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded() {
        assert_eq!(&*operation_label(None), "anonymous");
        assert_eq!(&*operation_label(Some("")), "anonymous");
        assert_eq!(&*operation_label(Some("has space")), "other");
        assert_eq!(&*operation_label(Some(&"x".repeat(65))), "other");
        let kept = operation_label(Some("KeptName"));
        assert_eq!(&*kept, "KeptName");
        for i in 0..2 * MAX_OPERATION_NAMES {
            operation_label(Some(&format!("Random{i}")));
        }
        assert_eq!(&*operation_label(Some("NeverSeenBefore")), "other");
        assert_eq!(&*operation_label(Some("KeptName")), "KeptName");
    }

    #[test]
    fn unknown_methods_and_codes_fold() {
        assert_eq!(method_label("POST"), "POST");
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(
            code_label(Some(&async_graphql::Value::from("NOT_FOUND"))),
            "NOT_FOUND"
        );
        assert_eq!(
            code_label(Some(&async_graphql::Value::from("whatever"))),
            "OTHER"
        );
        assert_eq!(code_label(None), "OTHER");
    }
}
