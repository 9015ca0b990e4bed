//! A key that signs OAuth access tokens (EdDSA). The newest unretired key signs; retired
//! keys stay published in the JWKS until the tokens they signed have expired.

use sea_orm::entity::prelude::*;

use crate::SecretHash;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub algorithm: String,
    /// The private key (base64 of the Ed25519 seed). Not a hash, but as secret: `SecretHash`
    /// keeps it out of `Debug`.
    pub private_key: SecretHash,
    /// The public key (base64url, as the JWK `x`).
    pub public_key: String,
    pub created_at: DateTimeUtc,
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
