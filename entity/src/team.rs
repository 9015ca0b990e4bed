//! A team or sub-team.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    /// `None` for a top-level team, the parent for a sub-team.
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub portal_id: Option<Uuid>,
    /// Most reps the team may hold; `None` for no cap.
    pub available_logins: Option<i32>,
    /// The rights (bit mask) a team manager may use on this team.
    pub manager_features: i64,
    /// Rep features (bit mask) of its reps, unless a rep overrides them.
    pub rep_defaults: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
