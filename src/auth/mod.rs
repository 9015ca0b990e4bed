//! Who is calling. The HTTP layer runs the [`plugin::AuthChain`] on every request and puts the
//! resulting [`Principal`] (and the [`ClientInfo`]) into the GraphQL request data; resolvers and
//! services read only those, never headers.

pub mod keys;
pub mod password;
pub mod plugin;
pub mod session_token;
pub mod throttle;

use entity::manager::ManagerKind;
pub use entity::session::Restriction;
use uuid::Uuid;

use crate::error::AppError;

/// A signed-in manager acting on its account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub manager_id: Uuid,
    pub account_id: Uuid,
    pub kind: ManagerKind,
    pub login: String,
    /// The sign-in session the request came with (`None` for principals made by tools).
    pub session_id: Option<Uuid>,
    pub restriction: Restriction,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Principal {
    #[default]
    Anonymous,
    Manager(Actor),
}

impl Principal {
    /// The signed-in manager with an unrestricted session. Every operation goes through this
    /// but `me` and what lifts a restriction, so a restricted session can do nothing else.
    pub fn actor(&self) -> Result<&Actor, AppError> {
        let actor = self.signed_in()?;
        match actor.restriction {
            Restriction::Unrestricted => Ok(actor),
            Restriction::PasswordChange => Err(AppError::PasswordChangeRequired),
            Restriction::EmailValidation => Err(AppError::EmailValidationRequired),
        }
    }

    /// The signed-in manager, for an operation that lifts `restriction`: allowed unrestricted
    /// or under that restriction, refused under the other one.
    pub fn lifting(&self, restriction: Restriction) -> Result<&Actor, AppError> {
        let actor = self.signed_in()?;
        if actor.restriction == restriction {
            Ok(actor)
        } else {
            self.actor()
        }
    }

    /// The signed-in manager, restricted or not: for `me` and `logout`.
    pub fn signed_in(&self) -> Result<&Actor, AppError> {
        match self {
            Principal::Anonymous => Err(AppError::Unauthenticated),
            Principal::Manager(actor) => Ok(actor),
        }
    }
}

/// Where the request came from: for throttling and the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub address: Option<String>,
}
