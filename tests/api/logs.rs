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
