//! `Rep`: support agents, and the rep mutations.

use async_graphql::{Context, ID, InputObject, Object};
use entity::rep;

use super::{
    Portal, Scope, Team, client,
    connection::{self, RepConnection},
    features::{RepFeatureOverrides, RepFeatureOverridesPatch, RepFeatureSet},
    loaders::{PortalsOfRep, TeamById, TeamOfRep},
    mutation_scope,
    scalars::{DateTime, Kind, id_of, ids_of, to_id},
    scope, state,
};
use crate::{
    error::{AppError, GqlResultExt},
    service::{self, features, paging::PageRequest, rep::RepInput},
};

/// The GraphQL object `Rep` (described on its `impl`).
#[derive(Clone)]
pub struct Rep(pub rep::Model, pub Scope);

impl Rep {
    /// The rep's team. A rep is visible only with its team, so it is always there.
    async fn loaded_team(&self) -> async_graphql::Result<entity::team::Model> {
        self.1
            .loaders()
            .load_one(TeamById(self.0.team_id))
            .await?
            .ok_or_else(|| async_graphql::ErrorExtensions::extend(&AppError::NotFound("team")))
    }

    fn overrides(&self) -> features::Overrides {
        features::Overrides {
            mask: self.0.feature_override_mask,
            values: self.0.feature_override_values,
        }
    }
}

/// A support agent: in exactly one team, working in zero or more portals. With the scope it
/// was reached in.
#[Object]
impl Rep {
    /// The rep's global id.
    pub async fn id(&self) -> ID {
        to_id(Kind::Rep, self.0.id)
    }

    /// What the rep signs in with; unique among the account's reps and managers.
    async fn login(&self) -> &str {
        &self.0.login
    }

    /// The rep's full name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The rep's e-mail address.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The name customers see.
    async fn screen_name(&self) -> &str {
        &self.0.screen_name
    }

    /// The team the rep belongs to.
    async fn team(&self) -> async_graphql::Result<Team> {
        Ok(Team(self.loaded_team().await?, self.1.clone()))
    }

    /// Portals and sub-portals the rep works in (for a team manager, those it is assigned
    /// to).
    async fn portals(&self) -> async_graphql::Result<Vec<Portal>> {
        let found = self.1.loaders().load_one(PortalsOfRep(self.0.id)).await?;
        Ok(self.1.portals(found))
    }

    /// The features the rep has: its overrides over its team's `repDefaults`.
    async fn features(&self) -> async_graphql::Result<RepFeatureSet> {
        let team = self
            .1
            .loaders()
            .load_one(TeamOfRep(self.0.team_id))
            .await?
            .ok_or_else(|| async_graphql::ErrorExtensions::extend(&AppError::NotFound("team")))?;
        Ok(self
            .overrides()
            .effective(features::RepFeatureSet::from_bits(team.rep_defaults))
            .into())
    }

    /// The features set on this rep itself; `null` fields follow the team.
    async fn feature_overrides(&self) -> RepFeatureOverrides {
        self.overrides().into()
    }

    /// When the rep was added.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

#[derive(Default)]
pub struct RepQuery;

#[Object]
impl RepQuery {
    /// Reps of the teams the caller can see, by creation.
    #[graphql(
        complexity = "(first.or(last).unwrap_or(20).clamp(0, 100) as usize).saturating_mul(child_complexity)"
    )]
    async fn reps(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the reps of this team.")] team_id: Option<ID>,
        #[graphql(desc = "Part of the login, name or e-mail, any case.")] search: Option<String>,
        #[graphql(desc = "The first n rows (0 to 100; default 20), after `after`.")] first: Option<
            i32,
        >,
        #[graphql(desc = "A cursor: read on from that row.")] after: Option<String>,
        #[graphql(desc = "The last n rows (0 to 100), before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor: read back from that row.")] before: Option<String>,
    ) -> async_graphql::Result<RepConnection> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        let team = team_id.map(|t| id_of(Kind::Team, &t));
        let scope = scope(ctx)?;
        let found = service::rep::list(state(ctx)?, scope.access(), team, search.as_deref(), page)
            .await
            .gql()?;
        Ok(connection::from_page(
            found,
            |r| r.id,
            |r| Rep(r, scope.clone()),
        ))
    }

    /// One rep, if the caller can see it (`NOT_FOUND` otherwise).
    async fn rep(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Rep> {
        let scope = scope(ctx)?;
        service::rep::get(scope.access(), id_of(Kind::Rep, &id))
            .await
            .map(|r| Rep(r, scope))
            .gql()
    }
}

/// A new rep.
#[derive(InputObject)]
pub struct CreateRepInput {
    /// What the rep signs in with: unique among the account's reps and managers.
    pub login: String,
    /// The rep's full name (1 to 200 characters).
    pub name: String,
    /// The rep's e-mail address.
    pub email: String,
    /// The name customers see; absent: the name.
    pub screen_name: Option<String>,
    /// The team the rep joins (`addDeleteReps` on it).
    pub team_id: ID,
    /// Portals and sub-portals the rep works in.
    pub portal_ids: Option<Vec<ID>>,
    /// The rep's first password (policy of SPEC 5).
    pub password: String,
}

impl CreateRepInput {
    fn into_service(self) -> RepInput {
        RepInput {
            login: Some(self.login),
            name: Some(self.name),
            email: Some(self.email),
            screen_name: self.screen_name,
            team_id: Some(id_of(Kind::Team, &self.team_id)),
            portal_ids: self.portal_ids.map(|ids| ids_of(Kind::Portal, &ids)),
            password: Some(self.password),
        }
    }
}

/// Changes to a rep; absent fields stay as they are. None of them can be cleared. The password
/// has its own mutation, `setRepPassword`.
#[derive(InputObject)]
pub struct RepPatch {
    /// A new login (`changeRepNameLogin`).
    pub login: Option<String>,
    /// A new full name (`changeRepNameLogin`).
    pub name: Option<String>,
    /// A new e-mail address (`changeRepNameLogin`).
    pub email: Option<String>,
    /// A new screen name (`changeRepNameLogin`).
    pub screen_name: Option<String>,
    /// Moves the rep to this team (`addDeleteReps` on both teams).
    pub team_id: Option<ID>,
    /// Exactly these portals and sub-portals (`addDeleteReps`); a team manager's unassigned
    /// portals stay as they are.
    pub portal_ids: Option<Vec<ID>>,
}

impl RepPatch {
    fn into_service(self) -> RepInput {
        RepInput {
            login: self.login,
            name: self.name,
            email: self.email,
            screen_name: self.screen_name,
            team_id: self.team_id.map(|t| id_of(Kind::Team, &t)),
            portal_ids: self.portal_ids.map(|ids| ids_of(Kind::Portal, &ids)),
            password: None,
        }
    }
}

#[derive(Default)]
pub struct RepMutation;

#[Object]
impl RepMutation {
    /// Adds a rep to a team (`addDeleteReps`; `CONFLICT` when the team has no login left).
    async fn create_rep(
        &self,
        ctx: &Context<'_>,
        input: CreateRepInput,
    ) -> async_graphql::Result<Rep> {
        let scope = mutation_scope(ctx)?;
        service::rep::create(
            state(ctx)?,
            scope.access(),
            client(ctx),
            input.into_service(),
        )
        .await
        .map(|r| Rep(r, scope))
        .gql()
    }

    /// Renames (`changeRepNameLogin`), moves to another team or changes portals
    /// (`addDeleteReps`).
    async fn update_rep(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: RepPatch,
    ) -> async_graphql::Result<Rep> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Rep, &id);
        service::rep::update(
            state(ctx)?,
            scope.access(),
            client(ctx),
            id,
            input.into_service(),
        )
        .await
        .map(|r| Rep(r, scope))
        .gql()
    }

    /// Sets a rep's password (`changeRepPassword`).
    async fn set_rep_password(
        &self,
        ctx: &Context<'_>,
        id: ID,
        password: String,
    ) -> async_graphql::Result<Rep> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Rep, &id);
        service::rep::set_password(state(ctx)?, scope.access(), client(ctx), id, password)
            .await
            .map(|r| Rep(r, scope))
            .gql()
    }

    /// Switches rep features: `true`/`false` overrides the team's default for this rep,
    /// `null` clears the override (the rep follows its team again), absent leaves it. A team
    /// manager may touch only the features in its `repControls`.
    async fn update_rep_features(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: RepFeatureOverridesPatch,
    ) -> async_graphql::Result<Rep> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Rep, &id);
        service::rep::update_features(state(ctx)?, scope.access(), client(ctx), id, input.fields())
            .await
            .map(|r| Rep(r, scope))
            .gql()
    }

    /// Deletes a rep (`addDeleteReps`).
    async fn delete_rep(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let scope = mutation_scope(ctx)?;
        let id = id_of(Kind::Rep, &id);
        service::rep::delete(state(ctx)?, scope.access(), client(ctx), id)
            .await
            .map(|id| to_id(Kind::Rep, id))
            .gql()
    }
}
