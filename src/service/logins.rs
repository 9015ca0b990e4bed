//! Logins are unique across managers and reps, ignoring case: every login is claimed in the
//! `logins` table, whose primary key makes a second claim fail even under concurrency.

use entity::login;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, SqlErr};
use uuid::Uuid;

use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Manager,
    Rep,
}

impl Owner {
    fn as_str(self) -> &'static str {
        match self {
            Owner::Manager => "MANAGER",
            Owner::Rep => "REP",
        }
    }
}

/// Claims `login` for `owner_id`, or answers `CONFLICT`. The login must have passed
/// `validate::login`, so its key fits the column.
pub async fn claim(
    conn: &impl ConnectionTrait,
    login: &str,
    owner: Owner,
    owner_id: Uuid,
) -> Result<(), AppError> {
    let inserted = login::Entity::insert(login::ActiveModel {
        login_key: Set(entity::manager::login_key(login)),
        owner_kind: Set(owner.as_str().to_owned()),
        owner_id: Set(owner_id),
    })
    .exec_without_returning(conn)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(err) => Err(match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                // Not quoted back: a "login" may be a password pasted into the wrong field.
                AppError::Conflict("login is already taken".to_owned())
            }
            _ => err.into(),
        }),
    }
}

/// Gives up the login of `owner_id` (on delete, or before claiming a new one).
pub async fn release(conn: &impl ConnectionTrait, owner_id: Uuid) -> Result<(), AppError> {
    login::Entity::delete_many()
        .filter(login::Column::OwnerId.eq(owner_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Moves `owner_id` to a new login (a rename). Same login, other case: just stored anew.
pub async fn rename(
    conn: &impl ConnectionTrait,
    new_login: &str,
    owner: Owner,
    owner_id: Uuid,
) -> Result<(), AppError> {
    release(conn, owner_id).await?;
    claim(conn, new_login, owner, owner_id).await
}
