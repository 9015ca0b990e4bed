//! sea-orm entities of admin-center: storage shapes only. No GraphQL derives live here, so a
//! secret column can never become a GraphQL field by accident.

pub mod account;
pub mod audit_event;
pub mod manager;
pub mod one_time_token;
pub mod secret;
pub mod session;
pub mod signing_key;
pub mod throttle_bucket;

pub use secret::SecretHash;
