//! What single sign-on sends to identity providers, counted at the provider: only public
//! `https` addresses unless the operator sets `SSO_ALLOW_PRIVATE_NETWORKS` (the harness turns
//! it on for the rest of the suite; these tests turn it off), discovery once per issuer
//! however many sign-ins start at once, a failed discovery remembered for 30 seconds, the key
//! set refetched once for a rotated key and not again within a minute. And the ID tokens a
//! provider must never get accepted with: `alg: none`, HS256 under the client secret, a
//! string `email_verified`.
//!
//! Each test starts its own tests/sso/provider.mjs (run `npm ci` in tests/sso first, as
//! `.ci/run` does), so its request counts are its own.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use entity::{account_sso, manager::ManagerKind};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Browser, Provider, RETURN_TO, SECRET, Sso, VERIFIER, challenge, setup_with};
use crate::harness::{IdKind, TestApp, User, error_code, gid};

const CLIENT_ID: &str = "admin-center";
const DISCOVERY: &str = "/.well-known/openid-configuration";
const UPDATE_SSO: &str = "mutation($i: UpdateAccountSsoInput!) { updateAccountSso(input: $i) { \
    issuer enabled } }";

/// A server whose default (private networks refused) is kept.
async fn public_only() -> TestApp {
    TestApp::with_config(|config| config.sso_allow_private_networks = false).await
}

/// Sets up SSO for the owner's account with `issuer` through `updateAccountSso`.
async fn configure(owner: &User, issuer: &str) -> Value {
    owner
        .gql(
            UPDATE_SSO,
            json!({ "i": {
                "issuer": issuer, "clientId": CLIENT_ID, "clientSecret": SECRET,
                "returnToAllowList": [RETURN_TO], "enabled": true,
            }}),
        )
        .await
}

/// Stores `issuer` for the account behind the API's back: a row written while the server
/// allowed private networks, read by one that does not.
async fn store_issuer(app: &TestApp, account: Uuid, issuer: &str) {
    account_sso::Entity::update_many()
        .col_expr(
            account_sso::Column::Issuer,
            sea_orm::sea_query::Expr::value(issuer),
        )
        .filter(account_sso::Column::AccountId.eq(account))
        .exec(&app.state.db)
        .await
        .expect("store the issuer");
}

/// A start URL as a front end opens it (with its challenge).
fn start_url(app: &TestApp, account: Uuid) -> String {
    format!(
        "{}?code_challenge={}",
        app.url(&format!("/sso/{}/start", gid(IdKind::Account, account))),
        challenge(VERIFIER)
    )
}

/// A server signing in through a provider of its own (private networks allowed, as the
/// harness sets), whose request counts are this test's, and an identity of a company
/// manager there: its `sub`.
async fn own_provider_sign_in() -> (Sso, String) {
    let sso = setup_with(Provider::own(), json!({})).await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = sso.identity_for(&manager).await;
    (sso, sub)
}

#[tokio::test]
async fn update_account_sso_refuses_http_and_private_address_issuers_by_default() {
    let app = public_only().await;
    let (_, owner) = app.company_owner().await;
    for (issuer, says) in [
        ("http://127.0.0.1:9/", "https"),
        ("http://localhost:8080/realms/x", "https"),
        ("http://idp.example.com", "https"),
        ("https://127.0.0.1:9443/", "public address"),
        ("https://10.0.0.5/realms/x", "public address"),
        ("https://[::1]/", "public address"),
        ("https://169.254.169.254/", "public address"),
    ] {
        let body = configure(&owner, issuer).await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{issuer}: {body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.contains(says) && message.contains("SSO_ALLOW_PRIVATE_NETWORKS"),
            "{issuer}: {message}"
        );
    }
    // A public https issuer is fine (it is only called at sign-in).
    let body = configure(&owner, "https://idp.example.com/realms/x").await;
    assert_eq!(body["data"]["updateAccountSso"]["enabled"], true, "{body}");
}

#[tokio::test]
async fn a_stored_loopback_issuer_is_never_called_by_default() {
    let app = public_only().await;
    let provider = Provider::own();
    let (created, owner) = app.company_owner().await;
    let body = configure(&owner, "https://idp.example.com/").await;
    assert!(body["errors"].is_null(), "{body}");
    // Set while the server allowed private networks (or before this rule).
    store_issuer(&app, created.account.id, &provider.issuer).await;

    let answer = Browser::new()
        .get(&start_url(&app, created.account.id))
        .await;
    answer.refused(502, "private_address");
    assert!(
        answer.body.contains("SSO_ALLOW_PRIVATE_NETWORKS"),
        "{}",
        answer.body
    );
    assert_eq!(
        provider.all_hits().await,
        json!({}),
        "the provider got a request"
    );

    // A failed start is logged and counted, not audited (anyone can call `/start`).
    let events = owner
        .gql(
            "{ auditEvents(action: SSO_LOGIN_FAILED, first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(events["data"]["auditEvents"]["totalCount"], 0, "{events}");
}

/// A listener that counts the connections made to it (and answers none).
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((_stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (port, accepted)
}

#[tokio::test]
async fn a_name_or_address_of_this_machine_is_refused_at_connect_time_by_default() {
    let app = public_only().await;
    let (port, accepted) = counting_listener().await;
    let (created, owner) = app.company_owner().await;
    // A name passes the settings (it could resolve anywhere later); it is checked when the
    // server connects, every time.
    let issuer = format!("https://localhost:{port}/");
    let body = configure(&owner, &issuer).await;
    assert_eq!(
        body["data"]["updateAccountSso"]["issuer"],
        issuer.as_str(),
        "{body}"
    );
    let start = start_url(&app, created.account.id);
    Browser::new()
        .get(&start)
        .await
        .refused(502, "private_address");
    // An address of this machine stored as the issuer is refused before connecting too.
    for stored in [
        format!("https://127.0.0.1:{port}/"),
        format!("https://[::ffff:127.0.0.1]:{port}/"),
    ] {
        store_issuer(&app, created.account.id, &stored).await;
        Browser::new()
            .get(&start)
            .await
            .refused(502, "private_address");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "the server connected");
}

#[tokio::test]
async fn concurrent_starts_fetch_discovery_once() {
    let app = TestApp::new().await;
    let provider = Provider::own();
    let (created, owner) = app.company_owner().await;
    let body = configure(&owner, &provider.issuer).await;
    assert!(body["errors"].is_null(), "{body}");
    let start = start_url(&app, created.account.id);
    let answers = futures_util::future::join_all((0..8).map(|_| {
        let start = start.clone();
        async move { Browser::new().get(&start).await }
    }))
    .await;
    for answer in answers {
        assert_eq!(answer.status, 303, "{}", answer.body);
    }
    assert_eq!(provider.hits(DISCOVERY).await, 1);
}

#[tokio::test]
async fn a_failed_discovery_is_remembered_for_thirty_seconds() {
    let app = TestApp::new().await;
    let provider = Provider::own();
    let (created, owner) = app.company_owner().await;
    // No discovery document there: the provider answers 404.
    let issuer = format!("{}/nothing-here", provider.issuer);
    let body = configure(&owner, &issuer).await;
    assert!(body["errors"].is_null(), "{body}");
    let path = format!("/nothing-here{DISCOVERY}");
    let start = start_url(&app, created.account.id);

    Browser::new().get(&start).await.refused(502, "discovery");
    assert_eq!(provider.hits(&path).await, 1);
    // Within 30 seconds: the same answer, and no request.
    app.clock.advance(chrono::Duration::seconds(29));
    Browser::new().get(&start).await.refused(502, "discovery");
    assert_eq!(provider.hits(&path).await, 1);
    // Then it is asked again.
    app.clock.advance(chrono::Duration::seconds(2));
    Browser::new().get(&start).await.refused(502, "discovery");
    assert_eq!(provider.hits(&path).await, 2);
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_unknown_keys_within_a_minute_fetch_nothing() {
    let (sso, sub) = own_provider_sign_in().await;
    sso.sign_in(&sub).await.code();
    assert_eq!(sso.provider.hits("/jwks").await, 1);
    sso.provider
        .control(
            reqwest::Method::POST,
            "/__test/rotate-keys",
            json!({ "retire_old": true }),
        )
        .await;
    // Past the cool-down of the first fetch: the new key is fetched once and accepted.
    sso.app.clock.advance(chrono::Duration::minutes(2));
    sso.sign_in(&sub).await.code();
    assert_eq!(sso.provider.hits("/jwks").await, 2);
    // A key the provider never published, within a minute of that fetch: refused, and the
    // key set is not fetched again.
    sso.next_id_token(json!({ "unknown_key": true })).await;
    sso.sign_in(&sub).await.refused(401, "signature");
    assert_eq!(sso.provider.hits("/jwks").await, 2);
    // A minute later an unknown key is looked up again (once).
    sso.app.clock.advance(chrono::Duration::seconds(61));
    sso.next_id_token(json!({ "unknown_key": true })).await;
    sso.sign_in(&sub).await.refused(401, "signature");
    assert_eq!(sso.provider.hits("/jwks").await, 3);
    // Discovery itself was fetched once, for the hour.
    assert_eq!(sso.provider.hits(DISCOVERY).await, 1);
}

#[tokio::test]
async fn an_unsigned_id_token_or_one_signed_with_the_client_secret_is_refused() {
    let (sso, sub) = own_provider_sign_in().await;
    for alg in ["none", "HS256"] {
        sso.next_id_token(json!({ "alg": alg })).await;
        sso.sign_in(&sub).await.refused(401, "signature");
    }
    // The same sign-in with a properly signed token works.
    sso.sign_in(&sub).await.code();
}

#[tokio::test]
async fn a_string_email_verified_is_refused_as_a_claims_problem() {
    let (sso, sub) = own_provider_sign_in().await;
    sso.next_id_token(json!({ "claims": { "email_verified": "true" } }))
        .await;
    sso.sign_in(&sub).await.refused(401, "claims");
    sso.sign_in(&sub).await.code();
}
