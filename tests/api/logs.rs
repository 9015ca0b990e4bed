//! What the server writes to its log, as an operator reads it from a file.

use std::{
    net::TcpListener,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_admin-center");

/// The real server on its default SQLite database in a fresh directory, its stdout and its
/// log (stderr) written to files, as an operator would run it. Stopped when dropped.
struct Server {
    port: u16,
    out: std::path::PathBuf,
    log: std::path::PathBuf,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start(log_format: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (out, log) = (dir.path().join("server.out"), dir.path().join("server.log"));
        let child = Command::new(BIN)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .env("LOG_FORMAT", log_format)
            .env("WORKERS", "1")
            .env_remove("NO_COLOR")
            .env_remove("DATABASE_URL")
            .env_remove("ADMIN_CENTER_CONFIG")
            .current_dir(dir.path())
            .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        Server {
            port,
            out,
            log,
            child,
            _dir: dir,
        }
    }

    /// The text of `file` once it contains `needle` (or after 30 s, whatever it holds).
    async fn wait_for(file: &std::path::Path, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            if text.contains(needle) || started.elapsed() > Duration::from_secs(30) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[tokio::test]
async fn a_log_written_to_a_file_carries_no_colour_codes() {
    let server = Server::start("text");
    // The start-up warning about the log mail transport is the first line at warn level.
    let log = Server::wait_for(&server.log, "MAIL_TRANSPORT").await;
    assert!(log.contains("MAIL_TRANSPORT"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file: {log:?}"
    );
}

#[tokio::test]
async fn request_lines_name_the_graphql_operation_and_the_caller_never_the_token() {
    let server = Server::start("json");
    let out = Server::wait_for(&server.out, "One-time password:").await;
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("One-time password:"))
        .unwrap_or_else(|| panic!("no password: {out}"))
        .trim()
        .to_owned();
    let port = server.port;
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
    let log = Server::wait_for(&server.log, "WhoAmI").await;
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
