//! `Team`: teams and sub-teams, their settings, and the team mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use entity::team;

use super::{
    Manager, Portal, Rep, Scope, client,
    connection::{self, RepConnection, TeamConnection},
    features::{ManagerRightSet, ManagerRightSetPatch, RepFeatureSet, RepFeatureSetPatch},
    loaders::{ManagersOfTeam, PortalById, RepsOfTeam, SubportalsOfTeam, SubteamsOf, TeamById},
    mutation_scope,
    scalars::{DateTime, Kind, id_of, ids_of, to_id},
    scope, state,
};
use crate::{
    auth::scope::ApiScope,
    error::GqlResultExt,
    service::{
        self, features,
        paging::{PageArgs, PageRequest},
        team::{TeamInput, TeamSet},
    },
};

/// The GraphQL object `Team` (described on its `impl`).
#[derive(Clone)]
pub struct Team(pub team::Model, pub Scope);

/// A team or sub-team, with the scope it was reached in.
#[Object]
impl Team {
    /// The team's global id.
    pub async fn id(&self) -> ID {
        to_id(Kind::Team, self.0.id)
    }

    /// The team's name.
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
    #[graphql(
        complexity = "(first.or(last).unwrap_or(20).clamp(0, 100) as usize).saturating_mul(child_complexity)"
    )]
    async fn reps(
        &self,
        #[graphql(desc = "The first n rows (0 to 100; default 20), after `after`.")] first: Option<
            i32,
        >,
        #[graphql(desc = "A cursor: read on from that row.")] after: Option<String>,
        #[graphql(desc = "The last n rows (0 to 100), before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor: read back from that row.")] before: Option<String>,
    ) -> async_graphql::Result<RepConnection> {
        // The scope first: a token that may not read reps learns nothing from its arguments.
        self.1.require(ApiScope::RepsRead)?;
        let page = PageArgs::relay(first, after.as_deref(), last, before.as_deref()).gql()?;
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

    /// When the team was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

#[derive(Default)]
pub struct TeamQuery;

#[Object]
impl TeamQuery {
    /// Teams the caller can see (a team manager: its assigned teams), by creation.
    #[graphql(
        complexity = "(first.or(last).unwrap_or(20).clamp(0, 100) as usize).saturating_mul(child_complexity)"
    )]
    async fn teams(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Part of the name, any case.")] search: Option<String>,
        #[graphql(desc = "Only the sub-teams of this team; `null`: only top-level teams.")]
        parent_id: MaybeUndefined<ID>,
        #[graphql(desc = "The first n rows (0 to 100; default 20), after `after`.")] first: Option<
            i32,
        >,
        #[graphql(desc = "A cursor: read on from that row.")] after: Option<String>,
        #[graphql(desc = "The last n rows (0 to 100), before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor: read back from that row.")] before: Option<String>,
    ) -> async_graphql::Result<TeamConnection> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        let parent = maybe_id(Kind::Team, parent_id);
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
        let scope = scope(ctx)?;
        service::team::get(scope.access(), id_of(Kind::Team, &id))
            .await
            .map(|t| Team(t, scope))
            .gql()
    }
}

/// A new team, or a sub-team of `parentId`.
#[derive(InputObject)]
pub struct CreateTeamInput {
    /// The team's name (1 to 200 characters).
    pub name: String,
    /// The team the new one is a sub-team of (`addDeleteSubteams` on it); absent or `null`
    /// for a top-level team (company and API managers).
    pub parent_id: Option<ID>,
    /// The portal the team serves.
    pub portal_id: Option<ID>,
    /// Sub-portals of that portal the team serves.
    pub subportal_ids: Option<Vec<ID>>,
    /// Most reps the team may hold; absent or `null` for no cap.
    pub available_logins: Option<i32>,
}

impl CreateTeamInput {
    fn into_service(self) -> TeamInput {
        TeamInput {
            name: Some(self.name),
            parent_id: Some(self.parent_id.map(|id| id_of(Kind::Team, &id))),
            portal_id: Some(self.portal_id.map(|id| id_of(Kind::Portal, &id))),
            subportal_ids: self.subportal_ids.map(|ids| ids_of(Kind::Portal, &ids)),
            available_logins: Some(self.available_logins),
        }
    }
}

/// Changes to a team: absent fields stay as they are; `null` clears `parentId`, `portalId`
/// and `availableLogins`.
#[derive(InputObject)]
pub struct TeamPatch {
    /// A new name (1 to 200 characters).
    pub name: Option<String>,
    /// Moves the team under this one; `null` makes it a top-level team.
    pub parent_id: MaybeUndefined<ID>,
    /// The portal the team serves; `null`: none (and no sub-portals).
    pub portal_id: MaybeUndefined<ID>,
    /// Exactly these sub-portals of the team's portal.
    pub subportal_ids: Option<Vec<ID>>,
    /// Most reps the team may hold; `null` for no cap.
    pub available_logins: MaybeUndefined<i32>,
}

/// A patch field that can be cleared: absent `None`, `null` `Some(None)`.
fn maybe<T, U>(value: MaybeUndefined<T>, read: impl FnOnce(T) -> U) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(read(v))),
    }
}

fn maybe_id(kind: Kind, value: MaybeUndefined<ID>) -> Option<Option<uuid::Uuid>> {
    maybe(value, |id| id_of(kind, &id))
}

impl TeamPatch {
    fn into_service(self) -> TeamInput {
        TeamInput {
            name: self.name,
            parent_id: maybe_id(Kind::Team, self.parent_id),
            portal_id: maybe_id(Kind::Portal, self.portal_id),
            subportal_ids: self.subportal_ids.map(|ids| ids_of(Kind::Portal, &ids)),
            available_logins: maybe(self.available_logins, |n| n),
        }
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
        input: CreateTeamInput,
    ) -> async_graphql::Result<Team> {
        let scope = mutation_scope(ctx)?;
        service::team::create(
            state(ctx)?,
            scope.access(),
            client(ctx),
            input.into_service(),
        )
        .await
        .map(|t| Team(t, scope))
        .gql()
    }

    /// Renames, moves, re-caps or changes the portals of a team (company and API managers).
    async fn update_team(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: TeamPatch,
    ) -> async_graphql::Result<Team> {
        let id = id_of(Kind::Team, &id);
        let scope = mutation_scope(ctx)?;
        service::team::update(
            state(ctx)?,
            scope.access(),
            client(ctx),
            id,
            input.into_service(),
        )
        .await
        .map(|t| Team(t, scope))
        .gql()
    }

    /// Deletes a team without sub-teams or reps (`CONFLICT` otherwise).
    async fn delete_team(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let id = id_of(Kind::Team, &id);
        let scope = mutation_scope(ctx)?;
        service::team::delete(state(ctx)?, scope.access(), client(ctx), id)
            .await
            .map(|id| to_id(Kind::Team, id))
            .gql()
    }

    /// Changes which rights team managers may use on this team. Company managers only.
    async fn update_team_manager_features(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ManagerRightSetPatch,
    ) -> async_graphql::Result<Team> {
        let id = id_of(Kind::Team, &id);
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
        let id = id_of(Kind::Team, &id);
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
