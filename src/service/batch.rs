//! Batch loads behind the GraphQL DataLoaders: each answers for many keys with a constant
//! number of queries, so nested fields never cost a query per parent row. Rows reach these
//! only through parents the caller could already see.

use std::collections::HashMap;

use entity::{manager, manager_portal, manager_team, portal, team, team_subportal};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::error::AppError;

pub async fn teams_by_id(
    db: &DatabaseConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, team::Model>, AppError> {
    Ok(team::Entity::find()
        .filter(team::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect())
}

pub async fn portals_by_id(
    db: &DatabaseConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, portal::Model>, AppError> {
    Ok(portal::Entity::find()
        .filter(portal::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}

/// Groups `(key, value id)` links into `key -> values`, in the values' id order.
fn group<V: Clone>(
    keys: &[Uuid],
    links: impl IntoIterator<Item = (Uuid, Uuid)>,
    values: &HashMap<Uuid, V>,
    id_of: impl Fn(&V) -> Uuid,
) -> HashMap<Uuid, Vec<V>> {
    let mut grouped: HashMap<Uuid, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (key, value_id) in links {
        if let (Some(list), Some(value)) = (grouped.get_mut(&key), values.get(&value_id)) {
            list.push(value.clone());
        }
    }
    for list in grouped.values_mut() {
        list.sort_by_key(|v| id_of(v));
    }
    grouped
}

/// Teams each manager is assigned to: two queries for any number of managers.
pub async fn teams_of_managers(
    db: &DatabaseConnection,
    manager_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<team::Model>>, AppError> {
    let links = manager_team::Entity::find()
        .filter(manager_team::Column::ManagerId.is_in(manager_ids.iter().copied()))
        .all(db)
        .await?;
    let team_ids: Vec<Uuid> = links.iter().map(|l| l.team_id).collect();
    let teams = teams_by_id(db, &team_ids).await?;
    Ok(group(
        manager_ids,
        links.into_iter().map(|l| (l.manager_id, l.team_id)),
        &teams,
        |t| t.id,
    ))
}

/// Portals each manager is assigned to.
pub async fn portals_of_managers(
    db: &DatabaseConnection,
    manager_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<portal::Model>>, AppError> {
    let links = manager_portal::Entity::find()
        .filter(manager_portal::Column::ManagerId.is_in(manager_ids.iter().copied()))
        .all(db)
        .await?;
    let portal_ids: Vec<Uuid> = links.iter().map(|l| l.portal_id).collect();
    let portals = portals_by_id(db, &portal_ids).await?;
    Ok(group(
        manager_ids,
        links.into_iter().map(|l| (l.manager_id, l.portal_id)),
        &portals,
        |p| p.id,
    ))
}

/// Managers assigned to each team.
pub async fn managers_of_teams(
    db: &DatabaseConnection,
    team_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<manager::Model>>, AppError> {
    let links = manager_team::Entity::find()
        .filter(manager_team::Column::TeamId.is_in(team_ids.iter().copied()))
        .all(db)
        .await?;
    let managers: HashMap<Uuid, manager::Model> = manager::Entity::find()
        .filter(manager::Column::Id.is_in(links.iter().map(|l| l.manager_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    Ok(group(
        team_ids,
        links.into_iter().map(|l| (l.team_id, l.manager_id)),
        &managers,
        |m| m.id,
    ))
}

/// Sub-teams of each team.
pub async fn subteams(
    db: &DatabaseConnection,
    parent_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<team::Model>>, AppError> {
    let mut grouped: HashMap<Uuid, Vec<team::Model>> =
        parent_ids.iter().map(|k| (*k, Vec::new())).collect();
    for t in team::Entity::find()
        .filter(team::Column::ParentId.is_in(parent_ids.iter().copied()))
        .order_by_asc(team::Column::Id)
        .all(db)
        .await?
    {
        if let Some(list) = t.parent_id.and_then(|p| grouped.get_mut(&p)) {
            list.push(t);
        }
    }
    Ok(grouped)
}

/// Sub-portals of each portal.
pub async fn subportals(
    db: &DatabaseConnection,
    parent_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<portal::Model>>, AppError> {
    let mut grouped: HashMap<Uuid, Vec<portal::Model>> =
        parent_ids.iter().map(|k| (*k, Vec::new())).collect();
    for p in portal::Entity::find()
        .filter(portal::Column::ParentId.is_in(parent_ids.iter().copied()))
        .order_by_asc(portal::Column::Id)
        .all(db)
        .await?
    {
        if let Some(list) = p.parent_id.and_then(|parent| grouped.get_mut(&parent)) {
            list.push(p);
        }
    }
    Ok(grouped)
}

/// Sub-portals each team serves.
pub async fn subportals_of_teams(
    db: &DatabaseConnection,
    team_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<portal::Model>>, AppError> {
    let links = team_subportal::Entity::find()
        .filter(team_subportal::Column::TeamId.is_in(team_ids.iter().copied()))
        .all(db)
        .await?;
    let portal_ids: Vec<Uuid> = links.iter().map(|l| l.portal_id).collect();
    let portals = portals_by_id(db, &portal_ids).await?;
    Ok(group(
        team_ids,
        links.into_iter().map(|l| (l.team_id, l.portal_id)),
        &portals,
        |p| p.id,
    ))
}
