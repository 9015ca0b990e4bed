//! `Portal`: portals and sub-portals, and their mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::portal;

use super::{
    Scope, client,
    connection::{self, PortalConnection},
    loaders::{PortalById, SubportalsOf},
    mutation_scope,
    scalars::{parse_id, to_id},
    scope, state,
};
use crate::{auth::scope::ApiScope, error::GqlResultExt, service, service::paging::PageArgs};

/// A portal (no parent) or a sub-portal of one, with the scope it was reached in.
#[derive(Clone)]
pub struct Portal(pub portal::Model, pub Scope);

#[Object]
impl Portal {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

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

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct PortalQuery;

#[Object]
impl PortalQuery {
    /// The account's portals (a team manager: the portals it is assigned to), by creation.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn portals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<PortalConnection> {
        let page = PageArgs::relay(first, after.as_deref(), last, before.as_deref()).gql()?;
        let scope = scope(ctx)?;
        let found = service::portal::list(state(ctx)?, scope.access(), page)
            .await
            .gql()?;
        Ok(connection::from_page(
            found,
            |p| p.id,
            |p| Portal(p, scope.clone()),
        ))
    }

    async fn portal(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Portal> {
        let id = parse_id("id", &id).gql()?;
        let scope = scope(ctx)?;
        service::portal::get(scope.access(), id)
            .await
            .map(|p| Portal(p, scope))
            .gql()
    }
}

/// A portal's name, and for a sub-portal its portal.
#[derive(InputObject, Default)]
pub struct PortalInput {
    pub name: Option<String>,
    /// The portal a sub-portal belongs to; `null` or absent for a portal.
    pub parent_id: MaybeUndefined<ID>,
}

#[derive(Default)]
pub struct PortalMutation;

#[Object]
impl PortalMutation {
    /// Creates a portal with its first sub-portal, or a sub-portal with `parentId`.
    async fn create_portal(
        &self,
        ctx: &Context<'_>,
        input: PortalInput,
    ) -> async_graphql::Result<Portal> {
        let scope = mutation_scope(ctx)?;
        let parent = match input.parent_id {
            MaybeUndefined::Value(id) => Some(parse_id("parentId", &id).gql()?),
            _ => None,
        };
        let name = input.name.unwrap_or_default();
        service::portal::create(state(ctx)?, scope.access(), client(ctx), &name, parent)
            .await
            .map(|p| Portal(p, scope))
            .gql()
    }

    async fn update_portal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: PortalInput,
    ) -> async_graphql::Result<Portal> {
        let scope = mutation_scope(ctx)?;
        let id = parse_id("id", &id).gql()?;
        let parent = match input.parent_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(p) => Some(Some(parse_id("parentId", &p).gql()?)),
        };
        service::portal::update(
            state(ctx)?,
            scope.access(),
            client(ctx),
            id,
            input.name.as_deref(),
            parent,
        )
        .await
        .map(|p| Portal(p, scope))
        .gql()
    }

    /// Deletes a portal (with its sub-portals) or a sub-portal nobody uses.
    async fn delete_portal(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let scope = mutation_scope(ctx)?;
        let id = parse_id("id", &id).gql()?;
        service::portal::delete(state(ctx)?, scope.access(), client(ctx), id)
            .await
            .map(to_id)
            .gql()
    }
}
