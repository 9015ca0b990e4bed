//! The token, revoke and introspect endpoints called raw (to see statuses, headers and
//! bodies), and the `oauth2` crate client a third-party app builds.

use oauth2::{
    AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, IntrospectionUrl, RedirectUrl,
    TokenUrl, basic::BasicClient,
};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::browser::{Grant, grant, no_redirects};
use super::support::{DevApp, ME, Replica, World};
use crate::harness::{TestApp, error_code};

/// How a request authenticates its client.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// `client_secret_basic` with the app's id and secret, form-urlencoded (RFC 6749 2.3.1).
    Basic(&'a DevApp),
    /// `client_secret_post`.
    Post(&'a DevApp),
    /// A public client: `client_id` only.
    Public(&'a DevApp),
    /// Basic with these credentials.
    BasicWith(&'a str, &'a str),
    /// No client authentication at all.
    Nothing,
}

impl Auth<'_> {
    /// The app's own way: Basic for a confidential app, `client_id` alone for a public one.
    pub fn of(dev: &DevApp) -> Auth<'_> {
        if dev.secret.is_some() {
            Auth::Basic(dev)
        } else {
            Auth::Public(dev)
        }
    }
}

pub fn form_encode(value: &str) -> String {
    oauth2::url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub fn basic_header(id: &str, secret: &str) -> String {
    use base64::Engine;
    let pair = format!("{}:{}", form_encode(id), form_encode(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// An endpoint's answer: status, headers and the JSON body (`Null` when empty, a string when
/// not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn error(&self) -> Option<&str> {
        self.body["error"].as_str()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {self:?}"))
            .to_owned()
    }

    /// Asserts an RFC 6749 error answer.
    pub fn assert_error(&self, status: u16, error: &str, what: &str) {
        assert_eq!(
            (self.status, self.error()),
            (status, Some(error)),
            "{what}: {self:?}"
        );
    }
}

/// A server the endpoints can be called on: a `TestApp` or a `Replica`.
pub trait Server {
    fn at(&self, path: &str) -> String;
}

impl Server for TestApp {
    fn at(&self, path: &str) -> String {
        self.url(path)
    }
}

impl Server for Replica {
    fn at(&self, path: &str) -> String {
        self.url(path)
    }
}

/// POSTs `form` to the endpoint at `path` with the client authentication `auth`.
pub async fn post_form(
    app: &impl Server,
    path: &str,
    auth: Auth<'_>,
    form: &[(&str, &str)],
) -> Reply {
    let mut form: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut request = no_redirects().post(app.at(path));
    match auth {
        Auth::Basic(dev) => {
            let secret = dev.secret.as_deref().expect("a confidential app");
            request = request.header("authorization", basic_header(&dev.client_id, secret));
        }
        Auth::BasicWith(id, secret) => {
            request = request.header("authorization", basic_header(id, secret));
        }
        Auth::Post(dev) => {
            form.push(("client_id".into(), dev.client_id.clone()));
            form.push((
                "client_secret".into(),
                dev.secret.clone().expect("a confidential app"),
            ));
        }
        Auth::Public(dev) => form.push(("client_id".into(), dev.client_id.clone())),
        Auth::Nothing => {}
    }
    let response = request.form(&form).send().await.expect("POST");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// Redeems `grant` at the token endpoint the app's own way.
pub async fn exchange(app: &impl Server, dev: &DevApp, grant: &Grant) -> Reply {
    post_form(
        app,
        "/oauth/token",
        Auth::of(dev),
        &[
            ("grant_type", "authorization_code"),
            ("code", &grant.code),
            ("redirect_uri", &dev.redirect),
            ("code_verifier", &grant.verifier),
        ],
    )
    .await
}

pub async fn refresh(app: &impl Server, dev: &DevApp, refresh_token: &str) -> Reply {
    post_form(
        app,
        "/oauth/token",
        Auth::of(dev),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

pub async fn revoke(app: &impl Server, auth: Auth<'_>, token: &str) -> Reply {
    post_form(app, "/oauth/revoke", auth, &[("token", token)]).await
}

pub async fn introspect(app: &impl Server, auth: Auth<'_>, token: &str) -> Reply {
    post_form(app, "/oauth/introspect", auth, &[("token", token)]).await
}

/// An access and a refresh token.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub scope: String,
}

impl Tokens {
    pub fn from_reply(reply: &Reply) -> Tokens {
        assert_eq!(reply.status, 200, "token answer: {reply:?}");
        Tokens {
            access: reply.str("access_token"),
            refresh: reply.str("refresh_token"),
            scope: reply.body["scope"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

/// The world's API manager authorizes `dev` for `scope` and the app redeems the code.
pub async fn tokens(world: &World, dev: &DevApp, scope: &str) -> Tokens {
    let grant = grant(world, dev, scope).await;
    Tokens::from_reply(&exchange(&world.app, dev, &grant).await)
}

/// POSTs GraphQL with an access token; status and body (also for a 401).
pub async fn gql(app: &TestApp, token: &str, query: &str, variables: Value) -> (u16, Value) {
    app.post_graphql_as(token, query, variables).await
}

/// Asserts that `token` is refused at once with 401 and `WWW-Authenticate` (RFC 6750).
pub async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401, "{what}");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("invalid_token"),
        "{what}: {challenge}"
    );
}

/// Asserts that `token` reads `me` as the world's API manager.
pub async fn assert_works(world: &World, token: &str, what: &str) {
    let (status, body) = gql(&world.app, token, ME, json!({})).await;
    assert_eq!(status, 200, "{what}: {body}");
    assert_eq!(
        body["data"]["me"]["id"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Manager,
            world.api.id
        )),
        "{what}: {body}"
    );
}

/// Asserts a GraphQL answer refused with `FORBIDDEN` for lack of `scope`.
pub fn assert_lacks_scope(body: &Value, scope: &str, what: &str) {
    assert_eq!(error_code(body), Some("FORBIDDEN"), "{what}: {body}");
    let error = &body["errors"][0];
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains(scope),
        "{what}: the message names {scope}: {body}"
    );
    assert_eq!(error["extensions"]["scope"], json!(scope), "{what}: {body}");
}

// ---------------------------------------------------------------------------------------------
// The third-party app, as the `oauth2` crate builds it

/// An `oauth2` client with the authorization, token and introspection endpoints set. (The
/// crate refuses a revocation endpoint over plain HTTP, RFC 7009 section 2; the tests revoke
/// with a raw request.)
pub type AppClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointSet, EndpointNotSet, EndpointSet>;

pub fn oauth_client(app: &TestApp, dev: &DevApp) -> AppClient {
    let client = BasicClient::new(ClientId::new(dev.client_id.clone()))
        .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).expect("auth url"))
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).expect("token url"))
        .set_introspection_url(
            IntrospectionUrl::new(app.url("/oauth/introspect")).expect("introspection url"),
        )
        .set_redirect_uri(RedirectUrl::new(dev.redirect.clone()).expect("redirect url"));
    match &dev.secret {
        Some(secret) => client.set_client_secret(ClientSecret::new(secret.clone())),
        None => client,
    }
}
