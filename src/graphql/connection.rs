//! Relay connections, with async-graphql's own `Connection`: `nodes`, `edges { cursor node }`,
//! the full `pageInfo` (`hasPreviousPage`, `hasNextPage`, `startCursor`, `endCursor`) and our
//! `totalCount`. A connection is built from a service [`Page`]; cursors are opaque ids.

use async_graphql::{
    SimpleObject,
    connection::{Connection, CursorType, Edge},
};
use uuid::Uuid;

use super::{AuditEvent, Manager, Portal, Rep, Team};
use crate::service::paging::{Page, decode_cursor, encode_cursor};

/// A row id as an opaque cursor.
pub struct Cursor(Uuid);

impl CursorType for Cursor {
    type Error = crate::error::AppError;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        decode_cursor("cursor", s).map(Cursor)
    }

    fn encode_cursor(&self) -> String {
        encode_cursor(self.0)
    }
}

/// What every connection adds to Relay's fields.
#[derive(SimpleObject)]
pub struct Totals {
    /// All matching rows, not just this page.
    pub total_count: u64,
}

pub type ManagerConnection = Connection<Cursor, Manager, Totals>;
pub type TeamConnection = Connection<Cursor, Team, Totals>;
pub type PortalConnection = Connection<Cursor, Portal, Totals>;
pub type RepConnection = Connection<Cursor, Rep, Totals>;
pub type AuditEventConnection = Connection<Cursor, AuditEvent, Totals>;
pub type DeveloperAppConnection = Connection<Cursor, super::developer_app::DeveloperApp, Totals>;

/// The connection of one page: `id` gives a row's cursor, `wrap` its GraphQL object.
pub fn from_page<M, N: async_graphql::OutputType>(
    page: Page<M>,
    id: impl Fn(&M) -> Uuid,
    wrap: impl Fn(M) -> N,
) -> Connection<Cursor, N, Totals> {
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        Totals {
            total_count: page.total_count,
        },
    );
    connection.edges = page
        .items
        .into_iter()
        .map(|row| Edge::new(Cursor(id(&row)), wrap(row)))
        .collect();
    connection
}
