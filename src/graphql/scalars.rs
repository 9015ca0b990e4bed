//! Global ids (Relay) and the `DateTime` scalar.
//!
//! Every `id` the API answers is a global id: the object's type and storage id, encoded as
//! unpadded base64url. Clients treat it as opaque; the server knows from it what to load for
//! `node(id:)`. An id argument is read for the type the argument names, and an id that is
//! malformed or of another type is read as an id nothing has: the operation goes on, checks
//! the caller's permission first, and answers as for a missing row (`NOT_FOUND`, or `null` from
//! `node`). So a caller learns nothing from an id before its permission is checked, and a
//! wrong id reads like a stale one, as on GitHub's API.

use async_graphql::{ID, InputValueError, InputValueResult, Scalar, ScalarType, Value};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime as ChronoDateTime, Utc};
use uuid::Uuid;

/// The types global ids name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Account,
    Manager,
    Team,
    Portal,
    Rep,
    DeveloperApp,
    AppAuthorization,
    AuditEvent,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Account,
        Kind::Manager,
        Kind::Team,
        Kind::Portal,
        Kind::Rep,
        Kind::DeveloperApp,
        Kind::AppAuthorization,
        Kind::AuditEvent,
    ];

    /// The GraphQL type name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Account => "Account",
            Kind::Manager => "Manager",
            Kind::Team => "Team",
            Kind::Portal => "Portal",
            Kind::Rep => "Rep",
            Kind::DeveloperApp => "DeveloperApp",
            Kind::AppAuthorization => "AppAuthorization",
            Kind::AuditEvent => "AuditEvent",
        }
    }
}

/// The global id of the `kind` row `id`.
pub fn to_id(kind: Kind, id: Uuid) -> ID {
    // `Type:hex` on the stack (every listed row has an id: no formatting machinery, one
    // allocation for the result).
    let name = kind.name().as_bytes();
    let mut raw = [0u8; 64];
    raw[..name.len()].copy_from_slice(name);
    raw[name.len()] = b':';
    let end = name.len() + 1 + uuid::fmt::Simple::LENGTH;
    id.simple().encode_lower(&mut raw[name.len() + 1..end]);
    ID(URL_SAFE_NO_PAD.encode(&raw[..end]))
}

/// What a global id names, if it is one.
pub fn decode(id: &str) -> Option<(Kind, Uuid)> {
    // The longest type name (16), a colon and 32 hex digits make 66 characters in base64:
    // anything much longer is no id, and is not decoded.
    if id.len() > 96 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (name, uuid) = text.split_once(':')?;
    let kind = Kind::ALL.into_iter().find(|k| k.name() == name)?;
    // Only the form `to_id` writes: one spelling per id, so equal ids are equal strings.
    if uuid.len() != 32 || uuid.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    Uuid::try_parse(uuid).ok().map(|uuid| (kind, uuid))
}

/// The storage id of a `kind` id argument; [`Uuid::nil`] (which no row has) for an id that is
/// malformed or names another type. See the module comment.
pub fn id_of(kind: Kind, id: &ID) -> Uuid {
    match decode(id) {
        Some((found, uuid)) if found == kind => uuid,
        _ => Uuid::nil(),
    }
}

/// Every id of a list argument, as [`id_of`] reads them.
pub fn ids_of(kind: Kind, ids: &[ID]) -> Vec<Uuid> {
    ids.iter().map(|id| id_of(kind, id)).collect()
}

/// A point in time, in UTC.
pub struct DateTime(pub ChronoDateTime<Utc>);

/// A point in time: an RFC 3339 date and time, e.g. `2026-11-26T09:30:00.123456+00:00`.
/// Arguments may carry any offset (`2026-11-26T10:30:00+01:00` or `…Z`); answers are always
/// in UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => ChronoDateTime::parse_from_rfc3339(s)
                .map(|t| DateTime(t.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom("expected an RFC 3339 date and time")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

impl From<ChronoDateTime<Utc>> for DateTime {
    fn from(t: ChronoDateTime<Utc>) -> Self {
        DateTime(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_back_as_its_kind_only() {
        let uuid = Uuid::now_v7();
        let id = to_id(Kind::Team, uuid);
        assert_eq!(decode(&id), Some((Kind::Team, uuid)));
        assert_eq!(id_of(Kind::Team, &id), uuid);
        assert_eq!(id_of(Kind::Portal, &id), Uuid::nil());
        assert!(!id.contains("Team"), "opaque: {}", id.as_str());
        let longest = to_id(Kind::AppAuthorization, uuid);
        assert_eq!(decode(&longest), Some((Kind::AppAuthorization, uuid)));
    }

    #[test]
    fn malformed_ids_name_nothing() {
        let uuid = Uuid::now_v7();
        for bad in [
            String::new(),
            uuid.to_string(),
            "%%%".to_owned(),
            URL_SAFE_NO_PAD.encode(format!("Team:{uuid}")),
            URL_SAFE_NO_PAD.encode(format!("Nope:{}", uuid.simple())),
            URL_SAFE_NO_PAD.encode(format!("Team{}", uuid.simple())),
            URL_SAFE_NO_PAD.encode(format!("Team:{}", uuid.simple()).to_uppercase()),
            URL_SAFE_NO_PAD.encode(format!("Team:{}", uuid.simple().to_string().to_uppercase())),
            "A".repeat(10_000),
        ] {
            assert_eq!(decode(&bad), None, "{bad}");
            assert_eq!(id_of(Kind::Team, &ID(bad)), Uuid::nil());
        }
    }
}
