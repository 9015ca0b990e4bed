//! An API manager's authorization of a developer app: at most one active per manager × app.
//! Revoking it ends every token issued under it on the next request.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_authorizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub manager_id: Uuid,
    pub app_id: Uuid,
    /// The scopes granted (bit mask, see `auth::scope`).
    pub scopes: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::developer_app::Entity",
        from = "Column::AppId",
        to = "super::developer_app::Column::Id",
        on_delete = "Cascade"
    )]
    App,
}

impl Related<super::developer_app::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::App.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
