//! OAuth 2 for developer apps (SPEC 6, issue 8), driven over real HTTP as a third-party app,
//! a browser and the operator would: each security rule of the issue has a test here that
//! fails if the rule is removed.

mod apps;
mod browser;
mod cli;
mod endpoints;
mod flow;
mod pages;
mod replicas;
mod revoke;
mod scopes;
mod support;
mod token;
