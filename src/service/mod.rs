//! The rules and the storage work, one module per domain. Nothing here imports async-graphql:
//! the GraphQL layer calls these functions with the caller's principal.

pub mod account;
pub mod audit;
pub mod features;
pub mod manager;
pub mod session;
pub mod validate;
