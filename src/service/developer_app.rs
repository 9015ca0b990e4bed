//! Developer apps (SPEC 6): the OAuth clients of an account, managed by its company managers,
//! and platform-wide apps registered by the operator (`app register`). A confidential app's
//! secret is random, shown once, and stored as its SHA-256 only; rotating it replaces it at
//! once. Disabling an app stops every token it holds on the next request; it cannot be undone
//! (register a new app instead), so a leaked client cannot be quietly revived.

use crate::service::audit::{Action, TargetType};
use chrono::{DateTime, Utc};
use entity::developer_app;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    auth::{Actor, ClientInfo, scope::ScopeSet},
    error::AppError,
    service::{
        access::{self, Access},
        change::Change,
        paging::{self, Order, Page, PageRequest},
        session::{hash_secret, new_secret},
        validate,
    },
    state::AppState,
};

const TARGET: TargetType = TargetType::DeveloperApp;
/// Prefix of client secrets, and of client ids. Prefixes are public API (they let a leaked
/// secret be recognised, by people and by secret scanners): never change one.
pub const CLIENT_SECRET_PREFIX: &str = "acs_";
pub const CLIENT_ID_PREFIX: &str = "aci_";
pub const MAX_REDIRECT_URIS: usize = 10;
const MAX_REDIRECT_URI_CHARS: usize = 2000;
const MAX_DESCRIPTION_CHARS: usize = 2000;

/// A new app, as registered.
#[derive(Debug)]
pub struct NewApp {
    pub name: String,
    pub description: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: ScopeSet,
    pub confidential: bool,
}

/// A patch: `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct AppPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub scopes: Option<ScopeSet>,
}

/// An app with its new secret, shown this once (`None` for a public app).
pub struct Registered {
    pub app: developer_app::Model,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("app", &self.app.id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The registered redirect URIs of an app.
pub fn redirect_uris(app: &developer_app::Model) -> Vec<String> {
    serde_json::from_str(&app.redirect_uris).unwrap_or_default()
}

/// A redirect URI an app may register (RFC 6749 §3.1.2, RFC 8252 §7.3): absolute, no
/// fragment, `https`, or `http` only to a loopback address (a native app's local server).
/// Custom schemes are refused: without a browser-held origin, they can be claimed by any app.
pub fn check_redirect_uri(value: &str) -> Result<(), AppError> {
    let bad = |why: &str| Err(AppError::bad_input(format!("redirectUris: {why}")));
    if value.chars().count() > MAX_REDIRECT_URI_CHARS {
        return bad("each must be at most 2000 characters");
    }
    let Ok(url) = url::Url::parse(value) else {
        return bad("each must be an absolute URL");
    };
    if url.fragment().is_some() || value.contains('#') {
        return bad("must not contain a fragment (#)");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return bad("must not contain credentials");
    }
    let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => bad("each must use https (or http to a loopback address such as 127.0.0.1)"),
    }
}

fn check_redirect_uris(uris: &[String]) -> Result<String, AppError> {
    if uris.is_empty() || uris.len() > MAX_REDIRECT_URIS {
        return Err(AppError::bad_input(format!(
            "redirectUris must hold 1 to {MAX_REDIRECT_URIS} addresses"
        )));
    }
    for uri in uris {
        check_redirect_uri(uri)?;
    }
    let mut unique: Vec<&String> = Vec::with_capacity(uris.len());
    for uri in uris {
        if !unique.contains(&uri) {
            unique.push(uri);
        }
    }
    serde_json::to_string(&unique).map_err(AppError::internal)
}

fn check_scopes(scopes: ScopeSet) -> Result<(), AppError> {
    if scopes.is_empty() {
        return Err(AppError::bad_input("scopes must name at least one scope"));
    }
    Ok(())
}

fn check_description(value: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    if trimmed.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::bad_input(format!(
            "description must be at most {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// The caller as a person managing its account's apps: a company manager with its own
/// session (never an app token).
fn app_admin(caller: &Access) -> Result<&Actor, AppError> {
    let actor = caller.actor()?;
    actor.not_app()?;
    access::company_only(actor)?;
    Ok(actor)
}

fn new_model(
    input: NewApp,
    account_id: Option<Uuid>,
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(developer_app::Model, Option<String>), AppError> {
    let name = validate::name("name", &input.name, 200)?;
    let description = check_description(input.description.as_deref().unwrap_or(""))?;
    let redirect_uris = check_redirect_uris(&input.redirect_uris)?;
    check_scopes(input.scopes)?;
    let secret = input.confidential.then(|| new_secret(CLIENT_SECRET_PREFIX));
    let client_id = format!("{CLIENT_ID_PREFIX}{}", &new_secret("")[..32]);
    Ok((
        developer_app::Model {
            id: Uuid::now_v7(),
            account_id,
            client_id,
            name,
            description,
            redirect_uris,
            scopes: input.scopes.bits(),
            confidential: input.confidential,
            secret_hash: secret.as_deref().map(hash_secret),
            secret_rotated_at: None,
            created_by,
            created_at: now,
            updated_at: now,
            disabled_at: None,
        },
        secret,
    ))
}

fn audit_view(app: &developer_app::Model) -> serde_json::Value {
    json!({
        "name": app.name,
        "clientId": app.client_id,
        "redirectUris": redirect_uris(app),
        "scopes": ScopeSet::from_bits(app.scopes).to_string(),
        "confidential": app.confidential,
    })
}

/// `registerDeveloperApp`: an app of the caller's account.
pub async fn register(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    input: NewApp,
) -> Result<Registered, AppError> {
    let actor = app_admin(caller)?;
    let (app, client_secret) = new_model(
        input,
        Some(actor.account_id),
        Some(actor.manager_id),
        state.clock.now(),
    )?;
    let change = Change::begin(state, actor, client).await?;
    developer_app::Entity::insert(developer_app::ActiveModel::from(app.clone()))
        .exec_without_returning(change.txn())
        .await?;
    change
        .commit(
            TARGET,
            Action::RegisterDeveloperApp,
            app.id,
            None,
            Some(audit_view(&app)),
        )
        .await?;
    Ok(Registered { app, client_secret })
}

/// `app register` at the CLI: a platform-wide app, which API managers of every account that
/// allows them can authorize. No account's audit log holds it; the CLI's own output does.
pub async fn register_platform(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    input: NewApp,
) -> Result<Registered, AppError> {
    let (app, client_secret) = new_model(input, None, None, now)?;
    developer_app::Entity::insert(developer_app::ActiveModel::from(app.clone()))
        .exec_without_returning(conn)
        .await?;
    tracing::info!(app = %app.id, client_id = %app.client_id, "platform-wide developer app registered");
    Ok(Registered { app, client_secret })
}

/// `developerApps`: the account's own apps, oldest first.
pub async fn list(
    state: &AppState,
    caller: &Access,
    page: PageRequest,
) -> Result<Page<developer_app::Model>, AppError> {
    let actor = app_admin(caller)?;
    let query =
        developer_app::Entity::find().filter(developer_app::Column::AccountId.eq(actor.account_id));
    let page = page.check()?;
    paging::fetch(
        &state.db,
        query,
        developer_app::Column::Id,
        page,
        Order::OldestFirst,
    )
    .await
}

/// `developerApp(id)`: one of the account's own apps, or `NOT_FOUND`.
pub async fn get(caller: &Access, id: Uuid) -> Result<developer_app::Model, AppError> {
    let actor = app_admin(caller)?;
    own(caller.db(), actor, id).await
}

/// Several of the account's own apps by id (company managers), for `node`/`nodes` and the
/// audit log's targets: those that are not the account's are left out.
pub async fn by_ids(
    caller: &Access,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, developer_app::Model>, AppError> {
    let actor = app_admin(caller)?;
    Ok(developer_app::Entity::find()
        .filter(developer_app::Column::AccountId.eq(actor.account_id))
        .filter(developer_app::Column::Id.is_in(ids.iter().copied()))
        .all(caller.db())
        .await?
        .into_iter()
        .map(|app| (app.id, app))
        .collect())
}

async fn own(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<developer_app::Model, AppError> {
    developer_app::Entity::find_by_id(id)
        .filter(developer_app::Column::AccountId.eq(actor.account_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("developer app"))
}

/// `rotateDeveloperAppSecret`: a new secret, shown once; the old one stops working at once.
pub async fn rotate_secret(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
) -> Result<Registered, AppError> {
    let actor = app_admin(caller)?;
    let change = Change::begin(state, actor, client).await?;
    let current = own(change.txn(), actor, id).await?;
    if !current.confidential {
        return Err(AppError::bad_input("a public app has no secret to rotate"));
    }
    let secret = new_secret(CLIENT_SECRET_PREFIX);
    let mut row: developer_app::ActiveModel = current.into();
    row.secret_hash = Set(Some(hash_secret(&secret)));
    row.secret_rotated_at = Set(Some(change.now));
    row.updated_at = Set(change.now);
    let app = row.update(change.txn()).await?;
    change
        .commit(TARGET, Action::RotateDeveloperAppSecret, app.id, None, None)
        .await?;
    Ok(Registered {
        app,
        client_secret: Some(secret),
    })
}

/// `updateDeveloperApp`. Narrowing the scopes narrows live tokens at once (every request
/// intersects with the app's current scopes); removing a redirect URI stops new
/// authorizations through it.
pub async fn update(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    patch: AppPatch,
) -> Result<developer_app::Model, AppError> {
    let actor = app_admin(caller)?;
    let change = Change::begin(state, actor, client).await?;
    // The app first: an id that is not the account's app answers before the values are read.
    let current = own(change.txn(), actor, id).await?;
    let mut next = current.clone();
    if let Some(name) = patch.name.as_deref() {
        next.name = validate::name("name", name, 200)?;
    }
    if let Some(description) = patch.description.as_deref() {
        next.description = check_description(description)?;
    }
    if let Some(uris) = patch.redirect_uris.as_deref() {
        next.redirect_uris = check_redirect_uris(uris)?;
    }
    if let Some(scopes) = patch.scopes {
        check_scopes(scopes)?;
        next.scopes = scopes.bits();
    }
    let before = audit_view(&current);
    // A patch that changes nothing writes nothing.
    if audit_view(&next) == before {
        return Ok(current);
    }
    let mut row: developer_app::ActiveModel = current.into();
    row.name = Set(next.name);
    row.description = Set(next.description);
    row.redirect_uris = Set(next.redirect_uris);
    row.scopes = Set(next.scopes);
    row.updated_at = Set(change.now);
    let app = row.update(change.txn()).await?;
    change
        .commit(
            TARGET,
            Action::UpdateDeveloperApp,
            app.id,
            Some(before),
            Some(audit_view(&app)),
        )
        .await?;
    Ok(app)
}

/// `disableDeveloperApp`: no new codes or tokens, and every token it holds stops on the next
/// request. Disabling a disabled app changes nothing.
pub async fn disable(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
) -> Result<developer_app::Model, AppError> {
    let actor = app_admin(caller)?;
    let change = Change::begin(state, actor, client).await?;
    let current = own(change.txn(), actor, id).await?;
    if current.disabled_at.is_some() {
        return Ok(current);
    }
    let mut row: developer_app::ActiveModel = current.into();
    row.disabled_at = Set(Some(change.now));
    row.updated_at = Set(change.now);
    let app = row.update(change.txn()).await?;
    change
        .commit(TARGET, Action::DisableDeveloperApp, app.id, None, None)
        .await?;
    Ok(app)
}
