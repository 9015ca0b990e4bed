//! OpenID Connect with the `openidconnect` crate: discovery (cached per issuer for an hour,
//! its key set refetched when an ID token names an unknown `kid`, at most once a minute per
//! issuer), the authorization URL (code flow, PKCE S256, `state`, `nonce`), and the callback
//! work: the code exchanged at the token endpoint with the PKCE verifier, the ID token's
//! signature, `iss`, `aud` (no other audience trusted), `azp` (the crate leaves it to us),
//! `exp` (against the server's [`Clock`](crate::clock::Clock), so tests move time) and
//! `nonce` checked.
//!
//! Every failure has a [`Reason`]: a stable word for the log, the audit entry and the
//! operator. What reached the provider or came back is logged, never shown to the browser.

use std::{collections::HashMap, sync::Arc};

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

use super::http_client::BoundedHttp;
use crate::clock::SharedClock;

/// How long discovery is trusted before it is fetched again.
const METADATA_TTL: Duration = Duration::hours(1);
/// The least time between two key-set fetches of one issuer: an ID token with a made-up
/// `kid` cannot make the server hammer the provider.
const JWKS_REFETCH_COOLDOWN: Duration = Duration::minutes(1);

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
            Reason::Unreachable | Reason::Discovery | Reason::TokenEndpoint | Reason::Secret
        )
    }
}

/// A failure with its reason and, for the log only, the detail.
#[derive(Debug)]
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

/// The relying party: one per process, shared by the requests (the cache is an
/// optimisation, not state: every replica fills its own).
#[derive(Clone)]
pub struct Oidc {
    http: BoundedHttp,
    clock: SharedClock,
    cache: Arc<RwLock<HashMap<String, Arc<Discovered>>>>,
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
    pub fn new(clock: SharedClock) -> Result<Oidc, reqwest::Error> {
        Ok(Oidc {
            http: BoundedHttp::new()?,
            clock,
            cache: Arc::default(),
        })
    }

    async fn discover(&self, issuer: &str) -> Result<Arc<Discovered>, Failure> {
        let now = self.clock.now();
        if let Some(hit) = self
            .cache
            .read()
            .await
            .get(issuer)
            .filter(|d| now - d.fetched_at < METADATA_TTL)
        {
            return Ok(hit.clone());
        }
        let url =
            IssuerUrl::new(issuer.to_owned()).map_err(|e| Failure::new(Reason::Discovery, e))?;
        let metadata = CoreProviderMetadata::discover_async(url, &self.http)
            .await
            .map_err(|e| match e {
                openidconnect::DiscoveryError::Request(e) => Failure::new(Reason::Unreachable, e),
                other => Failure::new(Reason::Discovery, other),
            })?;
        let fresh = Arc::new(Discovered {
            metadata,
            fetched_at: now,
            jwks_fetched_at: now,
        });
        self.cache
            .write()
            .await
            .insert(issuer.to_owned(), fresh.clone());
        Ok(fresh)
    }

    /// Fetches the key set again, unless it was fetched within the cool-down.
    async fn refresh_jwks(
        &self,
        issuer: &str,
        stale: &Discovered,
    ) -> Result<Option<Arc<Discovered>>, Failure> {
        let now = self.clock.now();
        if now - stale.jwks_fetched_at < JWKS_REFETCH_COOLDOWN {
            return Ok(None);
        }
        let jwks = CoreJsonWebKeySet::fetch_async(stale.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| Failure::new(Reason::Unreachable, e))?;
        let fresh = Arc::new(Discovered {
            metadata: stale.metadata.clone().set_jwks(jwks),
            fetched_at: stale.fetched_at,
            jwks_fetched_at: now,
        });
        self.cache
            .write()
            .await
            .insert(issuer.to_owned(), fresh.clone());
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
                openidconnect::RequestTokenError::Request(e) => {
                    Failure::new(Reason::Unreachable, e)
                }
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
