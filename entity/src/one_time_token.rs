//! A single-use secret mailed to a manager (password reset, e-mail validation).

use sea_orm::entity::prelude::*;

use crate::SecretHash;

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Purpose {
    #[sea_orm(string_value = "PASSWORD_RESET")]
    PasswordReset,
    #[sea_orm(string_value = "EMAIL_VALIDATION")]
    EmailValidation,
    /// A ticket that lets `/sso/{account}/start` link the identity a manager signs in with at
    /// the account's provider to that manager (`startSsoLink`).
    #[sea_orm(string_value = "SSO_LINK")]
    SsoLink,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "one_time_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub manager_id: Uuid,
    pub purpose: Purpose,
    /// SHA-256 (hex) of the secret.
    #[sea_orm(unique)]
    pub token_hash: SecretHash,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
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
