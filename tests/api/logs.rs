//! What the server writes to its log, as an operator reads it from a file.

use std::{
    net::TcpListener,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_admin-center");

#[test]
fn a_log_written_to_a_file_carries_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = dir.path().join("server.log");
    let mut child = Command::new(BIN)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .env("WORKERS", "1")
        .env_remove("NO_COLOR")
        .env_remove("DATABASE_URL")
        .env_remove("ADMIN_CENTER_CONFIG")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .spawn()
        .unwrap();
    // The start-up warning about the log mail transport is the first line at warn level.
    let started = Instant::now();
    let log = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("MAIL_TRANSPORT") || started.elapsed() > Duration::from_secs(30) {
            break log;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().ok();
    child.wait().ok();
    assert!(log.contains("MAIL_TRANSPORT"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file: {log:?}"
    );
}

#[tokio::test]
async fn request_lines_name_the_graphql_operation_and_the_caller_never_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out_path = dir.path().join("server.out");
    let log_path = dir.path().join("server.log");
    let mut child = Command::new(BIN)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .env("LOG_FORMAT", "json")
        .env("WORKERS", "1")
        .env_remove("DATABASE_URL")
        .env_remove("ADMIN_CENTER_CONFIG")
        .current_dir(dir.path())
        .stdout(Stdio::from(std::fs::File::create(&out_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .spawn()
        .unwrap();
    let started = Instant::now();
    let password = loop {
        let out = std::fs::read_to_string(&out_path).unwrap_or_default();
        if let Some(line) = out.lines().find(|l| l.starts_with("One-time password:")) {
            break line
                .trim_start_matches("One-time password:")
                .trim()
                .to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no password: {out}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let url = format!("http://127.0.0.1:{port}/graphql");
    let client = reqwest::Client::new();
    let signed_in: serde_json::Value = client
        .post(&url)
        .json(&serde_json::json!({
            "query": "mutation SignIn($p: String!) { login(login: \"admin\", password: $p) { token } }",
            "operationName": "SignIn",
            "variables": { "p": password },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed_in["data"]["login"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: serde_json::Value = client
        .post(&url)
        .bearer_auth(&token)
        .json(&serde_json::json!({ "query": "query WhoAmI { me { id } }", "operationName": "WhoAmI" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, manager) =
        admin_center::graphql::decode_global_id(me["data"]["me"]["id"].as_str().unwrap()).unwrap();
    // The log line is written when the response has gone: wait for it.
    let log = loop {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("WhoAmI") || started.elapsed() > Duration::from_secs(30) {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    child.kill().ok();
    child.wait().ok();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &serde_json::Value| l["message"] == "request")
        .collect();
    let find = |operation: &str| {
        lines
            .iter()
            .find(|l| l["operation"] == operation)
            .unwrap_or_else(|| panic!("no request line for {operation}: {log}"))
    };
    assert_eq!(find("SignIn")["caller"], "anonymous");
    assert_eq!(find("WhoAmI")["caller"], format!("manager:{manager}"));
    assert!(
        !log.contains(&token) && !log.contains(&password),
        "a secret in the log: {log}"
    );
}
