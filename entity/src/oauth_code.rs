//! An authorization code: stored hashed, single use, bound to its client (through the
//! authorization), redirect URI and PKCE challenge.

use sea_orm::entity::prelude::*;

use crate::SecretHash;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_codes")]
pub struct Model {
    /// SHA-256 (hex) of the code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub code_hash: SecretHash,
    pub authorization_id: Uuid,
    /// The redirect URI the authorization request named; `None` if it named none (then the
    /// token request may name none either, RFC 6749 §4.1.3).
    pub redirect_uri: Option<String>,
    /// The S256 challenge (base64url of SHA-256 of the verifier).
    pub code_challenge: String,
    pub scopes: i64,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    /// The token family the redemption started: revoked if the code is presented again.
    pub family_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
