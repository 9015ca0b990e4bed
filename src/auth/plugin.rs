//! The auth plugin chain. Each plugin looks at a request and either recognizes it (a
//! principal, or a rejection of credentials it owns) or passes. Adding a way to sign in (OAuth
//! access tokens, upstream single sign-on) is one new plugin: resolvers do not change.

use std::sync::Arc;

use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use futures_util::future::BoxFuture;

use super::Principal;
use crate::error::AppError;

/// What a plugin sees of a request. `Debug` shows header names only: values carry tokens.
pub struct AuthRequest<'a> {
    pub headers: &'a HeaderMap,
    pub client_address: Option<&'a str>,
}

impl std::fmt::Debug for AuthRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRequest")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("client_address", &self.client_address)
            .finish()
    }
}

impl AuthRequest<'_> {
    /// The token of an `Authorization: Bearer …` header (scheme case-insensitive, RFC 6750).
    pub fn bearer(&self) -> Option<&str> {
        let value = self.headers.get(AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }
}

#[derive(Debug)]
pub enum Outcome {
    /// Not this plugin's kind of credentials.
    Pass,
    Accept(Principal),
    /// This plugin's kind of credentials, but invalid, expired or revoked.
    Reject,
}

/// One way in. A plugin is built with what it needs (a database handle, keys, the clock) and
/// sees nothing else of the server.
pub trait AuthPlugin: Send + Sync {
    fn name(&self) -> &'static str;
    fn authenticate<'a>(
        &'a self,
        request: &'a AuthRequest<'a>,
    ) -> BoxFuture<'a, Result<Outcome, AppError>>;
}

/// Why a request was not let in: answered with 401 and `WWW-Authenticate`.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejection {
    InvalidToken,
}

#[derive(Clone)]
pub struct AuthChain(Arc<Vec<Box<dyn AuthPlugin>>>);

impl std::fmt::Debug for AuthChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|p| p.name()))
            .finish()
    }
}

impl AuthChain {
    pub fn new(plugins: Vec<Box<dyn AuthPlugin>>) -> Self {
        AuthChain(Arc::new(plugins))
    }

    /// Runs the plugins in order. No credentials at all is anonymous; a bearer token that no
    /// plugin accepts is rejected rather than silently treated as anonymous.
    pub async fn authenticate(
        &self,
        request: &AuthRequest<'_>,
    ) -> Result<Result<Principal, Rejection>, AppError> {
        for plugin in self.0.iter() {
            match plugin.authenticate(request).await? {
                Outcome::Pass => continue,
                Outcome::Accept(principal) => return Ok(Ok(principal)),
                Outcome::Reject => return Ok(Err(Rejection::InvalidToken)),
            }
        }
        if request.bearer().is_some() {
            Ok(Err(Rejection::InvalidToken))
        } else {
            Ok(Ok(Principal::Anonymous))
        }
    }
}
