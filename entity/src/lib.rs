//! sea-orm entities of admin-center: storage shapes only. No GraphQL derives live here, so a
//! secret column can never become a GraphQL field by accident.

pub mod account;
pub mod audit_event;
pub mod manager;
pub mod secret;
pub mod session;

pub use secret::SecretHash;
