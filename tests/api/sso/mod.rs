//! Single sign-on through a real OpenID Connect provider that no one here wrote: the
//! certified `oidc-provider` package (tests/sso/provider.mjs, started by the tests; run
//! `npm ci` in tests/sso first, as `.ci/run` does). One provider serves the whole test binary
//! (each test registers its own client and identities); the key-rotation test starts its own,
//! since rotation changes the keys for every client.
//!
//! Every step goes over real HTTP: the server's `/sso/{account}/start`, the provider's
//! authorization endpoint and its login form (driven without a browser), the server's
//! `/sso/callback`, then `completeSsoLogin` over GraphQL.

use std::{
    collections::HashMap,
    io::BufRead,
    sync::{Mutex, OnceLock},
};

use entity::{manager::ManagerKind, sso_login};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, User, error_code, fresh_database_url};

mod outbound;

/// A running provider: its issuer URL, and the process (its stdin held open: when the test
/// binary exits the pipe closes and the provider exits too).
struct Provider {
    issuer: String,
    _child: Mutex<std::process::Child>,
}

impl Provider {
    fn start() -> Provider {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sso");
        assert!(
            std::path::Path::new(dir)
                .join("node_modules/oidc-provider")
                .exists(),
            "run `npm ci` in tests/sso first (.ci/run does)"
        );
        let mut child = std::process::Command::new("node")
            .arg(format!("{dir}/provider.mjs"))
            .env(
                "SSO_PROVIDER_CONFIG",
                json!({ "port": 0, "clients": [], "accounts": [] }).to_string(),
            )
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
            _child: Mutex::new(child),
        }
    }

    /// The provider shared by the tests of this binary.
    fn shared() -> &'static Provider {
        static SHARED: OnceLock<Provider> = OnceLock::new();
        SHARED.get_or_init(Provider::start)
    }

    /// A provider of the calling test's own (its keys and request counts are the test's);
    /// it lives as long as the test binary.
    fn own() -> &'static Provider {
        Box::leak(Box::new(Provider::start()))
    }

    /// Every path's request count (the `/__test/` control requests are not counted).
    async fn all_hits(&self) -> Value {
        self.control(reqwest::Method::GET, "/__test/hits", Value::Null)
            .await["hits"]
            .clone()
    }

    /// How many requests `path` got.
    async fn hits(&self, path: &str) -> u64 {
        self.all_hits().await[path].as_u64().unwrap_or(0)
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .request(method, format!("{}{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("control request");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.expect("control answer")
    }

    async fn account(&self, sub: &str, email: &str, verified: bool) {
        self.control(
            reqwest::Method::PUT,
            "/__test/accounts",
            json!({ "sub": sub, "email": email, "email_verified": verified, "name": sub }),
        )
        .await;
    }
}

/// Registering a client rebuilds the provider's instance, which can fail a code exchange in
/// flight (`invalid_grant`) for another test: flows hold this for reading from the start URL
/// to the callback, registrations for writing.
static REGISTRATION: std::sync::LazyLock<tokio::sync::RwLock<()>> =
    std::sync::LazyLock::new(|| tokio::sync::RwLock::new(()));

const SECRET: &str = "a-client-secret-for-the-tests";
const RETURN_TO: &str = "https://admin.example.com/";
/// The verifier the "front end" keeps for the completion code (its challenge goes to `/start`).
const VERIFIER: &str = "the-front-ends-verifier-kept-in-session-storage-0001";

/// base64url(SHA-256(verifier)), as a front end computes it with `crypto.subtle`.
fn challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// A server whose account A signs in through the provider, with A's owner signed in.
struct Sso {
    app: TestApp,
    owner: User,
    account: Uuid,
    client_id: String,
    provider: &'static Provider,
}

const UPDATE_SSO: &str = "mutation($i: UpdateAccountSsoInput!) { updateAccountSso(input: $i) { \
    issuer enabled enforced clientSecretSet identityClaim startUrl redirectUri } }";

async fn setup_with(provider: &'static Provider, client: Value) -> Sso {
    setup_configured(provider, client, |_| {}).await
}

async fn setup_configured(
    provider: &'static Provider,
    client: Value,
    adjust: impl FnOnce(&mut admin_center::config::Config),
) -> Sso {
    let app = TestApp::with_config(adjust).await;
    let (created, owner) = app.company_owner().await;
    let client_id = format!("ac-{}", Uuid::new_v4().simple());
    let mut registered = json!({
        "client_id": client_id,
        "client_secret": SECRET,
        "redirect_uris": [app.url("/sso/callback")],
    });
    if let (Some(into), Some(extra)) = (registered.as_object_mut(), client.as_object()) {
        into.extend(extra.clone());
    }
    {
        let _registering = REGISTRATION.write().await;
        provider
            .control(reqwest::Method::PUT, "/__test/clients", registered)
            .await;
    }
    let body = owner
        .gql(
            UPDATE_SSO,
            json!({ "i": {
                "issuer": provider.issuer, "clientId": client_id, "clientSecret": SECRET,
                "returnToAllowList": [RETURN_TO], "enabled": true,
            }}),
        )
        .await;
    assert_eq!(body["data"]["updateAccountSso"]["enabled"], true, "{body}");
    Sso {
        app,
        owner,
        account: created.account.id,
        client_id,
        provider,
    }
}

/// [`setup`] with mail written to files in the directory it answers.
async fn setup_mailing() -> (Sso, tempfile::TempDir) {
    let mail = tempfile::tempdir().unwrap();
    let dir = mail.path().to_owned();
    let sso = setup_configured(Provider::shared(), json!({}), |c| {
        c.mail_transport = admin_center::config::MailTransport::File(dir)
    })
    .await;
    (sso, mail)
}

/// [`setup`], a company manager of A, and its identity at the provider (`sub`).
async fn setup_with_identity() -> (Sso, entity::manager::Model, String) {
    let sso = setup().await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = sso.identity_for(&manager).await;
    (sso, manager, sub)
}

async fn setup() -> Sso {
    setup_with(Provider::shared(), json!({})).await
}

/// A browser without redirects: cookies by hand, per host.
struct Browser {
    http: reqwest::Client,
    jar: HashMap<String, HashMap<String, String>>,
    _flow: Option<tokio::sync::RwLockReadGuard<'static, ()>>,
}

/// What the server's callback answered.
struct Answer {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Answer {
    /// The completion code in the `return_to` URL.
    fn code(&self) -> String {
        let location = self
            .location
            .as_deref()
            .unwrap_or_else(|| panic!("no redirect: {} {}", self.status, self.body));
        assert!(location.starts_with(RETURN_TO), "{location}");
        url::Url::parse(location)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "sso_code")
            .map(|(_, v)| v.into_owned())
            .expect("sso_code")
    }

    /// A failure page naming `reason`, with no code anywhere.
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

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: HashMap::new(),
            _flow: None,
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder, url: &url::Url) -> Answer {
        let host = url.host_str().unwrap_or_default().to_owned() + &format!(":{:?}", url.port());
        let cookies = self.jar.entry(host.clone()).or_default();
        let header = cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = if header.is_empty() {
            request
        } else {
            request.header("cookie", header)
        };
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
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| url.join(l.to_str().unwrap()).unwrap().to_string());
        Answer {
            status,
            location,
            body: response.text().await.unwrap_or_default(),
        }
    }

    async fn get(&mut self, url: &str) -> Answer {
        let url = url::Url::parse(url).unwrap();
        self.send(self.http.get(url.clone()), &url).await
    }

    async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Answer {
        let url = url::Url::parse(url).unwrap();
        self.send(self.http.post(url.clone()).form(form), &url)
            .await
    }
}

/// How the person acts at the provider.
enum AtProvider<'a> {
    SignIn(&'a str),
    Cancel,
}

impl Sso {
    /// The start URL a front end opens: `return_to` and the challenge of [`VERIFIER`].
    fn start_url(&self, return_to: &str) -> String {
        self.start_url_with(&[
            ("return_to", return_to),
            ("code_challenge", &challenge(VERIFIER)),
        ])
    }

    /// The start URL with exactly these query parameters.
    fn start_url_with(&self, query: &[(&str, &str)]) -> String {
        let id = crate::harness::gid(crate::harness::IdKind::Account, self.account);
        let mut url = url::Url::parse(&self.app.url(&format!("/sso/{id}/start"))).unwrap();
        url.query_pairs_mut().extend_pairs(query);
        url.to_string()
    }

    /// Starts at the server, signs in at the provider as `login`, and stops before the
    /// callback: the browser, and the callback URL the provider sent it to. `tamper` may
    /// rewrite the authorization URL on its way to the provider.
    async fn to_callback(
        &self,
        act: AtProvider<'_>,
        tamper: impl FnOnce(url::Url) -> url::Url,
    ) -> (Browser, String) {
        self.to_callback_from(&self.start_url(RETURN_TO), act, tamper)
            .await
    }

    /// [`Sso::to_callback`] from a given start URL (a link's).
    async fn to_callback_from(
        &self,
        start: &str,
        act: AtProvider<'_>,
        tamper: impl FnOnce(url::Url) -> url::Url,
    ) -> (Browser, String) {
        let mut browser = Browser::new();
        browser._flow = Some(REGISTRATION.read().await);
        self.to_callback_in(browser, start, act, tamper).await
    }

    /// [`Sso::to_callback_from`] in a given browser. Flows run side by side by one test share
    /// one hold on the registrations (a second read behind a waiting writer would deadlock),
    /// so their browsers come without one.
    async fn to_callback_in(
        &self,
        mut browser: Browser,
        start: &str,
        act: AtProvider<'_>,
        tamper: impl FnOnce(url::Url) -> url::Url,
    ) -> (Browser, String) {
        let started = browser.get(start).await;
        assert_eq!(started.status, 303, "{}", started.body);
        let authorize = tamper(url::Url::parse(&started.location.unwrap()).unwrap());
        assert!(authorize.as_str().starts_with(&self.provider.issuer));
        let interaction = browser.get(authorize.as_str()).await;
        let uid_url = interaction.location.expect("to the interaction");
        let next = match act {
            AtProvider::SignIn(login) => {
                browser
                    .post_form(&format!("{uid_url}/login"), &[("login", login)])
                    .await
            }
            AtProvider::Cancel => browser.post_form(&format!("{uid_url}/abort"), &[]).await,
        };
        let mut location = next
            .location
            .unwrap_or_else(|| panic!("the provider refused the login: {}", next.body));
        // Follow the provider's redirects; the first that leaves it is the callback.
        while location.starts_with(&self.provider.issuer) {
            let hop = browser.get(&location).await;
            location = hop.location.expect("a redirect");
        }
        assert!(
            location.starts_with(&self.app.url("/sso/callback")),
            "{location}"
        );
        (browser, location)
    }

    /// The whole browser part, up to the server's answer to the callback.
    async fn sign_in(&self, login: &str) -> Answer {
        let (mut browser, callback) = self.to_callback(AtProvider::SignIn(login), |u| u).await;
        browser.get(&callback).await
    }

    /// Arms the provider: the next ID token for this test's client gets `claims`.
    async fn next_id_token(&self, knob: Value) {
        let mut knob = knob;
        knob["client_id"] = json!(self.client_id);
        self.provider
            .control(reqwest::Method::POST, "/__test/next-id-token", knob)
            .await;
    }

    /// `completeSsoLogin` as the front end that started the sign-in calls it.
    async fn complete(&self, code: &str) -> Value {
        self.complete_with(code, VERIFIER).await
    }

    async fn complete_with(&self, code: &str, verifier: &str) -> Value {
        self.app
            .post_graphql(
                "mutation($c: String!, $v: String!) { completeSsoLogin(code: $c, \
                 codeVerifier: $v) { token restriction manager { login } } }",
                json!({ "c": code, "v": verifier }),
            )
            .await
            .1
    }

    /// The `after` of the newest `ssoLoginFailed` event, as the owner reads it.
    async fn last_failure(&self) -> Value {
        let body = self
            .owner
            .gql(
                "{ auditEvents(action: SSO_LOGIN_FAILED, first: 1) { nodes { after } } }",
                json!({}),
            )
            .await;
        body["data"]["auditEvents"]["nodes"][0]["after"].clone()
    }

    /// A new identity at the provider with `manager`'s address, verified: its `sub`.
    async fn identity_for(&self, manager: &entity::manager::Model) -> String {
        let sub = Uuid::new_v4().to_string();
        self.provider.account(&sub, &manager.email, true).await;
        sub
    }

    /// A session of `manager` opened through the provider (a new identity): its token.
    async fn session_of(&self, manager: &entity::manager::Model) -> String {
        let sub = self.identity_for(manager).await;
        let code = self.sign_in(&sub).await.code();
        let body = self.complete(&code).await;
        body["data"]["completeSsoLogin"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    }

    /// The owner changes `id`'s login settings (`LoginSettingsPatch`); it must succeed.
    async fn login_settings(&self, id: Uuid, input: Value) {
        let body = self
            .owner
            .gql(
                "mutation($id: ID!, $i: LoginSettingsPatch!) { \
                 updateManagerLoginSettings(id: $id, input: $i) { id } }",
                json!({ "id": id, "i": input }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }

    /// A company or team manager of A with a unique e-mail address.
    async fn manager(&self, kind: ManagerKind) -> entity::manager::Model {
        let login = format!("m-{}", &Uuid::new_v4().simple().to_string()[..12]);
        self.app
            .insert_manager(self.account, kind, &login, "Manager-Pass-2026")
            .await
    }
}

#[tokio::test]
async fn a_manager_signs_in_through_the_provider_and_gets_a_session() {
    let sso = setup().await;
    let manager = sso.manager(ManagerKind::Team).await;
    // A password rule must not apply to a sign-in that used no password.
    sso.login_settings(manager.id, json!({ "forcePasswordChange": true }))
        .await;
    let sub = Uuid::new_v4().to_string();
    // The provider's address differs in case only: addresses match case-insensitively.
    sso.provider
        .account(&sub, &manager.email.to_uppercase(), true)
        .await;

    let answer = sso.sign_in(&sub).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let code = answer.code();
    assert!(code.starts_with("acsc_"), "{code}");

    let body = sso.complete(&code).await;
    let login = &body["data"]["completeSsoLogin"];
    assert_eq!(login["restriction"], "NONE", "{body}");
    assert_eq!(login["manager"]["login"], manager.login.as_str());
    let token = login["token"].as_str().unwrap();
    let (_, me) = sso
        .app
        .post_graphql_as(token, "{ me { login } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["login"], manager.login.as_str(), "{me}");

    // The code works once.
    let again = sso.complete(&code).await;
    assert_eq!(error_code(&again), Some("UNAUTHENTICATED"), "{again}");

    // The sign-in is audited like a password sign-in, with the method.
    let events = sso
        .owner
        .gql(
            "{ auditEvents(action: LOGIN, first: 1) { nodes { actorLogin after } } }",
            json!({}),
        )
        .await;
    let event = &events["data"]["auditEvents"]["nodes"][0];
    assert_eq!(event["actorLogin"], manager.login.as_str(), "{events}");
    assert_eq!(event["after"]["method"], "sso", "{events}");
    assert_eq!(event["after"]["issuer"], sso.provider.issuer.as_str());
}

#[tokio::test]
async fn a_manager_links_its_identity_once_then_signs_in_by_sub() {
    let sso = setup().await;
    let body = sso
        .owner
        .gql(UPDATE_SSO, json!({ "i": { "identityClaim": "SUB" } }))
        .await;
    assert_eq!(
        body["data"]["updateAccountSso"]["identityClaim"], "SUB",
        "{body}"
    );
    let team = sso.manager(ManagerKind::Team).await;
    let user = sso.app.sign_in(&team, "Manager-Pass-2026").await;
    // Like Entra ID: the provider does not vouch for the address, which is not the manager's.
    let sub = Uuid::new_v4().to_string();
    sso.provider
        .account(&sub, &format!("{sub}@corp.example"), false)
        .await;
    sso.sign_in(&sub).await.refused(403, "no_manager");

    let link = |user: User| async move {
        let body = user
            .gql(
                "mutation($r: String) { startSsoLink(returnTo: $r) }",
                json!({ "r": RETURN_TO }),
            )
            .await;
        body["data"]["startSsoLink"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned()
    };
    let complete_link = |who: &User, code: String| {
        let who = who.clone();
        async move {
            who.gql(
                "mutation($c: String!) { completeSsoLink(code: $c) { id login } }",
                json!({ "c": code }),
            )
            .await
        }
    };
    let link_code = |answer: Answer| {
        let location = answer
            .location
            .unwrap_or_else(|| panic!("{} {}", answer.status, answer.body));
        url::Url::parse(&location)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "sso_link_code")
            .map(|(_, v)| v.into_owned())
            .expect("sso_link_code")
    };

    // A link code confirmed by another manager's session links nothing, and is spent.
    let start = link(user.clone()).await;
    let (mut browser, callback) = sso
        .to_callback_from(&start, AtProvider::SignIn(&sub), |u| u)
        .await;
    let code = link_code(browser.get(&callback).await);
    // Its hold on the provider's registrations ends here (see REGISTRATION).
    drop(browser);
    let stolen = complete_link(&sso.owner, code.clone()).await;
    assert_eq!(error_code(&stolen), Some("UNAUTHENTICATED"), "{stolen}");
    let late = complete_link(&user, code).await;
    assert_eq!(error_code(&late), Some("UNAUTHENTICATED"), "{late}");
    // A link ticket works once.
    let again = Browser::new().get(&start).await;
    again.refused(400, "link");

    // The manager's own session confirms: linked.
    let start = link(user.clone()).await;
    let (mut browser, callback) = sso
        .to_callback_from(&start, AtProvider::SignIn(&sub), |u| u)
        .await;
    let code = link_code(browser.get(&callback).await);
    drop(browser);
    let linked = complete_link(&user, code).await;
    assert_eq!(
        linked["data"]["completeSsoLink"]["login"],
        team.login.as_str(),
        "{linked}"
    );

    // From now on the identity signs the manager in.
    let code = sso.sign_in(&sub).await.code();
    let body = sso.complete(&code).await;
    assert_eq!(
        body["data"]["completeSsoLogin"]["manager"]["login"],
        team.login.as_str(),
        "{body}"
    );
    let events = sso
        .owner
        .gql(
            "{ auditEvents(action: LINK_SSO_IDENTITY, first: 5) { totalCount nodes { actorLogin } } }",
            json!({}),
        )
        .await;
    assert_eq!(events["data"]["auditEvents"]["totalCount"], 1, "{events}");
    assert_eq!(
        events["data"]["auditEvents"]["nodes"][0]["actorLogin"],
        team.login.as_str()
    );
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let (sso, _, sub) = setup_with_identity().await;
    let (mut browser, callback) = sso.to_callback(AtProvider::SignIn(&sub), |u| u).await;
    let first = browser.get(&callback).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let replay = browser.get(&callback).await;
    replay.refused(400, "state");
    assert_eq!(sso.last_failure().await["reason"], "state");
}

#[tokio::test]
async fn a_callback_in_another_browser_is_refused() {
    let (sso, _, sub) = setup_with_identity().await;
    let (_, callback) = sso.to_callback(AtProvider::SignIn(&sub), |u| u).await;
    Browser::new().get(&callback).await.refused(400, "binding");
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let (sso, _, sub) = setup_with_identity().await;
    // The provider signs whatever nonce it is sent; the server kept the one it generated.
    let (mut browser, callback) = sso
        .to_callback(AtProvider::SignIn(&sub), |mut url| {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "nonce" {
                        "not-the-servers".into()
                    } else {
                        v
                    };
                    (k.into_owned(), v.into_owned())
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
            url
        })
        .await;
    browser.get(&callback).await.refused(401, "nonce");
    assert_eq!(sso.last_failure().await["reason"], "nonce");
}

#[tokio::test]
async fn an_id_token_for_another_audience_is_refused() {
    let (sso, _, sub) = setup_with_identity().await;
    for claims in [
        json!({ "aud": "someone-else" }),
        json!({ "aud": [sso.client_id, "someone-else"] }),
        json!({ "azp": "someone-else" }),
    ] {
        sso.next_id_token(json!({ "claims": claims })).await;
        sso.sign_in(&sub).await.refused(401, "audience");
    }
    // Untouched, the same identity signs in.
    assert_eq!(sso.sign_in(&sub).await.status, 303);
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    let sso = setup_with(Provider::shared(), json!({ "id_token_ttl_seconds": 60 })).await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = sso.identity_for(&manager).await;
    let (mut browser, callback) = sso.to_callback(AtProvider::SignIn(&sub), |u| u).await;
    // Past the token's minute, within the pending sign-in's ten.
    sso.app.clock.advance(chrono::Duration::minutes(5));
    browser.get(&callback).await.refused(401, "expired");
}

#[tokio::test]
async fn an_id_token_from_another_issuer_or_key_is_refused() {
    let (sso, _, sub) = setup_with_identity().await;
    sso.next_id_token(json!({ "claims": { "iss": "http://127.0.0.1:1/evil" } }))
        .await;
    sso.sign_in(&sub).await.refused(401, "issuer");
    sso.next_id_token(json!({ "unknown_key": true })).await;
    sso.sign_in(&sub).await.refused(401, "signature");
}

#[tokio::test]
async fn an_unverified_email_gets_no_session() {
    let sso = setup().await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = Uuid::new_v4().to_string();
    sso.provider.account(&sub, &manager.email, false).await;
    let answer = sso.sign_in(&sub).await;
    answer.refused(403, "unverified_email");
    assert!(answer.body.contains("not verified"), "{}", answer.body);
    assert_eq!(sso.last_failure().await["reason"], "unverified_email");
}

#[tokio::test]
async fn an_identity_matching_no_manager_gets_no_session_and_creates_none() {
    let sso = setup().await;
    let sub = Uuid::new_v4().to_string();
    sso.provider
        .account(&sub, &format!("{sub}@nobody.example"), true)
        .await;
    let managers = entity::manager::Entity::find()
        .count(&sso.app.state.db)
        .await
        .unwrap();
    sso.sign_in(&sub).await.refused(403, "no_manager");
    assert_eq!(sso.last_failure().await["reason"], "no_manager");
    let after = entity::manager::Entity::find()
        .count(&sso.app.state.db)
        .await
        .unwrap();
    assert_eq!(after, managers);
}

#[tokio::test]
async fn a_manager_of_another_account_does_not_match() {
    let sso = setup().await;
    let other = sso.app.new_account().await;
    let sub = Uuid::new_v4().to_string();
    sso.provider.account(&sub, &other.owner.email, true).await;
    sso.sign_in(&sub).await.refused(403, "no_manager");
}

#[tokio::test]
async fn a_return_to_outside_the_allow_list_is_refused_before_the_provider() {
    let sso = setup().await;
    let pending = || sso_login::Entity::find().count(&sso.app.state.db);
    let before = pending().await.unwrap();
    for evil in [
        "https://evil.example/",
        "https://admin.example.com.evil.example/",
        "http://admin.example.com/",
    ] {
        let answer = Browser::new().get(&sso.start_url(evil)).await;
        answer.refused(400, "return_to");
    }
    assert_eq!(
        pending().await.unwrap(),
        before,
        "no pending sign-in stored"
    );
    // Anyone can call `/start`: its failures are logged and counted, not written into the
    // account's audit log.
    assert_eq!(sso.last_failure().await, Value::Null);
}

#[tokio::test]
async fn cancelling_at_the_provider_gets_a_clear_page() {
    let sso = setup().await;
    let (mut browser, callback) = sso.to_callback(AtProvider::Cancel, |u| u).await;
    let answer = browser.get(&callback).await;
    answer.refused(401, "provider_error");
    assert!(answer.body.contains("cancelled"), "{}", answer.body);
}

#[tokio::test]
async fn enforced_sso_refuses_password_sign_in_except_break_glass() {
    let sso = setup().await;
    let team = sso.manager(ManagerKind::Team).await;
    sso.login_settings(sso.owner.id(), json!({ "ssoBreakGlass": true }))
        .await;
    let body = sso
        .owner
        .gql(UPDATE_SSO, json!({ "i": { "enforced": true } }))
        .await;
    assert_eq!(body["data"]["updateAccountSso"]["enforced"], true, "{body}");

    // The right password: refused, with where to sign in instead.
    let refused = sso.app.login(&team.login, "Manager-Pass-2026").await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let start = refused["errors"][0]["extensions"]["ssoStartUrl"]
        .as_str()
        .unwrap();
    assert!(start.ends_with("/start"), "{start}");
    assert!(refused["data"].is_null() || refused["data"]["login"].is_null());
    // A wrong password still reads as any wrong password: nothing tells SSO is on.
    let wrong = sso.app.login(&team.login, "Wrong-Pass-2026").await;
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"), "{wrong}");
    // The break-glass company manager keeps its password.
    let owner = sso
        .app
        .login(&sso.owner.manager.login, crate::harness::USER_PASSWORD)
        .await;
    assert_eq!(owner["data"]["login"]["restriction"], "NONE", "{owner}");
    // And the team manager signs in through the provider.
    let sub = sso.identity_for(&team).await;
    let code = sso.sign_in(&sub).await.code();
    let body = sso.complete(&code).await;
    assert_eq!(
        body["data"]["completeSsoLogin"]["manager"]["login"],
        team.login.as_str()
    );
}

#[tokio::test]
async fn the_server_refuses_a_change_that_locks_every_company_manager_out() {
    let sso = setup().await;
    let read = || async {
        sso.owner
            .gql("{ account { sso { enabled enforced } } }", json!({}))
            .await["data"]["account"]["sso"]
            .clone()
    };
    // No company manager keeps a password: enforcing is refused, and nothing changes.
    let body = sso
        .owner
        .gql(UPDATE_SSO, json!({ "i": { "enforced": true } }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ssoBreakGlass")
    );
    assert_eq!(read().await, json!({ "enabled": true, "enforced": false }));

    // Break-glass is for company managers only.
    let team = sso.manager(ManagerKind::Team).await;
    let flag = |who: &User, id: Uuid, on: bool| {
        let who = who.clone();
        async move {
            who.gql(
                "mutation($id: ID!, $on: Boolean!) { updateManagerLoginSettings(id: $id, input: { ssoBreakGlass: $on }) { id } }",
                json!({ "id": id, "on": on }),
            )
            .await
        }
    };
    assert_eq!(
        error_code(&flag(&sso.owner, team.id, true).await),
        Some("BAD_USER_INPUT")
    );
    let other = sso.manager(ManagerKind::Company).await;
    assert!(flag(&sso.owner, other.id, true).await["errors"].is_null());
    let body = sso
        .owner
        .gql(UPDATE_SSO, json!({ "i": { "enforced": true } }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    // The owner has no break-glass: its password session ended with the enforcing.
    assert_eq!(sso.owner.post("{ me { login } }", json!({})).await.0, 401);
    let other = sso.app.sign_in(&other, "Manager-Pass-2026").await;

    // The last break-glass company manager can neither lose the flag nor be deleted.
    assert_eq!(
        error_code(&flag(&other, other.id(), false).await),
        Some("CONFLICT")
    );
    // Deleting it is refused to a company manager signed in through the provider.
    let third = sso.manager(ManagerKind::Company).await;
    let third_token = sso.session_of(&third).await;
    let (_, deleted) = sso
        .app
        .post_graphql_as(
            &third_token,
            "mutation($id: ID!) { deleteManager(id: $id) }",
            json!({ "id": other.id() }),
        )
        .await;
    assert_eq!(error_code(&deleted), Some("CONFLICT"), "{deleted}");
    // With a second one, the first may go.
    assert!(flag(&other, sso.owner.id(), true).await["errors"].is_null());
    assert!(flag(&other, other.id(), false).await["errors"].is_null());

    // `enforced` needs `enabled`; turning `enabled` off turns `enforced` off.
    let body = other
        .gql(
            UPDATE_SSO,
            json!({ "i": { "enabled": false, "enforced": true } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("DEPENDENCY_VIOLATION"), "{body}");
    let body = other
        .gql(UPDATE_SSO, json!({ "i": { "enabled": false } }))
        .await;
    assert_eq!(
        body["data"]["updateAccountSso"]["enforced"], false,
        "{body}"
    );
}

#[tokio::test]
async fn sso_settings_are_checked_and_the_secret_is_never_answered() {
    let sso = setup().await;
    for (input, why) in [
        (json!({ "issuer": "http://idp.example.com" }), "https"),
        (json!({ "issuer": "not a url" }), "absolute URL"),
        (
            json!({ "returnToAllowList": ["https://a.example/?q=1"] }),
            "query",
        ),
        (
            json!({ "clientId": "another" }),
            "clientSecret in the same change",
        ),
    ] {
        let body = sso.owner.gql(UPDATE_SSO, json!({ "i": input })).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert!(
            body["errors"][0]["message"].as_str().unwrap().contains(why),
            "{body}"
        );
    }
    let body = sso
        .owner
        .gql(
            "{ account { sso { clientSecretSet identityClaim startUrl redirectUri } } }",
            json!({}),
        )
        .await;
    let read = &body["data"]["account"]["sso"];
    assert_eq!(read["clientSecretSet"], true, "{body}");
    assert_eq!(read["redirectUri"], sso.app.url("/sso/callback").as_str());
    assert!(!body.to_string().contains(SECRET));
    // The audit log knows the secret changed, never what it is.
    let events = sso
        .owner
        .gql(
            "{ auditEvents(action: UPDATE_ACCOUNT_SSO, first: 5) { nodes { after } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        events["data"]["auditEvents"]["nodes"][0]["after"]["clientSecretChanged"], true,
        "{events}"
    );
    assert!(!events.to_string().contains(SECRET));
    // Stored sealed, not as typed.
    let row = entity::account_sso::Entity::find_by_id(sso.account)
        .one(&sso.app.state.db)
        .await
        .unwrap()
        .unwrap();
    let sealed = row.client_secret.unwrap();
    assert!(sealed.0.starts_with("v1.") && !sealed.0.contains(SECRET));
    assert_eq!(format!("{sealed:?}"), "Sealed(<redacted>)");
}

#[tokio::test]
async fn the_sso_migration_runs_down_and_up_again() {
    use migration::MigratorTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let db = admin_center::db::connect(&url).await.unwrap();
    migration::Migrator::up(&db, None).await.unwrap();
    // The hardening migration, then the SSO tables.
    migration::Migrator::down(&db, Some(2)).await.unwrap();
    assert!(
        sso_login::Entity::find().count(&db).await.is_err(),
        "the SSO tables are gone"
    );
    migration::Migrator::up(&db, None).await.unwrap();
    sso_login::Entity::find().count(&db).await.unwrap();
}

/// The `sso_code`s of a redirect, in order.
fn codes_in(location: &str) -> Vec<String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .filter(|(k, _)| k == "sso_code")
        .map(|(_, v)| v.into_owned())
        .collect()
}

#[tokio::test]
async fn a_completion_code_is_worth_nothing_without_the_verifier_of_the_browser_that_started() {
    let (sso, manager, sub) = setup_with_identity().await;

    // Login CSRF: an attacker signs in as itself and sends its code to a victim, whose front
    // end redeems it with its own verifier. Nothing opens, and the code is spent.
    let code = sso.sign_in(&sub).await.code();
    let victim = sso
        .complete_with(&code, "the-victims-own-verifier-of-at-least-43-characters")
        .await;
    assert_eq!(error_code(&victim), Some("UNAUTHENTICATED"), "{victim}");
    let late = sso.complete(&code).await;
    assert_eq!(error_code(&late), Some("UNAUTHENTICATED"), "{late}");
    // A verifier of the wrong shape is no better.
    let code = sso.sign_in(&sub).await.code();
    let short = sso.complete_with(&code, "short").await;
    assert_eq!(error_code(&short), Some("UNAUTHENTICATED"), "{short}");

    // A start without the front end's challenge (or a malformed one) goes nowhere.
    for query in [
        vec![("return_to", RETURN_TO)],
        vec![("return_to", RETURN_TO), ("code_challenge", "not-a-sha256")],
    ] {
        let answer = Browser::new().get(&sso.start_url_with(&query)).await;
        answer.refused(400, "code_challenge");
    }

    // A `return_to` that already carries a code: the redirect carries only the new one, so
    // the front end cannot be handed someone else's.
    let planted = "acsc_planted_by_an_attacker";
    let start = sso.start_url_with(&[
        (
            "return_to",
            &format!("{RETURN_TO}?tab=2&sso_code={planted}"),
        ),
        ("code_challenge", &challenge(VERIFIER)),
    ]);
    let (mut browser, callback) = sso
        .to_callback_from(&start, AtProvider::SignIn(&sub), |u| u)
        .await;
    let answer = browser.get(&callback).await;
    let location = answer.location.clone().expect("a redirect");
    let codes = codes_in(&location);
    assert_eq!(codes.len(), 1, "{location}");
    assert_ne!(codes[0], planted);
    assert!(location.contains("tab=2"), "{location}");
    let body = sso.complete(&codes[0]).await;
    assert_eq!(
        body["data"]["completeSsoLogin"]["manager"]["login"],
        manager.login.as_str(),
        "{body}"
    );
}

#[tokio::test]
async fn an_sso_session_that_validates_its_email_gets_no_password_rule() {
    let (sso, mail) = setup_mailing().await;
    let dir = mail.path();
    let team = sso.manager(ManagerKind::Team).await;
    sso.login_settings(
        team.id,
        json!({ "forcePasswordChange": true, "forceValidationPrompt": true }),
    )
    .await;
    // Like Entra ID: a linked identity whose provider does not vouch for the address.
    let body = sso
        .owner
        .gql(UPDATE_SSO, json!({ "i": { "identityClaim": "SUB" } }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let sub = Uuid::new_v4().to_string();
    sso.provider
        .account(&sub, &format!("{sub}@corp.example"), false)
        .await;
    link_directly(&sso, &team, &sub).await;

    let code = sso.sign_in(&sub).await.code();
    let body = sso.complete(&code).await;
    let login = &body["data"]["completeSsoLogin"];
    assert_eq!(login["restriction"], "EMAIL_VALIDATION", "{body}");
    let restricted = login["token"].as_str().unwrap().to_owned();

    let mails = crate::harness::outbox(dir, 1).await;
    let text = mails.last().expect("the validation mail");
    let marker = "validate this e-mail address is:";
    let code: String = text[text.find(marker).unwrap() + marker.len()..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let (_, validated) = sso
        .app
        .post_graphql_as(
            &restricted,
            "mutation($c: String!) { validateEmail(code: $c) { token restriction } }",
            json!({ "c": code }),
        )
        .await;
    // Not PASSWORD_CHANGE: the manager signed in with no password, and may have none it knows.
    assert_eq!(
        validated["data"]["validateEmail"]["restriction"], "NONE",
        "{validated}"
    );
    let token = validated["data"]["validateEmail"]["token"]
        .as_str()
        .unwrap();
    let (_, teams) = sso
        .app
        .post_graphql_as(token, "{ teams(first: 1) { totalCount } }", json!({}))
        .await;
    assert!(teams["errors"].is_null(), "{teams}");
}

/// Links `sub` at the account's issuer to `manager` as `completeSsoLink` would (the linking
/// itself is tested by `a_manager_links_its_identity_once_then_signs_in_by_sub`).
async fn link_directly(sso: &Sso, manager: &entity::manager::Model, sub: &str) {
    use sea_orm::{ActiveValue::Set, EntityTrait};
    entity::manager_sso_identity::Entity::insert(entity::manager_sso_identity::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(sso.account),
        manager_id: Set(manager.id),
        issuer: Set(sso.provider.issuer.clone()),
        subject: Set(sub.to_owned()),
        linked_at: Set(sso.app.state.clock.now()),
    })
    .exec_without_returning(&sso.app.state.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn enforcing_sso_ends_password_sessions_of_those_it_refuses_only() {
    let sso = setup().await;
    let team = sso.manager(ManagerKind::Team).await;
    let by_password = sso.app.sign_in(&team, "Manager-Pass-2026").await;
    let other = sso.manager(ManagerKind::Team).await;
    let by_sso = sso.session_of(&other).await;
    sso.login_settings(sso.owner.id(), json!({ "ssoBreakGlass": true }))
        .await;
    let me = "{ me { login } }";
    assert!(by_password.gql(me, json!({})).await["errors"].is_null());

    let body = sso
        .owner
        .gql(UPDATE_SSO, json!({ "i": { "enforced": true } }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    // The team manager's password session ends with the password's right to sign in.
    let (status, _) = sso
        .app
        .post_graphql_as(&by_password.token, me, json!({}))
        .await;
    assert_eq!(status, 401);
    // An SSO session, and the break-glass company manager's password session, go on.
    let (_, mine) = sso.app.post_graphql_as(&by_sso, me, json!({})).await;
    assert_eq!(mine["data"]["me"]["login"], other.login.as_str(), "{mine}");
    assert!(sso.owner.gql(me, json!({})).await["errors"].is_null());
}

#[tokio::test]
async fn starts_are_throttled_per_address_and_finished_ones_are_given_back() {
    let (sso, _, sub) = setup_with_identity().await;
    // A finished sign-in gives its start back: these do not count.
    for _ in 0..3 {
        assert_eq!(sso.sign_in(&sub).await.status, 303);
    }
    // Abandoned starts count: 60 in 15 minutes, then five minutes' rest.
    for n in 0..60 {
        let answer = Browser::new().get(&sso.start_url(RETURN_TO)).await;
        assert_eq!(answer.status, 303, "start {n}: {}", answer.body);
    }
    let refused = Browser::new().get(&sso.start_url(RETURN_TO)).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(
        refused.body.contains("Too many attempts"),
        "{}",
        refused.body
    );
    sso.app.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(
        Browser::new().get(&sso.start_url(RETURN_TO)).await.status,
        303
    );
}

#[tokio::test]
async fn provider_failures_do_not_block_the_address_for_password_sign_ins() {
    let (sso, _, sub) = setup_with_identity().await;
    // A wrong client secret here: the provider refuses every code (as when it is
    // misconfigured on the day everyone retries).
    let body = sso
        .owner
        .gql(
            UPDATE_SSO,
            json!({ "i": { "clientSecret": "not-the-registered-one" } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    // More than the address's 30 failures in 15 minutes.
    for _ in 0..32 {
        sso.sign_in(&sub).await.refused(502, "token_endpoint");
    }
    let owner = sso
        .app
        .login(&sso.owner.manager.login, crate::harness::USER_PASSWORD)
        .await;
    assert!(owner["errors"].is_null(), "{owner}");
}

#[tokio::test]
async fn a_sign_in_is_good_only_with_the_provider_and_client_it_started_with() {
    let (sso, _, sub) = setup_with_identity().await;
    // The client id changes between start and callback: the old provider's code and
    // verifier are sent nowhere.
    let (mut browser, callback) = sso.to_callback(AtProvider::SignIn(&sub), |u| u).await;
    let body = sso
        .owner
        .gql(
            UPDATE_SSO,
            json!({ "i": { "clientId": "another-client", "clientSecret": SECRET } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    browser.get(&callback).await.refused(401, "issuer");
    // Its hold on the provider's registrations ends here (see REGISTRATION).
    drop(browser);
    assert_eq!(sso.last_failure().await["reason"], "issuer");

    // A code issued before the issuer changed opens no session after.
    let body = sso
        .owner
        .gql(
            UPDATE_SSO,
            json!({ "i": { "clientId": sso.client_id, "clientSecret": SECRET } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let code = sso.sign_in(&sub).await.code();
    let body = sso
        .owner
        .gql(
            UPDATE_SSO,
            json!({ "i": { "issuer": "https://idp.example.net/realms/new", "clientSecret": SECRET } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let late = sso.complete(&code).await;
    assert_eq!(error_code(&late), Some("UNAUTHENTICATED"), "{late}");
}

#[tokio::test]
async fn an_address_with_non_ascii_look_alikes_matches_no_manager() {
    let sso = setup().await;
    let login = format!("kate-{}", &Uuid::new_v4().simple().to_string()[..8]);
    let manager = sso
        .app
        .insert_manager(
            sso.account,
            ManagerKind::Company,
            &login,
            "Manager-Pass-2026",
        )
        .await;
    // U+212A KELVIN SIGN lower-cases to `k` in Unicode: `\u{212A}ate-…` is not `kate-…`.
    let look_alike = manager.email.replacen('k', "\u{212A}", 1);
    assert_ne!(look_alike, manager.email);
    let sub = Uuid::new_v4().to_string();
    sso.provider.account(&sub, &look_alike, true).await;
    sso.sign_in(&sub).await.refused(403, "no_manager");
}

#[tokio::test]
async fn racing_callbacks_and_codes_open_one_session_and_first_sign_ins_both_link() {
    let sso = setup().await;
    let manager = sso.manager(ManagerKind::Team).await;
    let sub = sso.identity_for(&manager).await;

    // One callback twice at once: one redirect, one refusal.
    let (mut first, callback) = sso.to_callback(AtProvider::SignIn(&sub), |u| u).await;
    let mut twin = Browser::new();
    twin.jar = first.jar.clone();
    let (a, b) = tokio::join!(first.get(&callback), twin.get(&callback));
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 400], "{} / {}", a.body, b.body);
    let code = if a.status == 303 { a.code() } else { b.code() };
    drop((first, twin));

    // One code redeemed twice at once: one session.
    let (x, y) = tokio::join!(sso.complete(&code), sso.complete(&code));
    let opened = [&x, &y]
        .iter()
        .filter(|b| b["data"]["completeSsoLogin"]["token"].is_string())
        .count();
    assert_eq!(opened, 1, "{x} / {y}");

    // Two first sign-ins of another manager on two devices at once: both get in, and the
    // link made by the e-mail match is audited once per link written.
    let second = sso.manager(ManagerKind::Team).await;
    let sub2 = sso.identity_for(&second).await;
    let _flows = REGISTRATION.read().await;
    let start = sso.start_url(RETURN_TO);
    let ((mut b1, c1), (mut b2, c2)) = tokio::join!(
        sso.to_callback_in(Browser::new(), &start, AtProvider::SignIn(&sub2), |u| u),
        sso.to_callback_in(Browser::new(), &start, AtProvider::SignIn(&sub2), |u| u)
    );
    let (r1, r2) = tokio::join!(b1.get(&c1), b2.get(&c2));
    assert_eq!(
        (r1.status, r2.status),
        (303, 303),
        "{} / {}",
        r1.body,
        r2.body
    );
    let events = sso
        .owner
        .gql(
            "{ auditEvents(action: LINK_SSO_IDENTITY, first: 10) { nodes { actorLogin after } } }",
            json!({}),
        )
        .await;
    let nodes = events["data"]["auditEvents"]["nodes"].as_array().unwrap();
    assert!(
        nodes
            .iter()
            .any(|n| n["actorLogin"] == second.login.as_str() && n["after"]["by"] == "emailMatch"),
        "{events}"
    );
}

#[tokio::test]
async fn two_sign_ins_in_two_tabs_of_one_browser_both_finish() {
    let (sso, _, sub) = setup_with_identity().await;
    let mut browser = Browser::new();
    browser._flow = Some(REGISTRATION.read().await);
    // Both tabs start before either comes back; each flow has its own binding cookie.
    let one = browser.get(&sso.start_url(RETURN_TO)).await;
    let two = browser.get(&sso.start_url(RETURN_TO)).await;
    let server = url::Url::parse(&sso.app.url("/")).unwrap();
    let server_host = format!("{}:{:?}", server.host_str().unwrap(), server.port());
    for started in [two, one] {
        // A fresh sign-in at the provider each time (its own session cookie forgotten).
        browser.jar.retain(|host, _| *host == server_host);
        let authorize = started.location.expect("to the provider");
        let interaction = browser.get(&authorize).await;
        let uid_url = interaction.location.expect("to the interaction");
        let next = browser
            .post_form(&format!("{uid_url}/login"), &[("login", &sub)])
            .await;
        let mut location = next.location.expect("a redirect");
        while location.starts_with(&sso.provider.issuer) {
            location = browser.get(&location).await.location.expect("a redirect");
        }
        let answer = browser.get(&location).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
    }
}

#[tokio::test]
async fn a_rotated_session_key_keeps_client_secrets_usable_through_sso_secret_keys() {
    const OLD: &[u8] = b"the-old-session-signing-key-of-32-bytes-or-more";
    const NEW: &[u8] = b"the-new-session-signing-key-of-32-bytes-or-more";
    let sso = setup_configured(Provider::shared(), json!({}), |c| {
        c.session_signing_key = Some(OLD.to_vec())
    })
    .await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = sso.identity_for(&manager).await;
    let usable = "{ account { sso { clientSecretSet clientSecretUsable } } }";

    // The key rotated with nothing kept: the secret is set but unusable, and says so.
    let rotated = sso
        .app
        .another_on_the_same_database(|c| c.session_signing_key = Some(NEW.to_vec()))
        .await;
    let owner = rotated
        .sign_in(&sso.owner.manager, crate::harness::USER_PASSWORD)
        .await;
    let body = owner.gql(usable, json!({})).await;
    assert_eq!(
        body["data"]["account"]["sso"],
        json!({ "clientSecretSet": true, "clientSecretUsable": false }),
        "{body}"
    );

    // The old key kept in SSO_SECRET_KEYS after the new one: usable, and a sign-in seals the
    // secret again with the new key, so the old one can go.
    let kept = sso
        .app
        .another_on_the_same_database(|c| {
            c.session_signing_key = Some(NEW.to_vec());
            c.sso_secret_keys = vec![NEW.to_vec(), OLD.to_vec()];
        })
        .await;
    let owner = kept
        .sign_in(&sso.owner.manager, crate::harness::USER_PASSWORD)
        .await;
    let body = owner.gql(usable, json!({})).await;
    assert_eq!(
        body["data"]["account"]["sso"]["clientSecretUsable"], true,
        "{body}"
    );
    {
        // The provider learns the second server's redirect URI too.
        let _registering = REGISTRATION.write().await;
        sso.provider
            .control(
                reqwest::Method::PUT,
                "/__test/clients",
                json!({
                    "client_id": sso.client_id, "client_secret": SECRET,
                    "redirect_uris": [sso.app.url("/sso/callback"), kept.url("/sso/callback")],
                }),
            )
            .await;
    }
    let on_kept = Sso {
        app: kept,
        owner,
        account: sso.account,
        client_id: sso.client_id.clone(),
        provider: sso.provider,
    };
    let code = on_kept.sign_in(&sub).await.code();
    assert!(on_kept.complete(&code).await["errors"].is_null());
    // Now the new key alone opens it.
    let body = owner_of(&rotated, &sso).await.gql(usable, json!({})).await;
    assert_eq!(
        body["data"]["account"]["sso"]["clientSecretUsable"], true,
        "{body}"
    );
}

async fn owner_of(app: &TestApp, sso: &Sso) -> User {
    app.sign_in(&sso.owner.manager, crate::harness::USER_PASSWORD)
        .await
}

#[tokio::test]
async fn linked_identities_are_seen_and_removed_by_company_managers_or_the_manager_itself() {
    let sso = setup().await;
    let t1 = sso.manager(ManagerKind::Team).await;
    let t2 = sso.manager(ManagerKind::Team).await;
    let (s1, s2) = (Uuid::new_v4().to_string(), Uuid::new_v4().to_string());
    link_directly(&sso, &t1, &s1).await;
    link_directly(&sso, &t2, &s2).await;
    let read = "query($id: ID!) { manager(id: $id) { ssoIdentities { issuer subject linkedAt } } }";
    let unlink =
        "mutation($id: ID!) { unlinkSsoIdentities(managerId: $id) { ssoIdentities { subject } } }";

    // A company manager sees every manager's.
    let body = sso.owner.gql(read, json!({ "id": t1.id })).await;
    let ids = &body["data"]["manager"]["ssoIdentities"];
    assert_eq!(ids[0]["subject"], s1.as_str(), "{body}");
    assert_eq!(ids[0]["issuer"], sso.provider.issuer.as_str(), "{body}");
    // A team manager its own, and no one else's.
    let u1 = sso.app.sign_in(&t1, "Manager-Pass-2026").await;
    let u2 = sso.app.sign_in(&t2, "Manager-Pass-2026").await;
    let own = u1
        .gql("{ me { ssoIdentities { subject } } }", json!({}))
        .await;
    assert_eq!(
        own["data"]["me"]["ssoIdentities"],
        json!([{ "subject": s1 }]),
        "{own}"
    );
    let other = u2.gql(read, json!({ "id": t1.id })).await;
    assert!(!other.to_string().contains(&s1), "{other}");
    let refused = u2.gql(unlink, json!({ "id": t1.id })).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    assert!(!refused.to_string().contains(&s1), "{refused}");

    // The manager removes its own; a company manager another's, audited with what went.
    let body = u1.gql(unlink, json!({ "id": t1.id })).await;
    assert_eq!(
        body["data"]["unlinkSsoIdentities"]["ssoIdentities"],
        json!([]),
        "{body}"
    );
    let body = sso.owner.gql(unlink, json!({ "id": t2.id })).await;
    assert_eq!(
        body["data"]["unlinkSsoIdentities"]["ssoIdentities"],
        json!([]),
        "{body}"
    );
    let events = sso
        .owner
        .gql(
            "{ auditEvents(action: UNLINK_SSO_IDENTITY, first: 5) { nodes { actorLogin before } } }",
            json!({}),
        )
        .await;
    let nodes = events["data"]["auditEvents"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "{events}");
    assert_eq!(nodes[0]["actorLogin"], sso.owner.manager.login.as_str());
    assert_eq!(nodes[0]["before"]["identities"][0]["subject"], s2.as_str());
    // Again: nothing left, nothing recorded.
    let body = sso.owner.gql(unlink, json!({ "id": t2.id })).await;
    assert!(body["errors"].is_null(), "{body}");

    // With `SUB`, an unlinked identity signs no one in.
    let body = sso
        .owner
        .gql(UPDATE_SSO, json!({ "i": { "identityClaim": "SUB" } }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    sso.provider
        .account(&s1, &format!("{s1}@corp.example"), false)
        .await;
    sso.sign_in(&s1).await.refused(403, "no_manager");
}

#[tokio::test]
async fn enforced_sso_mails_no_password_reset_to_those_it_refuses_a_password() {
    let (sso, mail) = setup_mailing().await;
    let dir = mail.path();
    let team = sso.manager(ManagerKind::Team).await;
    for (id, glass) in [(sso.owner.id(), true), (team.id, false)] {
        sso.login_settings(
            id,
            json!({ "userInitiatedPasswordReset": true, "ssoBreakGlass": glass }),
        )
        .await;
    }
    let body = sso
        .owner
        .gql(UPDATE_SSO, json!({ "i": { "enforced": true } }))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let reset = "mutation($l: String!) { requestPasswordReset(login: $l) }";
    // The break-glass company manager keeps its password, and may reset it.
    let (_, body) = sso
        .app
        .post_graphql(reset, json!({ "l": sso.owner.manager.login }))
        .await;
    assert_eq!(body["data"]["requestPasswordReset"], true, "{body}");
    assert_eq!(crate::harness::outbox(dir, 1).await.len(), 1);
    // The team manager has none to reset: the same answer, no mail.
    let (_, body) = sso
        .app
        .post_graphql(reset, json!({ "l": team.login }))
        .await;
    assert_eq!(body["data"]["requestPasswordReset"], true, "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(crate::harness::outbox(dir, 0).await.len(), 1);
}
