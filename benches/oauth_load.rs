//! OAuth under load: the token endpoint's refresh grant, and what an app token costs a
//! request compared with a session token.
//!
//! Runs the real server (same routes as `serve`) on loopback over a temp SQLite file (or
//! `BENCH_DATABASE_URL` for PostgreSQL). Set-up goes through the services (an API manager's
//! consent gives the codes); everything measured goes over HTTP:
//!
//! 1. Refresh throughput: `CLIENTS` clients, each with its own token family, refresh back to
//!    back for `SECONDS` (each refresh rotates the token, so every request writes).
//! 2. `{ me { id } }` with a company manager's session token and with an API manager's app
//!    token, `CLIENTS` concurrent clients, in alternating rounds of `SECONDS` each (`ROUNDS`
//!    of each), so both see the same machine.
//!
//! ```sh
//! cargo bench --bench oauth_load
//! BENCH_DATABASE_URL=postgres://… cargo bench --bench oauth_load
//! ```
//!
//! Environment: `CLIENTS` (default 16), `SECONDS` (default 5), `ROUNDS` (default 3).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    net::TcpListener,
    sync::Arc,
    time::{Duration, Instant},
};

use admin_center::{
    auth::{ClientInfo, password, scope::ScopeSet},
    clock::{Clock, SystemClock},
    config::Config,
    db, graphql, http,
    service::{
        account::{self, NewAccount},
        authorization,
        developer_app::{self, NewApp},
        grant,
    },
    state::AppState,
};
use entity::manager::{self, ManagerKind};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

const PASSWORD: &str = "Bench-Password-1";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

struct Measured {
    requests: usize,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Measured {
    fn merge(runs: Vec<Measured>) -> Measured {
        let mut all = Measured {
            requests: 0,
            seconds: 0.0,
            latencies: Vec::new(),
        };
        for run in runs {
            all.requests += run.requests;
            all.seconds += run.seconds;
            all.latencies.extend(run.latencies);
        }
        all.latencies.sort();
        all
    }

    fn line(&self, label: &str) -> String {
        format!(
            "{label:<28} {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} requests)",
            self.requests as f64 / self.seconds,
            percentile(&self.latencies, 0.50),
            percentile(&self.latencies, 0.99),
            self.requests
        )
    }
}

/// `clients` tasks each running `step` back to back for `seconds`.
async fn load<F, Fut>(clients: usize, seconds: f64, step: F) -> Measured
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for client in 0..clients {
        let step = step.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                step(client).await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    Measured {
        requests: latencies.len(),
        seconds,
        latencies,
    }
}

async fn post_form(client: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> Value {
    let response = client.post(url).form(form).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

async fn me(client: &reqwest::Client, base: &str, token: &str) {
    let response = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["data"]["me"]["id"].is_string(), "{body}");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let clients = env_usize("CLIENTS", 16);
    let seconds = env_usize("SECONDS", 5) as f64;
    let rounds = env_usize("ROUNDS", 3);
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()));
    let database = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let conn = db::connect(&url).await.unwrap();
    db::migrate(&conn).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = Config {
        database_url: url,
        public_url: Some(base.clone()),
        ..Config::default()
    };
    let state = AppState::new(conn, config).await.unwrap();
    let now = SystemClock.now();

    // An account that allows API managers; its owner (session token) and an API manager.
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let created = account::create(
        &state.db,
        now,
        NewAccount {
            name: "Bench".into(),
            owner_login: format!("bench-{}", &suffix[..8]),
            owner_name: "Bench".into(),
            owner_email: "bench@example.com".into(),
            allow_api_managers: true,
        },
    )
    .await
    .unwrap();
    let hash = password::hash(PASSWORD.into()).await.unwrap();
    let mut owner = created.owner.clone();
    owner.password_hash = hash.clone();
    owner.force_password_change = false;
    manager::Entity::update(sea_orm::ActiveModelTrait::reset_all(
        manager::ActiveModel::from(owner.clone()),
    ))
    .exec(&state.db)
    .await
    .unwrap();
    let mut api = created.owner.clone();
    api.id = uuid::Uuid::now_v7();
    api.kind = ManagerKind::Api;
    api.login = format!("api-{}", &suffix[..8]);
    api.login_key = api.login.clone();
    api.email = "api@example.com".into();
    api.force_password_change = false;
    manager::Entity::insert(manager::ActiveModel::from(api.clone()))
        .exec_without_returning(&state.db)
        .await
        .unwrap();
    let registered = developer_app::register_platform(
        &state.db,
        now,
        NewApp {
            name: "Bench app".into(),
            description: None,
            redirect_uris: vec![REDIRECT.into()],
            scopes: ScopeSet::all(),
            confidential: true,
        },
    )
    .await
    .unwrap();
    let client_id = registered.app.client_id.clone();
    let secret = registered.client_secret.clone().unwrap();

    let schema = graphql::schema(state.clone());
    let server = http::server(state.clone(), schema, listener).unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    let http = reqwest::Client::new();

    // One token family per client: a consent, then the code exchanged over HTTP.
    let verifier = "bench-verifier-0123456789-0123456789-0123456789";
    let challenge = grant::s256(verifier);
    let mut refresh_tokens = Vec::new();
    let mut access_token = String::new();
    for _ in 0..clients {
        let code = authorization::consent(
            &state,
            &api,
            &registered.app,
            ScopeSet::all(),
            Some(REDIRECT),
            &challenge,
            &ClientInfo::default(),
        )
        .await
        .unwrap();
        let tokens = post_form(
            &http,
            &format!("{base}/oauth/token"),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
                ("client_id", &client_id),
                ("client_secret", &secret),
            ],
        )
        .await;
        refresh_tokens.push(tokio::sync::Mutex::new(
            tokens["refresh_token"].as_str().unwrap().to_owned(),
        ));
        access_token = tokens["access_token"].as_str().unwrap().to_owned();
    }
    let session: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({
            "query": "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }",
            "variables": { "l": owner.login, "p": PASSWORD }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session_token = session["data"]["login"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    println!(
        "{database}, {clients} clients, cores: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // 1. The refresh grant.
    let refresh_tokens = Arc::new(refresh_tokens);
    let refresh = {
        let (http, base, client_id, secret, refresh_tokens) = (
            http.clone(),
            base.clone(),
            client_id.clone(),
            secret.clone(),
            refresh_tokens.clone(),
        );
        move |client: usize| {
            let (http, base, client_id, secret, refresh_tokens) = (
                http.clone(),
                base.clone(),
                client_id.clone(),
                secret.clone(),
                refresh_tokens.clone(),
            );
            async move {
                let mut current = refresh_tokens[client].lock().await;
                let tokens = post_form(
                    &http,
                    &format!("{base}/oauth/token"),
                    &[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", current.as_str()),
                        ("client_id", &client_id),
                        ("client_secret", &secret),
                    ],
                )
                .await;
                *current = tokens["refresh_token"].as_str().unwrap().to_owned();
            }
        }
    };
    load(clients, 1.0, refresh.clone()).await; // warm-up
    let refreshed = load(clients, seconds * rounds as f64, refresh).await;
    println!("{}", refreshed.line("token endpoint (refresh)"));

    // 2. `{ me { id } }`, session token against app token, alternating rounds.
    let query = |token: String| {
        let (http, base) = (http.clone(), base.clone());
        move |_| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            async move { me(&http, &base, &token).await }
        }
    };
    load(clients, 1.0, query(session_token.clone())).await; // warm-up
    load(clients, 1.0, query(access_token.clone())).await;
    let mut with_session = Vec::new();
    let mut with_app = Vec::new();
    for _ in 0..rounds {
        with_session.push(load(clients, seconds, query(session_token.clone())).await);
        with_app.push(load(clients, seconds, query(access_token.clone())).await);
    }
    let (session, app) = (Measured::merge(with_session), Measured::merge(with_app));
    println!("{}", session.line("{ me { id } } session token"));
    println!("{}", app.line("{ me { id } } app token"));
    println!(
        "app token / session token:   p50 {:.2}x   p99 {:.2}x   throughput {:.2}x",
        percentile(&app.latencies, 0.5) / percentile(&session.latencies, 0.5),
        percentile(&app.latencies, 0.99) / percentile(&session.latencies, 0.99),
        (app.requests as f64 / app.seconds) / (session.requests as f64 / session.seconds),
    );
    handle.stop(true).await;
}
