//! Conversions between storage ids and GraphQL `ID`s.

use async_graphql::ID;
use uuid::Uuid;

use crate::error::AppError;

pub fn to_id(id: Uuid) -> ID {
    ID(id.to_string())
}

/// Parses an `ID` argument. A malformed id names the argument and is the caller's mistake.
pub fn parse_id(argument: &str, id: &ID) -> Result<Uuid, AppError> {
    Uuid::parse_str(id.as_str())
        // The value is not repeated: whatever was pasted there stays out of the answer.
        .map_err(|_| AppError::bad_input(format!("{argument} is not a valid ID")))
}
