//! Relay connections: `nodes`, `edges { cursor node }`, `pageInfo`, `totalCount`, one concrete
//! pair of types per node type (async-graphql cannot nest generic objects).

use async_graphql::SimpleObject;

use super::{AuditEvent, Manager, Portal, Rep, Team};
use crate::service::paging::{Page, encode_cursor};

#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    pub has_next_page: bool,
    /// Pass as `after` to get the next page.
    pub end_cursor: Option<String>,
}

macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ident) => {
        #[derive(SimpleObject, Clone)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        #[derive(SimpleObject, Clone)]
        pub struct $connection {
            pub nodes: Vec<$node>,
            pub edges: Vec<$edge>,
            pub page_info: PageInfo,
            /// All matching rows, not just this page.
            pub total_count: u64,
        }

        impl $connection {
            pub fn from_page<M>(
                page: Page<M>,
                id: impl Fn(&M) -> uuid::Uuid,
                wrap: impl Fn(M) -> $node,
            ) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|m| $edge {
                        cursor: encode_cursor(id(&m)),
                        node: wrap(m),
                    })
                    .collect();
                $connection {
                    nodes: edges.iter().map(|e| e.node.clone()).collect(),
                    page_info: PageInfo {
                        has_next_page: page.has_next_page,
                        end_cursor: edges.last().map(|e| e.cursor.clone()),
                    },
                    edges,
                    total_count: page.total_count,
                }
            }
        }
    };
}

connection!(ManagerConnection, ManagerEdge, Manager);
connection!(TeamConnection, TeamEdge, Team);
connection!(PortalConnection, PortalEdge, Portal);
connection!(RepConnection, RepEdge, Rep);
connection!(AuditEventConnection, AuditEventEdge, AuditEvent);
