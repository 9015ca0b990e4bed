//! Sign-in throttling as clients behind a dual-stack listener or a proxy see it: every IPv4
//! client is its own address, and a burst of guesses from one address cannot lock the owner
//! out elsewhere.

use serde_json::json;

use crate::harness::{TestApp, error_code};

const PASSWORD: &str = "Blue-Harbor-42";

#[tokio::test]
async fn ipv4_mapped_clients_are_throttled_and_audited_as_their_own_ipv4_address() {
    let app = TestApp::with_config(|c| c.trust_proxy = true).await;
    let (created, _) = app.signed_in_owner(PASSWORD).await;
    let login = created.owner.login.as_str();
    // What a dual-stack (`[::]`) listener reports for two different IPv4 clients.
    let (guesser, owner) = ("::ffff:203.0.113.9", "::ffff:203.0.113.10");
    for _ in 0..5 {
        let (_, body) = app.login_from(guesser, login, "Wrong-Password-1").await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    }
    let (status, _) = app.login_from(guesser, login, PASSWORD).await;
    assert_eq!(status, 429, "the guessing client is blocked for this login");

    let (status, body) = app.login_from(owner, login, PASSWORD).await;
    assert_eq!(status, 200, "another IPv4 client is not: {body}");
    assert_eq!(body["data"]["login"]["restriction"], "NONE");

    // The audit log shows the plain IPv4 address.
    let token = body["data"]["login"]["token"].as_str().unwrap();
    let (_, events) = app
        .post_graphql_as(
            token,
            "{ auditEvents(action: LOGIN, first: 1) { nodes { clientAddress } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        events["data"]["auditEvents"]["nodes"][0]["clientAddress"], "203.0.113.10",
        "{events}"
    );
}

#[tokio::test]
async fn a_burst_of_guesses_from_one_address_does_not_lock_the_owner_out_elsewhere() {
    let app = TestApp::with_config(|c| c.trust_proxy = true).await;
    let (created, _) = app.signed_in_owner(PASSWORD).await;
    let login = created.owner.login.clone();
    let guesses = (0..20).map(|i| {
        let (app, login) = (&app, login.clone());
        async move {
            app.login_from("203.0.113.7", &login, &format!("Wrong-Password-{i}"))
                .await
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let codes: Vec<&str> = answers
        .iter()
        .map(|(_, body)| error_code(body).unwrap_or("none"))
        .collect();
    assert!(
        codes
            .iter()
            .all(|c| *c == "UNAUTHENTICATED" || *c == "RATE_LIMITED"),
        "{codes:?}"
    );
    assert!(
        codes.iter().filter(|c| **c == "UNAUTHENTICATED").count() <= 5,
        "at most 5 passwords checked for the pair: {codes:?}"
    );

    let (status, body) = app.login_from("198.51.100.2", &login, PASSWORD).await;
    assert_eq!(status, 200, "the owner elsewhere is not locked out: {body}");
    assert_eq!(body["data"]["login"]["restriction"], "NONE");
}
