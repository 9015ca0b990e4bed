//! Batch loads behind the GraphQL DataLoaders: each answers for many keys with a constant
//! number of queries, so nested fields never cost a query per parent row. They load what is
//! linked; the loaders keep only what the caller's reach allows (`graphql::loaders`).

use std::collections::HashMap;

use entity::{
    manager, manager_portal, manager_team, portal, rep, rep_portal, team, team_subportal,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, Value,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    error::AppError,
    service::paging::{Page, PageArgs},
};

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

pub async fn managers_by_id(
    db: &DatabaseConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, manager::Model>, AppError> {
    Ok(manager::Entity::find()
        .filter(manager::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect())
}

pub async fn reps_by_id(
    db: &DatabaseConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, rep::Model>, AppError> {
    Ok(rep::Entity::find()
        .filter(rep::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
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

/// Portals each rep works in.
pub async fn portals_of_reps(
    db: &DatabaseConnection,
    rep_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<portal::Model>>, AppError> {
    let links = rep_portal::Entity::find()
        .filter(rep_portal::Column::RepId.is_in(rep_ids.iter().copied()))
        .all(db)
        .await?;
    let portal_ids: Vec<Uuid> = links.iter().map(|l| l.portal_id).collect();
    let portals = portals_by_id(db, &portal_ids).await?;
    Ok(group(
        rep_ids,
        links.into_iter().map(|l| (l.rep_id, l.portal_id)),
        &portals,
        |p| p.id,
    ))
}

/// The same page of reps of each team: one window-function query (the first `first + 1`
/// reps of every team after the cursor) and one grouped count, for any number of teams.
pub async fn rep_pages(
    db: &DatabaseConnection,
    team_ids: &[Uuid],
    page: PageArgs,
) -> Result<HashMap<Uuid, Page<rep::Model>>, AppError> {
    if team_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = team_ids.iter().map(|id| Value::from(*id)).collect();
    let placeholder = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let team_list: Vec<String> = (1..=team_ids.len()).map(placeholder).collect();
    let mut bounds = String::new();
    for (cursor, op) in [(page.after, ">"), (page.before, "<")] {
        if let Some(cursor) = cursor {
            values.push(Value::from(cursor));
            bounds.push_str(&format!(" AND id {op} {}", placeholder(values.len())));
        }
    }
    values.push(Value::from(
        i64::try_from(page.first + 1).unwrap_or(i64::MAX),
    ));
    // Backwards (`last`/`before`), each team's rows are ranked from the end.
    let rank_order = if page.backward { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT id, account_id, team_id, login, login_key, name, email, screen_name, \
         password_hash, feature_override_mask, feature_override_values, created_at, updated_at \
         FROM (SELECT reps.*, ROW_NUMBER() OVER (PARTITION BY team_id ORDER BY id {rank_order}) AS rn \
         FROM reps WHERE team_id IN ({}){bounds}) ranked \
         WHERE rn <= {} ORDER BY team_id, id",
        team_list.join(", "),
        placeholder(values.len()),
    );
    let rows = rep::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await?;
    // Reps of each team: in all, and past the page on the side it was not read towards (at
    // or before `after` forwards, at or after `before` backwards).
    let count = |behind: Option<(Uuid, bool)>| {
        let mut query = rep::Entity::find()
            .select_only()
            .column(rep::Column::TeamId)
            .column_as(Expr::col(rep::Column::Id).count(), "n")
            .filter(rep::Column::TeamId.is_in(team_ids.iter().copied()));
        match behind {
            Some((cursor, false)) => query = query.filter(rep::Column::Id.lte(cursor)),
            Some((cursor, true)) => query = query.filter(rep::Column::Id.gte(cursor)),
            None => {}
        }
        async move {
            Ok::<HashMap<Uuid, i64>, AppError>(
                query
                    .group_by(rep::Column::TeamId)
                    .into_tuple::<(Uuid, i64)>()
                    .all(db)
                    .await?
                    .into_iter()
                    .collect(),
            )
        }
    };
    let counts = count(None).await?;
    let behind = match (page.backward, page.after, page.before) {
        (false, Some(after), _) => Some((after, false)),
        (true, _, Some(before)) => Some((before, true)),
        _ => None,
    };
    let rows_behind = match behind {
        Some(side) => count(Some(side)).await?,
        None => HashMap::new(),
    };
    let mut grouped: HashMap<Uuid, Vec<rep::Model>> =
        team_ids.iter().map(|id| (*id, Vec::new())).collect();
    for row in rows {
        if let Some(list) = grouped.get_mut(&row.team_id) {
            list.push(row);
        }
    }
    Ok(grouped
        .into_iter()
        .map(|(team_id, mut rows)| {
            let total = counts.get(&team_id).copied().unwrap_or(0);
            let more = rows.len() as u64 > page.first;
            if more && page.backward {
                // The extra row is the one furthest back: the oldest.
                rows.remove(0);
            }
            rows.truncate(usize::try_from(page.first).unwrap_or(usize::MAX));
            let behind = rows_behind.get(&team_id).is_some_and(|n| *n > 0);
            let (has_previous_page, has_next_page) = if page.backward {
                (more, behind)
            } else {
                (behind, more)
            };
            let page = Page {
                items: rows,
                has_previous_page,
                has_next_page,
                total_count: u64::try_from(total).unwrap_or(0),
            };
            (team_id, page)
        })
        .collect())
}
