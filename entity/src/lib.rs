//! sea-orm entities of admin-center: storage shapes only. No GraphQL derives live here, so a
//! secret column can never become a GraphQL field by accident.

pub mod account;
pub mod account_sso;
pub mod app_authorization;
pub mod audit_event;
pub mod developer_app;
pub mod login;
pub mod manager;
pub mod manager_portal;
pub mod manager_sso_identity;
pub mod manager_team;
pub mod oauth_code;
pub mod oauth_key;
pub mod one_time_token;
pub mod portal;
pub mod refresh_token;
pub mod rep;
pub mod rep_portal;
pub mod secret;
pub mod session;
pub mod signing_key;
pub mod sso_completion_code;
pub mod sso_login;
pub mod team;
pub mod team_subportal;
pub mod throttle_bucket;
pub mod token_family;

pub use secret::{Sealed, SecretHash};
