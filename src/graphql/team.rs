//! `Team`: teams and sub-teams, their settings, and the team mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::team;

use super::{
    Manager, Portal, Rep, Scope, client,
    connection::{self, RepConnection, TeamConnection},
    features::{ManagerRightSet, ManagerRightSetPatch, RepFeatureSet, RepFeatureSetPatch},
    loaders::{ManagersOfTeam, PortalById, RepsOfTeam, SubportalsOfTeam, SubteamsOf, TeamById},
    mutation_scope,
    scalars::{parse_id, to_id},
    scope, state,
};
use crate::{
    auth::scope::ApiScope,
    error::GqlResultExt,
    service::{
        self, features,
        paging::PageArgs,
        team::{TeamInput, TeamSet},
    },
};

/// A team or sub-team, with the scope it was reached in.
#[derive(Clone)]
pub struct Team(pub team::Model, pub Scope);

#[Object]
impl Team {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The team this one is a sub-team of (`null` for a team manager not assigned to it).
    async fn parent(&self) -> async_graphql::Result<Option<Team>> {
        self.1.require(ApiScope::TeamsRead)?;
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        let found = self.1.loaders().load_one(TeamById(parent)).await?;
        Ok(found.map(|t| Team(t, self.1.clone())))
    }

    /// Its sub-teams (for a team manager, those it is assigned to).
    async fn subteams(&self) -> async_graphql::Result<Vec<Team>> {
        let found = self.1.loaders().load_one(SubteamsOf(self.0.id)).await?;
        Ok(self.1.teams(found))
    }

    /// The portal the team serves (`null` for a team manager not assigned to it).
    async fn portal(&self) -> async_graphql::Result<Option<Portal>> {
        self.1.require(ApiScope::PortalsRead)?;
        let Some(portal) = self.0.portal_id else {
            return Ok(None);
        };
        let found = self.1.loaders().load_one(PortalById(portal)).await?;
        Ok(found.map(|p| Portal(p, self.1.clone())))
    }

    /// The sub-portals of its portal the team serves (for a team manager, those it is
    /// assigned to).
    async fn subportals(&self) -> async_graphql::Result<Vec<Portal>> {
        let found = self
            .1
            .loaders()
            .load_one(SubportalsOfTeam(self.0.id))
            .await?;
        Ok(self.1.portals(found))
    }

    /// Most reps the team may hold; `null` for no cap.
    async fn available_logins(&self) -> Option<i32> {
        self.0.available_logins
    }

    /// Team managers assigned to this team (a team manager sees only itself here).
    async fn managers(&self) -> async_graphql::Result<Vec<Manager>> {
        let found = self.1.loaders().load_one(ManagersOfTeam(self.0.id)).await?;
        Ok(self.1.managers(found))
    }

    /// The rights a team manager may use on this team (with its own rights; SPEC 4.4).
    async fn manager_features(&self) -> ManagerRightSet {
        features::RightSet::from_bits(self.0.manager_features).into()
    }

    /// The team's reps, by creation.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn reps(
        &self,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<RepConnection> {
        let page = PageArgs::new(first, after.as_deref()).gql()?;
        let found = self
            .1
            .loaders()
            .load_one(RepsOfTeam(self.0.id, page))
            .await?
            .unwrap_or_else(service::paging::Page::empty);
        Ok(connection::from_page(
            found,
            |r| r.id,
            |r| Rep(r, self.1.clone()),
        ))
    }

    /// Rep features of its reps, unless a rep overrides them.
    async fn rep_defaults(&self) -> RepFeatureSet {
        features::RepFeatureSet::from_bits(self.0.rep_defaults).into()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct TeamQuery;

#[Object]
impl TeamQuery {
    /// Teams the caller can see (a team manager: its assigned teams), by creation.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn teams(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Part of the name, any case.")] search: Option<String>,
        #[graphql(desc = "Only the sub-teams of this team.")] parent_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<TeamConnection> {
        let page = PageArgs::relay(first, after.as_deref(), last, before.as_deref()).gql()?;
        let parent = parent_id
            .map(|p| parse_id("parentId", &p))
            .transpose()
            .gql()?;
        let scope = scope(ctx)?;
        let found =
            service::team::list(state(ctx)?, scope.access(), search.as_deref(), parent, page)
                .await
                .gql()?;
        Ok(connection::from_page(
            found,
            |t| t.id,
            |t| Team(t, scope.clone()),
        ))
    }

    /// One team, if the caller can see it (`NOT_FOUND` otherwise).
    async fn team(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Team> {
        let id = parse_id("id", &id).gql()?;
        let scope = scope(ctx)?;
        service::team::get(scope.access(), id)
            .await
            .map(|t| Team(t, scope))
            .gql()
    }
}

/// What a team is made of. On update, absent fields stay as they are and `null` clears.
#[derive(InputObject, Default)]
#[graphql(name = "TeamInput")]
pub struct TeamInputGql {
    pub name: Option<String>,
    /// The parent team (a sub-team); `null` for a top-level team.
    pub parent_id: MaybeUndefined<ID>,
    /// The portal the team serves.
    pub portal_id: MaybeUndefined<ID>,
    /// Sub-portals of that portal the team serves.
    pub subportal_ids: Option<Vec<ID>>,
    /// Most reps the team may hold; `null` for no cap.
    pub available_logins: MaybeUndefined<i32>,
}

fn maybe_id(
    name: &str,
    value: MaybeUndefined<ID>,
) -> Result<Option<Option<uuid::Uuid>>, crate::error::AppError> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(id) => parse_id(name, &id).map(|id| Some(Some(id))),
    }
}

impl TeamInputGql {
    fn into_service(self) -> Result<TeamInput, crate::error::AppError> {
        Ok(TeamInput {
            name: self.name,
            parent_id: maybe_id("parentId", self.parent_id)?,
            portal_id: maybe_id("portalId", self.portal_id)?,
            subportal_ids: self
                .subportal_ids
                .map(|ids| ids.iter().map(|id| parse_id("subportalIds", id)).collect())
                .transpose()?,
            available_logins: match self.available_logins {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(n) => Some(Some(n)),
            },
        })
    }
}

#[derive(Default)]
pub struct TeamMutation;

#[Object]
impl TeamMutation {
    /// Creates a team, or a sub-team with `parentId`.
    async fn create_team(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "input")] input: TeamInputGql,
    ) -> async_graphql::Result<Team> {
        let input = input.into_service().gql()?;
        let scope = mutation_scope(ctx)?;
        service::team::create(state(ctx)?, scope.access(), client(ctx), input)
            .await
            .map(|t| Team(t, scope))
            .gql()
    }

    async fn update_team(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(name = "input")] input: TeamInputGql,
    ) -> async_graphql::Result<Team> {
        let id = parse_id("id", &id).gql()?;
        let input = input.into_service().gql()?;
        let scope = mutation_scope(ctx)?;
        service::team::update(state(ctx)?, scope.access(), client(ctx), id, input)
            .await
            .map(|t| Team(t, scope))
            .gql()
    }

    /// Deletes a team without sub-teams or reps (`CONFLICT` otherwise).
    async fn delete_team(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let id = parse_id("id", &id).gql()?;
        let scope = mutation_scope(ctx)?;
        service::team::delete(state(ctx)?, scope.access(), client(ctx), id)
            .await
            .map(to_id)
            .gql()
    }

    /// Changes which rights team managers may use on this team. Company managers only.
    async fn update_team_manager_features(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ManagerRightSetPatch,
    ) -> async_graphql::Result<Team> {
        let id = parse_id("id", &id).gql()?;
        let scope = mutation_scope(ctx)?;
        service::team::update_set(
            state(ctx)?,
            scope.access(),
            client(ctx),
            id,
            TeamSet::ManagerFeatures,
            input.fields(),
        )
        .await
        .map(|t| Team(t, scope))
        .gql()
    }

    /// Changes the rep features of the team's reps (where a rep does not override them).
    async fn update_team_rep_defaults(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: RepFeatureSetPatch,
    ) -> async_graphql::Result<Team> {
        let id = parse_id("id", &id).gql()?;
        let scope = mutation_scope(ctx)?;
        service::team::update_set(
            state(ctx)?,
            scope.access(),
            client(ctx),
            id,
            TeamSet::RepDefaults,
            input.fields(),
        )
        .await
        .map(|t| Team(t, scope))
        .gql()
    }
}
