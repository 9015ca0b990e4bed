//! Claims a login for a manager or a rep: the primary key makes logins unique across both.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "logins")]
pub struct Model {
    /// The lower-cased login: one row per login across managers and reps.
    #[sea_orm(primary_key, auto_increment = false)]
    pub login_key: String,
    /// `MANAGER` or `REP`.
    pub owner_kind: String,
    pub owner_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
