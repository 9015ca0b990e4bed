//! Mail over real SMTP: a minimal SMTP listener on loopback receives what the server sends.

use std::sync::{Arc, Mutex};

use admin_center::config::MailTransport;
use serde_json::json;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

use crate::harness::{TestApp, find_token};

/// Accepts SMTP sessions and keeps each message's DATA. Speaks just enough of RFC 5321 for a
/// client without TLS or AUTH.
async fn smtp_listener() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test-smtp ready\r\n").await.ok();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            store.lock().unwrap().push(std::mem::take(body));
                            data = None;
                            write.write_all(b"250 queued\r\n").await.ok();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 test-smtp\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn reset_mail_goes_through_a_real_smtp_server() {
    let (port, received) = smtp_listener().await;
    let app = TestApp::with_config(|c| {
        c.mail_transport = MailTransport::Smtp(format!("smtp://127.0.0.1:{port}"));
    })
    .await;
    let (created, _) = app.signed_in_owner("Blue-Harbor-42").await;
    let (_, answer) = app
        .post_graphql(
            "mutation($l: String!) { requestPasswordReset(login: $l) }",
            json!({ "l": created.owner.login }),
        )
        .await;
    assert_eq!(answer, json!({ "data": { "requestPasswordReset": true } }));

    let started = std::time::Instant::now();
    let message = loop {
        if let Some(m) = received.lock().unwrap().first().cloned() {
            break m;
        }
        assert!(
            started.elapsed().as_secs() < 5,
            "no mail reached the SMTP server"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(
        message.contains(&format!("To: {}", created.owner.email)),
        "{message}"
    );
    assert!(message.contains("Subject: Reset your admin-center password"));
    let unfolded = message.replace("=\n", "");
    let token = find_token(&unfolded, "acpr_").expect("token in the mail");
    let (_, reset) = app
        .post_graphql(
            "mutation($t: String!) { resetPassword(token: $t, newPassword: \"Via-Smtp-2026\") }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(reset, json!({ "data": { "resetPassword": true } }));
}
