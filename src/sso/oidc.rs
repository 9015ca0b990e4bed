//! OpenID Connect with the `openidconnect` crate: discovery (cached per issuer for an hour, a
//! failure for 30 seconds, one request at a time per issuer; its key set refetched when an ID
//! token names an unknown `kid`, at most once a minute per issuer), the authorization URL
//! (code flow, PKCE S256, `state`, `nonce`), and the callback work: the code exchanged at
//! the token endpoint with the PKCE verifier, the ID token's signature, `iss`, `aud` (no
//! other audience trusted), `azp` (the crate leaves it to us), `exp` (against the server's
//! [`Clock`](crate::clock::Clock), so tests move time) and `nonce` checked.
//!
//! Every failure has a [`Reason`]: a stable word for the log, the audit entry and the
//! operator. What reached the provider or came back is logged, never shown to the browser.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use chrono::{DateTime, Duration, Utc};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError,
    TokenResponse,
    core::{
        CoreAuthenticationFlow, CoreClient, CoreIdTokenVerifier, CoreJsonWebKeySet,
        CoreJwsSigningAlgorithm, CoreProviderMetadata,
    },
};
use tokio::sync::RwLock;

use super::http_client::{BoundedHttp, HttpError};
use crate::clock::SharedClock;

/// How long discovery is trusted before it is fetched again.
const METADATA_TTL: Duration = Duration::hours(1);
/// The least time between two key-set fetches of one issuer: an ID token with a made-up
/// `kid` cannot make the server hammer the provider.
const JWKS_REFETCH_COOLDOWN: Duration = Duration::minutes(1);
/// How long a failed discovery is remembered: while a provider is down, starts answer at
/// once instead of each sending a request (and holding a task for its timeout).
const FAILURE_TTL: Duration = Duration::seconds(30);
/// The most issuers cached at once (expired entries go first, then the oldest).
const MAX_CACHED_ISSUERS: usize = 1000;

/// Why a single sign-on failed: the word the log, the audit entry and the page's reference
/// carry. Stable: operators grep for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// SSO is not set up or not enabled for the account.
    NotEnabled,
    /// `return_to` is not in the account's allow-list.
    ReturnTo,
    /// The link ticket of `startSsoLink` is unknown, used, expired or of another account.
    Link,
    /// No pending sign-in for this `state` (unknown, used, or expired).
    State,
    /// The callback came to another browser than the one that started.
    Binding,
    /// The provider answered with an error (the user cancelled, or was refused).
    ProviderError,
    /// The provider could not be reached, or answered something unusable.
    Unreachable,
    /// A request to the provider was refused before it was sent: its address is not public
    /// (loopback, private, link-local…) or it is plain `http`, and the operator has not set
    /// `SSO_ALLOW_PRIVATE_NETWORKS`.
    Address,
    /// The issuer's discovery document is invalid (or names another issuer).
    Discovery,
    /// The token endpoint refused the code.
    TokenEndpoint,
    /// The token answer had no ID token.
    NoIdToken,
    /// The stored client secret cannot be opened (the signing key changed).
    Secret,
    Signature,
    Issuer,
    Audience,
    Expired,
    Nonce,
    /// Any other claim problem.
    Claims,
    /// `email` missing or not verified by the provider (claim `EMAIL`).
    UnverifiedEmail,
    /// No manager of the account matches the identity.
    NoManager,
    /// Several managers of the account have this e-mail address.
    Ambiguous,
    /// `/start` without the front end's `code_challenge` (or not a base64url SHA-256).
    Challenge,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NotEnabled => "not_enabled",
            Reason::ReturnTo => "return_to",
            Reason::Link => "link",
            Reason::State => "state",
            Reason::Binding => "binding",
            Reason::ProviderError => "provider_error",
            Reason::Unreachable => "unreachable",
            Reason::Address => "private_address",
            Reason::Discovery => "discovery",
            Reason::TokenEndpoint => "token_endpoint",
            Reason::NoIdToken => "no_id_token",
            Reason::Secret => "secret",
            Reason::Signature => "signature",
            Reason::Issuer => "issuer",
            Reason::Audience => "audience",
            Reason::Expired => "expired",
            Reason::Nonce => "nonce",
            Reason::Claims => "claims",
            Reason::UnverifiedEmail => "unverified_email",
            Reason::NoManager => "no_manager",
            Reason::Ambiguous => "ambiguous",
            Reason::Challenge => "code_challenge",
        }
    }

    /// Failures of the provider or of the settings, not of the person signing in: they do
    /// not count against the client's address.
    pub fn is_provider_side(self) -> bool {
        matches!(
            self,
            Reason::Unreachable
                | Reason::Address
                | Reason::Discovery
                | Reason::TokenEndpoint
                | Reason::Secret
        )
    }
}

/// A failure with its reason and, for the log only, the detail.
#[derive(Clone, Debug)]
pub struct Failure {
    pub reason: Reason,
    pub detail: String,
}

impl Failure {
    pub fn new(reason: Reason, detail: impl std::fmt::Display) -> Failure {
        Failure {
            reason,
            detail: detail.to_string(),
        }
    }
}

/// A provider's discovery document and keys, as fetched at some time.
struct Discovered {
    metadata: CoreProviderMetadata,
    fetched_at: DateTime<Utc>,
    jwks_fetched_at: DateTime<Utc>,
}

/// What the cache holds for an issuer.
enum Cached {
    Found(Arc<Discovered>),
    Failed { failure: Failure, at: DateTime<Utc> },
}

impl Cached {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Cached::Found(found) => found.fetched_at,
            Cached::Failed { at, .. } => *at,
        }
    }

    fn live(&self, now: DateTime<Utc>) -> bool {
        match self {
            Cached::Found(found) => now - found.fetched_at < METADATA_TTL,
            Cached::Failed { at, .. } => now - *at < FAILURE_TTL,
        }
    }
}

/// One lock per issuer being fetched, so concurrent sign-ins make one request.
type Flights = Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>;

/// The fetch of one issuer, held while it runs; the issuer's lock leaves the map with the
/// last holder.
struct Flight {
    flights: Flights,
    issuer: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Flight {
    async fn take(flights: &Flights, issuer: &str) -> Flight {
        let lock = flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(issuer.to_owned())
            .or_default()
            .clone();
        Flight {
            flights: flights.clone(),
            issuer: issuer.to_owned(),
            guard: Some(lock.lock_owned().await),
        }
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        self.guard = None;
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        // Clones are only made under this lock: one reference left is the map's own.
        if flights
            .get(&self.issuer)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            flights.remove(&self.issuer);
        }
    }
}

/// The relying party: one per process, shared by the requests (the cache is an
/// optimisation, not state: every replica fills its own).
#[derive(Clone)]
pub struct Oidc {
    http: BoundedHttp,
    clock: SharedClock,
    cache: Arc<RwLock<HashMap<String, Cached>>>,
    flights: Flights,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").finish_non_exhaustive()
    }
}

/// What `/start` keeps (in `sso_logins`) and where it sends the browser.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// What the provider vouched for.
#[derive(Debug)]
pub struct Identity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
}

/// The settings of one sign-in.
pub struct Provider<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
}

impl Oidc {
    /// `allow_private_networks`: `SSO_ALLOW_PRIVATE_NETWORKS` (see [`BoundedHttp`]).
    pub fn new(clock: SharedClock, allow_private_networks: bool) -> Result<Oidc, reqwest::Error> {
        Ok(Oidc {
            http: BoundedHttp::new(allow_private_networks)?,
            clock,
            cache: Arc::default(),
            flights: Arc::default(),
        })
    }

    /// The cached discovery of `issuer`, or its cached failure, while they last.
    async fn cached(&self, issuer: &str) -> Option<Result<Arc<Discovered>, Failure>> {
        let now = self.clock.now();
        match self.cache.read().await.get(issuer) {
            Some(Cached::Found(found)) if now - found.fetched_at < METADATA_TTL => {
                Some(Ok(found.clone()))
            }
            Some(Cached::Failed { failure, at }) if now - *at < FAILURE_TTL => {
                Some(Err(Failure::new(
                    failure.reason,
                    format!(
                        "{} (failed at {at}; remembered for {} s)",
                        failure.detail,
                        FAILURE_TTL.num_seconds()
                    ),
                )))
            }
            _ => None,
        }
    }

    /// Stores `entry`, dropping expired entries first (and the oldest when still full).
    async fn store(&self, issuer: &str, entry: Cached) {
        let now = self.clock.now();
        let mut cache = self.cache.write().await;
        cache.retain(|_, cached| cached.live(now));
        if cache.len() >= MAX_CACHED_ISSUERS && !cache.contains_key(issuer) {
            let oldest = cache
                .iter()
                .min_by_key(|(_, cached)| cached.at())
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                cache.remove(&oldest);
            }
        }
        cache.insert(issuer.to_owned(), entry);
    }

    async fn discover(&self, issuer: &str) -> Result<Arc<Discovered>, Failure> {
        if let Some(cached) = self.cached(issuer).await {
            return cached;
        }
        let _flight = Flight::take(&self.flights, issuer).await;
        // Whoever held the flight before may have filled the cache.
        if let Some(cached) = self.cached(issuer).await {
            return cached;
        }
        let now = self.clock.now();
        let fetched = self.fetch_metadata(issuer).await.map(|metadata| {
            Arc::new(Discovered {
                metadata,
                fetched_at: now,
                jwks_fetched_at: now,
            })
        });
        let entry = match &fetched {
            Ok(found) => Cached::Found(found.clone()),
            Err(failure) => Cached::Failed {
                failure: failure.clone(),
                at: now,
            },
        };
        self.store(issuer, entry).await;
        fetched
    }

    async fn fetch_metadata(&self, issuer: &str) -> Result<CoreProviderMetadata, Failure> {
        let url =
            IssuerUrl::new(issuer.to_owned()).map_err(|e| Failure::new(Reason::Discovery, e))?;
        CoreProviderMetadata::discover_async(url, &self.http)
            .await
            .map_err(|e| match e {
                openidconnect::DiscoveryError::Request(e) => request_failure(e),
                other => Failure::new(Reason::Discovery, other),
            })
    }

    /// Fetches the key set again, unless it was fetched within the cool-down (by this
    /// request or another: then the newer keys are answered). Only the entry `stale` came
    /// from is replaced: a discovery that landed meanwhile is kept.
    async fn refresh_jwks(
        &self,
        issuer: &str,
        stale: &Arc<Discovered>,
    ) -> Result<Option<Arc<Discovered>>, Failure> {
        let _flight = Flight::take(&self.flights, issuer).await;
        let now = self.clock.now();
        let current = match self.cache.read().await.get(issuer) {
            Some(Cached::Found(found)) if found.fetched_at >= stale.fetched_at => found.clone(),
            _ => stale.clone(),
        };
        if now - current.jwks_fetched_at < JWKS_REFETCH_COOLDOWN {
            let newer = current.fetched_at > stale.fetched_at
                || current.jwks_fetched_at > stale.jwks_fetched_at;
            return Ok(newer.then_some(current));
        }
        let jwks = CoreJsonWebKeySet::fetch_async(current.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| match e {
                openidconnect::DiscoveryError::Request(e) => request_failure(e),
                other => Failure::new(Reason::Unreachable, other),
            })?;
        let fresh = Arc::new(Discovered {
            metadata: current.metadata.clone().set_jwks(jwks),
            fetched_at: current.fetched_at,
            jwks_fetched_at: now,
        });
        let mut cache = self.cache.write().await;
        if let Some(Cached::Found(found)) = cache.get(issuer)
            && found.fetched_at == current.fetched_at
        {
            cache.insert(issuer.to_owned(), Cached::Found(fresh.clone()));
        }
        Ok(Some(fresh))
    }

    /// The authorization URL for a new sign-in, with fresh `state`, `nonce` and PKCE verifier.
    pub async fn start(&self, provider: &Provider<'_>) -> Result<Started, Failure> {
        let discovered = self.discover(provider.issuer).await?;
        let redirect = RedirectUrl::new(provider.redirect_uri.to_owned())
            .map_err(|e| Failure::new(Reason::Discovery, e))?;
        let client = CoreClient::from_provider_metadata(
            discovered.metadata.clone(),
            ClientId::new(provider.client_id.to_owned()),
            None,
        )
        .set_redirect_uri(redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` and verifies the ID token it brings.
    pub async fn finish(
        &self,
        provider: &Provider<'_>,
        client_secret: String,
        code: String,
        pkce_verifier: String,
        nonce: String,
    ) -> Result<Identity, Failure> {
        let discovered = self.discover(provider.issuer).await?;
        let redirect = RedirectUrl::new(provider.redirect_uri.to_owned())
            .map_err(|e| Failure::new(Reason::Discovery, e))?;
        let client = CoreClient::from_provider_metadata(
            discovered.metadata.clone(),
            ClientId::new(provider.client_id.to_owned()),
            Some(ClientSecret::new(client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Failure::new(Reason::Discovery, e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::Request(e) => request_failure(e),
                // The ID token is parsed with the token answer: a claim of the wrong type
                // (`"email_verified": "true"`, a string) fails here, and is a claims problem,
                // not a refusal of the code.
                openidconnect::RequestTokenError::Parse(e, _body) => Failure::new(
                    Reason::Claims,
                    format!("token answer not understood at {}: {}", e.path(), e.inner()),
                ),
                other => Failure::new(Reason::TokenEndpoint, describe(&other)),
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| Failure::new(Reason::NoIdToken, "token answer without id_token"))?;
        let nonce = Nonce::new(nonce);
        let issuer = IssuerUrl::new(provider.issuer.to_owned())
            .map_err(|e| Failure::new(Reason::Discovery, e))?;
        let verifier = |d: &Discovered| {
            let clock = self.clock.clone();
            CoreIdTokenVerifier::new_confidential_client(
                ClientId::new(provider.client_id.to_owned()),
                ClientSecret::new(client_secret.clone()),
                issuer.clone(),
                d.metadata.jwks().clone(),
            )
            // Asymmetric signatures only: no HS* (the client secret is not a signing key here)
            // and never `none`.
            .set_allowed_algs([
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
                CoreJwsSigningAlgorithm::RsaSsaPssSha256,
                CoreJwsSigningAlgorithm::RsaSsaPssSha384,
                CoreJwsSigningAlgorithm::RsaSsaPssSha512,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                CoreJwsSigningAlgorithm::EcdsaP384Sha384,
                CoreJwsSigningAlgorithm::EdDsa,
            ])
            .set_time_fn(move || clock.now())
        };
        let claims = match id_token.claims(&verifier(&discovered), &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => match self.refresh_jwks(provider.issuer, &discovered).await? {
                Some(fresh) => id_token
                    .claims(&verifier(&fresh), &nonce)
                    .map_err(claims_failure)?,
                None => {
                    return Err(Failure::new(
                        Reason::Signature,
                        "no key of the provider matches the ID token (key set fetched recently)",
                    ));
                }
            },
            other => other.map_err(claims_failure)?,
        };
        // OpenID Connect Core 3.1.3.7 (5): if `azp` is there, it must be us. The crate leaves
        // this check to its users.
        if let Some(azp) = claims.authorized_party()
            && azp.as_str() != provider.client_id
        {
            return Err(Failure::new(
                Reason::Audience,
                format!("azp is {:?}, not this client", azp.as_str()),
            ));
        }
        Ok(Identity {
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified() == Some(true),
        })
    }
}

/// A request that failed: refused for its address, or unreachable. The detail (for the log)
/// has every cause: reqwest's own message names only the URL.
fn request_failure(e: HttpError) -> Failure {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !detail.contains(&text) {
            detail = format!("{detail}: {text}");
        }
        source = cause.source();
    }
    let reason = if e.refused_address() {
        Reason::Address
    } else {
        Reason::Unreachable
    };
    Failure::new(reason, detail)
}

fn claims_failure(e: ClaimsVerificationError) -> Failure {
    let reason = match &e {
        ClaimsVerificationError::SignatureVerification(_) => Reason::Signature,
        ClaimsVerificationError::InvalidIssuer(_) => Reason::Issuer,
        ClaimsVerificationError::InvalidAudience(_) => Reason::Audience,
        ClaimsVerificationError::Expired(_) => Reason::Expired,
        ClaimsVerificationError::InvalidNonce(_) => Reason::Nonce,
        _ => Reason::Claims,
    };
    Failure::new(reason, e)
}

/// A token-endpoint refusal as the provider worded it (`invalid_grant: …`).
fn describe<RE: std::error::Error + 'static, T: openidconnect::ErrorResponse + 'static>(
    e: &openidconnect::RequestTokenError<RE, T>,
) -> String {
    match e {
        openidconnect::RequestTokenError::ServerResponse(response) => response.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use openidconnect::AsyncHttpClient;

    use super::*;

    /// The operator's log says why: the resolver's refusal, not only reqwest's "error sending
    /// request".
    #[tokio::test]
    async fn a_refused_address_is_its_own_reason_with_the_cause_in_the_detail() {
        let http = BoundedHttp::new(false).unwrap();
        let request = http::Request::builder()
            .uri("https://localhost:1/.well-known/openid-configuration")
            .body(Vec::new())
            .unwrap();
        let failure = request_failure(http.call(request).await.expect_err("refused"));
        assert_eq!(failure.reason.as_str(), "private_address");
        assert!(
            failure.detail.contains("localhost has no public address")
                && failure.detail.contains("SSO_ALLOW_PRIVATE_NETWORKS"),
            "{}",
            failure.detail
        );
    }
}
