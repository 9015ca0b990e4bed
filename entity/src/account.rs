//! A customer company. Every other row belongs to exactly one account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Set by the platform operator only (CLI), never by the account itself.
    pub api_managers_allowed: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::manager::Entity")]
    Managers,
}

impl Related<super::manager::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Managers.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
