//! OAuth scopes (SPEC 6): what an app token may do, on top of what its API manager may do.
//! The names are the public contract (`reps:read` …); in code a scope is the [`ApiScope`]
//! enum, and a set of them a bit mask (stored as is in the database, so the bit order of
//! [`ApiScope::ALL`] never changes).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiScope {
    RepsRead,
    RepsWrite,
    TeamsRead,
    TeamsWrite,
    PortalsRead,
}

impl ApiScope {
    /// Every scope, in stored bit order.
    pub const ALL: [ApiScope; 5] = [
        ApiScope::RepsRead,
        ApiScope::RepsWrite,
        ApiScope::TeamsRead,
        ApiScope::TeamsWrite,
        ApiScope::PortalsRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ApiScope::RepsRead => "reps:read",
            ApiScope::RepsWrite => "reps:write",
            ApiScope::TeamsRead => "teams:read",
            ApiScope::TeamsWrite => "teams:write",
            ApiScope::PortalsRead => "portals:read",
        }
    }

    /// What the scope lets an app do, in the words the consent page uses.
    pub fn description(self) -> &'static str {
        match self {
            ApiScope::RepsRead => "See the representatives of your account and their settings",
            ApiScope::RepsWrite => {
                "Create, change and delete representatives, including their passwords"
            }
            ApiScope::TeamsRead => "See the teams and sub-teams of your account",
            ApiScope::TeamsWrite => "Create, change and delete teams and sub-teams",
            ApiScope::PortalsRead => "See the portals and sub-portals of your account",
        }
    }

    pub fn parse(name: &str) -> Option<ApiScope> {
        ApiScope::ALL.into_iter().find(|s| s.name() == name)
    }

    fn bit(self) -> i64 {
        1 << (self as u8)
    }
}

impl fmt::Display for ApiScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of scopes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScopeSet(i64);

impl ScopeSet {
    pub fn empty() -> Self {
        ScopeSet(0)
    }

    pub fn all() -> Self {
        ApiScope::ALL.into_iter().collect()
    }

    /// From the stored mask; bits that name no scope are dropped.
    pub fn from_bits(bits: i64) -> Self {
        ScopeSet(bits & ScopeSet::all().0)
    }

    pub fn bits(self) -> i64 {
        self.0
    }

    pub fn has(self, scope: ApiScope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, other: ScopeSet) -> bool {
        other.0 & !self.0 == 0
    }

    pub fn intersect(self, other: ScopeSet) -> Self {
        ScopeSet(self.0 & other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = ApiScope> {
        ApiScope::ALL
            .into_iter()
            .filter(move |s| self.has(s.to_owned()))
    }

    /// A space-separated `scope` parameter (RFC 6749 §3.3). `Err` names the first unknown
    /// scope; repeated spaces are tolerated, an empty string is the empty set.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| ApiScope::parse(s).ok_or_else(|| s.to_owned()))
            .collect()
    }
}

impl FromIterator<ApiScope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = ApiScope>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().fold(0, |bits, s| bits | s.bit()))
    }
}

impl fmt::Display for ScopeSet {
    /// The space-separated form of RFC 6749 §3.3, in a stable order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(ApiScope::name).collect();
        f.write_str(&names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_bits_keep_their_stored_order() {
        let bits: Vec<i64> = ApiScope::ALL.iter().map(|s| s.bit()).collect();
        assert_eq!(bits, vec![1, 2, 4, 8, 16]);
    }

    #[test]
    fn scope_strings_parse_and_print_in_a_stable_order() {
        let set = ScopeSet::parse("teams:read  reps:read").unwrap();
        assert_eq!(set.to_string(), "reps:read teams:read");
        assert_eq!(ScopeSet::parse("reps:read admin").unwrap_err(), "admin");
        assert!(ScopeSet::parse("").unwrap().is_empty());
        assert!(ScopeSet::all().contains(set));
        assert!(!set.contains(ScopeSet::all()));
    }
}
