//! A rep (support agent): in exactly one team, working in zero or more portals.

use sea_orm::entity::prelude::*;

use crate::SecretHash;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub team_id: Uuid,
    pub login: String,
    #[sea_orm(unique)]
    pub login_key: String,
    pub name: String,
    pub email: String,
    pub screen_name: String,
    pub password_hash: SecretHash,
    /// Which rep features this rep overrides (bit mask).
    pub feature_override_mask: i64,
    /// Their values (bit mask, only bits in the mask count).
    pub feature_override_values: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
