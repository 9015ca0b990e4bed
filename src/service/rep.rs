//! Reps: in exactly one team, working in zero or more portals, with per-rep feature overrides
//! over the team's `repDefaults`. Company and API managers work account-wide; a team manager
//! works on reps of its assigned teams within its effective rights (`addDeleteReps`,
//! `changeRepNameLogin`, `changeRepPassword`) and its `repControls`.

use crate::service::audit::{Action, TargetType};
use std::collections::BTreeSet;

use entity::{manager::ManagerKind, manager_portal, portal, rep, rep_portal, team};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Func},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    auth::scope::ApiScope,
    auth::{Actor, ClientInfo, password},
    error::AppError,
    service::{
        access::{self, Access},
        change::{Change, Diff},
        features::{OverridePatch, Overrides, RepFeatureSet, Right},
        links, logins,
        paging::{self, Order, Page, PageRequest, like_pattern},
        validate,
    },
    state::AppState,
};

/// What the audit log calls this module's targets.
const TARGET: TargetType = TargetType::Rep;

/// `reps(teamId, search, first, after)`: reps of the teams the caller can see.
pub async fn list(
    state: &AppState,
    caller: &Access,
    team_id: Option<Uuid>,
    search: Option<&str>,
    page: PageRequest,
) -> Result<Page<rep::Model>, AppError> {
    caller.actor_for(ApiScope::RepsRead)?;
    let reach = caller.reach().await?;
    let mut query = rep::Entity::find().filter(rep::Column::AccountId.eq(reach.account_id));
    if let Some(team_id) = team_id {
        caller.team_in_reach(team_id).await?;
        query = query.filter(rep::Column::TeamId.eq(team_id));
    } else if let Some(ids) = reach.team_ids() {
        query = query.filter(rep::Column::TeamId.is_in(ids.iter().copied()));
    }
    if let Some(term) = search.filter(|t| !t.trim().is_empty()) {
        let pattern = like_pattern(term);
        query = query.filter(
            Condition::any()
                .add(rep::Column::LoginKey.like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(rep::Column::Name))).like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(rep::Column::Email))).like(pattern.clone())),
        );
    }
    let page = page.check()?;
    paging::fetch(&state.db, query, rep::Column::Id, page, Order::OldestFirst).await
}

/// A rep of a team the caller can see, with that team; `NOT_FOUND` otherwise.
async fn visible(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<(rep::Model, team::Model), AppError> {
    let found = rep::Entity::find_by_id(id)
        .filter(rep::Column::AccountId.eq(actor.account_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("rep"))?;
    let team = access::visible_team(conn, actor, found.team_id)
        .await
        .map_err(|_| AppError::NotFound("rep"))?;
    Ok((found, team))
}

pub async fn get(caller: &Access, id: Uuid) -> Result<rep::Model, AppError> {
    caller.rep(id).await
}

/// Checks portal ids: portals of the account; for a team manager, ones it is assigned to.
async fn check_portals(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    ids: &BTreeSet<Uuid>,
) -> Result<(), AppError> {
    if ids.is_empty() {
        return Ok(());
    }
    let found = portal::Entity::find()
        .filter(portal::Column::AccountId.eq(actor.account_id))
        .filter(portal::Column::Id.is_in(ids.iter().copied()))
        .count(conn)
        .await?;
    if found != ids.len() as u64 {
        return Err(AppError::NotFound("portal"));
    }
    if actor.kind == ManagerKind::Team {
        let assigned = manager_portal::Entity::find()
            .filter(manager_portal::Column::ManagerId.eq(actor.manager_id))
            .filter(manager_portal::Column::PortalId.is_in(ids.iter().copied()))
            .count(conn)
            .await?;
        if assigned != ids.len() as u64 {
            return Err(AppError::NotFound("portal"));
        }
    }
    Ok(())
}

/// `CONFLICT` when `team` has no login left for one more rep.
async fn check_capacity(conn: &impl ConnectionTrait, team: &team::Model) -> Result<(), AppError> {
    if let Some(cap) = team.available_logins {
        let used = rep::Entity::find()
            .filter(rep::Column::TeamId.eq(team.id))
            .count(conn)
            .await?;
        if used >= u64::try_from(cap).unwrap_or(0) {
            return Err(AppError::Conflict(format!(
                "team `{}` has no available login left ({cap} in use)",
                team.name
            )));
        }
    }
    Ok(())
}

/// What `createRep` takes (all but `portalIds` required) and `updateRep` patches. `Debug`
/// leaves the password out.
#[derive(Clone, Default)]
pub struct RepInput {
    pub login: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub screen_name: Option<String>,
    pub team_id: Option<Uuid>,
    pub portal_ids: Option<Vec<Uuid>>,
    pub password: Option<String>,
}

impl std::fmt::Debug for RepInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepInput")
            .field("login", &self.login)
            .field("team_id", &self.team_id)
            .finish_non_exhaustive()
    }
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, AppError> {
    value
        .as_deref()
        .ok_or_else(|| AppError::bad_input(format!("{field} is required")))
}

/// `createRep`: needs `addDeleteReps` on the team and a free login in it.
pub async fn create(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    input: RepInput,
) -> Result<rep::Model, AppError> {
    let actor = caller.actor_for(ApiScope::RepsWrite)?;
    // Permission first: a caller who may not add reps here learns nothing else.
    let team_id = input
        .team_id
        .ok_or_else(|| AppError::bad_input("teamId is required"))?;
    let team = access::visible_team(&state.db, actor, team_id).await?;
    access::require_right(&state.db, actor, &team, Right::AddDeleteReps).await?;
    let login = validate::login(required(&input.login, "login")?)?;
    let name = validate::name("name", required(&input.name, "name")?, 200)?;
    let email = validate::email(required(&input.email, "email")?)?;
    let screen_name = match input.screen_name.as_deref() {
        Some(screen) => validate::name("screenName", screen, 200)?,
        None => name.clone(),
    };
    let password = required(&input.password, "password")?.to_owned();
    password::check_policy(&password, &login, &name)?;
    let portal_ids: BTreeSet<Uuid> = input.portal_ids.unwrap_or_default().into_iter().collect();
    let password_hash = state.hasher.hash(password).await?;
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    // Checked again under the account's write lock: the team may be gone, its cap or the
    // caller's right changed, since the check above (which spares a refused caller the hash).
    let team = access::visible_team(change.txn(), actor, team_id).await?;
    access::require_right(change.txn(), actor, &team, Right::AddDeleteReps).await?;
    check_portals(change.txn(), actor, &portal_ids).await?;
    check_capacity(change.txn(), &team).await?;
    let model = rep::Model {
        id: Uuid::now_v7(),
        account_id: actor.account_id,
        team_id,
        login_key: entity::manager::login_key(&login),
        login,
        name,
        email,
        screen_name,
        password_hash,
        feature_override_mask: 0,
        feature_override_values: 0,
        created_at: now,
        updated_at: now,
    };
    logins::claim(change.txn(), &model.login, logins::Owner::Rep, model.id).await?;
    rep::Entity::insert(rep::ActiveModel::from(model.clone()))
        .exec_without_returning(change.txn())
        .await?;
    links::replace::<rep_portal::Entity>(change.txn(), model.id, &portal_ids).await?;
    let after = json!({
        "login": model.login, "name": model.name, "email": model.email,
        "screenName": model.screen_name, "teamId": team_id, "portalIds": portal_ids,
    });
    change
        .commit(TARGET, Action::CreateRep, model.id, None, Some(after))
        .await?;
    Ok(model)
}

/// `updateRep`: identity fields need `changeRepNameLogin`; moving to another team needs
/// `addDeleteReps` on both teams and a free login in the new one; portals need
/// `addDeleteReps`. A password is set with `setRepPassword`.
pub async fn update(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    input: RepInput,
) -> Result<rep::Model, AppError> {
    let actor = caller.actor_for(ApiScope::RepsWrite)?;
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let (current, team) = visible(change.txn(), actor, id).await?;
    // Permission first, from the fields the patch names: a caller who may not change them
    // learns nothing about their values.
    if input.login.is_some()
        || input.name.is_some()
        || input.email.is_some()
        || input.screen_name.is_some()
    {
        access::require_right(change.txn(), actor, &team, Right::ChangeRepNameLogin).await?;
    }
    if input.portal_ids.is_some() || input.team_id.is_some_and(|t| t != current.team_id) {
        access::require_right(change.txn(), actor, &team, Right::AddDeleteReps).await?;
    }
    let mut diff = Diff::default();
    let mut active: rep::ActiveModel = current.clone().into();
    if let Some(login) = input
        .login
        .as_deref()
        .map(validate::login)
        .transpose()?
        .filter(|l| *l != current.login)
    {
        logins::rename(change.txn(), &login, logins::Owner::Rep, id).await?;
        diff.set("login", &current.login, &login);
        active.login_key = Set(entity::manager::login_key(&login));
        active.login = Set(login);
    }
    for (field, value, old) in [
        ("name", input.name.as_deref(), current.name.as_str()),
        ("email", input.email.as_deref(), current.email.as_str()),
        (
            "screenName",
            input.screen_name.as_deref(),
            current.screen_name.as_str(),
        ),
    ] {
        let Some(value) = value else { continue };
        let value = if field == "email" {
            validate::email(value)?
        } else {
            validate::name(field, value, 200)?
        };
        if value == old {
            continue;
        }
        diff.set(field, old, &value);
        match field {
            "name" => active.name = Set(value),
            "email" => active.email = Set(value),
            _ => active.screen_name = Set(value),
        }
    }
    if let Some(new_team) = input.team_id.filter(|t| *t != current.team_id) {
        let target = access::visible_team(change.txn(), actor, new_team).await?;
        access::require_right(change.txn(), actor, &target, Right::AddDeleteReps).await?;
        check_capacity(change.txn(), &target).await?;
        diff.set("teamId", current.team_id, new_team);
        active.team_id = Set(new_team);
        // Overrides the new team's defaults cut off are switched off for good.
        let overrides = overrides_of(&current);
        let settled = overrides.settled(RepFeatureSet::from_bits(target.rep_defaults));
        if settled != overrides {
            let (b, a) = overrides.diff(settled);
            diff.set("featureOverrides", b, a);
            active.feature_override_values = Set(settled.values);
        }
    }
    if let Some(portal_ids) = input.portal_ids {
        let mut wanted: BTreeSet<Uuid> = portal_ids.into_iter().collect();
        let old = links::linked::<rep_portal::Entity>(change.txn(), id).await?;
        check_portals(change.txn(), actor, &wanted).await?;
        // `portalIds` speaks of the portals the caller sees: the rep's other portals (a team
        // manager's unassigned ones) stay as they are rather than being dropped unseen.
        if actor.kind == ManagerKind::Team {
            let assigned = access::assigned_portals(change.txn(), actor.manager_id).await?;
            wanted.extend(old.iter().filter(|p| !assigned.contains(p)));
        }
        if wanted != old {
            links::replace::<rep_portal::Entity>(change.txn(), id, &wanted).await?;
            diff.set("portalIds", &old, &wanted);
        }
    }
    if diff.is_empty() {
        return Ok(current);
    }
    active.updated_at = Set(now);
    let updated = active.update(change.txn()).await?;
    let (before, after) = diff.into_values();
    change
        .commit(TARGET, Action::UpdateRep, id, before, after)
        .await?;
    Ok(updated)
}

/// `setRepPassword`: needs `changeRepPassword`. The audit records that it happened, never the
/// password.
pub async fn set_password(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    new_password: String,
) -> Result<rep::Model, AppError> {
    let actor = caller.actor_for(ApiScope::RepsWrite)?;
    let (current, team) = visible(&state.db, actor, id).await?;
    access::require_right(&state.db, actor, &team, Right::ChangeRepPassword).await?;
    password::check_policy(&new_password, &current.login, &current.name)?;
    // Hashed before the change begins, so writers do not wait for it; the rep and the right
    // are checked again under the lock (it may have moved, or the right gone, meanwhile).
    let hash = state.hasher.hash(new_password).await?;
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let (current, team) = visible(change.txn(), actor, id).await?;
    access::require_right(change.txn(), actor, &team, Right::ChangeRepPassword).await?;
    let mut active: rep::ActiveModel = current.into();
    active.password_hash = Set(hash);
    active.updated_at = Set(now);
    let updated = active.update(change.txn()).await?;
    change
        .commit(TARGET, Action::SetRepPassword, id, None, None)
        .await?;
    Ok(updated)
}

fn overrides_of(rep: &rep::Model) -> Overrides {
    Overrides {
        mask: rep.feature_override_mask,
        values: rep.feature_override_values,
    }
}

/// After a team's `repDefaults` changed to `defaults`: every rep of the team with an override
/// that is on while the rules now turn it off gets it switched off for good (one read of the
/// team's reps that have overrides on, one update per distinct outcome and 1,000 reps). Returns each changed
/// rep with its overrides before and after, for the audit log.
pub(crate) async fn settle_team_overrides(
    conn: &impl ConnectionTrait,
    team_id: Uuid,
    defaults: RepFeatureSet,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(Uuid, Value, Value)>, AppError> {
    let rows: Vec<(Uuid, i64, i64)> = rep::Entity::find()
        .select_only()
        .column(rep::Column::Id)
        .column(rep::Column::FeatureOverrideMask)
        .column(rep::Column::FeatureOverrideValues)
        .filter(rep::Column::TeamId.eq(team_id))
        .filter(rep::Column::FeatureOverrideValues.ne(0))
        .into_tuple()
        .all(conn)
        .await?;
    let mut by_outcome: std::collections::BTreeMap<i64, Vec<Uuid>> = Default::default();
    let mut changed = Vec::new();
    for (id, mask, values) in rows {
        let overrides = Overrides { mask, values };
        let settled = overrides.settled(defaults);
        if settled != overrides {
            by_outcome.entry(settled.values).or_default().push(id);
            let (before, after) = overrides.diff(settled);
            changed.push((id, before, after));
        }
    }
    for (values, ids) in by_outcome {
        // Chunked: a team of thousands must stay under the databases' parameter limits.
        for chunk in ids.chunks(1000) {
            rep::Entity::update_many()
                .col_expr(rep::Column::FeatureOverrideValues, Expr::value(values))
                .col_expr(rep::Column::UpdatedAt, Expr::value(now))
                .filter(rep::Column::Id.is_in(chunk.iter().copied()))
                .exec(conn)
                .await?;
        }
    }
    Ok(changed)
}

/// `updateRepFeatures`: a patch on the rep's effective features (dependency rules apply).
/// A value becomes the rep's override; `None` clears the override, so the rep follows its
/// team again. Every field it changes, cascades and cleared overrides included, must be one the
/// caller may switch (its `repControls` for a team manager). A patch that changes nothing
/// writes nothing.
pub async fn update_features(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    patch: OverridePatch,
) -> Result<rep::Model, AppError> {
    let actor = caller.actor_for(ApiScope::RepsWrite)?;
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let (current, team) = visible(change.txn(), actor, id).await?;
    let defaults = RepFeatureSet::from_bits(team.rep_defaults);
    let overrides = overrides_of(&current);
    let before = overrides.effective(defaults);
    // Permission first, on the fields the patch names; then the values, and the fields their
    // cascade touches.
    let controls = access::rep_controls(change.txn(), actor, &team).await?;
    let outside = |names: &mut dyn Iterator<Item = String>| -> Result<(), AppError> {
        let mut refused: Vec<String> = names.filter(|name| !controls.get(name)).collect();
        if refused.is_empty() {
            return Ok(());
        }
        refused.sort();
        refused.dedup();
        Err(AppError::ForbiddenFields(refused))
    };
    outside(&mut patch.iter().map(|(name, _)| (*name).to_owned()))?;
    let (new_overrides, after) = overrides.apply_patch(defaults, &patch)?;
    outside(
        &mut RepFeatureSet::from_bits(before.bits() ^ after.bits())
            .iter()
            .filter(|(_, changed)| *changed)
            .map(|(name, _)| name.to_owned()),
    )?;
    if new_overrides == overrides {
        return Ok(current);
    }
    let mut active: rep::ActiveModel = current.into();
    active.feature_override_mask = Set(new_overrides.mask);
    active.feature_override_values = Set(new_overrides.values);
    active.updated_at = Set(now);
    let updated = active.update(change.txn()).await?;
    let (b, mut a) = RepFeatureSet::diff(before, after);
    let cleared: Vec<&str> = RepFeatureSet::from_bits(overrides.mask & !new_overrides.mask)
        .iter()
        .filter(|(_, was_overridden)| *was_overridden)
        .map(|(name, _)| name)
        .collect();
    if let (false, Some(object)) = (cleared.is_empty(), a.as_object_mut()) {
        object.insert("followsTeam".into(), json!(cleared));
    }
    change
        .commit(TARGET, Action::UpdateRepFeatures, id, Some(b), Some(a))
        .await?;
    Ok(updated)
}

/// `deleteRep`: needs `addDeleteReps`; frees the login.
pub async fn delete(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
) -> Result<Uuid, AppError> {
    let actor = caller.actor_for(ApiScope::RepsWrite)?;
    let change = Change::begin(state, actor, client).await?;
    let (current, team) = visible(change.txn(), actor, id).await?;
    access::require_right(change.txn(), actor, &team, Right::AddDeleteReps).await?;
    logins::release(change.txn(), id).await?;
    rep::Entity::delete_by_id(id).exec(change.txn()).await?;
    let before = json!({ "login": current.login, "name": current.name, "teamId": current.team_id });
    change
        .commit(TARGET, Action::DeleteRep, id, Some(before), None)
        .await?;
    Ok(id)
}
