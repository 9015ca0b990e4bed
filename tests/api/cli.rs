//! The operator CLI, run as the real binary.

use std::{
    net::TcpListener,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use admin_center::auth::password;
use entity::{account, manager};
use sea_orm::EntityTrait;
use serde_json::Value;

use crate::harness::fresh_database_url;

const BIN: &str = env!("CARGO_BIN_EXE_admin-center");

fn run(database_url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("ADMIN_CENTER_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run admin-center")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn schema_command_prints_exactly_schema_graphql_without_a_database() {
    let output = Command::new(BIN)
        .arg("schema")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(output.status.success());
    let on_disk =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(stdout(&output).trim_end(), on_disk.trim_end());
    // `println!` adds exactly one newline to the SDL.
    assert_eq!(stdout(&output), format!("{on_disk}\n"));
}

#[tokio::test]
async fn account_create_json_prints_one_object_with_a_working_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let output = run(
        &url,
        &[
            "account",
            "create",
            "--name",
            "Acme",
            "--owner-login",
            "Acme.Boss",
            "--owner-email",
            "boss@acme.example",
            "--allow-api-managers",
            "--json",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    assert_eq!(
        text.trim_end().lines().count(),
        1,
        "exactly one JSON object: {text}"
    );
    let object: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<_> = object.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["accountId", "ownerLogin", "ownerPassword"]);
    assert_eq!(object["ownerLogin"], "Acme.Boss");

    let db = admin_center::db::connect(&url).await.unwrap();
    let account_id: uuid::Uuid = object["accountId"].as_str().unwrap().parse().unwrap();
    let stored = account::Entity::find_by_id(account_id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.api_managers_allowed);
    let owner = manager::Entity::find().one(&db).await.unwrap().unwrap();
    let one_time = object["ownerPassword"].as_str().unwrap().to_owned();
    assert!(
        password::verify(one_time, owner.password_hash)
            .await
            .unwrap()
    );
    assert!(owner.force_password_change);
    // Secrets never reach the log stream.
    assert!(
        !String::from_utf8_lossy(&output.stderr)
            .contains(object["ownerPassword"].as_str().unwrap())
    );
}

#[tokio::test]
async fn account_create_refuses_a_taken_login_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let args = [
        "account",
        "create",
        "--name",
        "Acme",
        "--owner-login",
        "boss",
        "--owner-email",
        "boss@acme.example",
    ];
    assert!(run(&url, &args).status.success());
    let mut again = args.to_vec();
    again[5] = "BOSS";
    let output = run(&url, &again);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already taken"), "{stderr}");
    assert!(stdout(&output).is_empty());
}

#[tokio::test]
async fn allow_api_managers_turns_on_and_off() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let created = run(
        &url,
        &[
            "account",
            "create",
            "--name",
            "Acme",
            "--owner-login",
            "boss2",
            "--owner-email",
            "b@acme.example",
            "--json",
        ],
    );
    let id = serde_json::from_slice::<Value>(&created.stdout).unwrap()["accountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let on = run(&url, &["account", "allow-api-managers", &id, "--json"]);
    let on: Value = serde_json::from_slice(&on.stdout).unwrap();
    assert_eq!(on["apiManagersAllowed"], true);
    let off = run(
        &url,
        &["account", "allow-api-managers", &id, "--off", "--json"],
    );
    let off: Value = serde_json::from_slice(&off.stdout).unwrap();
    assert_eq!(off["apiManagersAllowed"], false);
    let missing = run(
        &url,
        &[
            "account",
            "allow-api-managers",
            &uuid::Uuid::now_v7().to_string(),
        ],
    );
    assert!(!missing.status.success());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `serve`, waits for /readyz 200, stops it, and returns what it printed on stdout.
async fn serve_until_ready(url: &str, dir: &std::path::Path, run_name: &str) -> String {
    let port = free_port();
    let out_path = dir.join(format!("{run_name}.out"));
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = Command::new(BIN)
        .env("DATABASE_URL", url)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .env("WORKERS", "1")
        .current_dir(dir)
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let started = Instant::now();
    let ready = loop {
        let ok = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if ok || started.elapsed() > Duration::from_secs(30) {
            break ok;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    child.kill().ok();
    child.wait().ok();
    assert!(ready, "server never became ready");
    std::fs::read_to_string(out_path).unwrap()
}

#[tokio::test]
async fn first_serve_prints_the_first_credentials_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let first = serve_until_ready(&url, dir.path(), "first").await;
    assert!(first.contains("Company manager login: admin"), "{first}");
    let password_line = first
        .lines()
        .find(|l| l.starts_with("One-time password:"))
        .expect("password printed");
    let one_time = password_line
        .trim_start_matches("One-time password:")
        .trim()
        .to_owned();

    let db = admin_center::db::connect(&url).await.unwrap();
    let admin = manager::Entity::find().one(&db).await.unwrap().unwrap();
    assert!(
        password::verify(one_time, admin.password_hash)
            .await
            .unwrap()
    );

    let second = serve_until_ready(&url, dir.path(), "second").await;
    assert!(!second.contains("One-time password"), "{second}");
}
