//! `TestApp`: a real admin-center server (same routes as `serve`) on 127.0.0.1, over a fresh
//! database that has run the real migrations.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::ServerHandle;
use admin_center::{
    auth::{Actor, Principal},
    clock::{Clock, ManualClock},
    config::Config,
    db,
    graphql::{self, AppSchema},
    http,
    service::account::{self, CreatedAccount, NewAccount},
    state::AppState,
};
use async_graphql::{Request, Variables};
use serde_json::{Value, json};
use uuid::Uuid;

pub struct TestApp {
    pub state: AppState,
    pub schema: AppSchema,
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
            let (base, _) = admin_url
                .rsplit_once('/')
                .expect("TEST_DATABASE_URL ends with /DBNAME");
            format!("{base}/{name}")
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
        let mut config = Config {
            database_url: database_url.clone(),
            workers: Some(1),
            ..Config::default()
        };
        adjust(&mut config);
        let conn = db::connect(&database_url).await.expect("connect");
        db::migrate(&conn).await.expect("migrate");
        let clock = ManualClock::starting_now();
        let state = AppState::new(conn, config).with_clock(std::sync::Arc::new(clock.clone()));
        let schema = graphql::schema(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = http::server(state.clone(), schema.clone(), listener).expect("server");
        let handle = server.handle();
        tokio::spawn(server);
        TestApp {
            state,
            schema,
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

    /// Runs a GraphQL request in-process as `principal` and returns the JSON response.
    pub async fn gql(&self, principal: &Principal, query: &str, variables: Value) -> Value {
        let request = Request::new(query).variables(Variables::from_json(variables));
        let response = graphql::execute(&self.schema, request, principal.clone()).await;
        serde_json::to_value(response).expect("response is JSON")
    }

    /// POSTs a GraphQL request over real HTTP, anonymously.
    pub async fn post_graphql(&self, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// A new account with its owner, and the owner as a signed-in principal.
    pub async fn with_company_manager(&self) -> (CreatedAccount, Principal) {
        let n = Uuid::new_v4().simple().to_string();
        let created = account::create(
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
        .expect("create account");
        let principal = Principal::Manager(Actor {
            manager_id: created.owner.id,
            account_id: created.account.id,
            kind: created.owner.kind,
            login: created.owner.login.clone(),
        });
        (created, principal)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the workers wind down on their own threads.
        drop(self.server.stop(false));
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}
