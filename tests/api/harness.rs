//! `TestApp`: a real admin-center server (same routes as `serve`) on 127.0.0.1, over a fresh
//! database that has run the real migrations. It hands out real users with real credentials
//! (`company_owner`, `sign_in`): every request under test goes over HTTP with a session token
//! that the real `login` mutation issued, through the whole auth chain.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::ServerHandle;
use admin_center::{
    clock::{Clock, ManualClock},
    config::Config,
    db, graphql, http,
    service::account::{self, CreatedAccount, NewAccount},
    state::AppState,
};
use entity::manager::{self, ManagerKind};
use serde_json::{Value, json};
use uuid::Uuid;

pub use admin_center::graphql::IdKind;

/// The global id the API gives the `kind` row `id`.
pub fn gid(kind: IdKind, id: Uuid) -> String {
    remember(kind, id)
}

/// Global ids the tests have met, by storage id: a test world that keeps storage ids finds the
/// global id of any row it created (ids are unique across tables).
static SEEN: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<Uuid, String>>> =
    std::sync::LazyLock::new(Default::default);

fn remember(kind: IdKind, id: Uuid) -> String {
    let global = graphql::global_id(kind, id).0;
    SEEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(id, global.clone());
    global
}

/// The GraphQL enum value of a camelCase name: `updateTeam` is `UPDATE_TEAM`.
pub fn enum_value(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// `id`, a row of `kind` the test found in the database, with its global id remembered.
pub fn met(kind: IdKind, id: Uuid) -> Uuid {
    remember(kind, id);
    id
}

/// The storage id of a global id the API answered (remembered for [`gid_of`]).
pub fn uuid_of_gid(id: &str) -> Uuid {
    let (kind, uuid) =
        graphql::decode_global_id(id).unwrap_or_else(|| panic!("not a global id: {id}"));
    remember(kind, uuid);
    uuid
}

/// Variables as a client sends them: a test world may keep storage ids (the rows it seeds
/// straight into the database, the ids it decoded); any string that is the storage id of a row
/// the tests met is sent as that row's global id, as a client holding the API's own ids would.
/// A uuid nobody met (a made-up id) goes as it is, and names nothing.
pub fn client_variables(value: Value) -> Value {
    match value {
        Value::String(text) => match Uuid::try_parse(&text) {
            Ok(id) => Value::String(
                SEEN.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get(&id)
                    .cloned()
                    .unwrap_or(text),
            ),
            Err(_) => Value::String(text),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(client_variables).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, client_variables(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The global id of a row whose global id a test has met before.
pub fn gid_of(id: Uuid) -> String {
    SEEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&id)
        .cloned()
        .unwrap_or_else(|| panic!("no global id met for {id}"))
}

pub struct TestApp {
    /// SQL statements run through the app's connection since it started.
    pub statements: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub state: AppState,
    pub clock: ManualClock,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    server: ServerHandle,
    _dir: tempfile::TempDir,
}

/// A fresh database URL: a new SQLite file in `dir`, or a new database in the PostgreSQL
/// cluster named by `TEST_DATABASE_URL`.
pub async fn fresh_database_url(dir: &tempfile::TempDir) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("ac_test_{}", Uuid::new_v4().simple());
            let admin = db::connect(&admin_url)
                .await
                .expect("connect TEST_DATABASE_URL");
            use sea_orm::ConnectionTrait;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.ok();
            // The parameters (`?sslmode=…&sslrootcert=/path`) stay; the database name changes.
            let (path, params) = admin_url
                .split_once('?')
                .map_or((admin_url.as_str(), String::new()), |(path, params)| {
                    (path, format!("?{params}"))
                });
            let (base, _) = path
                .rsplit_once('/')
                .expect("TEST_DATABASE_URL ends with /DBNAME");
            format!("{base}/{name}{params}")
        }
        _ => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("test.db").to_string_lossy()
        ),
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_config(|_| {}).await
    }

    /// A server whose configuration the test adjusts first (limits, mail…).
    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let database_url = fresh_database_url(&dir).await;
        Self::on_database(dir, database_url, adjust).await
    }

    /// A second server on this one's database (as after a restart with another
    /// configuration); keep this one alive meanwhile, it owns the database's directory.
    pub async fn another_on_the_same_database(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::on_database(dir, self.state.config.database_url.clone(), adjust).await
    }

    async fn on_database(
        dir: tempfile::TempDir,
        database_url: String,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        // Bound first, so the server knows the address clients reach it at (the OAuth issuer).
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = Config {
            database_url: database_url.clone(),
            workers: Some(1),
            public_url: Some(format!("http://{addr}")),
            // The test identity provider listens on http://127.0.0.1 (tests/api/sso_outbound.rs
            // turns this off to check the default).
            sso_allow_private_networks: true,
            ..Config::default()
        };
        adjust(&mut config);
        let mut conn = db::connect(&database_url).await.expect("connect");
        db::migrate(&conn).await.expect("migrate");
        let statements = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = statements.clone();
        conn.set_metric_callback(move |_| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let clock = ManualClock::starting_now();
        let state = AppState::build(conn, config, std::sync::Arc::new(clock.clone()))
            .await
            .expect("state");
        let schema = graphql::schema(state.clone());
        let server = http::server(state.clone(), schema.clone(), listener).expect("server");
        let handle = server.handle();
        tokio::spawn(server);
        TestApp {
            statements,
            state,
            clock,
            addr,
            client: reqwest::Client::new(),
            server: handle,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `login` over HTTP through a trusted proxy (`TRUST_PROXY`) that saw the client at
    /// `address`; the HTTP status and the body.
    pub async fn login_from(&self, address: &str, login: &str, password: &str) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .header("x-forwarded-for", address)
            .json(&json!({
                "query": "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token restriction } }",
                "variables": { "l": login, "p": password }
            }))
            .send()
            .await
            .expect("request");
        (
            response.status().as_u16(),
            response.json().await.expect("JSON body"),
        )
    }

    /// POSTs a GraphQL request over real HTTP, anonymously.
    pub async fn post_graphql(&self, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": client_variables(variables) }))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// A new account with its owner (created the way the operator's CLI does); nobody is signed
    /// in yet, and the owner must replace its one-time password at first sign-in.
    pub async fn new_account(&self) -> CreatedAccount {
        let n = Uuid::new_v4().simple().to_string();
        account::create(
            &self.state.db,
            self.clock.now(),
            NewAccount {
                name: format!("Company {}", &n[..8]),
                owner_login: format!("owner-{}", &n[..12]),
                owner_name: "Owner".into(),
                owner_email: format!("owner-{}@example.com", &n[..12]),
                allow_api_managers: false,
            },
        )
        .await
        .inspect(|created| {
            remember(IdKind::Account, created.account.id);
            remember(IdKind::Manager, created.owner.id);
        })
        .expect("create account")
    }

    /// POSTs a GraphQL request over real HTTP with `Authorization: Bearer <token>`.
    pub async fn post_graphql_as(
        &self,
        token: &str,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": client_variables(variables) }))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// Signs in over HTTP; returns the whole `login` payload (or the errors).
    pub async fn login(&self, login: &str, password: &str) -> Value {
        let (_, body) = self
            .post_graphql(
                "mutation($l: String!, $p: String!) {
                   login(login: $l, password: $p) { token expiresAt restriction manager { id login } }
                 }",
                json!({ "l": login, "p": password }),
            )
            .await;
        body
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the workers wind down on their own threads.
        drop(self.server.stop(false));
    }
}

impl TestApp {
    /// A manager of any kind inserted straight into the database, with `password` and
    /// `forcePasswordChange` off (test setup only; the API creates managers with the flag on).
    pub async fn insert_manager(
        &self,
        account_id: Uuid,
        kind: ManagerKind,
        login: &str,
        password: &str,
    ) -> manager::Model {
        use sea_orm::{ActiveModelTrait, IntoActiveModel};
        let now = self.clock.now();
        let manager = manager::Model {
            id: Uuid::now_v7(),
            account_id,
            kind,
            login: login.to_owned(),
            login_key: manager::login_key(login),
            name: format!("{login} name"),
            email: format!("{login}@example.com"),
            email_validated: false,
            password_hash: admin_center::auth::password::hash(password.to_owned())
                .await
                .expect("hash"),
            force_password_change: false,
            user_initiated_password_reset: true,
            force_validation_prompt: false,
            sso_break_glass: false,
            rights: 0,
            rep_controls: 0,
            created_at: now,
            updated_at: now,
        }
        .into_active_model()
        .reset_all()
        .insert(&self.state.db)
        .await
        .expect("insert manager");
        admin_center::service::logins::claim(
            &self.state.db,
            &manager.login,
            admin_center::service::logins::Owner::Manager,
            manager.id,
        )
        .await
        .expect("claim login");
        remember(IdKind::Manager, manager.id);
        manager
    }

    /// An account whose owner has replaced its one-time password with `password`; returns the
    /// account and an unrestricted session token of the owner.
    pub async fn signed_in_owner(&self, password: &str) -> (CreatedAccount, String) {
        let created = self.new_account().await;
        let first = self
            .login(&created.owner.login, &created.owner_password)
            .await;
        let token = first["data"]["login"]["token"]
            .as_str()
            .expect("token")
            .to_owned();
        let (_, changed) = self
            .post_graphql_as(
                &token,
                "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token restriction } }",
                json!({ "c": created.owner_password, "n": password }),
            )
            .await;
        assert_eq!(
            changed["data"]["changePassword"]["restriction"], "NONE",
            "{changed}"
        );
        let token = changed["data"]["changePassword"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        (created, token)
    }
}

/// The password `TestApp::company_owner` gives every owner and `TestApp::manager_user` every
/// manager it creates.
pub const USER_PASSWORD: &str = "Harbor-Lights-2026";

/// A real user with real credentials, crates.io style: its row, and a live session token that the
/// real `login` mutation (and `changePassword` when the account started with a one-time password)
/// handed out over HTTP. Every request it sends goes over HTTP through the whole auth chain.
#[derive(Clone)]
pub struct User {
    pub manager: manager::Model,
    pub token: String,
    client: reqwest::Client,
    url: String,
}

impl User {
    pub fn id(&self) -> Uuid {
        self.manager.id
    }

    /// POSTs a GraphQL request with this user's bearer token; returns status and body.
    pub async fn post(&self, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": client_variables(variables) }))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// POSTs a GraphQL request with this user's bearer token; returns the body.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.post(query, variables).await.1
    }
}

impl TestApp {
    /// A new account and its owner signed in: the one-time password used once through `login`,
    /// then replaced with `USER_PASSWORD` through `changePassword`, whose unrestricted session
    /// the user holds.
    pub async fn company_owner(&self) -> (CreatedAccount, User) {
        use sea_orm::EntityTrait;
        let (created, token) = self.signed_in_owner(USER_PASSWORD).await;
        let manager = manager::Entity::find_by_id(created.owner.id)
            .one(&self.state.db)
            .await
            .expect("read owner")
            .expect("owner exists");
        let user = self.user(manager, token);
        (created, user)
    }

    /// Signs `manager` in through the real `login` mutation. A manager that must change its
    /// password first (as the API creates them) changes it to `USER_PASSWORD` through
    /// `changePassword`; the user holds an unrestricted session either way.
    pub async fn sign_in(&self, manager: &manager::Model, password: &str) -> User {
        use sea_orm::EntityTrait;
        let body = self.login(&manager.login, password).await;
        let token = body["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("sign-in of {} failed: {body}", manager.login))
            .to_owned();
        let token = match body["data"]["login"]["restriction"].as_str() {
            Some("NONE") => token,
            Some("PASSWORD_CHANGE") => {
                let (_, changed) = self
                    .post_graphql_as(
                        &token,
                        "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token restriction } }",
                        json!({ "c": password, "n": USER_PASSWORD }),
                    )
                    .await;
                assert_eq!(
                    changed["data"]["changePassword"]["restriction"], "NONE",
                    "{changed}"
                );
                changed["data"]["changePassword"]["token"]
                    .as_str()
                    .expect("token")
                    .to_owned()
            }
            _ => panic!("sign-in of {} is restricted: {body}", manager.login),
        };
        let manager = manager::Entity::find_by_id(manager.id)
            .one(&self.state.db)
            .await
            .expect("read manager")
            .expect("manager exists");
        self.user(manager, token)
    }

    fn user(&self, manager: manager::Model, token: String) -> User {
        User {
            manager,
            token,
            client: self.client.clone(),
            url: self.url("/graphql"),
        }
    }
}

/// Mail written by the `file:` transport to `dir`, oldest first, with quoted-printable soft
/// line breaks undone. Waits up to 5 s for at least `at_least` messages (mail is sent in the
/// background).
pub async fn outbox(dir: &std::path::Path, at_least: usize) -> Vec<String> {
    let started = std::time::Instant::now();
    loop {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        if files.len() >= at_least || started.elapsed() > std::time::Duration::from_secs(5) {
            files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
            return files
                .iter()
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .map(|m| m.replace("=\r\n", "").replace("=\n", ""))
                .collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The first word in `text` that starts with `prefix` (a token in a mail).
pub fn find_token(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)?;
    Some(
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect(),
    )
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}

/// A developer app as a test registers it: its GraphQL id, OAuth client id and secret.
#[derive(Clone, Debug)]
pub struct TestClient {
    pub id: String,
    pub client_id: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
}

/// Tokens an app got from the token endpoint.
#[derive(Clone, Debug)]
pub struct AppTokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// The `value` of every `<input type="hidden" name=… value=…>` of a page, unescaped.
pub fn hidden_inputs(page: &str) -> Vec<(String, String)> {
    let unescape = |v: &str| {
        v.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.strip_prefix(" value=\"")?.split_once('"')?.0;
            Some((name.to_owned(), unescape(value)))
        })
        .collect()
}

impl TestApp {
    /// Registers a confidential app through GraphQL as `owner` (a company manager).
    pub async fn register_app(&self, owner: &User, scopes: &[&str]) -> TestClient {
        let redirect_uri = "http://127.0.0.1:9/callback".to_owned();
        let body = owner
            .gql(
                "mutation($s: [ApiScope!]!, $r: [String!]!) { registerDeveloperApp(input: { name: \"Test app\", redirectUris: $r, scopes: $s, confidential: true }) { app { id clientId } clientSecret } }",
                json!({ "s": scopes, "r": [redirect_uri] }),
            )
            .await;
        let registered = &body["data"]["registerDeveloperApp"];
        TestClient {
            id: registered["app"]["id"].as_str().expect("app id").to_owned(),
            client_id: registered["app"]["clientId"]
                .as_str()
                .expect("client id")
                .to_owned(),
            secret: registered["clientSecret"].as_str().map(str::to_owned),
            redirect_uri,
        }
    }

    /// An API manager (`login`, `password`, unrestricted) authorizes `app` for `scope` (the
    /// OAuth string, e.g. "reps:read teams:read") through the real sign-in and consent pages,
    /// and the app exchanges the code: real HTTP all the way, as a browser and an app would.
    pub async fn authorize_app(
        &self,
        app: &TestClient,
        login: &str,
        password: &str,
        scope: &str,
    ) -> AppTokens {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let verifier = format!("verifier-{}-{}", Uuid::new_v4(), Uuid::new_v4());
        let challenge = admin_center::service::grant::s256(&verifier);
        let page = browser
            .get(self.url("/oauth/authorize"))
            .query(&[
                ("response_type", "code"),
                ("client_id", &app.client_id),
                ("redirect_uri", &app.redirect_uri),
                ("scope", scope),
                ("state", "test-state"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .send()
            .await
            .expect("authorize");
        assert_eq!(page.status(), 200, "sign-in page");
        let cookie = page
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("CSRF cookie")
            .to_owned();
        let mut form = hidden_inputs(&page.text().await.expect("page"));
        form.push(("login".into(), login.into()));
        form.push(("password".into(), password.into()));
        let mut answer = browser
            .post(self.url("/oauth/authorize"))
            .header("cookie", &cookie)
            .form(&form)
            .send()
            .await
            .expect("sign in");
        if answer.status() == 200 {
            let mut form = hidden_inputs(&answer.text().await.expect("consent page"));
            form.push(("decision".into(), "allow".into()));
            answer = browser
                .post(self.url("/oauth/authorize"))
                .header("cookie", &cookie)
                .form(&form)
                .send()
                .await
                .expect("consent");
        }
        assert_eq!(answer.status(), 303, "redirect back with a code");
        let location = answer.headers()["location"].to_str().expect("location");
        let code = location
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("code="))
            .expect("code in the redirect")
            .to_owned();
        let mut exchange = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", app.redirect_uri.clone()),
            ("code_verifier", verifier),
            ("client_id", app.client_id.clone()),
        ];
        if let Some(secret) = &app.secret {
            exchange.push(("client_secret", secret.clone()));
        }
        let tokens: Value = self
            .client
            .post(self.url("/oauth/token"))
            .form(&exchange)
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token JSON");
        AppTokens {
            access_token: tokens["access_token"]
                .as_str()
                .unwrap_or_else(|| panic!("{tokens}"))
                .to_owned(),
            refresh_token: tokens["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        }
    }
}
