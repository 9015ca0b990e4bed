//! A portal or sub-portal a team manager is assigned to.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "manager_portals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub manager_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub portal_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
