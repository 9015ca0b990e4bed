//! The multi-replica check (README "Production", BENCHMARKS.md): three replicas of the built
//! server on one PostgreSQL database behind HAProxy, as an operator would run them.
//!
//! 1. Three replicas start at the same moment on an empty database: exactly one account is
//!    created and exactly one replica prints the one-time password.
//! 2. Throughput through the balancer with 1 replica, then with 3: clients send a mix of
//!    reads (`teams`) and writes (`createTeam`) back to back.
//! 3. The same load while one replica is killed (SIGKILL) and restarted: only requests in
//!    flight on the killed replica may fail, and every acknowledged write is still there
//!    afterwards (read back through `nodes`).
//! 4. Revocation: a session ended (`logout`) on one replica, and an app's authorization revoked
//!    on another, are refused by every replica on the next request.
//!
//! ```sh
//! bench/replicas.sh postgres://postgres@127.0.0.1:5432/postgres   # release build, figures
//! cargo run --example replicas -- --bin target/debug/admin-center --pg URL --secs 4   # CI
//! ```
//!
//! `--pg` names a database the check may connect to and `CREATE DATABASE` from; it works in a
//! fresh database of its own (dropped at the end) and keeps every query parameter of the URL
//! (`sslmode`, `sslrootcert`). Needs `haproxy` on the PATH. Prints a report; exits 1 when a
//! check fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use clap::Parser;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    /// The admin-center binary to run.
    #[arg(long, default_value = "target/release/admin-center")]
    bin: PathBuf,
    /// A PostgreSQL URL to create the check's own database from.
    #[arg(long, env = "PG_URL")]
    pg: String,
    /// Seconds of load per phase (the kill phase runs for twice as long).
    #[arg(long, default_value_t = 15.0)]
    secs: f64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// One request in this many is a write.
    #[arg(long, default_value_t = 4)]
    write_every: usize,
    #[arg(long, default_value = "haproxy")]
    haproxy: String,
}

const NEW_PASSWORD: &str = "Replica-Check-2026!";
const API_PASSWORD: &str = "Api-Manager-2026!";
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One replica: its port and, while it runs, its process.
struct Replica {
    name: &'static str,
    port: u16,
    child: Option<Child>,
    starts: u32,
}

impl Replica {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn start(&mut self, bin: &Path, database_url: &str, public_url: &str, dir: &Path) {
        self.starts += 1;
        let log = |ext: &str| {
            std::fs::File::create(dir.join(format!("{}.{}.{ext}", self.name, self.starts))).unwrap()
        };
        let child = Command::new(bin)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("BIND", format!("127.0.0.1:{}", self.port))
            .env("PUBLIC_URL", public_url)
            // SIGTERM: 2 s not ready but serving, longer than HAProxy takes to see it (two
            // failed checks 500 ms apart), so no request meets a closing listener.
            .env("SHUTDOWN_DRAIN_SECONDS", "2")
            .env("RUST_LOG", "warn")
            .env_remove("ADMIN_CENTER_CONFIG")
            .current_dir(dir)
            .stdout(Stdio::from(log("out")))
            .stderr(Stdio::from(log("err")))
            .spawn()
            .expect("start a replica");
        self.child = Some(child);
    }

    /// Stops it with `stop` and waits until the process is gone (off the async runtime).
    async fn halt(&mut self, stop: Stop) {
        if let Some(mut child) = self.child.take() {
            tokio::task::spawn_blocking(move || {
                match stop {
                    Stop::Kill => {
                        child.kill().ok();
                    }
                    Stop::Term => {
                        Command::new("kill")
                            .arg(child.id().to_string())
                            .status()
                            .ok();
                    }
                }
                child.wait().ok();
            })
            .await
            .ok();
        }
    }
}

async fn wait_ready(http: &reqwest::Client, base: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Collects what failed, so the run goes on and reports every check.
#[derive(Default)]
struct Checks {
    failed: Vec<String>,
}

impl Checks {
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        let what = what.into();
        println!("- [{}] {what}", if ok { "x" } else { " " });
        if !ok {
            self.failed.push(what);
        }
    }
}

async fn gql(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    vars: Value,
) -> (u16, Value) {
    let mut req = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Signs in, changing a one-time password first; the session token.
async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
    new: &str,
) -> String {
    let (_, body) = gql(
        http,
        base,
        None,
        "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token restriction } }",
        json!({ "l": login, "p": password }),
    )
    .await;
    let token = body["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login: {body}"));
    if body["data"]["login"]["restriction"] != "PASSWORD_CHANGE" {
        return token.to_owned();
    }
    let (_, body) = gql(
        http,
        base,
        Some(token),
        "mutation($o: String!, $n: String!) { changePassword(currentPassword: $o, newPassword: $n) { token } }",
        json!({ "o": password, "n": new }),
    )
    .await;
    body["data"]["changePassword"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("changePassword: {body}"))
        .to_owned()
}

/// One request of the load.
struct Sample {
    start: Instant,
    end: Instant,
    ok: bool,
    write: bool,
    served_by: String,
    what: String,
}

struct Load {
    samples: Vec<Sample>,
    acknowledged: Vec<String>,
    elapsed: Duration,
}

impl Load {
    fn ok(&self) -> usize {
        self.samples.iter().filter(|s| s.ok).count()
    }

    fn failures(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(|s| !s.ok)
    }

    fn per_second(&self) -> f64 {
        self.ok() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        let mut ms: Vec<f64> = self
            .samples
            .iter()
            .filter(|s| s.ok)
            .map(|s| (s.end - s.start).as_secs_f64() * 1000.0)
            .collect();
        if ms.is_empty() {
            return f64::NAN;
        }
        ms.sort_by(f64::total_cmp);
        ms[((ms.len() - 1) as f64 * p).round() as usize]
    }

    fn row(&self, label: &str) -> String {
        format!(
            "| {label} | {:.0} req/s | {:.1} ms | {:.1} ms | {} | {} |",
            self.per_second(),
            self.percentile_ms(0.5),
            self.percentile_ms(0.99),
            self.samples.iter().filter(|s| s.ok && s.write).count(),
            self.samples.len() - self.ok(),
        )
    }
}

/// `clients` clients send requests back to back for `secs` through `base`: one in
/// `write_every` creates a team, the others read a page of teams.
async fn load(
    base: &str,
    token: &str,
    clients: usize,
    secs: f64,
    write_every: usize,
    tag: &str,
) -> Load {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let mut workers = Vec::new();
    for worker in 0..clients {
        let (http, base, token, tag) = (
            http.clone(),
            base.to_owned(),
            token.to_owned(),
            tag.to_owned(),
        );
        workers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut acknowledged = Vec::new();
            let mut n = 0usize;
            while Instant::now() < until {
                n += 1;
                let write = (n + worker).is_multiple_of(write_every);
                let body = if write {
                    json!({
                        "query": "mutation Write($n: String!) { createTeam(input: { name: $n }) { id } }",
                        "variables": { "n": format!("{tag} {worker}-{n}") },
                    })
                } else {
                    json!({ "query": "query Read { teams(first: 10) { totalCount nodes { id name } } }" })
                };
                let start = Instant::now();
                let result = http
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                let (ok, served_by, what, id) = match result {
                    Err(e) => {
                        let mut what = format!("transport: {e}");
                        let mut source = std::error::Error::source(&e);
                        while let Some(cause) = source {
                            what.push_str(&format!(": {cause}"));
                            source = cause.source();
                        }
                        (false, "?".to_owned(), what, None)
                    }
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let served_by = resp
                            .headers()
                            .get("x-served-by")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("?")
                            .to_owned();
                        let body: Value = resp.json().await.unwrap_or(Value::Null);
                        let ok = status == 200 && body.get("errors").is_none() && body["data"].is_object();
                        let id = body["data"]["createTeam"]["id"].as_str().map(str::to_owned);
                        (ok, served_by, format!("HTTP {status} {body}"), id)
                    }
                };
                if ok && let Some(id) = id {
                    acknowledged.push(id);
                }
                samples.push(Sample { start, end: Instant::now(), ok, write, served_by, what });
            }
            (samples, acknowledged)
        }));
    }
    let mut result = Load {
        samples: Vec::new(),
        acknowledged: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for worker in workers {
        let (samples, acknowledged) = worker.await.unwrap();
        result.samples.extend(samples);
        result.acknowledged.extend(acknowledged);
    }
    result.elapsed = started.elapsed();
    result
}

/// The acknowledged ids `nodes` does not return (read through the balancer, 100 at a time).
async fn missing(http: &reqwest::Client, base: &str, token: &str, ids: &[String]) -> Vec<String> {
    let mut missing = Vec::new();
    for chunk in ids.chunks(100) {
        let (status, body) = gql(
            http,
            base,
            Some(token),
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": chunk }),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let found = body["data"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (i, id) in chunk.iter().enumerate() {
            if found.get(i).is_none_or(|n| n["id"] != json!(id)) {
                missing.push(id.clone());
            }
        }
    }
    missing
}

/// `{ me { id } }` with `token` on each replica: the HTTP statuses.
async fn me_everywhere(http: &reqwest::Client, replicas: &[String], token: &str) -> Vec<u16> {
    let mut statuses = Vec::new();
    for base in replicas {
        statuses.push(
            gql(http, base, Some(token), "{ me { id } }", json!({}))
                .await
                .0,
        );
    }
    statuses
}

fn hidden_inputs(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.strip_prefix(" value=\"")?.split_once('"')?.0;
            let value = value
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            Some((name.to_owned(), value))
        })
        .collect()
}

/// The authorization code flow through the balancer, as a browser and an app would (each
/// page may be answered by another replica): the app's tokens.
async fn authorize(
    base: &str,
    client_id: &str,
    secret: &str,
    login: &str,
    password: &str,
) -> Value {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = format!("verifier-{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let challenge = admin_center::service::grant::s256(&verifier);
    let page = browser
        .get(format!("{base}/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "teams:read"),
            ("state", "replicas"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "sign-in page");
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // Each page's hidden fields, posted back with what the user adds.
    let post = async |page: reqwest::Response, add: &[(&str, &str)]| {
        let mut form = hidden_inputs(&page.text().await.unwrap());
        form.extend(add.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        browser
            .post(format!("{base}/oauth/authorize"))
            .header("cookie", &cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    };
    let consent = post(page, &[("login", login), ("password", password)]).await;
    assert_eq!(consent.status(), 200, "consent page");
    let back = post(consent, &[("decision", "allow")]).await;
    assert_eq!(back.status(), 303, "redirect back with a code");
    let location = back.headers()["location"].to_str().unwrap();
    let code = location
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap()
        .to_owned();
    browser
        .post(format!("{base}/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

fn haproxy_config(one: u16, all: u16, replicas: &[Replica]) -> String {
    let servers = |names: &[&Replica]| {
        names
            .iter()
            .map(|r| format!("  server {} 127.0.0.1:{}\n", r.name, r.port))
            .collect::<String>()
    };
    format!(
        "global
  maxconn 4096
  log stdout format raw local0
defaults
  mode http
  log global
  option httplog
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  # A connection refused by a dead replica is retried on another one (never a request
  # that reached a replica: a write is not replayed).
  retries 3
  option redispatch 1
  # A new connection to the replica per request: a request sent after a replica died then
  # meets a refused connection, which is retried elsewhere, instead of a dead kept-alive one
  # (a 502, as the request may have reached it).
  option http-server-close
  option httpchk GET /readyz
  http-check expect status 200
  default-server check inter 500ms fall 2 rise 2
frontend one
  bind 127.0.0.1:{one}
  http-after-response set-header x-served-by %s
  default_backend one
frontend all
  bind 127.0.0.1:{all}
  http-after-response set-header x-served-by %s
  default_backend all
backend one
{}backend all
  balance roundrobin
{}",
        servers(&[&replicas[0]]),
        servers(&replicas.iter().collect::<Vec<_>>()),
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Stop {
    /// SIGKILL: a crash; requests in flight on it are cut.
    Kill,
    /// SIGTERM: a graceful stop; it finishes what it has.
    Term,
}

/// Load through the balancer while one replica goes away a third of the way in and is
/// started again two thirds in.
struct Outage {
    bin: PathBuf,
    database_url: String,
    public: String,
    dir: PathBuf,
    secs: f64,
    clients: usize,
    write_every: usize,
}

impl Outage {
    async fn run(
        &self,
        owner: &str,
        replica: Replica,
        stop: Stop,
        checks: &mut Checks,
    ) -> (Load, Replica) {
        let name = replica.name;
        let third = Duration::from_secs_f64(self.secs / 3.0);
        let stopper = {
            let (mut replica, bin, database_url, public, dir) = (
                replica,
                self.bin.clone(),
                self.database_url.clone(),
                self.public.clone(),
                self.dir.clone(),
            );
            tokio::spawn(async move {
                tokio::time::sleep(third).await;
                let signalled = Instant::now();
                replica.halt(stop).await;
                let gone = Instant::now();
                tokio::time::sleep(third).await;
                let restarted = Instant::now();
                replica.start(&bin, &database_url, &public, &dir);
                let ready = wait_ready(
                    &reqwest::Client::new(),
                    &replica.url(),
                    Duration::from_secs(30),
                )
                .await;
                (
                    replica,
                    signalled,
                    gone,
                    restarted,
                    ready.then(Instant::now),
                )
            })
        };
        let run = load(
            &self.public,
            owner,
            self.clients,
            self.secs,
            self.write_every,
            name,
        )
        .await;
        let (replica, signalled, gone, restarted, ready) = stopper.await.unwrap();
        let at = |t: Instant| {
            if t >= signalled {
                format!("+{:.0} ms", (t - signalled).as_secs_f64() * 1000.0)
            } else {
                format!("-{:.0} ms", (signalled - t).as_secs_f64() * 1000.0)
            }
        };
        let label = match stop {
            Stop::Kill => format!("3, {name} killed then restarted"),
            Stop::Term => format!("3, {name} stopped then restarted"),
        };
        println!(
            "| replicas | throughput | p50 | p99 | writes | errors |\n|---|---|---|---|---|---|"
        );
        println!("{}", run.row(&label));
        println!();
        println!(
            "{name} signalled {:.1} s into the run, gone {:.0} ms later, restarted {:.1} s after the \
             signal, ready again {}",
            third.as_secs_f64(),
            (gone - signalled).as_secs_f64() * 1000.0,
            (restarted - signalled).as_secs_f64(),
            match ready {
                Some(t) => format!(
                    "{:.0} ms after the restart",
                    (t - restarted).as_secs_f64() * 1000.0
                ),
                None => "never".to_owned(),
            }
        );
        for failure in run.failures() {
            println!(
                "  failed: {} request on {}, sent {} ended {}: {}",
                if failure.write { "write" } else { "read" },
                failure.served_by,
                at(failure.start),
                at(failure.end),
                failure.what.chars().take(300).collect::<String>()
            );
        }
        let failed = run.failures().count();
        match stop {
            Stop::Kill => {
                // A request cut by the kill has no answer (HAProxy closes the client's
                // connection) or HAProxy's 502 naming the replica; either way it was sent
                // before the process was gone and ended after the signal.
                let stray = run
                    .failures()
                    .filter(|s| {
                        let on_it = s.served_by == name || s.served_by == "?";
                        !(on_it && s.start <= gone && s.end >= signalled)
                    })
                    .count();
                checks.check(
                    stray == 0,
                    format!("only requests in flight on {name} when it was killed failed ({failed} failed, {stray} others)"),
                );
            }
            Stop::Term => checks.check(failed == 0, format!("no request failed ({failed})")),
        }
        checks.check(
            ready.is_some(),
            format!("{name} came back after its restart"),
        );
        // HAProxy takes it back after two passed health checks.
        let back = Instant::now();
        let mut again = false;
        while !again && back.elapsed() < Duration::from_secs(20) {
            let r = reqwest::get(format!("{}/readyz", self.public))
                .await
                .unwrap();
            again = r.headers().get("x-served-by").is_some_and(|v| v == name);
        }
        checks.check(
            again,
            format!(
                "the balancer sends to {name} again ({:.1} s after the run)",
                back.elapsed().as_secs_f64()
            ),
        );
        (run, replica)
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut args = Args::parse();
    // The replicas run in a temp directory: the binary's path must not be relative.
    args.bin = std::fs::canonicalize(&args.bin).expect("--bin: no such file");
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let mut checks = Checks::default();

    // A fresh database of our own, with the URL's parameters (TLS) kept.
    let admin = admin_center::db::connect(&args.pg)
        .await
        .expect("connect to --pg");
    let name = format!("replicas_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let mut url = url::Url::parse(&args.pg).unwrap();
    url.set_path(&name);
    let database_url = url.to_string();

    let (one_port, all_port) = (free_port(), free_port());
    let (one, all) = (
        format!("http://127.0.0.1:{one_port}"),
        format!("http://127.0.0.1:{all_port}"),
    );
    let mut replicas: Vec<Replica> = ["r1", "r2", "r3"]
        .into_iter()
        .map(|name| Replica {
            name,
            port: free_port(),
            child: None,
            starts: 0,
        })
        .collect();
    let direct: Vec<String> = replicas.iter().map(Replica::url).collect();

    println!("## First start of three replicas at once on an empty database\n");
    for replica in &mut replicas {
        replica.start(&args.bin, &database_url, &all, dir.path());
    }
    for replica in &replicas {
        let ready = wait_ready(&http, &replica.url(), Duration::from_secs(60)).await;
        checks.check(ready, format!("{} ready", replica.name));
    }
    let mut passwords = Vec::new();
    for replica in &replicas {
        let out =
            std::fs::read_to_string(dir.path().join(format!("{}.1.out", replica.name))).unwrap();
        passwords.extend(
            out.lines()
                .filter_map(|l| l.strip_prefix("One-time password:"))
                .map(|p| p.trim().to_owned()),
        );
    }
    checks.check(
        passwords.len() == 1,
        format!(
            "one replica printed the one-time password ({})",
            passwords.len()
        ),
    );
    let db = admin_center::db::connect(&database_url).await.unwrap();
    let accounts = count(&db, "SELECT count(*) FROM accounts").await;
    checks.check(accounts == 1, format!("exactly one account ({accounts})"));
    if !checks.failed.is_empty() {
        for replica in &mut replicas {
            replica.halt(Stop::Term).await;
        }
        eprintln!("logs in {}", dir.keep().display());
        return std::process::ExitCode::FAILURE;
    }

    let config = dir.path().join("haproxy.cfg");
    std::fs::write(&config, haproxy_config(one_port, all_port, &replicas)).unwrap();
    let mut haproxy = Command::new(&args.haproxy)
        .arg("-db")
        .arg("-f")
        .arg(&config)
        .stdout(Stdio::from(
            std::fs::File::create(dir.path().join("haproxy.log")).unwrap(),
        ))
        .stderr(Stdio::from(
            std::fs::File::create(dir.path().join("haproxy.err")).unwrap(),
        ))
        .spawn()
        .expect("start haproxy");
    assert!(
        wait_ready(&http, &one, Duration::from_secs(10)).await,
        "haproxy up"
    );
    assert!(
        wait_ready(&http, &all, Duration::from_secs(10)).await,
        "haproxy up"
    );
    // Every server of the 3-replica backend passed its health check.
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.len() < 3 && Instant::now() < deadline {
        let r = http.get(format!("{all}/readyz")).send().await.unwrap();
        seen.insert(r.headers()["x-served-by"].to_str().unwrap().to_owned());
    }

    let owner = sign_in(&http, &all, "admin", &passwords[0], NEW_PASSWORD).await;

    println!(
        "\n## Throughput through HAProxy ({} clients, 1 request in {} a write)\n",
        args.clients, args.write_every
    );
    println!("| replicas | throughput | p50 | p99 | writes | errors |\n|---|---|---|---|---|---|");
    let single = load(
        &one,
        &owner,
        args.clients,
        args.secs,
        args.write_every,
        "one",
    )
    .await;
    println!("{}", single.row("1"));
    let triple = load(
        &all,
        &owner,
        args.clients,
        args.secs,
        args.write_every,
        "all",
    )
    .await;
    println!("{}", triple.row("3"));
    println!();
    checks.check(single.failures().count() == 0, "no error with 1 replica");
    checks.check(triple.failures().count() == 0, "no error with 3 replicas");
    let spread: Vec<usize> = ["r1", "r2", "r3"]
        .iter()
        .map(|r| triple.samples.iter().filter(|s| s.served_by == *r).count())
        .collect();
    checks.check(
        spread.iter().all(|n| *n > 0),
        format!("the balancer spread the load: {spread:?}"),
    );

    let outage = Outage {
        bin: args.bin.clone(),
        database_url: database_url.clone(),
        public: all.clone(),
        dir: dir.path().to_owned(),
        secs: args.secs * 2.0,
        clients: args.clients,
        write_every: args.write_every,
    };
    println!("\n## r2 killed (SIGKILL) and restarted under load\n");
    let (killed_run, r2) = outage
        .run(&owner, replicas.remove(1), Stop::Kill, &mut checks)
        .await;
    replicas.insert(1, r2);
    println!("\n## r3 stopped (SIGTERM, as for a deploy) and restarted under load\n");
    let (stopped_run, r3) = outage
        .run(&owner, replicas.remove(2), Stop::Term, &mut checks)
        .await;
    replicas.insert(2, r3);

    let acknowledged: Vec<String> = [&single, &triple, &killed_run, &stopped_run]
        .iter()
        .flat_map(|l| l.acknowledged.iter().cloned())
        .collect();
    let lost = missing(&http, &all, &owner, &acknowledged).await;
    checks.check(
        lost.is_empty(),
        format!(
            "every acknowledged write is there: {} of {}",
            acknowledged.len() - lost.len(),
            acknowledged.len()
        ),
    );

    println!("\n## Revocation seen by every replica\n");
    let session = sign_in(&http, &direct[0], "admin", NEW_PASSWORD, NEW_PASSWORD).await;
    let before = me_everywhere(&http, &direct, &session).await;
    let (_, out) = gql(
        &http,
        &direct[1],
        Some(&session),
        "mutation { logout }",
        json!({}),
    )
    .await;
    let after = me_everywhere(&http, &direct, &session).await;
    checks.check(
        before == [200; 3] && out["data"]["logout"] == true && after == [401; 3],
        format!("a session signed in on r1, ended on r2: {before:?} before, {after:?} after on r1, r2, r3"),
    );

    let account = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM accounts",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<uuid::Uuid>(0)
        .unwrap();
    let allowed = Command::new(&args.bin)
        .args(["account", "allow-api-managers", &account.to_string()])
        .env("DATABASE_URL", &database_url)
        .env("RUST_LOG", "warn")
        .env_remove("ADMIN_CENTER_CONFIG")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(allowed.success(), "allow-api-managers");
    let (_, body) = gql(
        &http,
        &all,
        Some(&owner),
        "mutation($p: String!) { createApiManager(input: { login: \"sync-bot\", name: \"Sync bot\", email: \"bot@example.com\", password: $p }) { id } }",
        json!({ "p": "Initial-Passw0rd!" }),
    )
    .await;
    let api_manager = body["data"]["createApiManager"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    sign_in(&http, &all, "sync-bot", "Initial-Passw0rd!", API_PASSWORD).await;
    let (_, body) = gql(
        &http,
        &all,
        Some(&owner),
        "mutation($r: [String!]!) { registerDeveloperApp(input: { name: \"Replica check\", redirectUris: $r, scopes: [TEAMS_READ], confidential: true }) { app { id clientId } clientSecret } }",
        json!({ "r": [REDIRECT_URI] }),
    )
    .await;
    let app = &body["data"]["registerDeveloperApp"];
    let (app_id, client_id, secret) = (
        app["app"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}")),
        app["app"]["clientId"].as_str().unwrap(),
        app["clientSecret"].as_str().unwrap(),
    );
    let tokens = authorize(&all, client_id, secret, "sync-bot", API_PASSWORD).await;
    let access = tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"));
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let before = me_everywhere(&http, &direct, access).await;
    let (_, out) = gql(
        &http,
        &direct[2],
        Some(&owner),
        "mutation($m: ID!, $a: [ID!]!) { revokeApiManagerApplications(managerId: $m, appIds: $a) { id } }",
        json!({ "m": api_manager, "a": [app_id] }),
    )
    .await;
    let after = me_everywhere(&http, &direct, access).await;
    let refreshed: Value = http
        .post(format!("{}/oauth/token", direct[0]))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    checks.check(
        before == [200; 3] && out.get("errors").is_none() && after == [401; 3],
        format!("an app token (code flow through the balancer), revoked on r3: {before:?} before, {after:?} after on r1, r2, r3"),
    );
    checks.check(
        refreshed["error"] == "invalid_grant",
        format!(
            "its refresh token on r1 after the revocation: {}",
            refreshed["error"]
        ),
    );

    haproxy.kill().ok();
    haproxy.wait().ok();
    for replica in &mut replicas {
        replica.halt(Stop::Term).await;
    }
    db.close().await.ok();
    admin
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .ok();
    if checks.failed.is_empty() {
        println!("\nall checks passed");
        std::process::ExitCode::SUCCESS
    } else {
        println!("\nFAILED: {}", checks.failed.join("; "));
        eprintln!("logs in {}", dir.keep().display());
        std::process::ExitCode::FAILURE
    }
}
