//! Who may see and do what (SPEC 2 and 4.4), decided in one place. Every service and every
//! DataLoader asks here; nothing else decides.
//!
//! - Company managers hold every right on every team of their account.
//! - API managers provision teams, portals and reps account-wide (they hold the provisioning
//!   rights, [`API_RIGHTS`], on every team), and never touch managers.
//! - A team manager sees only the teams it is assigned to (and their reps) and the portals it
//!   is assigned to, and uses right R on team T only if assigned to T, its own right R is on,
//!   and T's `managerFeatures` R is on. It switches rep feature F for a rep of T only if
//!   assigned to T and its `repControls` F is on.
//!
//! [`Access`] is the caller of one request (or of one object reached for another principal,
//! such as the manager a `login` answer names). Its [`Reach`] is computed once and applied to
//! every read, top-level or nested: the DataLoaders are built per `Access` and filter what they
//! load through it, so no nested field can walk around it. Writes check inside their own
//! transaction (`visible_team`, `require_right`), against the rows as they are then.
//!
//! Rows the caller may not see answer `NOT_FOUND` (as if absent); rows it sees but may not
//! change answer `FORBIDDEN`.

use std::{collections::HashSet, sync::Arc};

use entity::{
    manager::{self, ManagerKind},
    manager_portal, manager_team, portal, rep, team,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PrimaryKeyTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use crate::{
    auth::{Actor, Principal, Restriction, scope::ApiScope},
    error::AppError,
    service::features::{RepFeatureSet, Right, RightSet},
};

/// The caller of a request, with its reach computed at most once. Cheap to clone.
#[derive(Clone)]
pub struct Access(Arc<Inner>);

struct Inner {
    db: DatabaseConnection,
    principal: Principal,
    reach: tokio::sync::OnceCell<Arc<Reach>>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("principal", &self.0.principal)
            .finish_non_exhaustive()
    }
}

impl Access {
    pub fn new(db: DatabaseConnection, principal: Principal) -> Self {
        Access(Arc::new(Inner {
            db,
            principal,
            reach: tokio::sync::OnceCell::new(),
        }))
    }

    /// The connection reads of this caller go through.
    pub fn db(&self) -> &DatabaseConnection {
        &self.0.db
    }

    pub fn principal(&self) -> &Principal {
        &self.0.principal
    }

    /// The signed-in manager with an unrestricted session. Everything but `me` and what lifts
    /// a restriction goes through this, so a restricted session reaches nothing past itself.
    pub fn actor(&self) -> Result<&Actor, AppError> {
        self.0.principal.actor()
    }

    /// The signed-in manager, restricted or not: for `me` and `logout`.
    pub fn signed_in(&self) -> Result<&Actor, AppError> {
        self.0.principal.signed_in()
    }

    /// The caller of an operation an app token may do only with `scope` (SPEC 6). With a
    /// manager's own session, its permissions alone decide.
    pub fn actor_for(&self, scope: ApiScope) -> Result<&Actor, AppError> {
        let actor = self.actor()?;
        actor.require_scope(scope)?;
        Ok(actor)
    }

    /// Refuses a read an app token's scopes do not cover (`FORBIDDEN`, naming the scope):
    /// every read path, top-level or nested, asks here.
    pub fn require(&self, scope: ApiScope) -> Result<(), AppError> {
        self.actor()?.require_scope(scope)
    }

    /// The caller of an operation for people only: app tokens never reach manager
    /// administration, developer apps or the audit log (SPEC 6).
    pub fn person(&self) -> Result<&Actor, AppError> {
        let actor = self.actor()?;
        actor.not_app()?;
        Ok(actor)
    }

    /// The signed-in manager, for an operation that lifts `restriction`.
    pub fn lifting(&self, restriction: Restriction) -> Result<&Actor, AppError> {
        self.0.principal.lifting(restriction)
    }

    /// What the caller can read, computed once (one query per kind of assignment for a team
    /// manager, none for the others). Refused for anonymous and restricted callers.
    pub async fn reach(&self) -> Result<Arc<Reach>, AppError> {
        let actor = self.actor()?;
        self.0
            .reach
            .get_or_try_init(|| async { Reach::load(&self.0.db, actor).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// A team the caller can read, or `NOT_FOUND`.
    pub async fn team(&self, id: Uuid) -> Result<team::Model, AppError> {
        self.read::<team::Entity>(id, "team", Some(ApiScope::TeamsRead), Reach::sees_team)
            .await
    }

    /// A team the caller can see, or `NOT_FOUND`, when it is only a filter (an app token
    /// needs no `teams:read` for it: nothing of the team is answered).
    pub async fn team_in_reach(&self, id: Uuid) -> Result<team::Model, AppError> {
        self.read::<team::Entity>(id, "team", None, Reach::sees_team)
            .await
    }

    /// A portal or sub-portal the caller can read, or `NOT_FOUND`.
    pub async fn portal(&self, id: Uuid) -> Result<portal::Model, AppError> {
        self.read::<portal::Entity>(
            id,
            "portal",
            Some(ApiScope::PortalsRead),
            Reach::sees_portal,
        )
        .await
    }

    /// A rep the caller can read, or `NOT_FOUND`.
    pub async fn rep(&self, id: Uuid) -> Result<rep::Model, AppError> {
        self.read::<rep::Entity>(id, "rep", Some(ApiScope::RepsRead), Reach::sees_rep)
            .await
    }

    /// A manager the caller can read, or `NOT_FOUND`.
    pub async fn manager(&self, id: Uuid) -> Result<manager::Model, AppError> {
        self.read::<manager::Entity>(id, "manager", None, Reach::sees_manager)
            .await
    }

    /// One row by id if the reach allows it: absent and out of reach look alike.
    async fn read<E>(
        &self,
        id: Uuid,
        what: &'static str,
        scope: Option<ApiScope>,
        sees: fn(&Reach, &E::Model) -> bool,
    ) -> Result<E::Model, AppError>
    where
        E: EntityTrait,
        <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
    {
        let reach = self.reach().await?;
        if let Some(scope) = scope {
            self.require(scope)?;
        }
        E::find_by_id(id)
            .one(&self.0.db)
            .await?
            .filter(|row| sees(&reach, row))
            .ok_or(AppError::NotFound(what))
    }
}

/// What one caller can read: its account, and for a team manager only its assigned teams and
/// portals. Every read path filters through this.
#[derive(Clone, Debug)]
pub struct Reach {
    pub account_id: Uuid,
    pub manager_id: Uuid,
    pub kind: ManagerKind,
    /// `None`: every team of the account.
    teams: Option<HashSet<Uuid>>,
    /// `None`: every portal of the account.
    portals: Option<HashSet<Uuid>>,
}

impl Reach {
    async fn load(conn: &impl ConnectionTrait, actor: &Actor) -> Result<Reach, AppError> {
        let (teams, portals) = match actor.kind {
            ManagerKind::Company | ManagerKind::Api => (None, None),
            ManagerKind::Team => (
                Some(assigned_teams(conn, actor.manager_id).await?),
                Some(assigned_portals(conn, actor.manager_id).await?),
            ),
        };
        Ok(Reach {
            account_id: actor.account_id,
            manager_id: actor.manager_id,
            kind: actor.kind,
            teams,
            portals,
        })
    }

    /// The team ids a list must be limited to; `None` for the whole account.
    pub fn team_ids(&self) -> Option<&HashSet<Uuid>> {
        self.teams.as_ref()
    }

    /// The portal ids a list must be limited to; `None` for the whole account.
    pub fn portal_ids(&self) -> Option<&HashSet<Uuid>> {
        self.portals.as_ref()
    }

    pub fn sees_team_id(&self, team_id: Uuid) -> bool {
        self.teams.as_ref().is_none_or(|t| t.contains(&team_id))
    }

    pub fn sees_team(&self, team: &team::Model) -> bool {
        team.account_id == self.account_id && self.sees_team_id(team.id)
    }

    pub fn sees_portal(&self, portal: &portal::Model) -> bool {
        portal.account_id == self.account_id
            && self.portals.as_ref().is_none_or(|p| p.contains(&portal.id))
    }

    pub fn sees_rep(&self, rep: &rep::Model) -> bool {
        rep.account_id == self.account_id && self.sees_team_id(rep.team_id)
    }

    /// Company managers see the account's managers; the others only themselves.
    pub fn sees_manager(&self, manager: &manager::Model) -> bool {
        manager.account_id == self.account_id
            && (self.kind == ManagerKind::Company || manager.id == self.manager_id)
    }
}

/// The teams a manager is assigned to.
pub async fn assigned_teams(
    conn: &impl ConnectionTrait,
    manager_id: Uuid,
) -> Result<HashSet<Uuid>, AppError> {
    let ids: Vec<Uuid> = manager_team::Entity::find()
        .select_only()
        .column(manager_team::Column::TeamId)
        .filter(manager_team::Column::ManagerId.eq(manager_id))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().collect())
}

/// The portals and sub-portals a manager is assigned to.
pub async fn assigned_portals(
    conn: &impl ConnectionTrait,
    manager_id: Uuid,
) -> Result<HashSet<Uuid>, AppError> {
    let ids: Vec<Uuid> = manager_portal::Entity::find()
        .select_only()
        .column(manager_portal::Column::PortalId)
        .filter(manager_portal::Column::ManagerId.eq(manager_id))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Company managers only (manager administration, team manager features, the audit log).
pub fn company_only(actor: &Actor) -> Result<(), AppError> {
    match actor.kind {
        ManagerKind::Company => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

/// Company and API managers (account-wide provisioning: portals, top-level teams).
pub fn provisioner(actor: &Actor) -> Result<(), AppError> {
    match actor.kind {
        ManagerKind::Company | ManagerKind::Api => Ok(()),
        ManagerKind::Team => Err(AppError::Forbidden),
    }
}

/// The rights of an API manager on every team of its account: those that provision teams and
/// reps. The others (reports, session replay, …) are for people in the management center.
pub const API_RIGHTS: [Right; 4] = [
    Right::AddDeleteSubteams,
    Right::AddDeleteReps,
    Right::ChangeRepNameLogin,
    Right::ChangeRepPassword,
];

/// The rights `manager` may use on `team` (SPEC 4.4), the one answer both
/// `Manager.effectiveRights` and every permission check use: all for company managers; the
/// provisioning rights for API managers; for a team manager, its rights AND the team's
/// manager features when assigned, none otherwise.
pub fn effective_rights(manager: &manager::Model, team: &team::Model, assigned: bool) -> RightSet {
    match manager.kind {
        ManagerKind::Company => RightSet::all(),
        ManagerKind::Api => API_RIGHTS
            .iter()
            .fold(RightSet::none(), |set, right| set.with(right.name(), true)),
        ManagerKind::Team if assigned => RightSet::from_bits(manager.rights)
            .intersect(RightSet::from_bits(team.manager_features)),
        ManagerKind::Team => RightSet::none(),
    }
}

/// What an app token's scopes leave of `rights` (SPEC 6: a token does only what both its
/// scopes and its API manager allow): `teams:write` keeps adding and deleting sub-teams,
/// `reps:write` the rep rights. A manager's own session keeps them all.
pub fn within_scopes(rights: RightSet, actor: &Actor) -> RightSet {
    let Some(grant) = &actor.app else {
        return rights;
    };
    let mut allowed = RightSet::none();
    if grant.scopes.has(ApiScope::TeamsWrite) {
        allowed = allowed.with(Right::AddDeleteSubteams.name(), true);
    }
    if grant.scopes.has(ApiScope::RepsWrite) {
        for right in [
            Right::AddDeleteReps,
            Right::ChangeRepNameLogin,
            Right::ChangeRepPassword,
        ] {
            allowed = allowed.with(right.name(), true);
        }
    }
    rights.intersect(allowed)
}

/// A team of the caller's account that the caller can see, or `NOT_FOUND`, read through
/// `conn` (inside a write, its transaction).
pub async fn visible_team(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    team_id: Uuid,
) -> Result<team::Model, AppError> {
    let team = team::Entity::find_by_id(team_id)
        .filter(team::Column::AccountId.eq(actor.account_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("team"))?;
    if actor.kind == ManagerKind::Team
        && !assigned_teams(conn, actor.manager_id)
            .await?
            .contains(&team.id)
    {
        return Err(AppError::NotFound("team"));
    }
    Ok(team)
}

/// Checks that the caller may use `right` on `team` (already known to be visible to it),
/// with exactly what [`effective_rights`] shows.
pub async fn require_right(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    team: &team::Model,
    right: Right,
) -> Result<(), AppError> {
    let me = manager::Entity::find_by_id(actor.manager_id)
        .filter(manager::Column::AccountId.eq(actor.account_id))
        .one(conn)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let assigned = me.kind == ManagerKind::Team
        && assigned_teams(conn, actor.manager_id)
            .await?
            .contains(&team.id);
    if effective_rights(&me, team, assigned).has(right) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The rep features the caller may switch for reps of `team`: all for company and API
/// managers; a team manager's `repControls` when assigned to the team.
pub async fn rep_controls(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    team: &team::Model,
) -> Result<RepFeatureSet, AppError> {
    match actor.kind {
        ManagerKind::Company | ManagerKind::Api => Ok(RepFeatureSet::all()),
        ManagerKind::Team => {
            let me = manager::Entity::find_by_id(actor.manager_id)
                .one(conn)
                .await?
                .ok_or(AppError::Unauthenticated)?;
            let assigned = assigned_teams(conn, actor.manager_id)
                .await?
                .contains(&team.id);
            Ok(if assigned {
                RepFeatureSet::from_bits(me.rep_controls)
            } else {
                RepFeatureSet::none()
            })
        }
    }
}
