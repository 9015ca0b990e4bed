//! A signing key shared by every replica, one per purpose (e.g. `session`).

use sea_orm::entity::prelude::*;

use crate::SecretHash;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub purpose: String,
    pub algorithm: String,
    /// Key material (base64). Not a hash, but just as secret: `SecretHash` keeps it out of
    /// `Debug`.
    pub secret: SecretHash,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
