//! Batch loads behind the GraphQL DataLoaders: each answers for many keys with one statement
//! (a page of reps past a cursor: up to three), so nested fields never cost a query per parent
//! row. They load what is linked; the loaders keep only what the caller's reach allows
//! (`graphql::loaders`).

use std::{collections::HashMap, sync::LazyLock};

use entity::{
    manager, manager_portal, manager_team, portal, rep, rep_portal, team, team_subportal,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, JoinType,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationDef, Statement, Value,
};
use uuid::Uuid;

use crate::{
    error::AppError,
    service::{
        paging::{Page, PageArgs},
        rows::{self, FromRow},
    },
};

/// Rows of `E` by primary key, keyed by it.
async fn by_id<E>(
    db: &DatabaseConnection,
    ids: &[Uuid],
    id: E::Column,
    key: fn(&E::Model) -> Uuid,
) -> Result<HashMap<Uuid, E::Model>, AppError>
where
    E: EntityTrait,
    E::Model: FromRow,
{
    Ok(
        rows::all(db, E::find().filter(id.is_in(ids.iter().copied())))
            .await?
            .into_iter()
            .map(|row| (key(&row), row))
            .collect(),
    )
}

/// `pub async fn $name(db, ids)`: rows of table module `$table` by id.
macro_rules! by_id {
    ($name:ident, $table:ident) => {
        pub async fn $name(
            db: &DatabaseConnection,
            ids: &[Uuid],
        ) -> Result<HashMap<Uuid, $table::Model>, AppError> {
            by_id::<$table::Entity>(db, ids, $table::Column::Id, |row| row.id).await
        }
    };
}

by_id!(teams_by_id, team);
by_id!(portals_by_id, portal);
by_id!(managers_by_id, manager);
by_id!(reps_by_id, rep);

/// The values of entity `E` linked to each key through the link table `L`, in one statement
/// (the link rows joined to the values, only the values' own columns and the key read back),
/// each key's values in id order; a key with no link has an empty list.
async fn linked<E, L>(
    db: &DatabaseConnection,
    keys: &[Uuid],
    link_key: L::Column,
    link_value: L::Column,
    value_id: E::Column,
) -> Result<HashMap<Uuid, Vec<E::Model>>, AppError>
where
    E: EntityTrait,
    E::Model: FromRow,
    L: EntityTrait,
{
    let mut grouped: HashMap<Uuid, Vec<E::Model>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    if keys.is_empty() {
        return Ok(grouped);
    }
    let link: RelationDef = L::belongs_to(E::default())
        .from(link_value)
        .to(value_id)
        .into();
    let statement = E::find()
        .join_rev(JoinType::InnerJoin, link)
        .column_as(link_key, LINK_KEY)
        .filter(link_key.is_in(keys.iter().copied()))
        .order_by_asc(value_id)
        .build(db.get_database_backend());
    for row in db.query_all_raw(statement).await? {
        let key: Uuid = row.try_get("", LINK_KEY)?;
        if let Some(list) = grouped.get_mut(&key) {
            list.push(E::Model::from_row(&row)?);
        }
    }
    Ok(grouped)
}

/// The column [`linked`] reads each row's key from.
const LINK_KEY: &str = "link_key";
/// The column [`rep_pages`] reads each team's count of reps in the window from.
const IN_WINDOW: &str = "in_window";

/// Teams each manager is assigned to.
pub async fn teams_of_managers(
    db: &DatabaseConnection,
    manager_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<team::Model>>, AppError> {
    linked::<team::Entity, manager_team::Entity>(
        db,
        manager_ids,
        manager_team::Column::ManagerId,
        manager_team::Column::TeamId,
        team::Column::Id,
    )
    .await
}

/// Portals each manager is assigned to.
pub async fn portals_of_managers(
    db: &DatabaseConnection,
    manager_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<portal::Model>>, AppError> {
    linked::<portal::Entity, manager_portal::Entity>(
        db,
        manager_ids,
        manager_portal::Column::ManagerId,
        manager_portal::Column::PortalId,
        portal::Column::Id,
    )
    .await
}

/// Managers assigned to each team.
pub async fn managers_of_teams(
    db: &DatabaseConnection,
    team_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<manager::Model>>, AppError> {
    linked::<manager::Entity, manager_team::Entity>(
        db,
        team_ids,
        manager_team::Column::TeamId,
        manager_team::Column::ManagerId,
        manager::Column::Id,
    )
    .await
}

/// The rows of `E` under each parent (through the column `parent`), in id order.
async fn children<E>(
    db: &DatabaseConnection,
    parent_ids: &[Uuid],
    parent: E::Column,
    id: E::Column,
    parent_of: fn(&E::Model) -> Option<Uuid>,
) -> Result<HashMap<Uuid, Vec<E::Model>>, AppError>
where
    E: EntityTrait,
    E::Model: FromRow,
{
    let mut grouped: HashMap<Uuid, Vec<E::Model>> =
        parent_ids.iter().map(|k| (*k, Vec::new())).collect();
    let select = E::find()
        .filter(parent.is_in(parent_ids.iter().copied()))
        .order_by_asc(id);
    for row in rows::all(db, select).await? {
        if let Some(list) = parent_of(&row).and_then(|p| grouped.get_mut(&p)) {
            list.push(row);
        }
    }
    Ok(grouped)
}

/// Sub-teams of each team.
pub async fn subteams(
    db: &DatabaseConnection,
    parent_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<team::Model>>, AppError> {
    children::<team::Entity>(
        db,
        parent_ids,
        team::Column::ParentId,
        team::Column::Id,
        |t| t.parent_id,
    )
    .await
}

/// Sub-portals of each portal.
pub async fn subportals(
    db: &DatabaseConnection,
    parent_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<portal::Model>>, AppError> {
    children::<portal::Entity>(
        db,
        parent_ids,
        portal::Column::ParentId,
        portal::Column::Id,
        |p| p.parent_id,
    )
    .await
}

/// Sub-portals each team serves.
pub async fn subportals_of_teams(
    db: &DatabaseConnection,
    team_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<portal::Model>>, AppError> {
    linked::<portal::Entity, team_subportal::Entity>(
        db,
        team_ids,
        team_subportal::Column::TeamId,
        team_subportal::Column::PortalId,
        portal::Column::Id,
    )
    .await
}

/// Portals each rep works in.
pub async fn portals_of_reps(
    db: &DatabaseConnection,
    rep_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<portal::Model>>, AppError> {
    linked::<portal::Entity, rep_portal::Entity>(
        db,
        rep_ids,
        rep_portal::Column::RepId,
        rep_portal::Column::PortalId,
        portal::Column::Id,
    )
    .await
}

/// Bind values of a hand-written statement, with the backend's placeholders.
struct Params {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Params {
    fn new(backend: DbBackend) -> Self {
        Params {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `value`; its placeholder (`$n` on PostgreSQL, `?` on SQLite).
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    /// `team_id IN (…) AND account_id = …`: the reps of those teams in the account only. On
    /// SQLite `+` keeps the account index out of the plan: it would scan every rep of the
    /// account rather than read each team's through its index.
    fn reps_of(&mut self, team_ids: &[Uuid], account_id: Uuid) -> String {
        let teams: Vec<String> = team_ids.iter().map(|id| self.bind(*id)).collect();
        let unindexed = if self.backend == DbBackend::Sqlite {
            "+"
        } else {
            ""
        };
        format!(
            "team_id IN ({}) AND {unindexed}account_id = {}",
            teams.join(", "),
            self.bind(account_id)
        )
    }

    /// ` AND id <op> …`: one side of a cursor.
    fn id_bound(&mut self, op: &str, cursor: Uuid) -> String {
        format!(" AND id {op} {}", self.bind(cursor))
    }

    fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// The columns of `reps` a page reads: all of them, in the model's order ([`FromRow`]).
static REP_COLUMNS: LazyLock<String> = LazyLock::new(|| rep::Model::FIELDS.join(", "));

/// The same page of reps of each team of `account_id`, for any number of teams (another
/// account's team has none), in one statement: the first `first + 1` reps of every team after
/// the cursor, each with the count of its team's reps in that window (for one team, the
/// common case, a plain ordered read with `LIMIT`; for several, a window-function ranking).
/// Past a cursor the window is not the whole list, so two grouped counts follow (all the reps,
/// and those behind the cursor).
pub async fn rep_pages(
    db: &DatabaseConnection,
    account_id: Uuid,
    team_ids: &[Uuid],
    page: PageArgs,
) -> Result<HashMap<Uuid, Page<rep::Model>>, AppError> {
    if team_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = db.get_database_backend();
    let mut params = Params::new(backend);
    let mut filter = params.reps_of(team_ids, account_id);
    for (cursor, op) in [(page.after, ">"), (page.before, "<")] {
        if let Some(cursor) = cursor {
            filter.push_str(&params.id_bound(op, cursor));
        }
    }
    let limit = params.bind(i64::try_from(page.first + 1).unwrap_or(i64::MAX));
    // Backwards (`last`/`before`), each team's rows are read from the end.
    let order = if page.backward { "DESC" } else { "ASC" };
    let sql = if team_ids.len() == 1 {
        // The window is over the whole filtered read, before the limit.
        format!(
            "SELECT {}, COUNT(*) OVER () AS {IN_WINDOW} FROM reps WHERE {filter} \
             ORDER BY id {order} LIMIT {limit}",
            *REP_COLUMNS
        )
    } else {
        format!(
            "SELECT {}, {IN_WINDOW} \
             FROM (SELECT reps.*, ROW_NUMBER() OVER (PARTITION BY team_id ORDER BY id {order}) AS rn, \
             COUNT(*) OVER (PARTITION BY team_id) AS {IN_WINDOW} FROM reps WHERE {filter}) ranked \
             WHERE rn <= {limit} ORDER BY team_id, id",
            *REP_COLUMNS
        )
    };
    let mut rows = Vec::new();
    let mut in_window: HashMap<Uuid, i64> = HashMap::new();
    for row in db.query_all_raw(params.statement(sql)).await? {
        let rep = rep::Model::from_row(&row)?;
        in_window.insert(rep.team_id, row.try_get("", IN_WINDOW)?);
        rows.push(rep);
    }
    if team_ids.len() == 1 && page.backward {
        rows.reverse();
    }
    // Reps of each team (of the account): in all, and past the page on the side it was not
    // read towards (at or before `after` forwards, at or after `before` backwards).
    let count = |behind: Option<(Uuid, &str)>| {
        let mut params = Params::new(backend);
        let mut filter = params.reps_of(team_ids, account_id);
        if let Some((cursor, op)) = behind {
            filter.push_str(&params.id_bound(op, cursor));
        }
        let sql =
            format!("SELECT team_id, COUNT(*) AS n FROM reps WHERE {filter} GROUP BY team_id");
        async move {
            let mut counts = HashMap::new();
            for row in db.query_all_raw(params.statement(sql)).await? {
                counts.insert(
                    row.try_get::<Uuid>("", "team_id")?,
                    row.try_get::<i64>("", "n")?,
                );
            }
            Ok::<HashMap<Uuid, i64>, AppError>(counts)
        }
    };
    // Without a cursor the window is the whole list: its count is the total.
    let counts = if page.after.is_none() && page.before.is_none() {
        in_window
    } else {
        count(None).await?
    };
    let behind = match (page.backward, page.after, page.before) {
        (false, Some(after), _) => Some((after, "<=")),
        (true, _, Some(before)) => Some((before, ">=")),
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
