//! What every OAuth test shares: an account that allows API managers with its company manager
//! and one API manager, developer apps registered through GraphQL, GraphQL about
//! authorizations, and a second server on the same database. Re-exports the browser
//! (`browser.rs`) and the raw endpoints (`endpoints.rs`), so a test file needs one `use`.

use admin_center::{
    clock::Clock, config::Config, db, graphql, http, service::account, state::AppState,
};
use entity::manager::{self, ManagerKind};
use serde_json::{Value, json};
use uuid::Uuid;

pub use super::browser::*;
pub use super::endpoints::*;
use crate::harness::{TestApp, User};

/// The registered redirect URI of the test apps: loopback over plain HTTP (allowed for native
/// apps). Nobody listens there; the tests never follow redirects.
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
/// The password of the API manager of every `World`.
pub const API_PASSWORD: &str = "Api-Manager-Pass-7";
/// The `state` the tests send with every authorization request.
pub const STATE: &str = "st-4f9a2c";

pub const ME: &str = "{ me { id login } }";

/// A server, an account that allows API managers, its company manager (signed in) and one API
/// manager (not signed in anywhere yet, no restriction pending).
pub struct World {
    pub app: TestApp,
    pub owner: User,
    pub account_id: Uuid,
    pub account_name: String,
    pub api: manager::Model,
}

pub async fn world() -> World {
    world_with(|_| {}).await
}

pub async fn world_with(adjust: impl FnOnce(&mut Config)) -> World {
    let app = TestApp::with_config(adjust).await;
    let (created, owner) = app.company_owner().await;
    account::set_api_managers_allowed(&app.state.db, app.clock.now(), created.account.id, true)
        .await
        .expect("allow API managers");
    let api = app
        .insert_manager(
            created.account.id,
            ManagerKind::Api,
            &format!("api-{}", short_id()),
            API_PASSWORD,
        )
        .await;
    World {
        app,
        owner,
        account_id: created.account.id,
        account_name: created.account.name.clone(),
        api,
    }
}

pub fn short_id() -> String {
    Uuid::new_v4().simple().to_string()[..10].to_owned()
}

/// The issuer the server announces: its own address, no trailing slash.
pub fn issuer(app: &TestApp) -> String {
    app.url("")
}

/// Runs a GraphQL request that must succeed; returns its `data`.
pub async fn ok(who: &User, query: &str, variables: Value) -> Value {
    let (status, body) = who.post(query, variables).await;
    assert!(
        status == 200 && body["errors"].is_null(),
        "expected success: {query}\n{status} {body}"
    );
    body["data"].clone()
}

// ---------------------------------------------------------------------------------------------
// Developer apps

/// A registered developer app, with the secret shown once at registration.
#[derive(Clone, Debug)]
pub struct DevApp {
    pub id: String,
    pub client_id: String,
    pub secret: Option<String>,
    pub name: String,
    pub redirect: String,
}

/// The GraphQL enum value of a wire scope (`reps:read` → `REPS_READ`).
pub fn scope_enum(scope: &str) -> String {
    scope.replace(':', "_").to_uppercase()
}

pub const REGISTER: &str = "mutation($i: RegisterDeveloperAppInput!) {
    registerDeveloperApp(input: $i) {
        app { id clientId name description redirectUris scopes confidential platform disabledAt createdAt updatedAt }
        clientSecret } }";

/// Registers an app through GraphQL as `who`; the whole answer.
pub async fn register_raw(
    who: &User,
    name: &str,
    redirects: &[&str],
    scopes: &[&str],
    confidential: bool,
) -> (u16, Value) {
    let scopes: Vec<String> = scopes.iter().map(|s| scope_enum(s)).collect();
    who.post(
        REGISTER,
        json!({ "i": {
            "name": name,
            "description": "A test app",
            "redirectUris": redirects,
            "scopes": scopes,
            "confidential": confidential,
        } }),
    )
    .await
}

pub async fn register_with(
    who: &User,
    name: &str,
    redirects: &[&str],
    scopes: &[&str],
    confidential: bool,
) -> DevApp {
    let (status, body) = register_raw(who, name, redirects, scopes, confidential).await;
    assert!(
        status == 200 && body["errors"].is_null(),
        "register failed: {body}"
    );
    let registered = &body["data"]["registerDeveloperApp"];
    DevApp {
        id: registered["app"]["id"].as_str().unwrap().to_owned(),
        client_id: registered["app"]["clientId"].as_str().unwrap().to_owned(),
        secret: registered["clientSecret"].as_str().map(str::to_owned),
        name: name.to_owned(),
        redirect: redirects[0].to_owned(),
    }
}

/// A confidential app of the world's account, registered for `scopes` and `REDIRECT`.
pub async fn confidential_app(world: &World, scopes: &[&str]) -> DevApp {
    register_with(
        &world.owner,
        &format!("Confidential {}", short_id()),
        &[REDIRECT],
        scopes,
        true,
    )
    .await
}

/// A public app (no secret) of the world's account, registered for `scopes` and `REDIRECT`.
pub async fn public_app(world: &World, scopes: &[&str]) -> DevApp {
    register_with(
        &world.owner,
        &format!("Public {}", short_id()),
        &[REDIRECT],
        scopes,
        false,
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// GraphQL about authorizations

pub const AUTHORIZED: &str = "query($id: ID!, $all: Boolean) {
    manager(id: $id) { authorizedApplications(includeRevoked: $all) {
        id scopes createdAt lastUsedAt revokedAt application { id clientId name } } } }";

/// The API manager's authorizations as `who` sees them (revoked ones included).
pub async fn authorizations(who: &User, manager_id: Uuid) -> Vec<Value> {
    let data = ok(who, AUTHORIZED, json!({ "id": manager_id, "all": true })).await;
    data["manager"]["authorizedApplications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `lastUsedAt` of the API manager's active authorization of `app_id`, once it is at least
/// `since`. The server writes it off the request path, so this waits for it (up to 5 s of
/// real time, as for mail); the clock is not moved.
pub async fn last_used_since(
    world: &World,
    app_id: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    let started = std::time::Instant::now();
    loop {
        let listed = authorizations(&world.owner, world.api.id).await;
        let last_used = listed
            .iter()
            .find(|a| a["application"]["id"] == json!(app_id) && a["revokedAt"].is_null())
            .and_then(|a| {
                serde_json::from_value::<chrono::DateTime<chrono::Utc>>(a["lastUsedAt"].clone())
                    .ok()
            });
        match last_used {
            // PostgreSQL keeps microseconds of the clock's nanoseconds.
            Some(at) if at >= since - chrono::Duration::microseconds(1) => return at,
            _ if started.elapsed() > std::time::Duration::from_secs(5) => {
                panic!("lastUsedAt never reached {since}: {listed:?}")
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
}

pub const REVOKE_APPS: &str = "mutation($m: ID!, $apps: [ID!]!) {
    revokeApiManagerApplications(managerId: $m, appIds: $apps) { id } }";

/// The account's audit events with `action`, newest first, as the company manager sees them.
pub async fn audit(world: &World, action: &str) -> Vec<Value> {
    let data = ok(
        &world.owner,
        "query($a: AuditAction!) { auditEvents(action: $a, first: 50) {
            nodes { action actorId actorLogin targetType targetId before after } } }",
        json!({ "a": crate::harness::enum_value(action) }),
    )
    .await;
    data["auditEvents"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// A second server on the same database

/// Another server process's worth of state (its own connection pool, key cache, auth chain)
/// on the database of an existing `TestApp`, sharing its clock.
pub struct Replica {
    pub addr: std::net::SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

impl Replica {
    /// A replica announcing `public_url` as its issuer (replicas behind one address share it).
    pub async fn start(app: &TestApp, public_url: String) -> Replica {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = Config {
            database_url: app.state.config.database_url.clone(),
            workers: Some(1),
            public_url: Some(public_url),
            ..Config::default()
        };
        let conn = db::connect(&config.database_url).await.expect("connect");
        let state = AppState::build(conn, config, std::sync::Arc::new(app.clock.clone()))
            .await
            .expect("state");
        let schema = graphql::schema(state.clone());
        let server = http::server(state, schema, listener).expect("server");
        let handle = server.handle();
        tokio::spawn(server);
        Replica { addr, handle }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs GraphQL to this replica with `token`; status and body.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": crate::harness::client_variables(variables) }))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}
