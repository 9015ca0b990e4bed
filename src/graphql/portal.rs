//! `Portal`: portals and sub-portals, and their mutations.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use entity::portal;

use super::{
    client,
    connection::PortalConnection,
    loaders as request_loaders,
    loaders::{PortalById, SubportalsOf},
    principal,
    scalars::{parse_id, to_id},
    state,
};
use crate::{error::GqlResultExt, service, service::paging::PageArgs};

/// A portal (no parent) or a sub-portal of one.
#[derive(Clone)]
pub struct Portal(pub portal::Model);

#[Object]
impl Portal {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The portal of a sub-portal; `null` for a portal.
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Portal>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(request_loaders(ctx)?
            .load_one(PortalById(parent))
            .await?
            .map(Portal))
    }

    /// The sub-portals of a portal (empty for a sub-portal).
    async fn subportals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Portal>> {
        Ok(request_loaders(ctx)?
            .load_one(SubportalsOf(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Portal)
            .collect())
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
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn portals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PortalConnection> {
        let page = PageArgs::new(first, after.as_deref()).gql()?;
        let found = service::portal::list(state(ctx)?, principal(ctx), page)
            .await
            .gql()?;
        Ok(PortalConnection::from_page(found, |p| p.id, Portal))
    }

    async fn portal(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Portal> {
        let id = parse_id("id", &id).gql()?;
        service::portal::get(state(ctx)?, principal(ctx), id)
            .await
            .map(Portal)
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
        let parent = match input.parent_id {
            MaybeUndefined::Value(id) => Some(parse_id("parentId", &id).gql()?),
            _ => None,
        };
        let name = input.name.unwrap_or_default();
        service::portal::create(state(ctx)?, principal(ctx), client(ctx), &name, parent)
            .await
            .map(Portal)
            .gql()
    }

    async fn update_portal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: PortalInput,
    ) -> async_graphql::Result<Portal> {
        let id = parse_id("id", &id).gql()?;
        let parent = match input.parent_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(p) => Some(Some(parse_id("parentId", &p).gql()?)),
        };
        service::portal::update(
            state(ctx)?,
            principal(ctx),
            client(ctx),
            id,
            input.name.as_deref(),
            parent,
        )
        .await
        .map(Portal)
        .gql()
    }

    /// Deletes a portal (with its sub-portals) or a sub-portal nobody uses.
    async fn delete_portal(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        let id = parse_id("id", &id).gql()?;
        service::portal::delete(state(ctx)?, principal(ctx), client(ctx), id)
            .await
            .map(to_id)
            .gql()
    }
}
