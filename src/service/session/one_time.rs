//! One-time tokens (password-reset tokens, e-mail validation codes): stored as a hash, good
//! once and for [`ONE_TIME_TOKEN_TTL`].

use chrono::{DateTime, Duration, Utc};
use entity::{
    SecretHash,
    one_time_token::{self, Purpose},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use crate::error::AppError;

/// Password-reset tokens and e-mail validation codes are good for this long.
pub const ONE_TIME_TOKEN_TTL: Duration = Duration::minutes(30);

/// Stores the hash of a new one-time token of `purpose` for a manager, good for
/// [`ONE_TIME_TOKEN_TTL`] from `now`.
pub async fn insert_one_time_token(
    conn: &impl ConnectionTrait,
    manager_id: Uuid,
    purpose: Purpose,
    token_hash: SecretHash,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    one_time_token::Entity::insert(one_time_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        manager_id: Set(manager_id),
        purpose: Set(purpose),
        token_hash: Set(token_hash),
        created_at: Set(now),
        expires_at: Set(now + ONE_TIME_TOKEN_TTL),
        used_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Marks a token used, once: of two concurrent uses, exactly one gets `true`.
pub async fn consume_one_time_token(
    conn: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let result = one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, Expr::value(now))
        .filter(one_time_token::Column::Id.eq(id))
        .filter(one_time_token::Column::UsedAt.is_null())
        .filter(one_time_token::Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks every unused token of `purpose` of a manager as used.
pub async fn spend_unused_tokens(
    conn: &impl ConnectionTrait,
    manager_id: Uuid,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, Expr::value(now))
        .filter(one_time_token::Column::ManagerId.eq(manager_id))
        .filter(one_time_token::Column::Purpose.eq(purpose))
        .filter(one_time_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}
