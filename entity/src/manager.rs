//! Managers of every kind, with their login settings and password hash.

use sea_orm::entity::prelude::*;

use crate::SecretHash;

/// What a manager is. Stored as its SPEC name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ManagerKind {
    #[sea_orm(string_value = "COMPANY")]
    Company,
    #[sea_orm(string_value = "TEAM")]
    Team,
    #[sea_orm(string_value = "API")]
    Api,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "managers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    pub kind: ManagerKind,
    /// The login as the person typed it.
    pub login: String,
    /// The lower-cased login: unique across the installation.
    #[sea_orm(unique)]
    pub login_key: String,
    pub name: String,
    pub email: String,
    pub email_validated: bool,
    pub password_hash: SecretHash,
    pub force_password_change: bool,
    pub user_initiated_password_reset: bool,
    pub force_validation_prompt: bool,
    /// A company manager that keeps its password when the account enforces single sign-on
    /// (set by company managers; the server keeps at least one while SSO is enforced).
    pub sso_break_glass: bool,
    /// Team-level rights (SPEC 4.1) as a bit mask; meaningful for team managers.
    pub rights: i64,
    /// Rep features this manager may switch (SPEC 4.2) as a bit mask.
    pub rep_controls: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::AccountId",
        to = "super::account::Column::Id",
        on_delete = "Cascade"
    )]
    Account,
    #[sea_orm(has_many = "super::session::Entity")]
    Sessions,
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// The key that makes logins unique regardless of case: computed here, never by the
/// database, so SQLite and PostgreSQL agree. Lower-casing can lengthen a login (`İ` becomes
/// two characters), so input checks bound the key as well as the login.
pub fn login_key(login: &str) -> String {
    login.trim().to_lowercase()
}
