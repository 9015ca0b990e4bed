//! Per-request DataLoaders over `service::batch`: nested fields of many parents are fetched
//! with one batch each.

use std::collections::HashMap;

use async_graphql::{ErrorExtensions, dataloader::Loader};
use entity::{manager, portal, rep, team};
use uuid::Uuid;

use crate::{
    error::AppError,
    service::{
        batch,
        paging::{Page, PageArgs},
    },
    state::AppState,
};

pub struct Batch(pub AppState);

pub type Loaders = async_graphql::dataloader::DataLoader<Batch>;

/// How many times a batch lets the executor run other ready work before it closes.
const SETTLE_YIELDS: usize = 32;

/// The loaders of one request. A batch closes when the executor has settled rather than after
/// a fixed 1 ms: a long list resolves its items in slices (`FuturesUnordered` yields every 32
/// polls), and on a busy machine a slice can outlast any timer, which would split one batch
/// into several. Each yield lets a resolver that is still runnable register its keys first,
/// so the number of queries does not depend on load.
pub fn loaders(state: AppState) -> Loaders {
    async_graphql::dataloader::DataLoader::new(Batch(state), |batch| {
        tokio::spawn(async move {
            for _ in 0..SETTLE_YIELDS {
                tokio::task::yield_now().await;
            }
            batch.await
        })
    })
    .delay(std::time::Duration::ZERO)
}

fn gql(err: AppError) -> async_graphql::Error {
    err.extend()
}

macro_rules! key {
    ($name:ident) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub Uuid);
    };
}

key!(TeamById);
key!(PortalById);
key!(TeamsOfManager);
key!(PortalsOfManager);
key!(ManagersOfTeam);
key!(SubteamsOf);
key!(SubportalsOf);
key!(SubportalsOfTeam);
key!(PortalsOfRep);

macro_rules! loader {
    ($key:ident, $value:ty, $load:path) => {
        impl Loader<$key> for Batch {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, Self::Error> {
                let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
                Ok($load(&self.0.db, &ids)
                    .await
                    .map_err(gql)?
                    .into_iter()
                    .map(|(id, value)| ($key(id), value))
                    .collect())
            }
        }
    };
}

loader!(TeamById, team::Model, batch::teams_by_id);
loader!(PortalById, portal::Model, batch::portals_by_id);
loader!(TeamsOfManager, Vec<team::Model>, batch::teams_of_managers);
loader!(
    PortalsOfManager,
    Vec<portal::Model>,
    batch::portals_of_managers
);
loader!(
    ManagersOfTeam,
    Vec<manager::Model>,
    batch::managers_of_teams
);
loader!(SubteamsOf, Vec<team::Model>, batch::subteams);
loader!(SubportalsOf, Vec<portal::Model>, batch::subportals);
loader!(
    SubportalsOfTeam,
    Vec<portal::Model>,
    batch::subportals_of_teams
);
loader!(PortalsOfRep, Vec<portal::Model>, batch::portals_of_reps);

/// One page of a team's reps; keys asking for the same page are loaded together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RepsOfTeam(pub Uuid, pub PageArgs);

impl Loader<RepsOfTeam> for Batch {
    type Value = Page<rep::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[RepsOfTeam],
    ) -> Result<HashMap<RepsOfTeam, Self::Value>, Self::Error> {
        let mut by_page: HashMap<PageArgs, Vec<Uuid>> = HashMap::new();
        for key in keys {
            by_page.entry(key.1).or_default().push(key.0);
        }
        let mut loaded = HashMap::new();
        for (page, teams) in by_page {
            for (team, reps) in batch::rep_pages(&self.0.db, &teams, page)
                .await
                .map_err(gql)?
            {
                loaded.insert(RepsOfTeam(team, page), reps);
            }
        }
        Ok(loaded)
    }
}
