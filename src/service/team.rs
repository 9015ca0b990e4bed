//! Teams and sub-teams: reading within the caller's reach, creating, editing, deleting, and the
//! team's `managerFeatures` and `repDefaults`.
//!
//! Company and API managers work account-wide. A team manager sees its assigned teams, may
//! add a sub-team under one of them (and is then assigned to it) or delete a sub-team of one
//! of them with `addDeleteSubteams` on that parent; team settings are for company and API
//! managers, `managerFeatures` for company managers only.

use crate::service::audit::{Action, TargetType};
use std::collections::{BTreeSet, HashSet};

use entity::{manager::ManagerKind, manager_team, portal, rep, team, team_subportal};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};
use serde_json::{Map, json};
use uuid::Uuid;

use crate::{
    auth::ClientInfo,
    auth::scope::ApiScope,
    error::AppError,
    service::{
        access::{self, Access},
        audit,
        change::{Change, Diff},
        features::{Patch, RepFeatureSet, Right, RightSet},
        links,
        paging::{self, Order, Page, PageRequest, like_pattern},
        validate,
    },
    state::AppState,
};

/// What the audit log calls this module's targets.
const TARGET: TargetType = TargetType::Team;

/// `teams(search, parentId, first, after)`: the teams the caller can see. `parent_id`:
/// `None` any team, `Some(None)` top-level teams only, `Some(Some(p))` the sub-teams of `p`.
pub async fn list(
    state: &AppState,
    caller: &Access,
    search: Option<&str>,
    parent_id: Option<Option<Uuid>>,
    page: PageRequest,
) -> Result<Page<team::Model>, AppError> {
    caller.actor_for(ApiScope::TeamsRead)?;
    let reach = caller.reach().await?;
    let mut query = team::Entity::find().filter(team::Column::AccountId.eq(reach.account_id));
    if let Some(ids) = reach.team_ids() {
        query = query.filter(team::Column::Id.is_in(ids.iter().copied()));
    }
    match parent_id {
        None => {}
        Some(None) => query = query.filter(team::Column::ParentId.is_null()),
        Some(Some(parent)) => query = query.filter(team::Column::ParentId.eq(parent)),
    }
    if let Some(term) = search.filter(|t| !t.trim().is_empty()) {
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(team::Column::Name))).like(like_pattern(term)),
        );
    }
    let page = page.check()?;
    paging::fetch(&state.db, query, team::Column::Id, page, Order::OldestFirst).await
}

pub async fn get(caller: &Access, id: Uuid) -> Result<team::Model, AppError> {
    caller.team(id).await
}

/// What `createTeam` and `updateTeam` take (patch semantics for updates).
#[derive(Clone, Debug, Default)]
pub struct TeamInput {
    pub name: Option<String>,
    /// `Some(None)` clears the parent (update only).
    pub parent_id: Option<Option<Uuid>>,
    pub portal_id: Option<Option<Uuid>>,
    pub subportal_ids: Option<Vec<Uuid>>,
    pub available_logins: Option<Option<i32>>,
}

/// Checks the portal and sub-portals a team would serve: the portal is a top-level portal of
/// the account, the sub-portals are sub-portals of that portal.
async fn check_portals(
    conn: &impl ConnectionTrait,
    account_id: Uuid,
    portal_id: Option<Uuid>,
    subportal_ids: &BTreeSet<Uuid>,
) -> Result<(), AppError> {
    if let Some(portal_id) = portal_id {
        let portal = portal::Entity::find_by_id(portal_id)
            .filter(portal::Column::AccountId.eq(account_id))
            .one(conn)
            .await?
            .ok_or(AppError::NotFound("portal"))?;
        if portal.parent_id.is_some() {
            return Err(AppError::bad_input(
                "portalId must be a portal, not a sub-portal",
            ));
        }
    }
    if subportal_ids.is_empty() {
        return Ok(());
    }
    let Some(portal_id) = portal_id else {
        return Err(AppError::bad_input("subportalIds need a portalId"));
    };
    let found = portal::Entity::find()
        .filter(portal::Column::AccountId.eq(account_id))
        .filter(portal::Column::ParentId.eq(portal_id))
        .filter(portal::Column::Id.is_in(subportal_ids.iter().copied()))
        .count(conn)
        .await?;
    if found != subportal_ids.len() as u64 {
        return Err(AppError::bad_input(
            "subportalIds must be sub-portals of the team's portal",
        ));
    }
    Ok(())
}

fn check_available_logins(value: Option<i32>) -> Result<(), AppError> {
    match value {
        Some(n) if n < 0 => Err(AppError::bad_input("availableLogins must not be negative")),
        _ => Ok(()),
    }
}

/// `createTeam`. A top-level team is for company and API managers; a sub-team also for a
/// team manager with `addDeleteSubteams` on the parent, who is then assigned to it.
pub async fn create(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    input: TeamInput,
) -> Result<team::Model, AppError> {
    let actor = caller.actor_for(ApiScope::TeamsWrite)?;
    let parent_id = input.parent_id.flatten();
    let portal_id = input.portal_id.flatten();
    let subportal_ids: BTreeSet<Uuid> = input
        .subportal_ids
        .unwrap_or_default()
        .into_iter()
        .collect();
    let available_logins = input.available_logins.flatten();
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    // Permission first: a caller who may not add this team learns nothing else.
    match parent_id {
        Some(parent) => {
            let parent = access::visible_team(change.txn(), actor, parent).await?;
            access::require_right(change.txn(), actor, &parent, Right::AddDeleteSubteams).await?;
        }
        None => access::provisioner(actor)?,
    }
    let name = validate::name("name", input.name.as_deref().unwrap_or(""), 200)?;
    check_available_logins(available_logins)?;
    if actor.kind == ManagerKind::Team && (portal_id.is_some() || !subportal_ids.is_empty()) {
        return Err(AppError::Forbidden);
    }
    check_portals(change.txn(), actor.account_id, portal_id, &subportal_ids).await?;
    let model = team::Model {
        id: Uuid::now_v7(),
        account_id: actor.account_id,
        parent_id,
        name,
        portal_id,
        available_logins,
        manager_features: RightSet::all().bits(),
        rep_defaults: RepFeatureSet::none().bits(),
        created_at: now,
        updated_at: now,
    };
    team::Entity::insert(team::ActiveModel::from(model.clone()))
        .exec_without_returning(change.txn())
        .await?;
    links::replace::<team_subportal::Entity>(change.txn(), model.id, &subportal_ids).await?;
    if actor.kind == ManagerKind::Team {
        manager_team::Entity::insert(manager_team::ActiveModel {
            manager_id: Set(actor.manager_id),
            team_id: Set(model.id),
        })
        .exec_without_returning(change.txn())
        .await?;
    }
    let after = json!({
        "name": model.name, "parentId": model.parent_id, "portalId": model.portal_id,
        "subportalIds": subportal_ids, "availableLogins": model.available_logins,
    });
    change
        .commit(TARGET, Action::CreateTeam, model.id, None, Some(after))
        .await?;
    Ok(model)
}

/// True when `candidate` is `team` or one of its descendants (a move there would be a cycle).
async fn is_self_or_descendant(
    conn: &impl ConnectionTrait,
    team: Uuid,
    candidate: Uuid,
) -> Result<bool, AppError> {
    let mut current = Some(candidate);
    let mut seen = HashSet::new();
    while let Some(id) = current {
        if id == team {
            return Ok(true);
        }
        if !seen.insert(id) {
            return Ok(true);
        }
        current = team::Entity::find_by_id(id)
            .select_only()
            .column(team::Column::ParentId)
            .into_tuple::<Option<Uuid>>()
            .one(conn)
            .await?
            .flatten();
    }
    Ok(false)
}

/// `updateTeam`: company and API managers. Moving a team under itself or one of its
/// sub-teams is refused.
pub async fn update(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    input: TeamInput,
) -> Result<team::Model, AppError> {
    let actor = caller.actor_for(ApiScope::TeamsWrite)?;
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let current = access::visible_team(change.txn(), actor, id).await?;
    access::provisioner(actor)?;
    let mut diff = Diff::default();
    let mut active: team::ActiveModel = current.clone().into();
    if let Some(name) = input.name.as_deref() {
        let name = validate::name("name", name, 200)?;
        if name != current.name {
            diff.set("name", &current.name, &name);
            active.name = Set(name);
        }
    }
    if let Some(parent) = input.parent_id.filter(|p| *p != current.parent_id) {
        if let Some(parent) = parent {
            access::visible_team(change.txn(), actor, parent).await?;
            if is_self_or_descendant(change.txn(), id, parent).await? {
                return Err(AppError::bad_input(
                    "a team cannot be moved under itself or one of its sub-teams",
                ));
            }
        }
        diff.set("parentId", current.parent_id, parent);
        active.parent_id = Set(parent);
    }
    if let Some(logins) = input
        .available_logins
        .filter(|l| *l != current.available_logins)
    {
        check_available_logins(logins)?;
        diff.set("availableLogins", current.available_logins, logins);
        active.available_logins = Set(logins);
    }
    let portal_id = input.portal_id.unwrap_or(current.portal_id);
    if input.portal_id.is_some() || input.subportal_ids.is_some() {
        let old = links::linked::<team_subportal::Entity>(change.txn(), id).await?;
        let subportals: BTreeSet<Uuid> = match &input.subportal_ids {
            Some(ids) => ids.iter().copied().collect(),
            None if portal_id == current.portal_id => old.clone(),
            None => BTreeSet::new(),
        };
        check_portals(change.txn(), actor.account_id, portal_id, &subportals).await?;
        if portal_id != current.portal_id || old != subportals {
            diff.set("portalId", current.portal_id, portal_id);
            diff.set("subportalIds", &old, &subportals);
            active.portal_id = Set(portal_id);
            links::replace::<team_subportal::Entity>(change.txn(), id, &subportals).await?;
        }
    }
    if diff.is_empty() {
        return Ok(current);
    }
    active.updated_at = Set(now);
    let updated = active.update(change.txn()).await?;
    let (before, after) = diff.into_values();
    change
        .commit(TARGET, Action::UpdateTeam, id, before, after)
        .await?;
    Ok(updated)
}

/// `deleteTeam`: refused with `CONFLICT` while the team has sub-teams or reps. Top-level
/// teams: company and API managers; sub-teams also a team manager with `addDeleteSubteams`
/// on the parent.
pub async fn delete(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
) -> Result<Uuid, AppError> {
    let actor = caller.actor_for(ApiScope::TeamsWrite)?;
    let change = Change::begin(state, actor, client).await?;
    let current = access::visible_team(change.txn(), actor, id).await?;
    match current.parent_id {
        Some(parent) if actor.kind == ManagerKind::Team => {
            let parent = access::visible_team(change.txn(), actor, parent)
                .await
                .map_err(|_| AppError::Forbidden)?;
            access::require_right(change.txn(), actor, &parent, Right::AddDeleteSubteams).await?;
        }
        _ => access::provisioner(actor)?,
    }
    let subteams = team::Entity::find()
        .filter(team::Column::ParentId.eq(id))
        .count(change.txn())
        .await?;
    let reps = rep::Entity::find()
        .filter(rep::Column::TeamId.eq(id))
        .count(change.txn())
        .await?;
    if subteams > 0 || reps > 0 {
        return Err(AppError::Conflict(format!(
            "the team still has {subteams} sub-team(s) and {reps} rep(s)"
        )));
    }
    team::Entity::delete_by_id(id).exec(change.txn()).await?;
    change
        .commit(
            TARGET,
            Action::DeleteTeam,
            id,
            Some(json!({ "name": current.name, "parentId": current.parent_id })),
            None,
        )
        .await?;
    Ok(id)
}

/// Which feature set of a team a patch changes.
#[derive(Clone, Copy, Debug)]
pub enum TeamSet {
    ManagerFeatures,
    RepDefaults,
}

/// `updateTeamManagerFeatures` (company managers) / `updateTeamRepDefaults` (company and API
/// managers). The dependency rules apply; the audit keeps the fields that changed.
pub async fn update_set(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    which: TeamSet,
    patch: Patch,
) -> Result<team::Model, AppError> {
    let actor = caller.actor_for(ApiScope::TeamsWrite)?;
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let current = access::visible_team(change.txn(), actor, id).await?;
    match which {
        TeamSet::ManagerFeatures => access::company_only(actor)?,
        TeamSet::RepDefaults => access::provisioner(actor)?,
    }
    let mut active: team::ActiveModel = current.clone().into();
    let (action, before, after) = match which {
        TeamSet::ManagerFeatures => {
            let (bits, b, a) = RightSet::patch_stored(current.manager_features, &patch)?;
            active.manager_features = Set(bits);
            (Action::UpdateTeamManagerFeatures, b, a)
        }
        TeamSet::RepDefaults => {
            let (bits, b, a) = RepFeatureSet::patch_stored(current.rep_defaults, &patch)?;
            active.rep_defaults = Set(bits);
            (Action::UpdateTeamRepDefaults, b, a)
        }
    };
    if after.as_object().is_some_and(Map::is_empty) {
        return Ok(current);
    }
    active.updated_at = Set(now);
    let updated = active.update(change.txn()).await?;
    if let TeamSet::RepDefaults = which {
        // The cascade reaches the reps' own overrides too: off for good (README, Rep features).
        let defaults = RepFeatureSet::from_bits(updated.rep_defaults);
        let settled =
            crate::service::rep::settle_team_overrides(change.txn(), id, defaults, now).await?;
        audit::record_all(
            change.txn(),
            now,
            settled.into_iter().map(|(rep_id, b, a)| {
                audit::entry(
                    actor,
                    client,
                    TargetType::Rep,
                    action,
                    rep_id,
                    Some(b),
                    Some(a),
                )
            }),
        )
        .await?;
    }
    change
        .commit(TARGET, action, id, Some(before), Some(after))
        .await?;
    Ok(updated)
}
