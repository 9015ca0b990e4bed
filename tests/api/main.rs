//! The one integration-test binary (linking is the slow part on small machines). Each module
//! covers a domain; `harness` builds a real server on a fresh database per test.
//!
//! SQLite by default; set `TEST_DATABASE_URL=postgres://…` to run the same suite on
//! PostgreSQL (each test gets its own new database in that cluster).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

mod account;
mod app_tokens;
mod audit_actor;
mod authz;
mod cli;
mod concurrency;
mod cors;
mod graphiql;
mod graphql_http;
mod health;
mod input;
mod introspection;
mod logs;
mod mail;
mod metrics;
mod oauth;
mod organization;
mod paging;
mod relay;
mod rep_overrides;
mod reps;
mod schema;
mod signin;
mod sso;
mod sso_outbound;
mod throttling;
mod tls;
mod traces;
