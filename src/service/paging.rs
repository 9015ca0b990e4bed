//! Keyset pagination for Relay connections: ordered by id (UUIDv7, so creation order), a page
//! is `first` rows after a cursor's id or `last` rows before one. Cursors are opaque to
//! clients.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select,
    sea_query::{Expr, LikeExpr, Query},
};
use uuid::Uuid;

use crate::{error::AppError, service::rows::FromRow};

pub const DEFAULT_FIRST: u64 = 20;
pub const MAX_FIRST: u64 = 100;

/// Which page of a list: `first` rows after `after`, or the `last` rows before `before`
/// (Relay). Cursors are row ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageArgs {
    /// How many rows: `first`, or `last` when `backward`.
    pub first: u64,
    pub after: Option<Uuid>,
    pub before: Option<Uuid>,
    /// `last`/`before`: the page ends where the cursor is and the list is read backwards.
    pub backward: bool,
}

/// `first: 0` (or `last: 0`) is allowed: an empty page that still answers `totalCount` and
/// whether there is anything to read.
fn count(name: &str, value: i32) -> Result<u64, AppError> {
    if (0..=MAX_FIRST as i32).contains(&value) {
        Ok(value as u64)
    } else {
        Err(AppError::bad_input(format!(
            "{name} is {value}; it must be between 0 and {MAX_FIRST}"
        )))
    }
}

/// Relay arguments as the client sent them. A list service checks them ([`PageRequest::check`])
/// after the caller's permission, so a caller who may not read the list learns nothing from
/// its arguments.
#[derive(Clone, Debug, Default)]
pub struct PageRequest {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageRequest {
    pub fn check(&self) -> Result<PageArgs, AppError> {
        PageArgs::relay(
            self.first,
            self.after.as_deref(),
            self.last,
            self.before.as_deref(),
        )
    }
}

impl PageArgs {
    /// Relay arguments: `first`/`after` forwards, `last`/`before` backwards; `after` and
    /// `before` may bound either. `first` and `last` together are refused (the Relay spec
    /// discourages it and the result is confusing).
    pub fn relay(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> Result<Self, AppError> {
        let (n, backward) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_input("give first or last, not both"));
            }
            (Some(first), None) => (count("first", first)?, false),
            (None, Some(last)) => (count("last", last)?, true),
            (None, None) => (DEFAULT_FIRST, before.is_some() && after.is_none()),
        };
        Ok(PageArgs {
            first: n,
            after: after.map(|c| decode_cursor("after", c)).transpose()?,
            before: before.map(|c| decode_cursor("before", c)).transpose()?,
            backward,
        })
    }
}

/// One page and what the connection needs to describe it.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            has_previous_page: false,
            has_next_page: false,
            total_count: 0,
        }
    }
}

/// The order of a list: by creation (ids are UUIDv7), oldest or newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    OldestFirst,
    NewestFirst,
}

/// One page of `query` (already filtered to what the caller may see), keyset-paginated on
/// the id column `id`, with the total count of `query` and both ends of `PageInfo`: the one
/// way every list of the API pages. One statement reads the page and the total count (as a
/// scalar subquery, which both databases evaluate once); a one-row probe follows past a
/// cursor, and a count of its own only when the page past a cursor is empty. At most three
/// statements, whatever the page size.
pub async fn fetch<E, C>(
    conn: &C,
    query: Select<E>,
    id: E::Column,
    args: PageArgs,
    order: Order,
) -> Result<Page<E::Model>, AppError>
where
    E: EntityTrait,
    E::Model: FromRow + Send + Sync,
    C: ConnectionTrait,
{
    // "Further along the list" is a greater id oldest first, a smaller one newest first.
    let further = |cursor: Uuid| match order {
        Order::OldestFirst => id.gt(cursor),
        Order::NewestFirst => id.lt(cursor),
    };
    let not_further = |cursor: Uuid| match order {
        Order::OldestFirst => id.lte(cursor),
        Order::NewestFirst => id.gte(cursor),
    };
    let earlier = |cursor: Uuid| match order {
        Order::OldestFirst => id.lt(cursor),
        Order::NewestFirst => id.gt(cursor),
    };
    let not_earlier = |cursor: Uuid| match order {
        Order::OldestFirst => id.gte(cursor),
        Order::NewestFirst => id.lte(cursor),
    };
    let mut window = query.clone();
    if let Some(after) = args.after {
        window = window.filter(further(after));
    }
    if let Some(before) = args.before {
        window = window.filter(earlier(before));
    }
    // Read from the end the page starts at: the list's order forwards, reversed backwards.
    let ascending = (order == Order::OldestFirst) != args.backward;
    window = if ascending {
        window.order_by_asc(id)
    } else {
        window.order_by_desc(id)
    };
    let mut total = Query::select();
    total
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(query.clone().into_query(), "listed");
    let statement = window
        .limit(args.first + 1)
        .expr_as(Expr::SubQuery(None, Box::new(total.into())), TOTAL_COUNT)
        .build(conn.get_database_backend());
    let mut rows = Vec::new();
    let mut total_count = None;
    for row in conn.query_all_raw(statement).await? {
        total_count = Some(row.try_get::<i64>("", TOTAL_COUNT)?);
        rows.push(E::Model::from_row(&row)?);
    }
    // No row to carry the count: the list is empty, unless the window began past a cursor.
    let total_count = match total_count {
        Some(n) => u64::try_from(n).unwrap_or(0),
        None if args.after.is_none() && args.before.is_none() => 0,
        None => query.clone().count(conn).await?,
    };
    let more = rows.len() as u64 > args.first;
    rows.truncate(args.first as usize);
    if args.backward {
        rows.reverse();
    }
    // Past the page on the side it was not read towards: rows at or behind the cursor.
    let behind = match (args.backward, args.after, args.before) {
        (false, Some(after), _) => Some(not_further(after)),
        (true, _, Some(before)) => Some(not_earlier(before)),
        _ => None,
    };
    let rows_behind = match behind {
        None => false,
        Some(side) => query
            .filter(side)
            .select_only()
            .column(id)
            .limit(1)
            .into_tuple::<Uuid>()
            .one(conn)
            .await?
            .is_some(),
    };
    let (has_previous_page, has_next_page) = if args.backward {
        (more, rows_behind)
    } else {
        (rows_behind, more)
    };
    Ok(Page {
        items: rows,
        has_previous_page,
        has_next_page,
        total_count,
    })
}

/// The column [`fetch`] reads the total count from.
const TOTAL_COUNT: &str = "total_count";

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// Decodes the cursor given as argument `name`.
pub fn decode_cursor(name: &str, cursor: &str) -> Result<Uuid, AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input(format!("{name} is not a cursor from this API")))
}

/// The escape character of [`like_pattern`], declared on the `LIKE` itself: SQLite has no
/// default escape character, so without `ESCAPE` its `\_` would be a backslash and a wildcard.
const LIKE_ESCAPE: char = '\\';

/// `LIKE '%term%' ESCAPE '\'` for a case-insensitive search (compare with a lower-cased
/// column), with LIKE's wildcards `%` and `_` in the term taken literally on every database.
pub fn like_pattern(term: &str) -> LikeExpr {
    let escaped = term
        .trim()
        .to_lowercase()
        .replace(LIKE_ESCAPE, "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape(LIKE_ESCAPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor("after", &encode_cursor(id)).ok(), Some(id));
        assert!(decode_cursor("after", "not-a-cursor").is_err());
    }

    #[test]
    fn first_is_bounded() {
        assert_eq!(
            PageArgs::relay(None, None, None, None)
                .map(|a| a.first)
                .ok(),
            Some(20)
        );
        assert_eq!(
            PageArgs::relay(Some(0), None, None, None)
                .map(|a| a.first)
                .ok(),
            Some(0)
        );
        assert!(PageArgs::relay(Some(-1), None, None, None).is_err());
        assert!(PageArgs::relay(Some(101), None, None, None).is_err());
        assert!(PageArgs::relay(Some(5), None, Some(5), None).is_err());
        assert!(PageArgs::relay(None, None, Some(-1), None).is_err());
        assert_eq!(
            PageArgs::relay(None, None, Some(3), None)
                .map(|a| (a.first, a.backward))
                .ok(),
            Some((3, true))
        );
        assert_eq!(
            PageArgs::relay(Some(100), None, None, None)
                .map(|a| a.first)
                .ok(),
            Some(100)
        );
    }

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(
            format!("{:?}", like_pattern(" 50%_Off ")),
            format!("{:?}", LikeExpr::new("%50\\%\\_off%").escape('\\'))
        );
    }
}
