//! OpenTelemetry traces: the real server, pointed at an OTLP/HTTP receiver in the test
//! (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`, so the bodies parse as JSON), exports a server span
//! per request with the GraphQL operation name and type, the database statements as its child
//! spans, joins the trace a `traceparent` names, never carries a token, a password or a variable,
//! and sends the last spans when it stops. Off switches send nothing; gRPC is refused.

use std::{
    collections::HashMap,
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::harness::fresh_database_url;

const BIN: &str = env!("CARGO_BIN_EXE_admin-center");

/// The bodies POSTed to /v1/traces.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Vec<u8>>>>);

impl Received {
    fn bodies(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap().clone()
    }
}

/// An OTLP/HTTP receiver on 127.0.0.1: its address and what it received.
fn receiver() -> (String, Received) {
    let received = Received::default();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let data = web::Data::new(received.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(16 << 20))
            .route(
                "/v1/traces",
                web::post().to(
                    |req: HttpRequest, body: web::Bytes, store: web::Data<Received>| async move {
                        assert_eq!(
                            req.headers().get("content-type").unwrap(),
                            "application/json",
                            "OTLP/HTTP with JSON"
                        );
                        store.0.lock().unwrap().push(body.to_vec());
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body("{}")
                    },
                ),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://{addr}"), received)
}

/// The real server on a fresh database, with `env` (the `OTEL_*` variables the test sets;
/// any others the environment has are removed). Killed when dropped.
pub(crate) struct Server {
    pub(crate) port: u16,
    child: Child,
    out: std::path::PathBuf,
    err: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    pub(crate) async fn start(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database_url(&dir).await;
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (out, err) = (dir.path().join("server.out"), dir.path().join("server.err"));
        let mut command = Command::new(BIN);
        for (name, _) in std::env::vars() {
            if name.starts_with("OTEL_") {
                command.env_remove(name);
            }
        }
        let child = command
            .envs(env.iter().copied())
            .env("DATABASE_URL", url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .env("WORKERS", "1")
            .env_remove("ADMIN_CENTER_CONFIG")
            .current_dir(dir.path())
            .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
            .spawn()
            .unwrap();
        Server {
            port,
            child,
            out,
            err,
            _dir: dir,
        }
    }

    /// The first account's one-time password, once the server printed it (and listens).
    pub(crate) async fn password(&mut self) -> String {
        let started = Instant::now();
        loop {
            let out = std::fs::read_to_string(&self.out).unwrap_or_default();
            if let Some(password) = out
                .lines()
                .find_map(|l| l.strip_prefix("One-time password:"))
            {
                return password.trim().to_owned();
            }
            let exited = self.child.try_wait().unwrap().is_some();
            if exited || started.elapsed() > Duration::from_secs(60) {
                panic!(
                    "no password printed: {out}\n{}",
                    std::fs::read_to_string(&self.err).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A GraphQL request with `headers`; the JSON answer.
    pub(crate) async fn graphql(&self, body: Value, headers: &[(&str, &str)]) -> Value {
        let mut request = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/graphql", self.port))
            .json(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Signs the first manager in; the token.
    pub(crate) async fn sign_in(&self, password: &str) -> String {
        let signed_in = self
            .graphql(
                json!({
                    "query": "mutation SignIn($p: String!) { login(login: \"admin\", password: $p) { token } }",
                    "operationName": "SignIn",
                    "variables": { "p": password },
                }),
                &[],
            )
            .await;
        signed_in["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {signed_in}"))
            .to_owned()
    }

    /// Stops the server as an operator would (SIGTERM) and waits for it to exit cleanly.
    fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not stop"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            exit.success(),
            "{exit}: {}",
            std::fs::read_to_string(&self.err).unwrap_or_default()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[derive(Debug)]
struct Span {
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    name: String,
    kind: Value,
    attributes: HashMap<String, Value>,
}

impl Span {
    fn text(&self, key: &str) -> Option<&str> {
        self.attributes.get(key)?["stringValue"].as_str()
    }

    fn int(&self, key: &str) -> Option<i64> {
        let value = &self.attributes.get(key)?["intValue"];
        value
            .as_i64()
            .or_else(|| value.as_str().and_then(|v| v.parse().ok()))
    }
}

/// The spans of OTLP/JSON export bodies, and the service names their resources carry.
fn spans(bodies: &[Vec<u8>]) -> (Vec<Span>, Vec<String>) {
    let mut spans = Vec::new();
    let mut services = Vec::new();
    for body in bodies {
        let body: Value = serde_json::from_slice(body).unwrap();
        for resource in body["resourceSpans"].as_array().unwrap() {
            for attribute in resource["resource"]["attributes"].as_array().unwrap() {
                if attribute["key"] == "service.name" {
                    services.push(
                        attribute["value"]["stringValue"]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                    );
                }
            }
            for scope in resource["scopeSpans"].as_array().unwrap() {
                for span in scope["spans"].as_array().unwrap() {
                    let text = |key: &str| span[key].as_str().unwrap_or_default().to_owned();
                    spans.push(Span {
                        trace_id: text("traceId"),
                        span_id: text("spanId"),
                        parent_span_id: text("parentSpanId"),
                        name: text("name"),
                        kind: span["kind"].clone(),
                        attributes: span["attributes"]
                            .as_array()
                            .map(|attributes| {
                                attributes
                                    .iter()
                                    .map(|a| {
                                        (a["key"].as_str().unwrap().to_owned(), a["value"].clone())
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    });
                }
            }
        }
    }
    (spans, services)
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

#[tokio::test]
async fn a_span_per_request_with_the_operation_statements_as_children_and_the_callers_trace() {
    let (endpoint, received) = receiver();
    let mut server = Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        // Nothing is sent while the server runs: what arrives was flushed when it stopped.
        ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
    ])
    .await;
    let password = server.password().await;
    let token = server.sign_in(&password).await;
    let bearer = format!("Bearer {token}");
    let me = server
        .graphql(
            json!({ "query": "query WhoAmI { me { id } }", "operationName": "WhoAmI" }),
            &[("authorization", &bearer)],
        )
        .await;
    assert!(me["data"]["me"]["id"].is_string(), "{me}");
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    server
        .graphql(
            json!({ "query": "query Traced { me { id } }", "operationName": "Traced" }),
            &[
                ("authorization", &bearer),
                ("traceparent", &traceparent),
                ("tracestate", "vendor=opaque"),
            ],
        )
        .await;
    server
        .graphql(
            json!({ "query": "query Malformed { me { id } }", "operationName": "Malformed" }),
            &[
                ("authorization", &bearer),
                ("traceparent", &format!("00-{TRACE_ID}-nothex-01")),
            ],
        )
        .await;
    assert!(received.bodies().is_empty(), "exported before the stop");
    server.terminate();

    let bodies = received.bodies();
    let (spans, services) = spans(&bodies);
    assert!(!services.is_empty() && services.iter().all(|s| s == "admin-center"));
    let request = |operation: &str| {
        let found: Vec<&Span> = spans
            .iter()
            .filter(|s| s.text("graphql.operation.name") == Some(operation))
            .collect();
        assert_eq!(found.len(), 1, "one span for {operation}: {spans:#?}");
        let span = found[0];
        assert_eq!(span.name, "POST /graphql");
        assert!(
            span.kind == 2 || span.kind == "SPAN_KIND_SERVER",
            "{span:?}"
        );
        assert_eq!(span.text("http.request.method"), Some("POST"));
        assert_eq!(span.text("http.route"), Some("/graphql"));
        assert_eq!(span.int("http.response.status_code"), Some(200), "{span:?}");
        span
    };
    let sign_in = request("SignIn");
    assert_eq!(sign_in.text("graphql.operation.type"), Some("mutation"));
    assert_eq!(sign_in.text("admin_center.caller"), Some("anonymous"));
    let who = request("WhoAmI");
    assert_eq!(who.text("graphql.operation.type"), Some("query"));
    assert!(
        who.text("admin_center.caller")
            .is_some_and(|c| c.starts_with("manager:")),
        "{who:?}"
    );

    // The statements a request ran are spans of its trace, under its span.
    for parent in [sign_in, who] {
        let statements: Vec<&Span> = spans
            .iter()
            .filter(|s| s.name.starts_with("sea_orm.") && s.trace_id == parent.trace_id)
            .collect();
        assert!(!statements.is_empty(), "no statement under {parent:?}");
        for statement in &statements {
            let mut at = *statement;
            while at.span_id != parent.span_id {
                at = spans
                    .iter()
                    .find(|s| s.span_id == at.parent_span_id)
                    .unwrap_or_else(|| panic!("{statement:?} is not under {parent:?}"));
            }
        }
        assert!(
            statements.iter().any(|s| s
                .text("db.statement")
                .is_some_and(|sql| sql.contains("SELECT"))),
            "{statements:#?}"
        );
    }
    assert_ne!(sign_in.trace_id, who.trace_id);
    // Statements outside requests (migrations, the first account at start-up) are not traced.
    for statement in spans.iter().filter(|s| s.name.starts_with("sea_orm.")) {
        assert!(!statement.parent_span_id.is_empty(), "{statement:?}");
    }

    let traced = request("Traced");
    assert_eq!(traced.trace_id, TRACE_ID);
    assert_eq!(traced.parent_span_id, PARENT_ID);
    let malformed = request("Malformed");
    assert_ne!(malformed.trace_id, TRACE_ID);
    assert!(malformed.parent_span_id.is_empty(), "{malformed:?}");

    // Neither the token, the password (a variable) nor the password's hash went out.
    let raw: Vec<u8> = bodies.concat();
    let raw = String::from_utf8_lossy(&raw);
    for secret in [token.as_str(), password.as_str(), "$argon2"] {
        assert!(!raw.contains(secret), "{secret} exported");
    }
}

#[tokio::test]
async fn nothing_is_exported_when_traces_are_switched_off() {
    let (endpoint, received) = receiver();
    for off in [
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_SDK_DISABLED", "true"),
    ] {
        let mut server = Server::start(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_BSP_SCHEDULE_DELAY", "10"),
            off,
        ])
        .await;
        let password = server.password().await;
        server.sign_in(&password).await;
        server.terminate();
    }
    assert!(received.bodies().is_empty());
}

#[tokio::test]
async fn grpc_is_refused_at_start_up_with_what_to_set_instead() {
    let mut server = Server::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ])
    .await;
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!exit.success());
    let err = std::fs::read_to_string(&server.err).unwrap();
    assert!(
        err.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported")
            && err.contains("http/protobuf"),
        "{err}"
    );
    let out = std::fs::read_to_string(&server.out).unwrap();
    assert!(!out.contains("One-time password"), "started anyway: {out}");
}
