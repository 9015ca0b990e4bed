//! Does a cheap authenticated query keep its latency while sign-ins run at full load?
//!
//! Runs the real server (same routes as `serve`) on loopback over a temp SQLite file (or
//! `BENCH_DATABASE_URL`), then measures `{ me { id } }` with a session token: first alone,
//! then while `SIGNERS` clients sign in back to back. Done twice: with the default number of
//! low-priority hashing threads (cores - 1) and with 64 of them, to show what the bound buys.
//!
//!     cargo bench --bench signin_load
//!
//! Environment: `QUERIES` (default 2000), `SIGNERS` (default 16), `BENCH_DATABASE_URL`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    net::TcpListener,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use admin_center::{
    auth::password::Hasher,
    clock::{Clock, SystemClock},
    config::Config,
    db, graphql, http,
    service::account::{self, NewAccount},
    state::AppState,
};
use entity::manager;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

const PASSWORD: &str = "Bench-Password-1";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Run {
    base: String,
    client: reqwest::Client,
    logins: Vec<String>,
}

impl Run {
    async fn login(&self, login: &str) -> Option<String> {
        let body: Value = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({
                "query": "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }",
                "variables": { "l": login, "p": PASSWORD }
            }))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        body["data"]["login"]["token"].as_str().map(str::to_owned)
    }

    async fn cheap_queries(&self, token: &str, n: usize) -> Vec<Duration> {
        let mut latencies = Vec::with_capacity(n);
        for _ in 0..n {
            let started = Instant::now();
            let response = self
                .client
                .post(format!("{}/graphql", self.base))
                .bearer_auth(token)
                .json(&json!({ "query": "{ me { id } }" }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let _ = response.bytes().await.unwrap();
            latencies.push(started.elapsed());
        }
        latencies.sort();
        latencies
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

async fn scenario(hash_concurrency: Option<usize>, label: &str) {
    let queries = env_usize("QUERIES", 2000);
    let signers = env_usize("SIGNERS", 16);
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()));
    let conn = db::connect(&url).await.unwrap();
    db::migrate(&conn).await.unwrap();
    let config = Config {
        database_url: url,
        password_hash_concurrency: hash_concurrency,
        ..Config::default()
    };
    let state = AppState::new(conn, config).await.unwrap();

    // One account; `signers + 1` managers with a known password and no forced change.
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let created = account::create(
        &state.db,
        SystemClock.now(),
        NewAccount {
            name: "Bench".into(),
            owner_login: format!("bench-{}", &suffix[..8]),
            owner_name: "Bench".into(),
            owner_email: "bench@example.com".into(),
            allow_api_managers: false,
        },
    )
    .await
    .unwrap();
    let hash = admin_center::auth::password::hash(PASSWORD.into())
        .await
        .unwrap();
    let mut logins = Vec::new();
    for i in 0..=signers {
        let mut row = created.owner.clone();
        row.id = uuid::Uuid::now_v7();
        row.login = format!("signer-{i}-{}", &suffix[..8]);
        row.login_key = row.login.clone();
        row.email = format!("signer-{i}@example.com");
        row.password_hash = hash.clone();
        row.force_password_change = false;
        manager::Entity::insert(manager::ActiveModel::from(row.clone()))
            .exec_without_returning(&state.db)
            .await
            .unwrap();
        logins.push(row.login);
    }

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let schema = graphql::schema(state.clone());
    let server = http::server(state.clone(), schema, listener).unwrap();
    let handle = server.handle();
    tokio::spawn(server);

    let run = Arc::new(Run {
        base,
        client: reqwest::Client::new(),
        logins,
    });
    let reader = run.login(&run.logins[0]).await.expect("reader signs in");
    run.cheap_queries(&reader, 200).await; // warm-up
    let alone = run.cheap_queries(&reader, queries).await;

    let stop = Arc::new(AtomicBool::new(false));
    let signed_in = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 1..=signers {
        let (run, stop, signed_in) = (run.clone(), stop.clone(), signed_in.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if run.login(&run.logins[i]).await.is_some() {
                    signed_in.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await; // let the load build up
    let load_started = Instant::now();
    let before = signed_in.load(Ordering::Relaxed);
    let loaded = run.cheap_queries(&reader, queries).await;
    let sign_ins = signed_in.load(Ordering::Relaxed) - before;
    let elapsed = load_started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.ok();
    }
    handle.stop(true).await;

    let (a50, a99) = (percentile(&alone, 0.50), percentile(&alone, 0.99));
    let (l50, l99) = (percentile(&loaded, 0.50), percentile(&loaded, 0.99));
    println!("{label}");
    println!(
        "  cheap query alone:          p50 {a50:.2} ms   p99 {a99:.2} ms   ({queries} requests)"
    );
    println!("  under sign-in load:         p50 {l50:.2} ms   p99 {l99:.2} ms");
    println!(
        "  sign-ins meanwhile:         {sign_ins} in {elapsed:.1} s = {:.1}/s by {signers} clients",
        sign_ins as f64 / elapsed
    );
    println!("  p99 under load / alone:     {:.2}x", l99 / a99);
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "cores: {}",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        scenario(
            None,
            &format!(
                "hash concurrency bounded (default: {})",
                Hasher::default_parallelism()
            ),
        )
        .await;
        scenario(Some(64), "64 hashing threads (no real bound)").await;
    });
}
