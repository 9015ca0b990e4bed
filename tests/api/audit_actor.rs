//! The audit log names a manager as the actor only of what that manager did: failed sign-ins
//! and password resets come from an anonymous caller, with the manager as their target.

use admin_center::config::MailTransport;
use serde_json::{Value, json};

use crate::harness::{TestApp, find_token, outbox};

const PASSWORD: &str = "Blue-Harbor-42";

/// The newest audit event with `action`, waiting up to 5 s (some are written in the
/// background, off the response path).
async fn newest(app: &TestApp, token: &str, action: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let (_, body) = app
            .post_graphql_as(
                token,
                "query($a: AuditAction!) { auditEvents(action: $a, first: 1) { nodes { actorId actorLogin targetType targetId } } }",
                json!({ "a": crate::harness::enum_value(action) }),
            )
            .await;
        let node = &body["data"]["auditEvents"]["nodes"][0];
        if !node.is_null() {
            return node.clone();
        }
        assert!(started.elapsed().as_secs() < 5, "no {action} event: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn anonymous_callers_are_never_recorded_as_the_manager() {
    let mail_dir = tempfile::tempdir().unwrap();
    let dir = mail_dir.path().to_owned();
    let app = TestApp::with_config(|c| c.mail_transport = MailTransport::File(dir.clone())).await;
    let (created, _) = app.signed_in_owner(PASSWORD).await;
    let login = created.owner.login.as_str();

    app.login(login, "Wrong-Password-1").await;
    app.post_graphql(
        "mutation($l: String!) { requestPasswordReset(login: $l) }",
        json!({ "l": login }),
    )
    .await;
    let mails = outbox(&dir, 1).await;
    let reset = find_token(mails.last().unwrap(), "acpr_").expect("a reset token");
    let (_, done) = app
        .post_graphql(
            "mutation($t: String!) { resetPassword(token: $t, newPassword: \"Fresh-Start-58\") }",
            json!({ "t": reset }),
        )
        .await;
    assert_eq!(done, json!({ "data": { "resetPassword": true } }));

    let signed = app.login(login, "Fresh-Start-58").await;
    let token = signed["data"]["login"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = crate::harness::gid(crate::harness::IdKind::Manager, created.owner.id);
    for action in ["loginFailed", "requestPasswordReset", "resetPassword"] {
        assert_eq!(
            newest(&app, &token, action).await,
            json!({ "actorId": null, "actorLogin": "anonymous", "targetType": "MANAGER", "targetId": owner }),
            "{action}"
        );
    }
    // What the manager did itself is still the manager's.
    assert_eq!(newest(&app, &token, "login").await["actorId"], json!(owner));
}
