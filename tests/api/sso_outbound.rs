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

use std::{
    collections::HashMap,
    io::BufRead,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use entity::{account_sso, manager::ManagerKind};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{IdKind, TestApp, User, error_code, gid};

const SECRET: &str = "a-client-secret-for-the-outbound-tests";
const CLIENT_ID: &str = "admin-center";
const RETURN_TO: &str = "https://admin.example.com/";
const DISCOVERY: &str = "/.well-known/openid-configuration";
const UPDATE_SSO: &str = "mutation($i: UpdateAccountSsoInput!) { updateAccountSso(input: $i) { \
    issuer enabled } }";

/// A provider of this test's own, with `app`'s callback registered for [`CLIENT_ID`].
struct Provider {
    issuer: String,
    child: std::process::Child,
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

impl Provider {
    fn start(app: &TestApp) -> Provider {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sso");
        assert!(
            std::path::Path::new(dir)
                .join("node_modules/oidc-provider")
                .exists(),
            "run `npm ci` in tests/sso first (.ci/run does)"
        );
        let config = json!({
            "port": 0,
            "clients": [{
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
                "redirect_uris": [app.url("/sso/callback")],
            }],
            "accounts": [],
        });
        let mut child = std::process::Command::new("node")
            .arg(format!("{dir}/provider.mjs"))
            .env("SSO_PROVIDER_CONFIG", config.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start node tests/sso/provider.mjs");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the provider's ready line");
        let ready: Value = serde_json::from_str(&line).expect("ready line is JSON");
        Provider {
            issuer: ready["issuer"].as_str().expect("issuer").to_owned(),
            child,
        }
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .request(method, format!("{}{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("control request");
        assert!(response.status().is_success(), "{path}");
        response.json().await.expect("control answer")
    }

    /// How many requests `path` got.
    async fn hits(&self, path: &str) -> u64 {
        let hits = self
            .control(reqwest::Method::GET, "/__test/hits", Value::Null)
            .await;
        hits["hits"][path].as_u64().unwrap_or(0)
    }

    /// Every path's count.
    async fn all_hits(&self) -> Value {
        self.control(reqwest::Method::GET, "/__test/hits", Value::Null)
            .await["hits"]
            .clone()
    }

    async fn next_id_token(&self, knob: Value) {
        self.control(reqwest::Method::POST, "/__test/next-id-token", knob)
            .await;
    }
}

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

fn start_url(app: &TestApp, account: Uuid) -> String {
    app.url(&format!("/sso/{}/start", gid(IdKind::Account, account)))
}

/// The server's answer to a start or callback: the status, the redirect, the page.
struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Answer {
    fn refused(&self, status: u16, reason: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(self.location.is_none(), "{:?}", self.location);
        assert!(
            self.body.contains(&format!("Reference: {reason}.")),
            "{}",
            self.body
        );
    }
}

/// A browser without redirects; cookies by hand, per host and port.
#[derive(Default)]
struct Browser {
    jar: HashMap<String, HashMap<String, String>>,
}

impl Browser {
    async fn send(&mut self, method: reqwest::Method, url: &str, form: &[(&str, &str)]) -> Answer {
        let url = url::Url::parse(url).unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookies = self
            .jar
            .entry(format!("{:?}:{:?}", url.host_str(), url.port()))
            .or_default();
        let mut request = http.request(method.clone(), url.clone());
        if method == reqwest::Method::POST {
            request = request.form(form);
        }
        if !cookies.is_empty() {
            let header = cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header("cookie", header);
        }
        let response = request.send().await.expect("request");
        for value in response.headers().get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    cookies.remove(name.trim());
                } else {
                    cookies.insert(name.trim().to_owned(), value.to_owned());
                }
            }
        }
        Answer {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|l| url.join(l.to_str().unwrap()).unwrap().to_string()),
            body: response.text().await.unwrap_or_default(),
        }
    }

    async fn get(&mut self, url: &str) -> Answer {
        self.send(reqwest::Method::GET, url, &[]).await
    }
}

/// A server signing in through a provider of its own (private networks allowed, as the
/// harness sets), and a company manager known to the provider.
struct SignIn {
    app: TestApp,
    provider: Provider,
    account: Uuid,
    sub: String,
}

impl SignIn {
    async fn new() -> SignIn {
        let app = TestApp::new().await;
        let provider = Provider::start(&app);
        let (created, owner) = app.company_owner().await;
        let body = configure(&owner, &provider.issuer).await;
        assert_eq!(body["data"]["updateAccountSso"]["enabled"], true, "{body}");
        let login = format!("m-{}", &Uuid::new_v4().simple().to_string()[..12]);
        let manager = app
            .insert_manager(
                created.account.id,
                ManagerKind::Company,
                &login,
                "Manager-Pass-2026",
            )
            .await;
        let sub = Uuid::new_v4().to_string();
        provider
            .control(
                reqwest::Method::PUT,
                "/__test/accounts",
                json!({ "sub": sub, "email": manager.email, "email_verified": true }),
            )
            .await;
        SignIn {
            app,
            provider,
            account: created.account.id,
            sub,
        }
    }

    /// Start, sign in at the provider, and the server's answer to the callback.
    async fn run(&self) -> Answer {
        let mut browser = Browser::default();
        let started = browser.get(&start_url(&self.app, self.account)).await;
        assert_eq!(started.status, 303, "{}", started.body);
        let interaction = browser.get(&started.location.unwrap()).await;
        let uid_url = interaction.location.expect("to the interaction");
        let next = browser
            .send(
                reqwest::Method::POST,
                &format!("{uid_url}/login"),
                &[("login", &self.sub)],
            )
            .await;
        let mut location = next.location.expect("the provider signed in");
        while location.starts_with(&self.provider.issuer) {
            location = browser.get(&location).await.location.expect("a redirect");
        }
        assert!(
            location.starts_with(&self.app.url("/sso/callback")),
            "{location}"
        );
        browser.get(&location).await
    }

    async fn signs_in(&self) {
        let answer = self.run().await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        assert!(
            answer
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with(RETURN_TO) && l.contains("sso_code=")),
            "{:?}",
            answer.location
        );
    }
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
    let provider = Provider::start(&app);
    let (created, owner) = app.company_owner().await;
    let body = configure(&owner, "https://idp.example.com/").await;
    assert!(body["errors"].is_null(), "{body}");
    // Set while the server allowed private networks (or before this rule).
    store_issuer(&app, created.account.id, &provider.issuer).await;

    let answer = Browser::default()
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

    // The failure is audited with its reason, for the company managers to read.
    let events = owner
        .gql(
            "{ auditEvents(action: SSO_LOGIN_FAILED, first: 1) { nodes { after } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        events["data"]["auditEvents"]["nodes"][0]["after"]["reason"], "private_address",
        "{events}"
    );
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
    Browser::default()
        .get(&start)
        .await
        .refused(502, "private_address");
    // An address of this machine stored as the issuer is refused before connecting too.
    for stored in [
        format!("https://127.0.0.1:{port}/"),
        format!("https://[::ffff:127.0.0.1]:{port}/"),
    ] {
        store_issuer(&app, created.account.id, &stored).await;
        Browser::default()
            .get(&start)
            .await
            .refused(502, "private_address");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "the server connected");
}

#[tokio::test]
async fn concurrent_starts_fetch_discovery_once() {
    let app = TestApp::new().await;
    let provider = Provider::start(&app);
    let (created, owner) = app.company_owner().await;
    let body = configure(&owner, &provider.issuer).await;
    assert!(body["errors"].is_null(), "{body}");
    let start = start_url(&app, created.account.id);
    let answers = futures_util::future::join_all((0..8).map(|_| {
        let start = start.clone();
        async move { Browser::default().get(&start).await }
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
    let provider = Provider::start(&app);
    let (created, owner) = app.company_owner().await;
    // No discovery document there: the provider answers 404.
    let issuer = format!("{}/nothing-here", provider.issuer);
    let body = configure(&owner, &issuer).await;
    assert!(body["errors"].is_null(), "{body}");
    let path = format!("/nothing-here{DISCOVERY}");
    let start = start_url(&app, created.account.id);

    Browser::default()
        .get(&start)
        .await
        .refused(502, "discovery");
    assert_eq!(provider.hits(&path).await, 1);
    // Within 30 seconds: the same answer, and no request.
    app.clock.advance(chrono::Duration::seconds(29));
    Browser::default()
        .get(&start)
        .await
        .refused(502, "discovery");
    assert_eq!(provider.hits(&path).await, 1);
    // Then it is asked again.
    app.clock.advance(chrono::Duration::seconds(2));
    Browser::default()
        .get(&start)
        .await
        .refused(502, "discovery");
    assert_eq!(provider.hits(&path).await, 2);
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_unknown_keys_within_a_minute_fetch_nothing() {
    let sso = SignIn::new().await;
    sso.signs_in().await;
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
    sso.signs_in().await;
    assert_eq!(sso.provider.hits("/jwks").await, 2);
    // A key the provider never published, within a minute of that fetch: refused, and the
    // key set is not fetched again.
    sso.provider
        .next_id_token(json!({ "unknown_key": true }))
        .await;
    sso.run().await.refused(401, "signature");
    assert_eq!(sso.provider.hits("/jwks").await, 2);
    // A minute later an unknown key is looked up again (once).
    sso.app.clock.advance(chrono::Duration::seconds(61));
    sso.provider
        .next_id_token(json!({ "unknown_key": true }))
        .await;
    sso.run().await.refused(401, "signature");
    assert_eq!(sso.provider.hits("/jwks").await, 3);
    // Discovery itself was fetched once, for the hour.
    assert_eq!(sso.provider.hits(DISCOVERY).await, 1);
}

#[tokio::test]
async fn an_unsigned_id_token_or_one_signed_with_the_client_secret_is_refused() {
    let sso = SignIn::new().await;
    for alg in ["none", "HS256"] {
        sso.provider.next_id_token(json!({ "alg": alg })).await;
        sso.run().await.refused(401, "signature");
    }
    // The same sign-in with a properly signed token works.
    sso.signs_in().await;
}

#[tokio::test]
async fn a_string_email_verified_is_refused_as_a_claims_problem() {
    let sso = SignIn::new().await;
    sso.provider
        .next_id_token(json!({ "claims": { "email_verified": "true" } }))
        .await;
    sso.run().await.refused(401, "claims");
    sso.signs_in().await;
}
