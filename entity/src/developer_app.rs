//! A developer app: an OAuth 2 client of an account, or platform-wide (`account_id` NULL).

use sea_orm::entity::prelude::*;

use crate::SecretHash;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "developer_apps")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `None`: platform-wide, registered by the operator.
    pub account_id: Option<Uuid>,
    #[sea_orm(unique)]
    pub client_id: String,
    pub name: String,
    pub description: String,
    /// A JSON array of the registered redirect URIs, compared exactly.
    pub redirect_uris: String,
    /// The scopes the app may ask for (bit mask, see `auth::scope`).
    pub scopes: i64,
    pub confidential: bool,
    /// SHA-256 (hex) of the client secret; `None` for a public client.
    pub secret_hash: Option<SecretHash>,
    pub secret_rotated_at: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
