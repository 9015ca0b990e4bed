//! Keyset pagination for Relay connections: ordered by id (UUIDv7, so creation order), a page
//! is `first` rows after the cursor's id. Cursors are opaque to clients.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sea_orm::sea_query::LikeExpr;
use uuid::Uuid;

use crate::error::AppError;

pub const DEFAULT_FIRST: u64 = 20;
pub const MAX_FIRST: u64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: u64,
    pub after: Option<Uuid>,
}

impl PageArgs {
    /// Checks `first` (1 to 100, default 20) and decodes `after`.
    pub fn new(first: Option<i32>, after: Option<&str>) -> Result<Self, AppError> {
        let first = match first {
            None => DEFAULT_FIRST,
            Some(n) if (1..=MAX_FIRST as i32).contains(&n) => n as u64,
            Some(_) => {
                return Err(AppError::bad_input(format!(
                    "first must be between 1 and {MAX_FIRST}"
                )));
            }
        };
        let after = after.map(decode_cursor).transpose()?;
        Ok(PageArgs { first, after })
    }
}

/// One page and what the connection needs to describe it.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    /// From up to `first + 1` rows: the extra row only says there is a next page.
    pub fn from_rows(mut rows: Vec<T>, args: PageArgs, total_count: u64) -> Self {
        let has_next_page = rows.len() as u64 > args.first;
        rows.truncate(args.first as usize);
        Page {
            items: rows,
            has_next_page,
            total_count,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
            total_count: self.total_count,
        }
    }
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> Result<Uuid, AppError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input("after is not a cursor from this API"))
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
        assert_eq!(decode_cursor(&encode_cursor(id)).ok(), Some(id));
        assert!(decode_cursor("not-a-cursor").is_err());
    }

    #[test]
    fn first_is_bounded() {
        assert_eq!(PageArgs::new(None, None).map(|a| a.first).ok(), Some(20));
        assert!(PageArgs::new(Some(0), None).is_err());
        assert!(PageArgs::new(Some(101), None).is_err());
        assert_eq!(
            PageArgs::new(Some(100), None).map(|a| a.first).ok(),
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
