//! `AppState`: what every request can reach (database, configuration, clock).

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    clock::{SharedClock, SystemClock},
    config::Config,
};

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub clock: SharedClock,
}

impl AppState {
    pub fn new(db: DatabaseConnection, config: Config) -> Self {
        AppState {
            db,
            config: Arc::new(config),
            clock: Arc::new(SystemClock),
        }
    }

    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}
