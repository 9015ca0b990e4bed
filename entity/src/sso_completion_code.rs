//! The one-time code a finished single sign-on hands the front end (in its `return_to`), which
//! `completeSsoLogin(code)` exchanges for a session (or, for a link, `completeSsoLink(code)`
//! turns into a linked identity). Only its SHA-256 is stored; single use, 60 seconds.

use sea_orm::entity::prelude::*;

use crate::SecretHash;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_completion_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code_hash: SecretHash,
    pub sso_login_id: Uuid,
    pub manager_id: Uuid,
    /// The identity provider that vouched for the manager.
    pub issuer: String,
    /// `None`: a sign-in code (`completeSsoLogin`). Set: a link code (`completeSsoLink`), the
    /// `sub` to link to the manager once the manager's own session confirms it.
    pub subject: Option<String>,
    /// Whether the provider vouched for the manager's e-mail address.
    pub email_verified: bool,
    /// Copied from the pending sign-in: `completeSsoLogin` needs the verifier it hashes.
    pub client_challenge: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
