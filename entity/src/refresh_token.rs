//! A refresh token, stored hashed. Used once: its use issues the next one of its family.

use sea_orm::entity::prelude::*;

use crate::SecretHash;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// SHA-256 (hex) of the token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: SecretHash,
    pub family_id: Uuid,
    pub created_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
