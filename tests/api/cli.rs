//! The operator CLI, run as the real binary.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use admin_center::auth::password;
use entity::{account, manager};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::harness::{IdKind, TestApp, USER_PASSWORD, error_code, fresh_database_url, gid};

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

/// What a `--json` command printed: it succeeded and printed exactly one JSON object.
fn json_object(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(output);
    assert_eq!(
        text.trim_end().lines().count(),
        1,
        "exactly one JSON object: {text}"
    );
    serde_json::from_str(&text).unwrap()
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
    // Byte for byte, so `schema > schema.graphql` (as the README says) leaves a file the
    // schema test accepts.
    assert_eq!(stdout(&output), on_disk);
    assert_eq!(stdout(&output), admin_center::graphql::sdl());
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
    let object = json_object(&output);
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

/// Starts `serve` on `host:PORT` (a free port), stdout to `dir/run_name.out`, stderr to
/// `dir/run_name.err`; returns the process and the port.
fn spawn_serve(url: &str, dir: &Path, run_name: &str, host: &str) -> (Child, u16) {
    spawn_serve_with(url, dir, run_name, host, &[])
}

/// [`spawn_serve`] with more environment variables.
fn spawn_serve_with(
    url: &str,
    dir: &Path,
    run_name: &str,
    host: &str,
    env: &[(&str, &str)],
) -> (Child, u16) {
    let port = free_port();
    let out = std::fs::File::create(dir.join(format!("{run_name}.out"))).unwrap();
    let err = std::fs::File::create(dir.join(format!("{run_name}.err"))).unwrap();
    let child = Command::new(BIN)
        .envs(env.iter().copied())
        .env("DATABASE_URL", url)
        .env("BIND", format!("{host}:{port}"))
        .env("RUST_LOG", "warn")
        .env("WORKERS", "1")
        .env_remove("ADMIN_CENTER_CONFIG")
        .current_dir(dir)
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap();
    (child, port)
}

/// Waits up to 60 s for /readyz 200 on 127.0.0.1:`port`, or for `child` to exit; then stops
/// it. Whether it became ready, what it printed on stdout, and on stderr.
async fn ready_then_stop(
    mut child: Child,
    port: u16,
    dir: &Path,
    run_name: &str,
) -> (bool, String, String) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let ready = loop {
        let ok = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        let exited = child.try_wait().unwrap().is_some();
        if ok || exited || started.elapsed() > Duration::from_secs(60) {
            break ok;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    child.kill().ok();
    child.wait().ok();
    let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{run_name}.{ext}"))).unwrap();
    (ready, read("out"), read("err"))
}

/// Starts `serve`, waits for /readyz 200, stops it, and returns what it printed on stdout.
async fn serve_until_ready(url: &str, dir: &Path, run_name: &str) -> String {
    let (child, port) = spawn_serve(url, dir, run_name, "127.0.0.1");
    let (ready, out, err) = ready_then_stop(child, port, dir, run_name).await;
    assert!(ready, "server never became ready: {err}");
    out
}

/// The one-time password a `serve` or `account create` printed, from its human-readable text.
fn printed_password(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("One-time password:"))
        .map(|p| p.trim().to_owned())
}

async fn account_count(url: &str) -> u64 {
    use sea_orm::PaginatorTrait;
    let db = admin_center::db::connect(url).await.unwrap();
    admin_center::db::migrate(&db).await.unwrap();
    let count = account::Entity::find().count(&db).await.unwrap();
    db.close().await.ok();
    count
}

#[tokio::test]
async fn first_serve_prints_the_first_credentials_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let first = serve_until_ready(&url, dir.path(), "first").await;
    assert!(first.contains("Company manager login: admin"), "{first}");
    let one_time = printed_password(&first).expect("password printed");

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

#[tokio::test]
async fn serve_on_an_address_in_use_fails_before_creating_the_first_account() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let output = Command::new(BIN)
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("BIND", &bind)
        .env("RUST_LOG", "warn")
        .env_remove("ADMIN_CENTER_CONFIG")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {bind}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("--bind"),
        "says how to choose another: {stderr}"
    );
    assert!(printed_password(&stdout(&output)).is_none());
    assert_eq!(
        account_count(&url).await,
        0,
        "the next start must still find an empty database and print a password"
    );
    drop(taken);
    let next = serve_until_ready(&url, dir.path(), "next").await;
    assert!(printed_password(&next).is_some(), "{next}");
}

#[tokio::test]
async fn bind_takes_a_host_name() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let (child, port) = spawn_serve(&url, dir.path(), "named", "localhost");
    let (ready, _, err) = ready_then_stop(child, port, dir.path(), "named").await;
    assert!(ready, "localhost:{port} is served on 127.0.0.1: {err}");
}

#[tokio::test]
async fn three_servers_started_together_on_an_empty_database_create_one_account() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let started: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|name| (name, spawn_serve(&url, dir.path(), name, "127.0.0.1")))
        .collect();
    let mut passwords = Vec::new();
    for (name, (child, port)) in started {
        let (ready, out, err) = ready_then_stop(child, port, dir.path(), name).await;
        assert!(ready, "replica {name} did not come up: {err}");
        passwords.extend(printed_password(&out));
    }
    assert_eq!(passwords.len(), 1, "one replica prints the password");
    assert_eq!(account_count(&url).await, 1);
    let db = admin_center::db::connect(&url).await.unwrap();
    let admin = manager::Entity::find().one(&db).await.unwrap().unwrap();
    assert!(
        password::verify(passwords.remove(0), admin.password_hash)
            .await
            .unwrap(),
        "the printed password is the stored one"
    );
}

/// `migrate` with `url`: it fails, and what it printed on stderr.
fn failing_migrate(url: &str, dir: &Path) -> String {
    let output = Command::new(BIN)
        .arg("migrate")
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "off")
        .env_remove("ADMIN_CENTER_CONFIG")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn sqlite_that_cannot_open_its_file_names_it_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = dir.path().join("no-such-dir");
    let in_missing = missing_dir.join("admin.db");
    let stderr = failing_migrate(
        &format!("sqlite://{}?mode=rwc", in_missing.display()),
        dir.path(),
    );
    assert!(
        stderr.contains(&in_missing.display().to_string()),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "the directory {} does not exist",
            missing_dir.display()
        )),
        "{stderr}"
    );

    let absent = dir.path().join("absent.db");
    let stderr = failing_migrate(&format!("sqlite://{}", absent.display()), dir.path());
    assert!(stderr.contains(&absent.display().to_string()), "{stderr}");
    assert!(stderr.contains("?mode=rwc"), "{stderr}");
}

#[test]
fn postgres_refusing_connections_is_named_not_a_pool_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let stderr = failing_migrate(
        &format!("postgres://nobody:secret@127.0.0.1:{port}/none"),
        dir.path(),
    );
    assert!(
        stderr.contains(&format!("cannot connect to PostgreSQL at 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("connection refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("pool timed out"), "{stderr}");
    assert!(!stderr.contains("secret"), "{stderr}");
}

#[tokio::test]
async fn operator_resets_a_managers_password_and_ends_its_sessions() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let url = app.state.config.database_url.clone();
    let output = run(
        &url,
        &[
            "manager",
            "reset-password",
            &created.owner.login.to_uppercase(),
            "--json",
        ],
    );
    let object = json_object(&output);
    let keys: Vec<_> = object.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["accountId", "login", "managerId", "password"]);
    assert_eq!(object["login"], json!(created.owner.login));
    let one_time = object["password"].as_str().unwrap().to_owned();
    assert!(!String::from_utf8_lossy(&output.stderr).contains(&one_time));

    // The session held before the reset is over.
    let (status, body) = owner.post("{ me { login } }", json!({})).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    // The old password no longer works; the new one signs in, restricted to changing it.
    let old = app.login(&created.owner.login, USER_PASSWORD).await;
    assert_eq!(error_code(&old), Some("UNAUTHENTICATED"), "{old}");
    let signed = app.login(&created.owner.login, &one_time).await;
    assert_eq!(
        signed["data"]["login"]["restriction"], "PASSWORD_CHANGE",
        "{signed}"
    );
    let restricted = signed["data"]["login"]["token"].as_str().unwrap();
    let (_, changed) = app
        .post_graphql_as(
            restricted,
            "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token restriction } }",
            json!({ "c": one_time, "n": "Quiet-Meadow-77" }),
        )
        .await;
    assert_eq!(
        changed["data"]["changePassword"]["restriction"], "NONE",
        "{changed}"
    );
    let token = changed["data"]["changePassword"]["token"].as_str().unwrap();

    // The audit log names the operator, and holds no secret.
    let (_, audit) = app
        .post_graphql_as(
            token,
            "{ auditEvents(action: RESET_PASSWORD_BY_OPERATOR, first: 5) { nodes { actorId actorLogin targetType targetId before after } } }",
            json!({}),
        )
        .await;
    let nodes = audit["data"]["auditEvents"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{audit}");
    assert_eq!(nodes[0]["actorId"], Value::Null);
    assert_eq!(nodes[0]["actorLogin"], "operator");
    assert_eq!(nodes[0]["targetType"], "MANAGER");
    assert_eq!(
        nodes[0]["targetId"],
        json!(gid(IdKind::Manager, created.owner.id))
    );
    assert!(!audit.to_string().contains(&one_time));
}

#[tokio::test]
async fn operator_reset_of_an_unknown_login_fails_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    for args in [
        &["manager", "reset-password", "nobody-here"][..],
        &["manager", "reset-password", "nobody-here", "--json"][..],
    ] {
        let output = run(&url, args);
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("no manager has the login `nobody-here`"),
            "{stderr}"
        );
        assert!(stdout(&output).is_empty());
    }
}

/// Waits up to 60 s for /readyz 200 on 127.0.0.1:`port`.
async fn until_ready(client: &reqwest::Client, port: u16) {
    let started = Instant::now();
    while client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .map_or(true, |r| r.status() != 200)
    {
        assert!(started.elapsed() < Duration::from_secs(60), "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits up to `within` for `child` to exit; how long it took.
async fn exits_within(child: &mut Child, within: Duration) -> Duration {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < within, "still running after {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .args(["-s", name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[tokio::test]
async fn sigterm_with_a_drain_time_reports_not_ready_while_it_still_serves_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let (mut child, port) = spawn_serve_with(
        &url,
        dir.path(),
        "drain",
        "127.0.0.1",
        &[("SHUTDOWN_DRAIN_SECONDS", "3")],
    );
    let client = reqwest::Client::new();
    until_ready(&client, port).await;

    signal(&child, "TERM");
    let signalled = Instant::now();
    let readyz = loop {
        let r = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            break r.json::<Value>().await.unwrap();
        }
        assert!(signalled.elapsed() < Duration::from_secs(2), "still ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(readyz["status"], "draining");
    // A load balancer still sending (it has not seen the 503 yet) is served.
    let answer = client
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(
        child.try_wait().unwrap().is_none(),
        "stopped before its drain time"
    );

    exits_within(&mut child, Duration::from_secs(15)).await;
    let drained = signalled.elapsed();
    assert!(drained >= Duration::from_millis(2900), "{drained:?}");
}

#[tokio::test]
async fn ctrl_c_stops_at_once_even_with_a_drain_time() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let (mut child, port) = spawn_serve_with(
        &url,
        dir.path(),
        "interrupt",
        "127.0.0.1",
        &[("SHUTDOWN_DRAIN_SECONDS", "300")],
    );
    until_ready(&reqwest::Client::new(), port).await;
    signal(&child, "INT");
    exits_within(&mut child, Duration::from_secs(15)).await;
}
