//! DataLoaders over `service::batch`, built per caller: nested fields of many parents are
//! fetched with one batch each, and every batch keeps only what the caller's reach allows
//! (`service::access::Reach`), whatever parent asked. A batch for a caller that may not read
//! (anonymous, restricted session) fails with that caller's error.

use std::{collections::HashMap, hash::Hash, sync::Arc};

use async_graphql::{ErrorExtensions, dataloader::Loader};
use entity::{manager, portal, rep, team};
use uuid::Uuid;

use crate::{
    auth::scope::ApiScope,
    error::AppError,
    service::{
        self,
        access::{Access, Reach},
        batch,
        paging::{Page, PageArgs},
    },
};

pub struct Batch(Access);

impl Batch {
    async fn reach(&self) -> Result<Arc<Reach>, async_graphql::Error> {
        self.0.reach().await.map_err(gql)
    }
}

/// The loaders of one caller ([`loaders`]). Every value travels behind an `Arc`: the
/// DataLoader clones a value for every caller waiting on it (a page of 100 reps was copied
/// whole, string by string), and a caller copies one only while another still shares it.
pub struct Loaders(async_graphql::dataloader::DataLoader<Batch>);

impl Loaders {
    /// The value for `key`, if found and visible.
    pub async fn load_one<K, V>(&self, key: K) -> Result<Option<V>, async_graphql::Error>
    where
        K: Send + Sync + Hash + Eq + Clone + 'static,
        Batch: Loader<K, Value = Arc<V>, Error = async_graphql::Error>,
        V: Clone + Send + Sync + 'static,
    {
        Ok(self.0.load_one(key).await?.map(Arc::unwrap_or_clone))
    }
}

/// How many times a batch lets the executor run other ready work before it closes.
const SETTLE_YIELDS: usize = 32;

/// The loaders of one caller. A batch closes when the executor has settled rather than after
/// a fixed 1 ms: a long list resolves its items in slices (`FuturesUnordered` yields every 32
/// polls), and on a busy machine a slice can outlast any timer, which would split one batch
/// into several. Each yield lets a resolver that is still runnable register its keys first,
/// so the number of queries does not depend on load.
pub fn loaders(access: Access) -> Loaders {
    Loaders(
        async_graphql::dataloader::DataLoader::new(Batch(access), |batch| {
            tokio::spawn(async move {
                for _ in 0..SETTLE_YIELDS {
                    tokio::task::yield_now().await;
                }
                batch.await
            })
        })
        .delay(std::time::Duration::ZERO),
    )
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
key!(ManagerById);
key!(RepById);
key!(AccountById);
key!(DeveloperAppById);
key!(AuthorizationById);
key!(TeamOfRep);
key!(PortalById);
key!(TeamsOfManager);
key!(PortalsOfManager);
key!(ManagersOfTeam);
key!(SubteamsOf);
key!(SubportalsOf);
key!(SubportalsOfTeam);
key!(PortalsOfRep);

/// A loader of `$key -> $value` through `$load`, keeping what `$sees` allows; its caller
/// needs `$scope` ([`Needs`]) for it.
macro_rules! loader {
    ($key:ident, $value:ty, $load:path, $sees:ident, $scope:expr) => {
        impl Loader<$key> for Batch {
            type Value = Arc<$value>;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let reach = self.reach().await?;
                $scope.check(&self.0).map_err(gql)?;
                let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
                Ok($load(self.0.db(), &ids)
                    .await
                    .map_err(gql)?
                    .into_iter()
                    .filter_map(|(id, value)| {
                        Visible::keep(value, |row| reach.$sees(row))
                            .map(|v| ($key(id), Arc::new(v)))
                    })
                    .collect())
            }
        }
    };
}

/// Filtering of one loaded value: a row is kept or dropped, a list keeps its visible rows.
trait Visible<T>: Sized {
    fn keep(self, sees: impl Fn(&T) -> bool) -> Option<Self>;
}

impl<T> Visible<T> for T {
    fn keep(self, sees: impl Fn(&T) -> bool) -> Option<Self> {
        sees(&self).then_some(self)
    }
}

impl<T> Visible<T> for Vec<T> {
    fn keep(mut self, sees: impl Fn(&T) -> bool) -> Option<Self> {
        self.retain(|row| sees(row));
        Some(self)
    }
}

/// What a loader's caller needs besides its reach.
#[derive(Clone, Copy)]
enum Needs {
    Nothing,
    /// An app token needs this scope.
    Scope(ApiScope),
    /// People only: app tokens are refused.
    People,
}

impl Needs {
    fn check(self, access: &Access) -> Result<(), AppError> {
        match self {
            Needs::Nothing => Ok(()),
            Needs::Scope(scope) => access.require(scope),
            Needs::People => access.person().map(|_| ()),
        }
    }
}

const TEAMS: Needs = Needs::Scope(ApiScope::TeamsRead);
const REPS: Needs = Needs::Scope(ApiScope::RepsRead);
const PORTALS: Needs = Needs::Scope(ApiScope::PortalsRead);
const NO_SCOPE: Needs = Needs::Nothing;
const PEOPLE: Needs = Needs::People;

loader!(TeamById, team::Model, batch::teams_by_id, sees_team, TEAMS);
// A manager by id, for `node` and the audit log's actor: as `manager(id:)`, people only.
loader!(
    ManagerById,
    manager::Model,
    batch::managers_by_id,
    sees_manager,
    PEOPLE
);
loader!(RepById, rep::Model, batch::reps_by_id, sees_rep, REPS);
// A rep's team for what the rep's own fields need (its effective features), which `reps:read`
// covers; the `Team` object itself stays behind `teams:read`.
loader!(
    TeamOfRep,
    team::Model,
    batch::teams_by_id,
    sees_team,
    NO_SCOPE
);
loader!(
    PortalById,
    portal::Model,
    batch::portals_by_id,
    sees_portal,
    PORTALS
);
loader!(
    TeamsOfManager,
    Vec<team::Model>,
    batch::teams_of_managers,
    sees_team,
    TEAMS
);
loader!(
    PortalsOfManager,
    Vec<portal::Model>,
    batch::portals_of_managers,
    sees_portal,
    PORTALS
);
loader!(
    ManagersOfTeam,
    Vec<manager::Model>,
    batch::managers_of_teams,
    sees_manager,
    NO_SCOPE
);
loader!(
    SubteamsOf,
    Vec<team::Model>,
    batch::subteams,
    sees_team,
    TEAMS
);
loader!(
    SubportalsOf,
    Vec<portal::Model>,
    batch::subportals,
    sees_portal,
    PORTALS
);
loader!(
    SubportalsOfTeam,
    Vec<portal::Model>,
    batch::subportals_of_teams,
    sees_portal,
    PORTALS
);
loader!(
    PortalsOfRep,
    Vec<portal::Model>,
    batch::portals_of_reps,
    sees_portal,
    PORTALS
);

/// The caller's own account (any other id is not found).
impl Loader<AccountById> for Batch {
    type Value = Arc<entity::account::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[AccountById],
    ) -> Result<HashMap<AccountById, Self::Value>, Self::Error> {
        let reach = self.reach().await?;
        let mut loaded = HashMap::new();
        if keys.iter().any(|k| k.0 == reach.account_id) {
            let account = service::account::get(self.0.db(), reach.account_id)
                .await
                .map_err(gql)?;
            loaded.insert(AccountById(account.id), Arc::new(account));
        }
        Ok(loaded)
    }
}

/// The account's own developer apps (company managers only).
impl Loader<DeveloperAppById> for Batch {
    type Value = Arc<entity::developer_app::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[DeveloperAppById],
    ) -> Result<HashMap<DeveloperAppById, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        Ok(service::developer_app::by_ids(&self.0, &ids)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|(id, app)| (DeveloperAppById(id), Arc::new(app)))
            .collect())
    }
}

/// Authorizations the caller may administer, with their apps.
impl Loader<AuthorizationById> for Batch {
    type Value = Arc<service::authorization::Authorized>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[AuthorizationById],
    ) -> Result<HashMap<AuthorizationById, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        Ok(service::authorization::by_ids(&self.0, &ids)
            .await
            .map_err(gql)?
            .into_iter()
            .map(|(id, found)| (AuthorizationById(id), Arc::new(found)))
            .collect())
    }
}

/// One page of a team's reps; keys asking for the same page are loaded together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RepsOfTeam(pub Uuid, pub PageArgs);

impl Loader<RepsOfTeam> for Batch {
    type Value = Arc<Page<rep::Model>>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[RepsOfTeam],
    ) -> Result<HashMap<RepsOfTeam, Self::Value>, Self::Error> {
        let reach = self.reach().await?;
        self.0.require(ApiScope::RepsRead).map_err(gql)?;
        // Only teams the caller sees: a `Team` is only ever built for a visible team, but a
        // loader does not trust its callers. Every statement of a page keeps the caller's
        // account's reps only, so another account's team reads as empty.
        let mut by_page: HashMap<PageArgs, Vec<Uuid>> = HashMap::new();
        for key in keys.iter().filter(|k| reach.sees_team_id(k.0)) {
            by_page.entry(key.1).or_default().push(key.0);
        }
        let mut loaded = HashMap::new();
        for (page, teams) in by_page {
            for (team, reps) in batch::rep_pages(self.0.db(), reach.account_id, &teams, page)
                .await
                .map_err(gql)?
            {
                loaded.insert(RepsOfTeam(team, page), Arc::new(reps));
            }
        }
        Ok(loaded)
    }
}

/// A manager's authorized applications (with or without the revoked ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AuthorizationsOf(pub Uuid, pub bool);

impl Loader<AuthorizationsOf> for Batch {
    type Value = Arc<Vec<service::authorization::Authorized>>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[AuthorizationsOf],
    ) -> Result<HashMap<AuthorizationsOf, Self::Value>, Self::Error> {
        let mut loaded = HashMap::new();
        for include_revoked in [false, true] {
            let ids: Vec<Uuid> = keys
                .iter()
                .filter(|k| k.1 == include_revoked)
                .map(|k| k.0)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let found = service::authorization::list_for(&self.0, &ids, include_revoked)
                .await
                .map_err(gql)?;
            for id in ids {
                let list = found.get(&id).cloned().unwrap_or_default();
                loaded.insert(AuthorizationsOf(id, include_revoked), Arc::new(list));
            }
        }
        Ok(loaded)
    }
}

/// The identities linked to a manager at the account's single sign-on providers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SsoIdentitiesOf(pub Uuid);

impl Loader<SsoIdentitiesOf> for Batch {
    type Value = Arc<Vec<entity::manager_sso_identity::Model>>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[SsoIdentitiesOf],
    ) -> Result<HashMap<SsoIdentitiesOf, Self::Value>, Self::Error> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let mut found = crate::sso::link::identities_of(&self.0, &ids)
            .await
            .map_err(gql)?;
        Ok(ids
            .into_iter()
            .map(|id| {
                (
                    SsoIdentitiesOf(id),
                    Arc::new(found.remove(&id).unwrap_or_default()),
                )
            })
            .collect())
    }
}
