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
    let app = TestApp::new().await;
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
    fn start_url(&self, return_to: &str) -> String {
        let id = crate::harness::gid(crate::harness::IdKind::Account, self.account);
        format!(
            "{}?return_to={}",
            self.app.url(&format!("/sso/{id}/start")),
            url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
        )
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

    async fn complete(&self, code: &str) -> Value {
        self.app
            .post_graphql(
                "mutation($c: String!) { completeSsoLogin(code: $c) { token restriction \
                 manager { login } } }",
                json!({ "c": code }),
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
    let body = sso
        .owner
        .gql(
            "mutation($id: ID!) { updateManagerLoginSettings(id: $id, input: { forcePasswordChange: true }) { id } }",
            json!({ "id": manager.id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
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
    let sso = setup().await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = Uuid::new_v4().to_string();
    sso.provider.account(&sub, &manager.email, true).await;
    let (mut browser, callback) = sso.to_callback(AtProvider::SignIn(&sub), |u| u).await;
    let first = browser.get(&callback).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let replay = browser.get(&callback).await;
    replay.refused(400, "state");
    assert_eq!(sso.last_failure().await["reason"], "state");
}

#[tokio::test]
async fn a_callback_in_another_browser_is_refused() {
    let sso = setup().await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = Uuid::new_v4().to_string();
    sso.provider.account(&sub, &manager.email, true).await;
    let (_, callback) = sso.to_callback(AtProvider::SignIn(&sub), |u| u).await;
    Browser::new().get(&callback).await.refused(400, "binding");
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let sso = setup().await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = Uuid::new_v4().to_string();
    sso.provider.account(&sub, &manager.email, true).await;
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
    let sso = setup().await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = Uuid::new_v4().to_string();
    sso.provider.account(&sub, &manager.email, true).await;
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
    let sub = Uuid::new_v4().to_string();
    sso.provider.account(&sub, &manager.email, true).await;
    let (mut browser, callback) = sso.to_callback(AtProvider::SignIn(&sub), |u| u).await;
    // Past the token's minute, within the pending sign-in's ten.
    sso.app.clock.advance(chrono::Duration::minutes(5));
    browser.get(&callback).await.refused(401, "expired");
}

#[tokio::test]
async fn an_id_token_from_another_issuer_or_key_is_refused() {
    let sso = setup().await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = Uuid::new_v4().to_string();
    sso.provider.account(&sub, &manager.email, true).await;
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
    assert_eq!(sso.last_failure().await["reason"], "return_to");
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
    let body = sso
        .owner
        .gql(
            "mutation($id: ID!) { updateManagerLoginSettings(id: $id, input: { ssoBreakGlass: true }) { loginSettings { ssoBreakGlass } } }",
            json!({ "id": sso.owner.id() }),
        )
        .await;
    assert_eq!(
        body["data"]["updateManagerLoginSettings"]["loginSettings"]["ssoBreakGlass"], true,
        "{body}"
    );
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
    let sub = Uuid::new_v4().to_string();
    sso.provider.account(&sub, &team.email, true).await;
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
    let flag = |id: Uuid, on: bool| {
        let owner = sso.owner.clone();
        async move {
            owner
                .gql(
                    "mutation($id: ID!, $on: Boolean!) { updateManagerLoginSettings(id: $id, input: { ssoBreakGlass: $on }) { id } }",
                    json!({ "id": id, "on": on }),
                )
                .await
        }
    };
    assert_eq!(
        error_code(&flag(team.id, true).await),
        Some("BAD_USER_INPUT")
    );
    let other = sso.manager(ManagerKind::Company).await;
    assert!(flag(other.id, true).await["errors"].is_null());
    let body = sso
        .owner
        .gql(UPDATE_SSO, json!({ "i": { "enforced": true } }))
        .await;
    assert!(body["errors"].is_null(), "{body}");

    // The last break-glass company manager can neither lose the flag nor be deleted.
    assert_eq!(error_code(&flag(other.id, false).await), Some("CONFLICT"));
    let deleted = sso
        .owner
        .gql(
            "mutation($id: ID!) { deleteManager(id: $id) }",
            json!({ "id": other.id }),
        )
        .await;
    assert_eq!(error_code(&deleted), Some("CONFLICT"), "{deleted}");
    // With a second one, the first may go.
    assert!(flag(sso.owner.id(), true).await["errors"].is_null());
    assert!(flag(other.id, false).await["errors"].is_null());

    // `enforced` needs `enabled`; turning `enabled` off turns `enforced` off.
    let body = sso
        .owner
        .gql(
            UPDATE_SSO,
            json!({ "i": { "enabled": false, "enforced": true } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("DEPENDENCY_VIOLATION"), "{body}");
    let body = sso
        .owner
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
async fn a_rotated_provider_key_is_fetched_once_and_accepted() {
    // Rotation changes the provider's keys for everyone: this test has a provider of its own.
    let provider: &'static Provider = Box::leak(Box::new(Provider::start()));
    let sso = setup_with(provider, json!({})).await;
    let manager = sso.manager(ManagerKind::Company).await;
    let sub = Uuid::new_v4().to_string();
    provider.account(&sub, &manager.email, true).await;
    let first = sso.sign_in(&sub).await.code();
    assert!(sso.complete(&first).await["errors"].is_null());
    provider
        .control(
            reqwest::Method::POST,
            "/__test/rotate-keys",
            json!({ "retire_old": true }),
        )
        .await;
    // Past the key set's refetch cool-down (a minute), well within discovery's hour.
    sso.app.clock.advance(chrono::Duration::minutes(2));
    let second = sso.sign_in(&sub).await.code();
    assert!(sso.complete(&second).await["errors"].is_null());
}

#[tokio::test]
async fn the_sso_migration_runs_down_and_up_again() {
    use migration::MigratorTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(&dir).await;
    let db = admin_center::db::connect(&url).await.unwrap();
    migration::Migrator::up(&db, None).await.unwrap();
    migration::Migrator::down(&db, Some(1)).await.unwrap();
    assert!(
        sso_login::Entity::find().count(&db).await.is_err(),
        "the SSO tables are gone"
    );
    migration::Migrator::up(&db, None).await.unwrap();
    sso_login::Entity::find().count(&db).await.unwrap();
}
