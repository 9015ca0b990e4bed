//! Rows of the listed tables decoded by position, straight from the driver.
//!
//! sea-orm's derived decoding reads every column by name, twice (a raw read to check the
//! type, then the value), and a NULL in an `Option` column formats an error message that is
//! then dropped. For a page of 100 reps, or 50 managers with their teams, that was about a
//! sixth of the server's time on the request (BENCHMARKS.md, issue 12). The lists read here
//! select an entity's columns in its model's order (what `Entity::find()` selects, and what
//! the hand-written statements of `service::batch` spell), so a row is decoded by index.
//! A test checks each model's field list against its entity's columns.

use entity::{audit_event, developer_app, manager, portal, rep, team};
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, QueryResult, QueryTrait, Select, TryGetable,
    sqlx::{self, Postgres, Row, Sqlite},
};

/// A model read from the first columns of a row, in its entity's column order.
pub trait FromRow: Sized {
    /// The model's fields, in order (the entity's column names).
    const FIELDS: &'static [&'static str];

    fn from_row(row: &QueryResult) -> Result<Self, DbErr>;
}

/// One value, read from column `index` of a row.
pub trait Cell: Sized {
    fn cell(row: &QueryResult, index: usize) -> Result<Self, DbErr>;
}

/// A value both drivers decode themselves, `NULL` as `None`.
fn native<T>(row: &QueryResult, index: usize) -> Result<Option<T>, DbErr>
where
    T: sqlx::Type<Postgres> + for<'r> sqlx::Decode<'r, Postgres>,
    T: sqlx::Type<Sqlite> + for<'r> sqlx::Decode<'r, Sqlite>,
    Option<T>: TryGetable,
{
    let decoded = if let Some(row) = row.try_as_pg_row() {
        read(row, index)
    } else if let Some(row) = row.try_as_sqlite_row() {
        read(row, index)
    } else {
        return row.try_get_by_index(index);
    };
    decoded.map_err(|e| DbErr::Type(format!("column {index}: {e}")))
}

/// Column `index` of a driver's row. The driver's check of the column's type against `T`
/// runs in debug builds (the test suites read every column of these models on both
/// databases); a release build skips it (~3 % of a page's time). The decoders still check
/// what they read (length, UTF-8).
fn read<'r, R, T>(row: &'r R, index: usize) -> Result<T, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    if cfg!(debug_assertions) {
        row.try_get(index)
    } else {
        row.try_get_unchecked(index)
    }
}

macro_rules! native_cells {
    ($($t:ty),* $(,)?) => {$(
        impl Cell for $t {
            fn cell(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                native::<$t>(row, index)?
                    .ok_or_else(|| DbErr::Type(format!("column {index}: unexpected NULL")))
            }
        }

        impl Cell for Option<$t> {
            fn cell(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                native::<$t>(row, index)
            }
        }
    )*};
}

native_cells!(
    uuid::Uuid,
    String,
    bool,
    i32,
    i64,
    chrono::DateTime<chrono::Utc>
);

/// Types of this project's own (enums, wrapped secrets, JSON): read the way sea-orm reads
/// them, by index.
macro_rules! sea_orm_cells {
    ($($t:ty),* $(,)?) => {$(
        impl Cell for $t {
            fn cell(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                row.try_get_by_index(index)
            }
        }
    )*};
}

sea_orm_cells!(
    manager::ManagerKind,
    entity::SecretHash,
    Option<entity::SecretHash>,
    Option<sea_orm::JsonValue>,
);

/// [`FromRow`] for a model, given its fields in the entity's column order.
macro_rules! from_row {
    ($model:path { $($field:ident),* $(,)? }) => {
        impl FromRow for $model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
                let mut index = 0..;
                Ok(Self {
                    $($field: Cell::cell(row, index.next().unwrap_or_default())?,)*
                })
            }
        }
    };
}

from_row!(team::Model {
    id,
    account_id,
    parent_id,
    name,
    portal_id,
    available_logins,
    manager_features,
    rep_defaults,
    created_at,
    updated_at,
});

from_row!(portal::Model {
    id,
    account_id,
    parent_id,
    name,
    created_at,
    updated_at,
});

from_row!(rep::Model {
    id,
    account_id,
    team_id,
    login,
    login_key,
    name,
    email,
    screen_name,
    password_hash,
    feature_override_mask,
    feature_override_values,
    created_at,
    updated_at,
});

from_row!(manager::Model {
    id,
    account_id,
    kind,
    login,
    login_key,
    name,
    email,
    email_validated,
    password_hash,
    force_password_change,
    user_initiated_password_reset,
    force_validation_prompt,
    sso_break_glass,
    rights,
    rep_controls,
    created_at,
    updated_at,
});

from_row!(audit_event::Model {
    id,
    account_id,
    actor_id,
    actor_label,
    action,
    target_type,
    target_id,
    before,
    after,
    client_address,
    created_at,
});

from_row!(developer_app::Model {
    id,
    account_id,
    client_id,
    name,
    description,
    redirect_uris,
    scopes,
    confidential,
    secret_hash,
    secret_rotated_at,
    created_by,
    created_at,
    updated_at,
    disabled_at,
});

/// Every row of `select` (which selects the entity's own columns, in order, and maybe more
/// after them).
pub async fn all<E, C>(conn: &C, select: Select<E>) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: FromRow,
    C: ConnectionTrait,
{
    conn.query_all_raw(select.build(conn.get_database_backend()))
        .await?
        .iter()
        .map(E::Model::from_row)
        .collect()
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, Iterable};

    use super::*;

    fn columns<E: EntityTrait>() -> Vec<String> {
        E::Column::iter()
            .map(|c| sea_orm::IdenStatic::as_str(&c).to_owned())
            .collect()
    }

    fn fields<M: FromRow>() -> Vec<String> {
        M::FIELDS.iter().map(|f| (*f).to_owned()).collect()
    }

    #[test]
    fn each_model_is_read_in_its_entitys_column_order() {
        assert_eq!(fields::<team::Model>(), columns::<team::Entity>());
        assert_eq!(fields::<portal::Model>(), columns::<portal::Entity>());
        assert_eq!(fields::<rep::Model>(), columns::<rep::Entity>());
        assert_eq!(fields::<manager::Model>(), columns::<manager::Entity>());
        assert_eq!(
            fields::<audit_event::Model>(),
            columns::<audit_event::Entity>()
        );
        assert_eq!(
            fields::<developer_app::Model>(),
            columns::<developer_app::Entity>()
        );
    }
}
