//! Authorized applications (SPEC 6): an API manager's authorizations of developer apps — one
//! active per manager × app — listed on the manager and revoked by a company manager or the
//! API manager itself. Revoking ends every token of the authorization on the next request.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    app_authorization, developer_app,
    manager::{self, ManagerKind},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    auth::{Actor, ClientInfo, Restriction, scope::ScopeSet},
    error::AppError,
    service::{
        access::Access,
        audit::{Action, TargetType},
        change::Change,
        grant,
    },
    state::AppState,
};

const TARGET: TargetType = TargetType::AppAuthorization;
/// The most apps revoked in one call.
pub const MAX_REVOKE: usize = 100;

/// An authorization with its app.
pub type Authorized = (app_authorization::Model, developer_app::Model);

/// Who may see and revoke `manager`'s authorizations: a company manager of its account, or
/// the API manager itself, each with its own session (never an app token). Team managers
/// have none and are refused, like for every API-manager matter.
fn may_administer(actor: &Actor, manager: &manager::Model) -> Result<(), AppError> {
    actor.not_app()?;
    if manager.account_id == actor.account_id
        && (actor.kind == ManagerKind::Company
            || (actor.kind == ManagerKind::Api && actor.manager_id == manager.id))
    {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Who reads authorizations: a company manager those of its account (`None`), an API manager
/// its own (`Some(its id)`), each with its own session; team managers and app tokens none.
fn readers(caller: &Access) -> Result<(&Actor, Option<Uuid>), AppError> {
    let actor = caller.person()?;
    match actor.kind {
        ManagerKind::Company => Ok((actor, None)),
        ManagerKind::Api => Ok((actor, Some(actor.manager_id))),
        ManagerKind::Team => Err(AppError::Forbidden),
    }
}

/// `Manager.authorizedApplications` for several managers at once (one statement), newest
/// first. A company manager sees those of its account's managers, any other manager its own;
/// app tokens see none (`FORBIDDEN`).
pub async fn list_for(
    caller: &Access,
    manager_ids: &[Uuid],
    include_revoked: bool,
) -> Result<HashMap<Uuid, Vec<Authorized>>, AppError> {
    let (actor, only) = readers(caller)?;
    let ids = manager_ids
        .iter()
        .copied()
        .filter(|id| only.is_none_or(|own| *id == own));
    let mut query = app_authorization::Entity::find()
        .find_also_related(developer_app::Entity)
        .filter(app_authorization::Column::AccountId.eq(actor.account_id))
        .filter(app_authorization::Column::ManagerId.is_in(ids))
        .order_by_desc(app_authorization::Column::CreatedAt)
        .order_by_desc(app_authorization::Column::Id);
    if !include_revoked {
        query = query.filter(app_authorization::Column::RevokedAt.is_null());
    }
    let mut by_manager: HashMap<Uuid, Vec<Authorized>> = HashMap::new();
    for (authorization, app) in query.all(caller.db()).await? {
        if let Some(app) = app {
            by_manager
                .entry(authorization.manager_id)
                .or_default()
                .push((authorization, app));
        }
    }
    Ok(by_manager)
}

/// Several authorizations by id, each with its app, for `node`/`nodes` and the audit log's
/// targets: a company manager sees those of its account, an API manager its own; app tokens
/// and team managers are refused as for `authorizedApplications`.
pub async fn by_ids(caller: &Access, ids: &[Uuid]) -> Result<HashMap<Uuid, Authorized>, AppError> {
    let (actor, only) = readers(caller)?;
    let mut query = app_authorization::Entity::find()
        .find_also_related(developer_app::Entity)
        .filter(app_authorization::Column::AccountId.eq(actor.account_id))
        .filter(app_authorization::Column::Id.is_in(ids.iter().copied()));
    if let Some(own) = only {
        query = query.filter(app_authorization::Column::ManagerId.eq(own));
    }
    Ok(query
        .all(caller.db())
        .await?
        .into_iter()
        .filter_map(|(authorization, app)| Some((authorization.id, (authorization, app?))))
        .collect())
}

/// `revokeApiManagerApplications(managerId, appIds)`: revokes the manager's active
/// authorizations of those apps, and with them every token they issued. Apps it has not
/// authorized are ignored. One audit event per authorization revoked.
pub async fn revoke(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    manager_id: Uuid,
    app_ids: &[Uuid],
) -> Result<manager::Model, AppError> {
    let actor = caller.actor()?;
    actor.not_app()?;
    let change = Change::begin(state, actor, client).await?;
    let manager = manager::Entity::find_by_id(manager_id)
        .filter(manager::Column::AccountId.eq(actor.account_id))
        .one(change.txn())
        .await?
        .filter(|m| actor.kind == ManagerKind::Company || m.id == actor.manager_id)
        .ok_or(AppError::NotFound("manager"))?;
    may_administer(actor, &manager)?;
    // An id that names no developer app (an authorization's id, say) is the caller's mistake,
    // not an app it may ignore.
    if app_ids.contains(&Uuid::nil()) {
        return Err(AppError::NotFound("developer app"));
    }
    if app_ids.len() > MAX_REVOKE {
        return Err(AppError::bad_input(format!(
            "appIds holds {} ids; at most {MAX_REVOKE} are allowed",
            app_ids.len()
        )));
    }
    let active = app_authorization::Entity::find()
        .filter(app_authorization::Column::ManagerId.eq(manager.id))
        .filter(app_authorization::Column::AppId.is_in(app_ids.iter().copied()))
        .filter(app_authorization::Column::RevokedAt.is_null())
        .all(change.txn())
        .await?;
    let ids: Vec<Uuid> = active.iter().map(|a| a.id).collect();
    grant::revoke_authorizations(change.txn(), &ids, Some(actor.manager_id), change.now).await?;
    let events = active
        .iter()
        .map(|a| {
            crate::service::audit::entry(
                actor,
                client,
                TARGET,
                Action::RevokeApiManagerApplications,
                a.id,
                None,
                Some(json!({ "managerId": manager.id, "appId": a.app_id, "revoked": true })),
            )
        })
        .collect::<Vec<_>>();
    change.commit_all(events).await?;
    crate::metrics::revoked(crate::metrics::Revocation::AppAuthorization, ids.len());
    Ok(manager)
}

/// The active authorization of `manager_id` for `app_id`, if any.
pub async fn active(
    conn: &impl ConnectionTrait,
    manager_id: Uuid,
    app_id: Uuid,
) -> Result<Option<app_authorization::Model>, AppError> {
    Ok(app_authorization::Entity::find()
        .filter(app_authorization::Column::ManagerId.eq(manager_id))
        .filter(app_authorization::Column::AppId.eq(app_id))
        .filter(app_authorization::Column::RevokedAt.is_null())
        .one(conn)
        .await?)
}

/// Whether `manager` may authorize apps at all: an API manager of an account that allows
/// them (SPEC 2, 6).
pub async fn may_authorize(
    conn: &impl ConnectionTrait,
    manager: &manager::Model,
) -> Result<bool, AppError> {
    if manager.kind != ManagerKind::Api {
        return Ok(false);
    }
    Ok(entity::account::Entity::find_by_id(manager.account_id)
        .one(conn)
        .await?
        .is_some_and(|a| a.api_managers_allowed))
}

/// The consent of `manager` to `app` for `scopes`: the active authorization widened to
/// cover them (or a new one), audited as `authorizeApplication`, and a code bound to
/// `challenge` and to `redirect_uri` (the one the request named, if any). Returns the code.
pub async fn consent(
    state: &AppState,
    manager: &manager::Model,
    app: &developer_app::Model,
    scopes: ScopeSet,
    redirect_uri: Option<&str>,
    challenge: &str,
    client: &ClientInfo,
) -> Result<String, AppError> {
    let actor = Actor {
        manager_id: manager.id,
        account_id: manager.account_id,
        kind: manager.kind,
        login: manager.login.clone(),
        session_id: None,
        restriction: Restriction::Unrestricted,
        app: None,
        row: None,
    };
    let change = Change::begin(state, &actor, client).await?;
    let now = change.now;
    check_may_authorize(change.txn(), manager.id, app.id).await?;
    let (authorization, before) = match active(change.txn(), manager.id, app.id).await? {
        Some(current) => {
            let had = ScopeSet::from_bits(current.scopes);
            let widened = ScopeSet::from_bits(had.bits() | scopes.bits());
            let mut row: app_authorization::ActiveModel = current.into();
            row.scopes = Set(widened.bits());
            row.updated_at = Set(now);
            (row.update(change.txn()).await?, Some(had))
        }
        None => {
            let model = app_authorization::Model {
                id: Uuid::now_v7(),
                account_id: manager.account_id,
                manager_id: manager.id,
                app_id: app.id,
                scopes: scopes.bits(),
                created_at: now,
                updated_at: now,
                last_used_at: None,
                revoked_at: None,
                revoked_by: None,
            };
            app_authorization::Entity::insert(app_authorization::ActiveModel::from(model.clone()))
                .exec_without_returning(change.txn())
                .await?;
            (model, None)
        }
    };
    let code = grant::issue_code(
        change.txn(),
        authorization.id,
        redirect_uri,
        challenge,
        scopes,
        now,
    )
    .await?;
    let after = json!({
        "appId": app.id,
        "clientId": app.client_id,
        "scopes": ScopeSet::from_bits(authorization.scopes).to_string(),
    });
    let before = before.map(|s| json!({ "scopes": s.to_string() }));
    change
        .commit(
            TARGET,
            Action::AuthorizeApplication,
            authorization.id,
            before,
            Some(after),
        )
        .await?;
    Ok(code)
}

/// A code under an existing authorization that already covers `scopes` (consent skipped);
/// `None` if there is none.
pub async fn reuse(
    state: &AppState,
    manager: &manager::Model,
    app: &developer_app::Model,
    scopes: ScopeSet,
    redirect_uri: Option<&str>,
    challenge: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, AppError> {
    let txn = crate::db::begin_write(&state.db).await?;
    check_may_authorize(&txn, manager.id, app.id).await?;
    let Some(current) = active(&txn, manager.id, app.id).await? else {
        return Ok(None);
    };
    if !ScopeSet::from_bits(current.scopes).contains(scopes) {
        return Ok(None);
    }
    let code = grant::issue_code(&txn, current.id, redirect_uri, challenge, scopes, now).await?;
    txn.commit().await?;
    Ok(Some(code))
}

/// Re-reads, inside the write, that the manager may authorize and the app is enabled.
async fn check_may_authorize(
    conn: &impl ConnectionTrait,
    manager_id: Uuid,
    app_id: Uuid,
) -> Result<(), AppError> {
    let manager = manager::Entity::find_by_id(manager_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("manager"))?;
    let app = developer_app::Entity::find_by_id(app_id)
        .one(conn)
        .await?
        .filter(|a| a.disabled_at.is_none())
        .ok_or(AppError::NotFound("developer app"))?;
    if !may_authorize(conn, &manager).await?
        || app.account_id.is_some_and(|a| a != manager.account_id)
    {
        return Err(AppError::Forbidden);
    }
    Ok(())
}
