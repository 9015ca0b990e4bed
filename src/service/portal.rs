//! Portals and sub-portals. Creating a portal creates its first sub-portal (named like the
//! portal), and a portal always keeps at least one. Company and API managers manage them; a
//! team manager sees the portals it is assigned to.

use crate::service::audit::{Action, TargetType};
use entity::{manager::ManagerKind, portal, rep_portal, team, team_subportal};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    auth::scope::ApiScope,
    auth::{Actor, ClientInfo},
    error::AppError,
    service::{
        access::{self, Access},
        change::Change,
        paging::{self, Order, Page, PageRequest, like_pattern},
        validate,
    },
    state::AppState,
};

/// What the audit log calls this module's targets.
const TARGET: TargetType = TargetType::Portal;

/// `portals(search, first, after)`: the account's portals (sub-portals hang under them); for a team
/// manager, the portals and sub-portals it is assigned to.
pub async fn list(
    state: &AppState,
    caller: &Access,
    search: Option<&str>,
    page: PageRequest,
) -> Result<Page<portal::Model>, AppError> {
    caller.actor_for(ApiScope::PortalsRead)?;
    let reach = caller.reach().await?;
    let mut query = portal::Entity::find().filter(portal::Column::AccountId.eq(reach.account_id));
    query = match reach.portal_ids() {
        Some(ids) => query.filter(portal::Column::Id.is_in(ids.iter().copied())),
        None => query.filter(portal::Column::ParentId.is_null()),
    };
    if let Some(term) = search.filter(|t| !t.trim().is_empty()) {
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(portal::Column::Name))).like(like_pattern(term)),
        );
    }
    let page = page.check()?;
    paging::fetch(
        &state.db,
        query,
        portal::Column::Id,
        page,
        Order::OldestFirst,
    )
    .await
}

async fn visible(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<portal::Model, AppError> {
    let found = portal::Entity::find_by_id(id)
        .filter(portal::Column::AccountId.eq(actor.account_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("portal"))?;
    if actor.kind == ManagerKind::Team
        && !access::assigned_portals(conn, actor.manager_id)
            .await?
            .contains(&id)
    {
        return Err(AppError::NotFound("portal"));
    }
    Ok(found)
}

pub async fn get(caller: &Access, id: Uuid) -> Result<portal::Model, AppError> {
    caller.portal(id).await
}

/// `createPortal`: without `parentId` a portal and its first sub-portal; with it, a
/// sub-portal of that portal.
pub async fn create(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    name: &str,
    parent_id: Option<Uuid>,
) -> Result<portal::Model, AppError> {
    // No scope lets an app change portals (there is no `portals:write`).
    let actor = caller.person()?;
    access::provisioner(actor)?;
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    // The parent first: one the caller cannot see answers before the values are read.
    if let Some(parent) = parent_id {
        let parent = visible(change.txn(), actor, parent).await?;
        if parent.parent_id.is_some() {
            return Err(AppError::bad_input(
                "parentId must be a portal: sub-portals have no sub-portals",
            ));
        }
    }
    let name = validate::name("name", name, 200)?;
    let model = portal::Model {
        id: Uuid::now_v7(),
        account_id: actor.account_id,
        parent_id,
        name: name.clone(),
        created_at: now,
        updated_at: now,
    };
    portal::Entity::insert(portal::ActiveModel::from(model.clone()))
        .exec_without_returning(change.txn())
        .await?;
    let mut after = json!({ "name": model.name, "parentId": parent_id });
    if parent_id.is_none() {
        let first = portal::Model {
            id: Uuid::now_v7(),
            parent_id: Some(model.id),
            ..model.clone()
        };
        portal::Entity::insert(portal::ActiveModel::from(first.clone()))
            .exec_without_returning(change.txn())
            .await?;
        after["firstSubportalId"] = json!(first.id);
    }
    change
        .commit(TARGET, Action::CreatePortal, model.id, None, Some(after))
        .await?;
    Ok(model)
}

/// `updatePortal`: renames. A sub-portal stays under its portal.
pub async fn update(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    name: Option<&str>,
) -> Result<portal::Model, AppError> {
    // No scope lets an app change portals (there is no `portals:write`).
    let actor = caller.person()?;
    access::provisioner(actor)?;
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let current = visible(change.txn(), actor, id).await?;
    let Some(name) = name.map(|n| validate::name("name", n, 200)).transpose()? else {
        return Ok(current);
    };
    if name == current.name {
        return Ok(current);
    }
    let mut active: portal::ActiveModel = current.clone().into();
    active.name = Set(name.clone());
    active.updated_at = Set(now);
    let updated = active.update(change.txn()).await?;
    change
        .commit(
            TARGET,
            Action::UpdatePortal,
            id,
            Some(json!({ "name": current.name })),
            Some(json!({ "name": name })),
        )
        .await?;
    Ok(updated)
}

/// `deletePortal`: refused with `CONFLICT` while a team or rep uses it (or, for a portal, one
/// of its sub-portals), and for the last sub-portal of a portal. Deleting a portal deletes its
/// sub-portals.
pub async fn delete(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
) -> Result<Uuid, AppError> {
    // No scope lets an app change portals (there is no `portals:write`).
    let actor = caller.person()?;
    access::provisioner(actor)?;
    let change = Change::begin(state, actor, client).await?;
    let current = visible(change.txn(), actor, id).await?;
    let mut ids = vec![id];
    match current.parent_id {
        None => {
            let children: Vec<Uuid> = portal::Entity::find()
                .select_only()
                .column(portal::Column::Id)
                .filter(portal::Column::ParentId.eq(id))
                .into_tuple()
                .all(change.txn())
                .await?;
            ids.extend(children);
        }
        Some(parent) => {
            let siblings = portal::Entity::find()
                .filter(portal::Column::ParentId.eq(parent))
                .count(change.txn())
                .await?;
            if siblings <= 1 {
                return Err(AppError::Conflict(
                    "a portal keeps at least one sub-portal".into(),
                ));
            }
        }
    }
    let teams = team::Entity::find()
        .filter(team::Column::PortalId.is_in(ids.clone()))
        .count(change.txn())
        .await?
        + team_subportal::Entity::find()
            .filter(team_subportal::Column::PortalId.is_in(ids.clone()))
            .count(change.txn())
            .await?;
    let reps = rep_portal::Entity::find()
        .filter(rep_portal::Column::PortalId.is_in(ids.clone()))
        .count(change.txn())
        .await?;
    if teams > 0 || reps > 0 {
        return Err(AppError::Conflict(
            "teams or reps still work in this portal".into(),
        ));
    }
    portal::Entity::delete_many()
        .filter(
            Condition::all()
                .add(portal::Column::Id.is_in(ids.clone()))
                .add(portal::Column::ParentId.is_not_null()),
        )
        .exec(change.txn())
        .await?;
    portal::Entity::delete_by_id(id).exec(change.txn()).await?;
    change
        .commit(
            TARGET,
            Action::DeletePortal,
            id,
            Some(json!({ "name": current.name, "parentId": current.parent_id })),
            None,
        )
        .await?;
    Ok(id)
}
