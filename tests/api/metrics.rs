//! `GET /metrics`: Prometheus text that parses, counters that move with the requests a test
//! makes (sign-ins, throttling, GraphQL operations and error codes, token grants,
//! revocations), bounded labels, and `METRICS_BIND` moving it to a listener of its own.
//!
//! The recorder is process-wide and the tests in this binary run in parallel, so counters
//! shared with other tests are compared as "moved by at least"; those under labels only these
//! tests use (operation names) are compared exactly.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    app_tokens::api_world,
    harness::{TestApp, USER_PASSWORD, error_code},
};

#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

/// `{a="x",b="y"}` (the braces already stripped): the labels, with `\\`, `\"` and `\n`
/// unescaped. Panics on anything the text format does not allow.
fn parse_labels(mut rest: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once("=\"")
            .unwrap_or_else(|| panic!("label without =\"…\" in {line:?}"));
        assert!(is_label_name(name), "label name {name:?} in {line:?}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => panic!("bad escape {other:?} in {line:?}"),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value in {line:?}"),
            }
        };
        assert!(
            labels.insert(name.to_owned(), value).is_none(),
            "label {name} twice in {line:?}"
        );
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
    labels
}

/// A check of the Prometheus text format (0.0.4): `# HELP`/`# TYPE` lines, one `TYPE` per
/// family before its samples, samples `name{labels} value`, every sample of a declared family
/// (histograms as `_bucket` with `le`, `_sum` and `_count`).
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    assert!(is_metric_name(name), "{line:?}");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                        "{line:?}"
                    );
                    assert!(
                        types.insert(name.to_owned(), kind.to_owned()).is_none(),
                        "TYPE twice: {line:?}"
                    );
                }
                (Some("HELP"), Some(name), _) => assert!(is_metric_name(name), "{line:?}"),
                _ => {}
            }
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("sample without a value: {line:?}"));
        let value = parse_value(value).unwrap_or_else(|| panic!("bad value in {line:?}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => {
                let labels = labels
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels in {line:?}"));
                (name, parse_labels(labels, line))
            }
            None => (series, BTreeMap::new()),
        };
        assert!(is_metric_name(name), "{line:?}");
        let family = [("_bucket", true), ("_sum", false), ("_count", false)]
            .into_iter()
            .find_map(|(suffix, bucket)| {
                let base = name.strip_suffix(suffix)?;
                matches!(
                    types.get(base).map(String::as_str),
                    Some("histogram" | "summary")
                )
                .then_some((base, bucket))
            });
        match family {
            Some((_, true)) => assert!(labels.contains_key("le"), "bucket without le: {line:?}"),
            Some(_) => {}
            None => assert!(types.contains_key(name), "sample before its TYPE: {line:?}"),
        }
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

/// The sum of the samples of `name` carrying all of `labels` (0 when there are none).
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape_url(app: &TestApp, url: String) -> Vec<Sample> {
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse_exposition(&response.text().await.unwrap())
}

async fn scrape(app: &TestApp) -> Vec<Sample> {
    scrape_url(app, app.url("/metrics")).await
}

async fn named(app: &TestApp, token: &str, name: &str, query: &str) -> Value {
    app.client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "operationName": name }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn metrics_parse_and_their_counters_move_with_requests() {
    let app = TestApp::new().await;
    let before = scrape(&app).await;
    let count = |samples: &[Sample], name: &str, labels: &[(&str, &str)]| {
        value(samples, &format!("admin_center_{name}"), labels)
    };

    // Sign-ins: the API manager's and the owner's succeed (the owner's first is restricted).
    let (owner, api) = api_world(&app).await;
    let wrong = app.login(&owner.manager.login, "Wrong-Passw0rd-1").await;
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"), "{wrong}");
    // An unknown login: five guesses are checked, the sixth is throttled.
    let nobody = format!("nobody-{}", Uuid::new_v4().simple());
    for _ in 0..5 {
        let refused = app.login(&nobody, "Wrong-Passw0rd-1").await;
        assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"), "{refused}");
    }
    let throttled = app.login(&nobody, "Wrong-Passw0rd-1").await;
    assert_eq!(error_code(&throttled), Some("RATE_LIMITED"), "{throttled}");

    // GraphQL operations by name, with and without errors.
    let me = named(
        &app,
        &owner.token,
        "MetricsProbeMe",
        "query MetricsProbeMe { me { id } }",
    )
    .await;
    assert!(me["data"]["me"]["id"].is_string(), "{me}");
    let bad = named(
        &app,
        &owner.token,
        "MetricsProbeBad",
        "query MetricsProbeBad { nope }",
    )
    .await;
    assert_eq!(error_code(&bad), Some("GRAPHQL_VALIDATION_FAILED"), "{bad}");

    // OAuth: one code exchanged, one refresh token refused.
    let client = app.register_app(&owner, &["REPS_READ"]).await;
    app.authorize_app(&client, &api.manager.login, USER_PASSWORD, "reps:read")
        .await;
    let refused = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&client.client_id, client.secret.as_deref())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "rt_bogus"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);

    // Revocations: the API manager signs out; the owner revokes the app's authorization.
    let out = api.gql("mutation { logout }", json!({})).await;
    assert_eq!(out["data"]["logout"], true, "{out}");
    let revoked = owner
        .gql(
            "mutation($m: ID!, $a: [ID!]!) { revokeApiManagerApplications(managerId: $m, appIds: $a) { id } }",
            json!({ "m": crate::harness::gid(crate::harness::IdKind::Manager, api.id()), "a": [client.id] }),
        )
        .await;
    assert!(revoked["errors"].is_null(), "{revoked}");

    // A path no route matches is counted as `unmatched`, never by its raw text.
    let stray = format!("/no-such-page-{}", Uuid::new_v4().simple());
    let missing = app.client.get(app.url(&stray)).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        count(&after, name, labels) - count(&before, name, labels)
    };
    assert!(moved("sign_ins_total", &[("outcome", "success")]) >= 1.0);
    assert!(moved("sign_ins_total", &[("outcome", "restricted")]) >= 1.0);
    assert!(moved("sign_ins_total", &[("outcome", "invalid_credentials")]) >= 6.0);
    assert!(moved("sign_ins_total", &[("outcome", "rate_limited")]) >= 1.0);
    assert!(moved("throttle_refusals_total", &[]) >= 1.0);
    assert_eq!(
        moved(
            "graphql_operations_total",
            &[("operation", "MetricsProbeMe"), ("outcome", "ok")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "graphql_errors_total",
            &[
                ("operation", "MetricsProbeBad"),
                ("code", "GRAPHQL_VALIDATION_FAILED")
            ]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "graphql_operation_duration_seconds_count",
            &[("operation", "MetricsProbeMe")]
        ),
        1.0
    );
    assert!(
        moved(
            "oauth_token_grants_total",
            &[("grant_type", "authorization_code"), ("outcome", "success")]
        ) >= 1.0
    );
    assert!(
        moved(
            "oauth_token_grants_total",
            &[
                ("grant_type", "refresh_token"),
                ("outcome", "invalid_grant")
            ]
        ) >= 1.0
    );
    assert!(moved("revocations_total", &[("kind", "session_logout")]) >= 1.0);
    assert!(moved("revocations_total", &[("kind", "app_authorization")]) >= 1.0);
    assert!(
        moved(
            "http_requests_total",
            &[("route", "/graphql"), ("method", "POST"), ("status", "200")]
        ) >= 10.0
    );
    assert!(
        moved(
            "http_requests_total",
            &[("route", "/oauth/token"), ("status", "400")]
        ) >= 1.0
    );
    assert!(
        moved(
            "http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ) >= 1.0
    );
    assert!(
        moved(
            "http_request_duration_seconds_bucket",
            &[("route", "/graphql"), ("le", "+Inf")]
        ) >= 10.0
    );
    // No label value anywhere is a raw path, a login or a token.
    let needle = stray.trim_start_matches('/');
    for sample in &after {
        for value in sample.labels.values() {
            assert!(!value.contains(needle), "{sample:?}");
            assert!(!value.contains(&nobody), "{sample:?}");
        }
    }
    // Gauges sampled at scrape time.
    assert!(count(&after, "db_pool_connections_max", &[]) >= 1.0);
    assert!(count(&after, "db_pool_connections_idle", &[]) >= 0.0);
    assert!(
        after
            .iter()
            .any(|s| s.name == "admin_center_db_pool_connections_in_use")
    );
    assert!(
        after
            .iter()
            .any(|s| s.name == "admin_center_password_hash_queue")
    );
}

#[tokio::test]
async fn metrics_bind_serves_metrics_on_its_own_listener_and_nothing_else_there() {
    // A free port for the metrics listener.
    let metrics_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = TestApp::with_config(|c| c.metrics_bind = Some(metrics_addr)).await;
    let status = |url: String| {
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    let on_metrics = |path: &str| format!("http://{metrics_addr}{path}");

    let samples = scrape_url(&app, on_metrics("/metrics")).await;
    assert!(
        samples
            .iter()
            .any(|s| s.name == "admin_center_db_pool_connections_max")
    );
    assert_eq!(
        status(app.url("/metrics")).await,
        404,
        "not on the main listener"
    );
    assert_eq!(status(app.url("/healthz")).await, 200);
    for path in ["/healthz", "/graphql?query=%7B__typename%7D", "/graphiql"] {
        assert_eq!(
            status(on_metrics(path)).await,
            404,
            "{path} on the metrics listener"
        );
    }
}

#[test]
fn the_parser_refuses_what_prometheus_would() {
    let ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"uote\",y=\"2\"} 3\n";
    let samples = parse_exposition(ok);
    assert_eq!(samples[0].labels["x"], "q\"uote");
    assert_eq!(samples[0].value, 3.0);
    for bad in [
        "a_total 1\n",
        "# TYPE a_total counter\na_total{x=1} 1\n",
        "# TYPE a_total counter\na_total{x=\"1\"}\n",
        "# TYPE a_total counter\na_total one\n",
        "# TYPE 1a counter\n",
    ] {
        let bad = bad.to_owned();
        assert!(
            std::panic::catch_unwind(move || parse_exposition(&bad)).is_err(),
            "accepted"
        );
    }
}

/// The pool's wait for a connection, as a histogram: sqlx reports each checkout to the real
/// server's tracing layers (an in-process `TestApp` installs none), so the real binary is
/// run. Its count moves with requests.
#[tokio::test]
async fn pool_acquire_wait_is_a_histogram_that_moves_with_requests() {
    const WAIT: &str = "admin_center_db_pool_acquire_seconds";
    let mut server = crate::traces::Server::start(&[]).await;
    let password = server.password().await;
    let url = format!("http://127.0.0.1:{}/metrics", server.port);
    let scrape = || async { reqwest::get(&url).await.unwrap().text().await.unwrap() };
    let count_before = value(
        &parse_exposition(&scrape().await),
        &format!("{WAIT}_count"),
        &[],
    );
    let token = server.sign_in(&password).await;
    let bearer = format!("Bearer {token}");
    for _ in 0..3 {
        let me = server
            .graphql(
                json!({ "query": "query WhoAmI { me { id } }" }),
                &[("authorization", &bearer)],
            )
            .await;
        assert!(me["data"]["me"]["id"].is_string(), "{me}");
    }
    let text = scrape().await;
    assert!(
        text.contains(&format!("# TYPE {WAIT} histogram")),
        "no {WAIT}: {text}"
    );
    let after = parse_exposition(&text);
    let count = value(&after, &format!("{WAIT}_count"), &[]);
    assert!(count >= count_before + 4.0, "{count_before} → {count}");
    assert_eq!(
        value(&after, &format!("{WAIT}_bucket"), &[("le", "+Inf")]),
        count
    );
    assert!(value(&after, &format!("{WAIT}_sum"), &[]) >= 0.0);
}
