//! Managers: reading them within the caller's account.

use entity::manager;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{auth::Actor, error::AppError};

/// The signed-in manager's own row.
pub async fn me(db: &DatabaseConnection, actor: &Actor) -> Result<manager::Model, AppError> {
    manager::Entity::find_by_id(actor.manager_id)
        .filter(manager::Column::AccountId.eq(actor.account_id))
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)
}
