//! `AppState`: what every request can reach (database, configuration, clock, keys, mailer).

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{
        password::Hasher,
        plugin::AuthChain,
        session_token::{SessionKeys, SessionTokenPlugin},
    },
    clock::{SharedClock, SystemClock},
    config::Config,
    error::AppError,
    mail::Mailer,
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
    /// Bounds fire-and-forget work (password-reset lookups and mail).
    pub background: Arc<tokio::sync::Semaphore>,
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
        let mailer =
            Mailer::new(&config.mail_transport, &config.mail_from).map_err(AppError::internal)?;
        let hasher = Hasher::new(
            config
                .password_hash_concurrency
                .unwrap_or_else(Hasher::default_parallelism),
        )
        .await?;
        // The built-in chain: manager session tokens.
        let auth = AuthChain::new(vec![Box::new(SessionTokenPlugin::new(
            db.clone(),
            session_keys.clone(),
            clock.clone(),
        ))]);
        Ok(AppState {
            db,
            config: Arc::new(config),
            clock,
            session_keys,
            hasher,
            mailer,
            auth,
            background: Arc::new(tokio::sync::Semaphore::new(64)),
        })
    }

    /// With the real clock.
    pub async fn new(db: DatabaseConnection, config: Config) -> Result<Self, AppError> {
        Self::build(db, config, Arc::new(SystemClock)).await
    }
}
