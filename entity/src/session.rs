//! A manager's sign-in session. Tokens name the row; a revoked row ends the session.

use sea_orm::entity::prelude::*;

/// What a session may do. A restricted session may read `me` and lift its restriction, nothing
/// else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Restriction {
    #[sea_orm(string_value = "NONE")]
    Unrestricted,
    #[sea_orm(string_value = "PASSWORD_CHANGE")]
    PasswordChange,
    #[sea_orm(string_value = "EMAIL_VALIDATION")]
    EmailValidation,
}

/// How a session was opened. A session from a single sign-on stays one when it is replaced
/// (validating the e-mail address), so password rules never come back to it; enforcing single
/// sign-on ends password sessions only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SignInMethod {
    #[sea_orm(string_value = "PASSWORD")]
    Password,
    #[sea_orm(string_value = "SSO")]
    Sso,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub manager_id: Uuid,
    pub restriction: Restriction,
    pub method: SignInMethod,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub client_address: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::manager::Entity",
        from = "Column::ManagerId",
        to = "super::manager::Column::Id",
        on_delete = "Cascade"
    )]
    Manager,
}

impl Related<super::manager::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Manager.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
