//! Managers: listing and reading them, creating team and API managers, editing, deleting,
//! their rights, rep controls, team and portal assignments, and their login settings.
//! Manager administration is for company managers only; team and API managers see themselves.

use crate::service::audit::{Action, TargetType};
use std::collections::BTreeSet;

use entity::{
    account,
    manager::{self, ManagerKind},
    manager_portal, manager_team, portal, team,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Func},
};
use serde_json::{Map, json};
use uuid::Uuid;

use crate::{
    auth::{Actor, ClientInfo, password},
    error::AppError,
    service::{
        access::{self, Access},
        change::{Change, Diff},
        features::{Patch, RepFeatureSet, RightSet},
        links, logins,
        paging::{self, Order, Page, PageRequest, like_pattern},
        validate,
    },
    state::AppState,
};

/// The signed-in manager's own row: as the credential check read it for this request (see
/// [`Actor::row`]), else read now.
pub async fn me(
    db: &sea_orm::DatabaseConnection,
    actor: &Actor,
) -> Result<manager::Model, AppError> {
    if let Some(row) = &actor.row {
        return Ok(row.0.as_ref().clone());
    }
    manager::Entity::find_by_id(actor.manager_id)
        .filter(manager::Column::AccountId.eq(actor.account_id))
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// The managers the caller may list: company managers see the account's; team and API
/// managers see only themselves.
pub async fn list(
    state: &AppState,
    caller: &Access,
    kind: Option<ManagerKind>,
    search: Option<&str>,
    page: PageRequest,
) -> Result<Page<manager::Model>, AppError> {
    let actor = caller.person()?;
    let mut query = manager::Entity::find().filter(manager::Column::AccountId.eq(actor.account_id));
    if actor.kind != ManagerKind::Company {
        query = query.filter(manager::Column::Id.eq(actor.manager_id));
    }
    if let Some(kind) = kind {
        query = query.filter(manager::Column::Kind.eq(kind));
    }
    if let Some(term) = search.filter(|t| !t.trim().is_empty()) {
        let pattern = like_pattern(term);
        query = query.filter(
            Condition::any()
                .add(manager::Column::LoginKey.like(pattern.clone()))
                .add(
                    Expr::expr(Func::lower(Expr::col(manager::Column::Name))).like(pattern.clone()),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(manager::Column::Email)))
                        .like(pattern.clone()),
                ),
        );
    }
    let page = page.check()?;
    paging::fetch(
        &state.db,
        query,
        manager::Column::Id,
        page,
        Order::OldestFirst,
    )
    .await
}

/// One manager the caller may see, or `NOT_FOUND`.
pub async fn get(caller: &Access, id: Uuid) -> Result<manager::Model, AppError> {
    caller.person()?;
    caller.manager(id).await
}

async fn find_in_account(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<manager::Model, AppError> {
    manager::Entity::find_by_id(id)
        .filter(manager::Column::AccountId.eq(actor.account_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("manager"))
}

/// What `createTeamManager` and `createApiManager` take. `Debug` leaves the password out.
pub struct NewManager {
    pub login: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for NewManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewManager")
            .field("login", &self.login)
            .field("name", &self.name)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// What the audit log calls this module's targets.
const TARGET: TargetType = TargetType::Manager;

/// `createTeamManager` / `createApiManager`: company managers only; API managers only while
/// the account allows them. New managers must change their password at first sign-in.
pub async fn create(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    kind: ManagerKind,
    input: NewManager,
) -> Result<manager::Model, AppError> {
    let actor = caller.person()?;
    access::company_only(actor)?;
    let action = match kind {
        ManagerKind::Team => Action::CreateTeamManager,
        ManagerKind::Api => Action::CreateApiManager,
        ManagerKind::Company => {
            return Err(AppError::bad_input(
                "company managers are created with the account",
            ));
        }
    };
    if kind == ManagerKind::Api {
        let account = account::Entity::find_by_id(actor.account_id)
            .one(&state.db)
            .await?
            .ok_or(AppError::NotFound("account"))?;
        if !account.api_managers_allowed {
            return Err(AppError::Forbidden);
        }
    }
    let login = validate::login(&input.login)?;
    let name = validate::name("name", &input.name, 200)?;
    let email = validate::email(&input.email)?;
    password::check_policy(&input.password, &login, &name)?;
    let password_hash = state.hasher.hash(input.password).await?;
    // The hash is computed before the change begins: writers do not wait for it.
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let model = manager::Model {
        id: Uuid::now_v7(),
        account_id: actor.account_id,
        kind,
        login_key: manager::login_key(&login),
        login,
        name,
        email,
        email_validated: false,
        password_hash,
        force_password_change: true,
        user_initiated_password_reset: true,
        force_validation_prompt: false,
        sso_break_glass: false,
        rights: 0,
        rep_controls: 0,
        created_at: now,
        updated_at: now,
    };
    logins::claim(change.txn(), &model.login, logins::Owner::Manager, model.id).await?;
    manager::Entity::insert(manager::ActiveModel::from(model.clone()))
        .exec_without_returning(change.txn())
        .await?;
    let after = json!({ "kind": kind.to_value(), "login": model.login, "name": model.name, "email": model.email });
    change
        .commit(TARGET, action, model.id, None, Some(after))
        .await?;
    Ok(model)
}

/// A patch of a manager's identity.
#[derive(Clone, Debug, Default)]
pub struct ManagerPatch {
    pub login: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// `updateManager`: company managers only. A new e-mail address is not validated yet.
pub async fn update(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    patch: ManagerPatch,
) -> Result<manager::Model, AppError> {
    let actor = caller.person()?;
    access::company_only(actor)?;
    let login = patch.login.as_deref().map(validate::login).transpose()?;
    let name = patch
        .name
        .as_deref()
        .map(|n| validate::name("name", n, 200))
        .transpose()?;
    let email = patch.email.as_deref().map(validate::email).transpose()?;
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let current = find_in_account(change.txn(), actor, id).await?;
    let mut diff = Diff::default();
    let mut active: manager::ActiveModel = current.clone().into();
    if let Some(login) = login.filter(|l| *l != current.login) {
        logins::rename(change.txn(), &login, logins::Owner::Manager, id).await?;
        diff.set("login", &current.login, &login);
        active.login_key = Set(manager::login_key(&login));
        active.login = Set(login);
    }
    if let Some(name) = name.filter(|n| *n != current.name) {
        diff.set("name", &current.name, &name);
        active.name = Set(name);
    }
    if let Some(email) = email.filter(|e| *e != current.email) {
        diff.set("email", &current.email, &email);
        active.email = Set(email);
        active.email_validated = Set(false);
    }
    if diff.is_empty() {
        return Ok(current);
    }
    active.updated_at = Set(now);
    let updated = active.update(change.txn()).await?;
    let (before, after) = diff.into_values();
    change
        .commit(TARGET, Action::UpdateManager, id, before, after)
        .await?;
    Ok(updated)
}

/// `deleteManager`: company managers only; never the account's last company manager.
pub async fn delete(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
) -> Result<Uuid, AppError> {
    let actor = caller.person()?;
    access::company_only(actor)?;
    let change = Change::begin(state, actor, client).await?;
    let target = find_in_account(change.txn(), actor, id).await?;
    if target.kind == ManagerKind::Company {
        let companies = manager::Entity::find()
            .filter(manager::Column::AccountId.eq(actor.account_id))
            .filter(manager::Column::Kind.eq(ManagerKind::Company))
            .count(change.txn())
            .await?;
        if companies <= 1 {
            return Err(AppError::Conflict(
                "the last company manager of an account cannot be deleted".into(),
            ));
        }
        crate::service::sso::keep_break_glass(change.txn(), &target).await?;
    }
    logins::release(change.txn(), id).await?;
    manager::Entity::delete_by_id(id).exec(change.txn()).await?;
    let before =
        json!({ "kind": target.kind.to_value(), "login": target.login, "name": target.name });
    change
        .commit(TARGET, Action::DeleteManager, id, Some(before), None)
        .await?;
    Ok(id)
}

/// Which feature set of a team manager a patch changes.
#[derive(Clone, Copy, Debug)]
pub enum ManagerSet {
    Rights,
    RepControls,
}

/// `updateManagerRights` / `updateManagerRepControls`: company managers only, on team
/// managers (company managers hold every right; API managers are not team managers). The
/// dependency rules apply; the audit keeps the fields that changed.
pub async fn update_set(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    which: ManagerSet,
    patch: Patch,
) -> Result<manager::Model, AppError> {
    let actor = caller.person()?;
    access::company_only(actor)?;
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let current = find_in_account(change.txn(), actor, id).await?;
    if current.kind != ManagerKind::Team {
        return Err(AppError::bad_input(
            "rights and rep controls are set on team managers only",
        ));
    }
    let mut active: manager::ActiveModel = current.clone().into();
    let (action, before, after) = match which {
        ManagerSet::Rights => {
            let (bits, b, a) = RightSet::patch_stored(current.rights, &patch)?;
            active.rights = Set(bits);
            (Action::UpdateManagerRights, b, a)
        }
        ManagerSet::RepControls => {
            let (bits, b, a) = RepFeatureSet::patch_stored(current.rep_controls, &patch)?;
            active.rep_controls = Set(bits);
            (Action::UpdateManagerRepControls, b, a)
        }
    };
    if after.as_object().is_some_and(Map::is_empty) {
        return Ok(current);
    }
    active.updated_at = Set(now);
    let updated = active.update(change.txn()).await?;
    change
        .commit(TARGET, action, id, Some(before), Some(after))
        .await?;
    Ok(updated)
}

/// `setManagerTeams`: the complete list of teams a team manager is assigned to.
pub async fn set_teams(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    team_ids: Vec<Uuid>,
) -> Result<manager::Model, AppError> {
    let actor = caller.person()?;
    access::company_only(actor)?;
    let wanted: BTreeSet<Uuid> = team_ids.into_iter().collect();
    let change = Change::begin(state, actor, client).await?;
    let target = find_in_account(change.txn(), actor, id).await?;
    if target.kind != ManagerKind::Team {
        return Err(AppError::bad_input(
            "only team managers are assigned to teams",
        ));
    }
    let found = team::Entity::find()
        .filter(team::Column::AccountId.eq(actor.account_id))
        .filter(team::Column::Id.is_in(wanted.iter().copied()))
        .count(change.txn())
        .await?;
    if found != wanted.len() as u64 {
        return Err(AppError::NotFound("team"));
    }
    let before = links::linked::<manager_team::Entity>(change.txn(), id).await?;
    if before == wanted {
        return Ok(target);
    }
    links::replace::<manager_team::Entity>(change.txn(), id, &wanted).await?;
    change
        .commit(
            TARGET,
            Action::SetManagerTeams,
            id,
            Some(json!({ "teamIds": before })),
            Some(json!({ "teamIds": wanted })),
        )
        .await?;
    Ok(target)
}

/// `setManagerPortals`: the complete list of portals and sub-portals a team manager is
/// assigned to.
pub async fn set_portals(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    portal_ids: Vec<Uuid>,
) -> Result<manager::Model, AppError> {
    let actor = caller.person()?;
    access::company_only(actor)?;
    let wanted: BTreeSet<Uuid> = portal_ids.into_iter().collect();
    let change = Change::begin(state, actor, client).await?;
    let target = find_in_account(change.txn(), actor, id).await?;
    if target.kind != ManagerKind::Team {
        return Err(AppError::bad_input(
            "only team managers are assigned to portals",
        ));
    }
    let found = portal::Entity::find()
        .filter(portal::Column::AccountId.eq(actor.account_id))
        .filter(portal::Column::Id.is_in(wanted.iter().copied()))
        .count(change.txn())
        .await?;
    if found != wanted.len() as u64 {
        return Err(AppError::NotFound("portal"));
    }
    let before = links::linked::<manager_portal::Entity>(change.txn(), id).await?;
    if before == wanted {
        return Ok(target);
    }
    links::replace::<manager_portal::Entity>(change.txn(), id, &wanted).await?;
    change
        .commit(
            TARGET,
            Action::SetManagerPortals,
            id,
            Some(json!({ "portalIds": before })),
            Some(json!({ "portalIds": wanted })),
        )
        .await?;
    Ok(target)
}

/// A patch of `LoginSettings`: absent fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct LoginSettingsPatch {
    pub force_password_change: Option<bool>,
    pub user_initiated_password_reset: Option<bool>,
    pub force_validation_prompt: Option<bool>,
    pub sso_break_glass: Option<bool>,
}

/// `updateManagerLoginSettings`: company managers only, on an existing manager of their
/// account. The audit entry holds the settings that changed, before and after.
pub async fn update_login_settings(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    id: Uuid,
    patch: LoginSettingsPatch,
) -> Result<manager::Model, AppError> {
    let actor = caller.person()?;
    if actor.kind != ManagerKind::Company {
        return Err(AppError::Forbidden);
    }
    let change = Change::begin(state, actor, client).await?;
    let now = change.now;
    let current = manager::Entity::find_by_id(id)
        .filter(manager::Column::AccountId.eq(actor.account_id))
        .one(change.txn())
        .await?
        .ok_or(AppError::NotFound("manager"))?;
    let mut diff = Diff::default();
    let mut active: manager::ActiveModel = current.clone().into();
    let fields = [
        (
            "forcePasswordChange",
            current.force_password_change,
            patch.force_password_change,
        ),
        (
            "userInitiatedPasswordReset",
            current.user_initiated_password_reset,
            patch.user_initiated_password_reset,
        ),
        (
            "forceValidationPrompt",
            current.force_validation_prompt,
            patch.force_validation_prompt,
        ),
        (
            "ssoBreakGlass",
            current.sso_break_glass,
            patch.sso_break_glass,
        ),
    ];
    if patch.sso_break_glass == Some(true) && current.kind != ManagerKind::Company {
        return Err(AppError::bad_input(
            "ssoBreakGlass is for company managers only",
        ));
    }
    if patch.sso_break_glass == Some(false) {
        crate::service::sso::keep_break_glass(change.txn(), &current).await?;
    }
    for (name, old, new) in fields {
        let Some(new) = new.filter(|new| *new != old) else {
            continue;
        };
        diff.set(name, old, new);
        match name {
            "forcePasswordChange" => active.force_password_change = Set(new),
            "userInitiatedPasswordReset" => active.user_initiated_password_reset = Set(new),
            "ssoBreakGlass" => active.sso_break_glass = Set(new),
            _ => active.force_validation_prompt = Set(new),
        }
    }
    if diff.is_empty() {
        return Ok(current);
    }
    active.updated_at = Set(now);
    let updated = active.update(change.txn()).await?;
    let (before, after) = diff.into_values();
    change
        .commit(
            TARGET,
            Action::UpdateManagerLoginSettings,
            id,
            before,
            after,
        )
        .await?;
    Ok(updated)
}
