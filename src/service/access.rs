//! Who may do what (SPEC 2 and 4.4), computed in one place. Every service asks here; nothing
//! else decides.
//!
//! - Company managers hold every right on every team of their account.
//! - API managers provision teams, portals and reps account-wide (they hold the provisioning
//!   rights, [`API_RIGHTS`], on every team), and never touch managers.
//! - A team manager sees only the teams it is assigned to (and their reps), and uses right R
//!   on team T only if assigned to T, its own right R is on, and T's `managerFeatures` R is
//!   on. It switches rep feature F for a rep of T only if assigned to T and its `repControls`
//!   F is on.
//!
//! Rows the caller may not see answer `NOT_FOUND` (as if absent); rows it sees but may not
//! change answer `FORBIDDEN`.

use std::collections::HashSet;

use entity::{
    manager::{self, ManagerKind},
    manager_team, team,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    auth::Actor,
    error::AppError,
    service::features::{RepFeatureSet, RightSet},
};

/// What the caller can reach.
#[derive(Clone, Debug)]
pub enum Reach {
    /// Every team of the account.
    Account,
    /// Only these teams.
    Teams(HashSet<Uuid>),
}

impl Reach {
    pub fn sees(&self, team_id: Uuid) -> bool {
        match self {
            Reach::Account => true,
            Reach::Teams(teams) => teams.contains(&team_id),
        }
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

pub async fn reach(conn: &impl ConnectionTrait, actor: &Actor) -> Result<Reach, AppError> {
    match actor.kind {
        ManagerKind::Company | ManagerKind::Api => Ok(Reach::Account),
        ManagerKind::Team => Ok(Reach::Teams(assigned_teams(conn, actor.manager_id).await?)),
    }
}

/// Company managers only (manager administration, team manager features).
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
pub const API_RIGHTS: &[&str] = &[
    "addDeleteSubteams",
    "addDeleteReps",
    "changeRepNameLogin",
    "changeRepPassword",
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
            .fold(RightSet::none(), |set, right| set.with(right, true)),
        ManagerKind::Team if assigned => RightSet::from_bits(manager.rights)
            .intersect(RightSet::from_bits(team.manager_features)),
        ManagerKind::Team => RightSet::none(),
    }
}

/// A team of the caller's account that the caller can see, or `NOT_FOUND`.
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
    right: &'static str,
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
    if effective_rights(&me, team, assigned).get(right) {
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
