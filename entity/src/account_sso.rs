//! The single sign-on settings of an account (one row, absent until first configured).

use sea_orm::entity::prelude::*;

use crate::Sealed;

/// The kind of upstream identity provider. Only OpenID Connect today; SAML would add a value
/// (and `src/sso/` an implementation of its trait).
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SsoKind {
    #[sea_orm(string_value = "OIDC")]
    Oidc,
}

/// What in the ID token names the manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum IdentityClaim {
    /// `email`, only with `email_verified: true`; matched case-insensitively.
    #[sea_orm(string_value = "EMAIL")]
    Email,
    /// `sub`, linked to a manager once.
    #[sea_orm(string_value = "SUB")]
    Sub,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_sso")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: Uuid,
    pub kind: SsoKind,
    /// The issuer URL exactly as configured (compared exactly with the `iss` of ID tokens).
    pub issuer: String,
    pub client_id: String,
    /// The client secret, encrypted (see `src/sso/sealed.rs`); `None` until one is entered.
    pub client_secret: Option<Sealed>,
    pub identity_claim: IdentityClaim,
    pub enabled: bool,
    pub enforced: bool,
    /// A JSON array of the `return_to` prefixes sign-ins may come back to.
    pub return_to_allow_list: String,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
