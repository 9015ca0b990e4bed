//! What the pages carry between requests without server-side state (any replica may answer
//! the next request): the CSRF token and the consent ticket, both MACed with a key shared
//! through the database.
//!
//! - CSRF (double submit, signed): a random cookie `ac_oauth_csrf` (HttpOnly, SameSite=Lax)
//!   and, in every form, `csrf_token` = HMAC(key, cookie). A form posted without the matching
//!   cookie is refused, and a cross-site POST carries no cookie. (The sign-in page shows the
//!   token of whatever well-formed cookie it is sent, so the MAC binds the token to the cookie
//!   rather than hiding it; the password, and PKCE on the app's side, do the rest.)
//! - The consent ticket: who signed in, for which request, until when, bound to the CSRF
//!   cookie. It is what the consent form posts back; the password is never asked twice.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

pub const CSRF_COOKIE: &str = "ac_oauth_csrf";

/// The MAC key of the pages. `Debug` never shows it.
#[derive(Clone)]
pub struct PageKey(std::sync::Arc<Vec<u8>>);

impl std::fmt::Debug for PageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageKey(<redacted>)")
    }
}

impl PageKey {
    pub fn new(secret: Vec<u8>) -> Self {
        PageKey(std::sync::Arc::new(secret))
    }

    fn mac(&self, purpose: &str, data: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable_key());
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac
    }

    fn sign(&self, purpose: &str, data: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(purpose, data).finalize().into_bytes())
    }

    fn verify(&self, purpose: &str, data: &[u8], tag: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(tag)
            .is_ok_and(|tag| self.mac(purpose, data).verify_slice(&tag).is_ok())
    }

    /// The `csrf_token` that goes with a CSRF cookie value.
    pub fn csrf_token(&self, cookie: &str) -> String {
        self.sign("csrf", cookie.as_bytes())
    }

    /// Whether a posted `csrf_token` matches the cookie (compared in constant time).
    pub fn csrf_matches(&self, cookie: Option<&str>, token: Option<&str>) -> bool {
        match (cookie, token) {
            (Some(cookie), Some(token)) if is_cookie_value(cookie) => {
                self.verify("csrf", cookie.as_bytes(), token)
            }
            _ => false,
        }
    }

    /// A signed consent ticket.
    pub fn seal(&self, ticket: &Ticket) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(ticket).unwrap_or_default());
        let tag = self.sign("consent", body.as_bytes());
        format!("{body}.{tag}")
    }

    /// The ticket, if signed here, unexpired at `now`, and bound to this CSRF cookie.
    pub fn open(&self, sealed: &str, cookie: &str, now: DateTime<Utc>) -> Option<Ticket> {
        let (body, tag) = sealed.split_once('.')?;
        if !self.verify("consent", body.as_bytes(), tag) {
            return None;
        }
        let ticket: Ticket = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
        (ticket.exp > now.timestamp() && ticket.csrf == self.csrf_token(cookie)).then_some(ticket)
    }
}

/// A key of any length is accepted by HMAC; this cannot happen.
fn unreachable_key() -> Hmac<Sha256> {
    #[allow(clippy::expect_used)]
    <Hmac<Sha256> as Mac>::new_from_slice(b"k").expect("HMAC accepts any key length")
}

/// A fresh CSRF cookie value: 32 random bytes, base64url.
pub fn new_cookie_value() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether a cookie value has the shape this server issues (43 base64url characters).
pub fn is_cookie_value(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The consent ticket: the signed-in API manager and the validated request it consents to.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ticket {
    pub manager_id: Uuid,
    pub client_id: String,
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri` (else the app's only one is used).
    pub redirect_uri_given: bool,
    pub scopes: i64,
    pub state: Option<String>,
    pub code_challenge: String,
    pub exp: i64,
    /// The CSRF token of the browser it was issued to.
    pub csrf: String,
}
