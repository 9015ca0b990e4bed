//! `Rep`: support agents, and the rep mutations.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::rep;

use super::{
    Portal, Scope, Team, client,
    connection::{self, RepConnection},
    features::{RepFeatureOverrides, RepFeatureSet, RepFeatureSetPatch},
    loaders::{PortalsOfRep, TeamById, TeamOfRep},
    mutation_scope,
    scalars::{parse_id, to_id},
    scope, state,
};
use crate::{
    error::{AppError, GqlResultExt},
    service::{self, features, paging::PageArgs, rep::RepInput},
};

/// A support agent: in exactly one team, working in zero or more portals. With the scope it
/// was reached in.
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

#[Object]
impl Rep {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn login(&self) -> &str {
        &self.0.login
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The name customers see.
    async fn screen_name(&self) -> &str {
        &self.0.screen_name
    }

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

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct RepQuery;

#[Object]
impl RepQuery {
    /// Reps of the teams the caller can see, by creation.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn reps(
        &self,
        ctx: &Context<'_>,
        team_id: Option<ID>,
        #[graphql(desc = "Part of the login, name or e-mail, any case.")] search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<RepConnection> {
        let page = PageArgs::relay(first, after.as_deref(), last, before.as_deref()).gql()?;
        let team = team_id.map(|t| parse_id("teamId", &t)).transpose().gql()?;
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

    async fn rep(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Rep> {
        let id = parse_id("id", &id).gql()?;
        let scope = scope(ctx)?;
        service::rep::get(scope.access(), id)
            .await
            .map(|r| Rep(r, scope))
            .gql()
    }
}

/// A rep. On create, all but `screenName` (default: the name) and `portalIds` are required;
/// on update, absent fields stay as they are (the password has its own mutation).
#[derive(InputObject, Default)]
#[graphql(name = "RepInput")]
pub struct RepInputGql {
    pub login: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub screen_name: Option<String>,
    pub team_id: Option<ID>,
    pub portal_ids: Option<Vec<ID>>,
    /// The rep's password (create only; policy of SPEC 5).
    pub password: Option<String>,
}

impl RepInputGql {
    fn into_service(self) -> Result<RepInput, AppError> {
        Ok(RepInput {
            login: self.login,
            name: self.name,
            email: self.email,
            screen_name: self.screen_name,
            team_id: self.team_id.map(|t| parse_id("teamId", &t)).transpose()?,
            portal_ids: self
                .portal_ids
                .map(|ids| ids.iter().map(|p| parse_id("portalIds", p)).collect())
                .transpose()?,
            password: self.password,
        })
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
        #[graphql(name = "input")] input: RepInputGql,
    ) -> async_graphql::Result<Rep> {
        let scope = mutation_scope(ctx)?;
        let input = input.into_service().gql()?;
        service::rep::create(state(ctx)?, scope.access(), client(ctx), input)
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
        #[graphql(name = "input")] input: RepInputGql,
    ) -> async_graphql::Result<Rep> {
        let scope = mutation_scope(ctx)?;
        let id = parse_id("id", &id).gql()?;
        let input = input.into_service().gql()?;
        service::rep::update(state(ctx)?, scope.access(), client(ctx), id, input)
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
        let id = parse_id("id", &id).gql()?;
        service::rep::set_password(state(ctx)?, scope.access(), client(ctx), id, password)
            .await
            .map(|r| Rep(r, scope))
            .gql()
    }

    /// Switches rep features (a team manager: only those in its `repControls`).
    async fn update_rep_features(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: RepFeatureSetPatch,
    ) -> async_graphql::Result<Rep> {
        let scope = mutation_scope(ctx)?;
        let id = parse_id("id", &id).gql()?;
        service::rep::update_features(state(ctx)?, scope.access(), client(ctx), id, input.fields())
            .await
            .map(|r| Rep(r, scope))
            .gql()
    }

    /// Deletes a rep (`addDeleteReps`).
    async fn delete_rep(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let scope = mutation_scope(ctx)?;
        let id = parse_id("id", &id).gql()?;
        service::rep::delete(state(ctx)?, scope.access(), client(ctx), id)
            .await
            .map(to_id)
            .gql()
    }
}
