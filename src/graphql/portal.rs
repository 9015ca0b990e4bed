//! `Portal`: portals and sub-portals, and their mutations.

use async_graphql::{Context, ID, InputObject, Object};
use entity::portal;

use super::{
    Scope, client,
    connection::{self, PortalConnection},
    loaders::{PortalById, SubportalsOf},
    mutation_scope,
    scalars::{DateTime, Kind, id_of, to_id},
    scope, state,
};
use crate::{auth::scope::ApiScope, error::GqlResultExt, service, service::paging::PageRequest};

/// The GraphQL object `Portal` (described on its `impl`).
#[derive(Clone)]
pub struct Portal(pub portal::Model, pub Scope);

/// A portal (no parent) or a sub-portal of one, with the scope it was reached in.
#[Object]
impl Portal {
    /// The portal's global id.
    pub async fn id(&self) -> ID {
        to_id(Kind::Portal, self.0.id)
    }

    /// The name customers see.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The portal of a sub-portal; `null` for a portal (and for a team manager not assigned
    /// to it).
    async fn parent(&self) -> async_graphql::Result<Option<Portal>> {
        self.1.require(ApiScope::PortalsRead)?;
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        let found = self.1.loaders().load_one(PortalById(parent)).await?;
        Ok(found.map(|p| Portal(p, self.1.clone())))
    }

    /// The sub-portals of a portal (empty for a sub-portal; for a team manager, those it is
    /// assigned to).
    async fn subportals(&self) -> async_graphql::Result<Vec<Portal>> {
        let found = self.1.loaders().load_one(SubportalsOf(self.0.id)).await?;
        Ok(self.1.portals(found))
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

#[derive(Default)]
pub struct PortalQuery;

#[Object]
impl PortalQuery {
    /// The account's portals (a team manager: the portals and sub-portals it is assigned to),
    /// by creation.
    #[graphql(
        complexity = "(first.or(last).unwrap_or(20).clamp(0, 100) as usize).saturating_mul(child_complexity)"
    )]
    async fn portals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Part of the name, any case.")] search: Option<String>,
        #[graphql(desc = "The first n rows (0 to 100; default 20), after `after`.")] first: Option<
            i32,
        >,
        #[graphql(desc = "A cursor: read on from that row.")] after: Option<String>,
        #[graphql(desc = "The last n rows (0 to 100), before `before`.")] last: Option<i32>,
        #[graphql(desc = "A cursor: read back from that row.")] before: Option<String>,
    ) -> async_graphql::Result<PortalConnection> {
        let page = PageRequest {
            first,
            after,
            last,
            before,
        };
        let scope = scope(ctx)?;
        let found = service::portal::list(state(ctx)?, scope.access(), search.as_deref(), page)
            .await
            .gql()?;
        Ok(connection::from_page(
            found,
            |p| p.id,
            |p| Portal(p, scope.clone()),
        ))
    }

    /// One portal or sub-portal, if the caller can see it (`NOT_FOUND` otherwise).
    async fn portal(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Portal> {
        let scope = scope(ctx)?;
        service::portal::get(scope.access(), id_of(Kind::Portal, &id))
            .await
            .map(|p| Portal(p, scope))
            .gql()
    }
}

/// A new portal, or a sub-portal of `parentId`.
#[derive(InputObject)]
pub struct CreatePortalInput {
    /// The name customers see (1 to 200 characters).
    pub name: String,
    /// The portal the new sub-portal belongs to; absent or `null` for a portal.
    pub parent_id: Option<ID>,
}

/// Changes to a portal; absent fields stay as they are. (A sub-portal cannot move to another
/// portal.)
#[derive(InputObject)]
pub struct PortalPatch {
    /// The name customers see (1 to 200 characters).
    pub name: Option<String>,
}

#[derive(Default)]
pub struct PortalMutation;

#[Object]
impl PortalMutation {
    /// Creates a portal with its first sub-portal, or a sub-portal with `parentId`.
    async fn create_portal(
        &self,
        ctx: &Context<'_>,
        input: CreatePortalInput,
    ) -> async_graphql::Result<Portal> {
        let scope = mutation_scope(ctx)?;
        let parent = input.parent_id.map(|id| id_of(Kind::Portal, &id));
        service::portal::create(
            state(ctx)?,
            scope.access(),
            client(ctx),
            &input.name,
            parent,
        )
        .await
        .map(|p| Portal(p, scope))
        .gql()
    }

    /// Renames a portal or sub-portal (company and API managers).
    async fn update_portal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: PortalPatch,
    ) -> async_graphql::Result<Portal> {
        let scope = mutation_scope(ctx)?;
        service::portal::update(
            state(ctx)?,
            scope.access(),
            client(ctx),
            id_of(Kind::Portal, &id),
            input.name.as_deref(),
        )
        .await
        .map(|p| Portal(p, scope))
        .gql()
    }

    /// Deletes a portal (with its sub-portals) or a sub-portal nobody uses.
    async fn delete_portal(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let scope = mutation_scope(ctx)?;
        service::portal::delete(
            state(ctx)?,
            scope.access(),
            client(ctx),
            id_of(Kind::Portal, &id),
        )
        .await
        .map(|id| to_id(Kind::Portal, id))
        .gql()
    }
}
