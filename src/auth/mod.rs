//! Who is calling. The HTTP layer runs the [`plugin::AuthChain`] on every request and puts the
//! resulting [`Principal`] (and the [`ClientInfo`]) into the GraphQL request data; resolvers and
//! services read only those, never headers.

pub mod app_token;
pub mod keys;
pub mod oauth_keys;
pub mod password;
pub mod plugin;
pub mod scope;
pub mod session_token;
pub mod throttle;

use entity::manager::ManagerKind;
pub use entity::session::Restriction;
use uuid::Uuid;

use self::scope::{ApiScope, ScopeSet};
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
    /// Set when a developer app acts for this (API) manager with an access token.
    pub app: Option<AppGrant>,
    /// The manager's row as the credential check read it for this request, so `me` needs no
    /// second read. Dropped when a mutation runs (the rest of the request reads afresh).
    pub row: Option<ManagerRow>,
}

/// A manager's row carried by an [`Actor`]. Its `Debug` names the id only: the row holds the
/// password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct ManagerRow(pub std::sync::Arc<entity::manager::Model>);

impl std::fmt::Debug for ManagerRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ManagerRow").field(&self.0.id).finish()
    }
}

/// What an app token carries: the authorization it was issued under and the scopes it may
/// use (the token's scopes, narrowed by the authorization's and the app's current ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppGrant {
    pub authorization_id: Uuid,
    pub app_id: Uuid,
    pub client_id: String,
    pub scopes: ScopeSet,
}

impl Actor {
    /// Refuses an app token without `scope` (`FORBIDDEN`, naming it). A manager's own
    /// session holds every scope: its permissions alone decide.
    pub fn require_scope(&self, scope: ApiScope) -> Result<(), AppError> {
        match &self.app {
            Some(grant) if !grant.scopes.has(scope) => Err(AppError::MissingScope(scope)),
            _ => Ok(()),
        }
    }

    /// Refuses app tokens outright: manager administration, developer apps, authorizations
    /// and the audit log are for people in the management center (SPEC 6).
    pub fn not_app(&self) -> Result<(), AppError> {
        match self.app {
            Some(_) => Err(AppError::AppTokenRefused),
            None => Ok(()),
        }
    }
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

    /// The same principal without the row its credential check read ([`Actor::row`]).
    pub fn without_row(&self) -> Principal {
        match self {
            Principal::Anonymous => Principal::Anonymous,
            Principal::Manager(actor) => Principal::Manager(Actor {
                row: None,
                ..actor.clone()
            }),
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
