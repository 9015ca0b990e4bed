//! `AppState`: what every request can reach (database, configuration, clock, keys, mailer).

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{
        app_token::{AppTokenPlugin, Audience},
        oauth_keys::OAuthKeys,
        password::Hasher,
        plugin::AuthChain,
        session_token::{SessionKeys, SessionTokenPlugin},
    },
    clock::{SharedClock, SystemClock},
    config::Config,
    error::AppError,
    mail::Mailer,
    oauth::ticket::PageKey,
};

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub clock: SharedClock,
    pub session_keys: SessionKeys,
    pub hasher: Hasher,
    pub mailer: Mailer,
    pub auth: AuthChain,
    /// The keys that sign OAuth access tokens, shared through the database.
    pub oauth_keys: OAuthKeys,
    /// The OAuth issuer and the resource its access tokens are for.
    pub audience: Audience,
    /// The MAC key of the OAuth pages (CSRF tokens, consent tickets).
    pub page_key: PageKey,
    /// Bounds fire-and-forget work (password-reset lookups and mail).
    pub background: Arc<tokio::sync::Semaphore>,
    /// Set on SIGTERM while the server drains: `/readyz` answers 503 so load balancers stop
    /// sending requests before the listener closes.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// Seals SSO client secrets at rest (`SSO_SECRET_KEYS`, then the session signing key).
    pub sso_sealer: crate::sso::sealed::Sealer,
    /// The OpenID Connect relying party (its HTTP client and discovery cache).
    pub oidc: crate::sso::oidc::Oidc,
}

impl AppState {
    /// Loads (or creates, once) the signing key and sets up the mailer and password hasher.
    pub async fn build(
        db: DatabaseConnection,
        config: Config,
        clock: SharedClock,
    ) -> Result<Self, AppError> {
        let session_keys =
            SessionKeys::load(&db, config.session_signing_key.as_deref(), clock.now()).await?;
        let session_key = match &config.session_signing_key {
            Some(key) => key.clone(),
            None => crate::auth::keys::shared_secret(&db, "session", "HS256", clock.now()).await?,
        };
        let mut ring: Vec<&[u8]> = config.sso_secret_keys.iter().map(Vec::as_slice).collect();
        ring.push(&session_key);
        let sso_sealer = crate::sso::sealed::Sealer::ring(&ring);
        crate::sso::sealed::warn_unknown_keys(&db, &sso_sealer).await?;
        let mailer =
            Mailer::new(&config.mail_transport, &config.mail_from).map_err(AppError::internal)?;
        let hasher = Hasher::new(
            config
                .password_hash_concurrency
                .unwrap_or_else(Hasher::default_parallelism),
        )
        .await?;
        let oauth_keys =
            OAuthKeys::load(db.clone(), clock.clone(), config.access_token_ttl).await?;
        let audience = Audience::new(&config.issuer());
        let page_key = PageKey::new(
            crate::auth::keys::shared_secret(&db, "oauth-pages", "HS256", clock.now()).await?,
        );
        // The built-in chain: manager session tokens, then app access tokens (`typ: at+jwt`).
        let auth = AuthChain::new(vec![
            Box::new(SessionTokenPlugin::new(
                db.clone(),
                session_keys.clone(),
                clock.clone(),
            )),
            Box::new(AppTokenPlugin::new(
                db.clone(),
                oauth_keys.clone(),
                audience.clone(),
                clock.clone(),
            )),
        ]);
        let oidc = crate::sso::oidc::Oidc::new(clock.clone(), config.sso_allow_private_networks)
            .map_err(AppError::internal)?;
        Ok(AppState {
            db,
            config: Arc::new(config),
            clock,
            session_keys,
            hasher,
            mailer,
            auth,
            oauth_keys,
            audience,
            page_key,
            background: Arc::new(tokio::sync::Semaphore::new(64)),
            draining: Arc::default(),
            sso_sealer,
            oidc,
        })
    }

    /// With the real clock.
    pub async fn new(db: DatabaseConnection, config: Config) -> Result<Self, AppError> {
        Self::build(db, config, Arc::new(SystemClock)).await
    }
}
