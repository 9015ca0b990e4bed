//! Who is calling: the `Principal` that the HTTP layer puts into every GraphQL request.
//! Resolvers and services read only the principal, never headers.

pub mod password;

use entity::manager::ManagerKind;
use uuid::Uuid;

use crate::error::AppError;

/// A signed-in manager acting on its account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub manager_id: Uuid,
    pub account_id: Uuid,
    pub kind: ManagerKind,
    pub login: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Principal {
    #[default]
    Anonymous,
    Manager(Actor),
}

impl Principal {
    /// The signed-in manager, or `UNAUTHENTICATED`.
    pub fn actor(&self) -> Result<&Actor, AppError> {
        match self {
            Principal::Anonymous => Err(AppError::Unauthenticated),
            Principal::Manager(actor) => Ok(actor),
        }
    }
}
