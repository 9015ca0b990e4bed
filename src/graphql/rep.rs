//! `Rep`: support agents, and the rep mutations.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::rep;

use super::{
    Portal, Team, client,
    connection::RepConnection,
    features::{RepFeatureOverrides, RepFeatureSet, RepFeatureSetPatch},
    loaders as request_loaders,
    loaders::{PortalsOfRep, TeamById},
    principal,
    scalars::{parse_id, to_id},
    state,
};
use crate::{
    error::{AppError, GqlResultExt},
    service::{self, features, paging::PageArgs, rep::RepInput},
};

/// A support agent: in exactly one team, working in zero or more portals.
#[derive(Clone)]
pub struct Rep(pub rep::Model);

impl Rep {
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

    async fn team(&self, ctx: &Context<'_>) -> async_graphql::Result<Team> {
        request_loaders(ctx)?
            .load_one(TeamById(self.0.team_id))
            .await?
            .map(Team)
            .ok_or_else(|| async_graphql::ErrorExtensions::extend(&AppError::NotFound("team")))
    }

    /// Portals and sub-portals the rep works in.
    async fn portals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Portal>> {
        Ok(request_loaders(ctx)?
            .load_one(PortalsOfRep(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Portal)
            .collect())
    }

    /// The features the rep has: its overrides over its team's `repDefaults`.
    async fn features(&self, ctx: &Context<'_>) -> async_graphql::Result<RepFeatureSet> {
        let team = request_loaders(ctx)?
            .load_one(TeamById(self.0.team_id))
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
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn reps(
        &self,
        ctx: &Context<'_>,
        team_id: Option<ID>,
        #[graphql(desc = "Part of the login, name or e-mail, any case.")] search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<RepConnection> {
        let page = PageArgs::new(first, after.as_deref()).gql()?;
        let team = team_id.map(|t| parse_id("teamId", &t)).transpose().gql()?;
        let found = service::rep::list(state(ctx)?, principal(ctx), team, search.as_deref(), page)
            .await
            .gql()?;
        Ok(RepConnection::from_page(found, |r| r.id, Rep))
    }

    async fn rep(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Rep> {
        let id = parse_id("id", &id).gql()?;
        service::rep::get(state(ctx)?, principal(ctx), id)
            .await
            .map(Rep)
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
        let input = input.into_service().gql()?;
        service::rep::create(state(ctx)?, principal(ctx), client(ctx), input)
            .await
            .map(Rep)
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
        let id = parse_id("id", &id).gql()?;
        let input = input.into_service().gql()?;
        service::rep::update(state(ctx)?, principal(ctx), client(ctx), id, input)
            .await
            .map(Rep)
            .gql()
    }

    /// Sets a rep's password (`changeRepPassword`).
    async fn set_rep_password(
        &self,
        ctx: &Context<'_>,
        id: ID,
        password: String,
    ) -> async_graphql::Result<Rep> {
        let id = parse_id("id", &id).gql()?;
        service::rep::set_password(state(ctx)?, principal(ctx), client(ctx), id, password)
            .await
            .map(Rep)
            .gql()
    }

    /// Switches rep features (a team manager: only those in its `repControls`).
    async fn update_rep_features(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: RepFeatureSetPatch,
    ) -> async_graphql::Result<Rep> {
        let id = parse_id("id", &id).gql()?;
        service::rep::update_features(state(ctx)?, principal(ctx), client(ctx), id, input.fields())
            .await
            .map(Rep)
            .gql()
    }

    /// Deletes a rep (`addDeleteReps`).
    async fn delete_rep(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let id = parse_id("id", &id).gql()?;
        service::rep::delete(state(ctx)?, principal(ctx), client(ctx), id)
            .await
            .map(to_id)
            .gql()
    }
}
