//! The rules and the storage work, one module per domain. Nothing here imports async-graphql:
//! the GraphQL layer calls these functions with the caller's principal.

pub mod access;
pub mod account;
pub mod audit;
pub mod authorization;
pub mod batch;
pub mod change;
pub mod developer_app;
pub mod features;
pub mod grant;
pub mod links;
pub mod logins;
pub mod manager;
pub mod paging;
pub mod portal;
pub mod rep;
pub mod rows;
pub mod session;
pub mod sso;
pub mod team;
pub mod validate;
