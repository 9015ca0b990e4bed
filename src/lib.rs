//! admin-center: the management center of a remote-support product, as a GraphQL API server.
//!
//! `main.rs` only parses the command line; everything it runs lives here so the tests build the
//! very same server (see [`http::server`]).

pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod oauth;
pub mod service;
pub mod sso;
pub mod state;
pub mod telemetry;
