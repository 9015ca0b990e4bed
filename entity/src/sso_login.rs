//! A pending single sign-on: what `/sso/{account}/start` sent the browser away with, looked up
//! by the `state` the identity provider sends back. Single use (`used_at`), 10 minutes.

use sea_orm::entity::prelude::*;

use crate::SecretHash;

/// What the sign-in is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Purpose {
    /// Sign a manager in.
    #[sea_orm(string_value = "SIGN_IN")]
    SignIn,
    /// Link the identity to `link_manager_id` (a manager signed in already).
    #[sea_orm(string_value = "LINK")]
    Link,
}

/// `Debug` redacts the nonce and the PKCE verifier (see [`SecretHash`]).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_logins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub account_id: Uuid,
    /// SHA-256 (hex) of `state`.
    #[sea_orm(unique)]
    pub state_hash: SecretHash,
    /// SHA-256 (hex) of the browser-binding cookie.
    pub binding_hash: SecretHash,
    /// Kept as sent: the ID token must carry it back. Useless without the browser's `state`
    /// and the authorization code, and gone after 10 minutes or one use.
    pub nonce: SecretHash,
    /// Kept as generated: the token request must send it (PKCE).
    pub pkce_verifier: SecretHash,
    pub purpose: Purpose,
    /// The provider and client the sign-in was started for: a callback after either changed
    /// is refused (`None` only in rows from before they were stored).
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// The front end's PKCE challenge for the completion code: base64url(SHA-256(verifier)),
    /// required for sign-ins (`None` for links, which the manager's session confirms).
    pub client_challenge: Option<String>,
    pub link_manager_id: Option<Uuid>,
    /// Already checked against the account's allow-list.
    pub return_to: String,
    pub client_address: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
