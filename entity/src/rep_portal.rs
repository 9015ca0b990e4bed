//! A portal or sub-portal a rep works in.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rep_portals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub rep_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub portal_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
