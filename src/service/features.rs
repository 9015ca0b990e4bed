//! Feature sets: a team manager's rights (SPEC 4.1) and rep features (SPEC 4.2), and the
//! dependency rules of SPEC 4.3, in one place used by every set that has the fields.
//!
//! A set is stored as a bit mask: bit `i` is field `FIELDS[i]`. The order is the storage
//! format: never reorder, only append.

use std::marker::PhantomData;

use serde_json::{Map, Value};

use crate::error::AppError;

pub trait FeatureKind: Copy + Send + Sync + 'static {
    /// GraphQL field names, in bit order.
    const FIELDS: &'static [&'static str];
}

/// "`dependent` requires `parent`" (SPEC 4.3). A rule applies to every set that has both
/// fields.
pub const DEPENDENCIES: &[(&str, &str)] = &[
    ("reports", "managementCenterAccess"),
    ("sessionReplay", "managementCenterAccess"),
    ("exportSessionReplay", "sessionReplay"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManagerRights;

impl FeatureKind for ManagerRights {
    const FIELDS: &'static [&'static str] = &[
        "addDeleteSubteams",
        "addDeleteReps",
        "changeRepNameLogin",
        "changeRepPassword",
        "scheduleReports",
        "monthlyReports",
        "sessionReplay",
        "exportSessionReplay",
        "setCannedResponses",
        "downloadPreinstalledApp",
        "cancelRequests",
        "logOutReps",
        "supervisorViewing",
        "concurrentSessions",
        "resetPortalReports",
        "manageBusinessHours",
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepFeatures;

impl FeatureKind for RepFeatures {
    const FIELDS: &'static [&'static str] = &[
        "managementCenterAccess",
        "rebootReconnect",
        "reports",
        "multiSession",
        "repScreenSharing",
        "sessionReplay",
        "exportSessionReplay",
        "fileTransferSend",
        "fileTransferReceive",
        "customerScreenSharing",
    ];
}

pub struct FeatureSet<K> {
    bits: i64,
    kind: PhantomData<K>,
}

impl<K> Clone for FeatureSet<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for FeatureSet<K> {}
impl<K> PartialEq for FeatureSet<K> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}
impl<K> Eq for FeatureSet<K> {}

impl<K: FeatureKind> std::fmt::Debug for FeatureSet<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.iter().filter(|(_, on)| *on).map(|(name, _)| name))
            .finish()
    }
}

pub type RightSet = FeatureSet<ManagerRights>;
pub type RepFeatureSet = FeatureSet<RepFeatures>;

/// A patch: the fields it names, with their new values. Absent fields stay as they are.
pub type Patch = Vec<(&'static str, bool)>;

/// A patch of a rep's overrides: `Some(value)` overrides the field, `None` clears its override
/// (the rep follows its team again). Absent fields stay as they are.
pub type OverridePatch = Vec<(&'static str, Option<bool>)>;

impl<K: FeatureKind> FeatureSet<K> {
    fn mask() -> i64 {
        (1i64 << K::FIELDS.len()) - 1
    }

    fn index(name: &str) -> Option<usize> {
        K::FIELDS.iter().position(|f| *f == name)
    }

    pub fn none() -> Self {
        Self::from_bits(0)
    }

    pub fn all() -> Self {
        Self::from_bits(Self::mask())
    }

    /// Unknown bits are dropped.
    pub fn from_bits(bits: i64) -> Self {
        FeatureSet {
            bits: bits & Self::mask(),
            kind: PhantomData,
        }
    }

    pub fn bits(self) -> i64 {
        self.bits
    }

    pub fn get(self, name: &str) -> bool {
        Self::index(name).is_some_and(|i| self.bits & (1 << i) != 0)
    }

    pub fn with(self, name: &str, on: bool) -> Self {
        match Self::index(name) {
            Some(i) if on => Self::from_bits(self.bits | (1 << i)),
            Some(i) => Self::from_bits(self.bits & !(1 << i)),
            None => self,
        }
    }

    /// On where both are on: what a team manager may use on a team (SPEC 4.4).
    pub fn intersect(self, other: Self) -> Self {
        Self::from_bits(self.bits & other.bits)
    }

    pub fn iter(self) -> impl Iterator<Item = (&'static str, bool)> {
        K::FIELDS.iter().map(move |f| (*f, self.get(f)))
    }

    /// The rules that apply to this kind of set.
    fn rules() -> impl Iterator<Item = (&'static str, &'static str)> {
        DEPENDENCIES.iter().copied().filter(|(dependent, parent)| {
            Self::index(dependent).is_some() && Self::index(parent).is_some()
        })
    }

    /// Turns off every feature whose parent is off, transitively.
    pub fn normalized(self) -> Self {
        let mut set = self;
        loop {
            let before = set;
            for (dependent, parent) in Self::rules() {
                if !set.get(parent) {
                    set = set.with(dependent, false);
                }
            }
            if set == before {
                return set;
            }
        }
    }

    /// Merges `patch` into `self` (SPEC 4.3): a patch that turns a parent off turns its
    /// dependents off too, transitively; a patch that turns a dependent on while its parent
    /// ends up off is refused whole with `DEPENDENCY_VIOLATION` naming those fields and the
    /// settings each one needs.
    pub fn apply(self, patch: &[(&'static str, bool)]) -> Result<Self, AppError> {
        let mut merged = self;
        for (name, on) in patch {
            merged = merged.with(name, *on);
        }
        let merged = merged.normalized();
        let mut violations: Vec<&str> = patch
            .iter()
            .filter(|(name, on)| *on && !merged.get(name))
            .map(|(name, _)| *name)
            .collect();
        if violations.is_empty() {
            return Ok(merged);
        }
        violations.sort_unstable();
        violations.dedup();
        let needs = violations
            .into_iter()
            .map(|field| {
                let missing = Self::missing(merged, patch, field);
                (
                    field.to_owned(),
                    missing.into_iter().map(str::to_owned).collect(),
                )
            })
            .collect();
        Err(AppError::DependencyViolation { needs })
    }

    /// What `field` needs turned on, nearest first: the settings it depends on, transitively,
    /// that end up off in `merged` and that `patch` does not turn on (one the patch turns on
    /// is refused itself, and its own entry names what it needs).
    fn missing(merged: Self, patch: &[(&'static str, bool)], field: &str) -> Vec<&'static str> {
        let mut missing = Vec::new();
        let mut pending = vec![field];
        while let Some(current) = pending.pop() {
            for (dependent, parent) in Self::rules() {
                if dependent == current && !merged.get(parent) {
                    if !patch.contains(&(parent, true)) && !missing.contains(&parent) {
                        missing.push(parent);
                    }
                    pending.push(parent);
                }
            }
        }
        missing
    }

    /// Applies `patch` to a set stored as `bits`: the new bits, and the fields that changed
    /// before and after (for the audit log).
    pub fn patch_stored(
        bits: i64,
        patch: &[(&'static str, bool)],
    ) -> Result<(i64, Value, Value), AppError> {
        let old = Self::from_bits(bits);
        let new = old.apply(patch)?;
        let (before, after) = Self::diff(old, new);
        Ok((new.bits(), before, after))
    }

    /// The fields that differ between two sets, as `{field: value}` before and after: what the
    /// audit log keeps.
    pub fn diff(before: Self, after: Self) -> (Value, Value) {
        let mut old = Map::new();
        let mut new = Map::new();
        for ((name, was), (_, is)) in before.iter().zip(after.iter()) {
            if was != is {
                old.insert(name.into(), Value::Bool(was));
                new.insert(name.into(), Value::Bool(is));
            }
        }
        (Value::Object(old), Value::Object(new))
    }

    /// Every field, as a JSON object.
    pub fn to_json(self) -> Value {
        Value::Object(
            self.iter()
                .map(|(name, on)| (name.to_owned(), Value::Bool(on)))
                .collect(),
        )
    }
}

/// Per-rep overrides of rep features: `mask` says which fields the rep overrides, `values`
/// what they are. Unset fields follow the team's `repDefaults`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Overrides {
    pub mask: i64,
    pub values: i64,
}

impl Overrides {
    /// The rep's effective features: its overrides over the team's defaults, normalized so the
    /// dependency rules hold even when the team's defaults changed later.
    pub fn effective(self, defaults: RepFeatureSet) -> RepFeatureSet {
        RepFeatureSet::from_bits((defaults.bits() & !self.mask) | (self.values & self.mask))
            .normalized()
    }

    /// The overrides as they must be stored under `defaults`: an override that is on while
    /// the rules turn it off (its parent is off, by the team's defaults or another override)
    /// is switched off for good, as if the company had switched it off. So the stored
    /// overrides always say what is enforced, and turning the parent back on later does not
    /// bring the feature back.
    pub fn settled(self, defaults: RepFeatureSet) -> Overrides {
        let effective = self.effective(defaults).bits();
        Overrides {
            mask: self.mask,
            values: self.values & (effective | !self.mask),
        }
    }

    /// The overridden fields whose values differ between `self` and `other`, as `{field:
    /// value}` before and after (for the audit log).
    pub fn diff(self, other: Overrides) -> (Value, Value) {
        let mask = self.mask | other.mask;
        RepFeatureSet::diff(
            RepFeatureSet::from_bits(self.values & mask),
            RepFeatureSet::from_bits(other.values & mask),
        )
    }

    /// Applies a patch to the effective features; every field whose effective value the patch
    /// (or its cascade) touches becomes an override. The result is settled: every override
    /// equals the effective value.
    pub fn apply(
        self,
        defaults: RepFeatureSet,
        patch: &[(&'static str, bool)],
    ) -> Result<(Overrides, RepFeatureSet), AppError> {
        let before = self.effective(defaults);
        let after = before.apply(patch)?;
        let mut touched = before.bits() ^ after.bits();
        for (name, _) in patch {
            touched |= RepFeatureSet::none().with(name, true).bits();
        }
        let mask = self.mask | touched;
        Ok((
            Overrides {
                mask,
                values: after.bits() & mask,
            },
            after,
        ))
    }

    /// Applies an override patch: cleared fields first follow the team again, then the set
    /// fields apply as in [`Overrides::apply`]; the result is settled.
    pub fn apply_patch(
        self,
        defaults: RepFeatureSet,
        patch: &[(&'static str, Option<bool>)],
    ) -> Result<(Overrides, RepFeatureSet), AppError> {
        let cleared = patch
            .iter()
            .filter(|(_, value)| value.is_none())
            .fold(0, |bits, (name, _)| {
                bits | RepFeatureSet::none().with(name, true).bits()
            });
        let base = Overrides {
            mask: self.mask & !cleared,
            values: self.values & !cleared,
        };
        let sets: Patch = patch
            .iter()
            .filter_map(|(name, value)| value.map(|on| (*name, on)))
            .collect();
        let (next, _) = base.apply(defaults, &sets)?;
        let next = next.settled(defaults);
        Ok((next, next.effective(defaults)))
    }
}

/// A team-level right of a team manager (SPEC 4.1): what permission checks name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Right {
    AddDeleteSubteams,
    AddDeleteReps,
    ChangeRepNameLogin,
    ChangeRepPassword,
    ScheduleReports,
    MonthlyReports,
    SessionReplay,
    ExportSessionReplay,
    SetCannedResponses,
    DownloadPreinstalledApp,
    CancelRequests,
    LogOutReps,
    SupervisorViewing,
    ConcurrentSessions,
    ResetPortalReports,
    ManageBusinessHours,
}

impl Right {
    pub const ALL: [Right; 16] = [
        Right::AddDeleteSubteams,
        Right::AddDeleteReps,
        Right::ChangeRepNameLogin,
        Right::ChangeRepPassword,
        Right::ScheduleReports,
        Right::MonthlyReports,
        Right::SessionReplay,
        Right::ExportSessionReplay,
        Right::SetCannedResponses,
        Right::DownloadPreinstalledApp,
        Right::CancelRequests,
        Right::LogOutReps,
        Right::SupervisorViewing,
        Right::ConcurrentSessions,
        Right::ResetPortalReports,
        Right::ManageBusinessHours,
    ];

    /// The GraphQL field name.
    pub fn name(self) -> &'static str {
        match self {
            Right::AddDeleteSubteams => "addDeleteSubteams",
            Right::AddDeleteReps => "addDeleteReps",
            Right::ChangeRepNameLogin => "changeRepNameLogin",
            Right::ChangeRepPassword => "changeRepPassword",
            Right::ScheduleReports => "scheduleReports",
            Right::MonthlyReports => "monthlyReports",
            Right::SessionReplay => "sessionReplay",
            Right::ExportSessionReplay => "exportSessionReplay",
            Right::SetCannedResponses => "setCannedResponses",
            Right::DownloadPreinstalledApp => "downloadPreinstalledApp",
            Right::CancelRequests => "cancelRequests",
            Right::LogOutReps => "logOutReps",
            Right::SupervisorViewing => "supervisorViewing",
            Right::ConcurrentSessions => "concurrentSessions",
            Right::ResetPortalReports => "resetPortalReports",
            Right::ManageBusinessHours => "manageBusinessHours",
        }
    }
}

impl RightSet {
    pub fn has(self, field: Right) -> bool {
        self.get(field.name())
    }
}

/// A rep feature (SPEC 4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RepFeature {
    ManagementCenterAccess,
    RebootReconnect,
    Reports,
    MultiSession,
    RepScreenSharing,
    SessionReplay,
    ExportSessionReplay,
    FileTransferSend,
    FileTransferReceive,
    CustomerScreenSharing,
}

impl RepFeature {
    pub const ALL: [RepFeature; 10] = [
        RepFeature::ManagementCenterAccess,
        RepFeature::RebootReconnect,
        RepFeature::Reports,
        RepFeature::MultiSession,
        RepFeature::RepScreenSharing,
        RepFeature::SessionReplay,
        RepFeature::ExportSessionReplay,
        RepFeature::FileTransferSend,
        RepFeature::FileTransferReceive,
        RepFeature::CustomerScreenSharing,
    ];

    /// The GraphQL field name.
    pub fn name(self) -> &'static str {
        match self {
            RepFeature::ManagementCenterAccess => "managementCenterAccess",
            RepFeature::RebootReconnect => "rebootReconnect",
            RepFeature::Reports => "reports",
            RepFeature::MultiSession => "multiSession",
            RepFeature::RepScreenSharing => "repScreenSharing",
            RepFeature::SessionReplay => "sessionReplay",
            RepFeature::ExportSessionReplay => "exportSessionReplay",
            RepFeature::FileTransferSend => "fileTransferSend",
            RepFeature::FileTransferReceive => "fileTransferReceive",
            RepFeature::CustomerScreenSharing => "customerScreenSharing",
        }
    }
}

impl RepFeatureSet {
    pub fn has(self, field: RepFeature) -> bool {
        self.get(field.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(on: &[&str]) -> RepFeatureSet {
        on.iter()
            .fold(RepFeatureSet::none(), |s, f| s.with(f, true))
    }

    fn violation(result: Result<RepFeatureSet, AppError>) -> Vec<String> {
        match result {
            Err(AppError::DependencyViolation { needs }) => {
                needs.into_iter().map(|(field, _)| field).collect()
            }
            other => panic!("expected DEPENDENCY_VIOLATION, got {other:?}"),
        }
    }

    #[test]
    fn bit_layout_is_the_spec_order() {
        assert_eq!(ManagerRights::FIELDS.len(), 16);
        assert_eq!(RepFeatures::FIELDS.len(), 10);
        assert_eq!(RightSet::all().bits(), 0xFFFF);
        assert_eq!(rep(&["reports"]).bits(), 1 << 2);
        assert_eq!(
            RightSet::from_bits(-1),
            RightSet::all(),
            "unknown bits are dropped"
        );
    }

    #[test]
    fn turning_a_dependent_on_under_an_off_parent_is_refused_naming_it() {
        let base = RepFeatureSet::none();
        assert_eq!(violation(base.apply(&[("reports", true)])), ["reports"]);
        assert_eq!(
            violation(base.apply(&[("exportSessionReplay", true), ("reports", true)])),
            ["exportSessionReplay", "reports"]
        );
        // The parent turned off in the same patch counts as off.
        let full = rep(&["managementCenterAccess", "reports"]);
        assert_eq!(
            violation(full.apply(&[("managementCenterAccess", false), ("reports", true)])),
            ["reports"]
        );
    }

    #[test]
    fn each_rule_refuses_its_dependent_alone() {
        for (dependent, parent) in DEPENDENCIES {
            let refused = RepFeatureSet::none().apply(&[(dependent, true)]);
            assert_eq!(
                violation(refused),
                [*dependent],
                "{dependent} needs {parent}"
            );
            let with_parent = rep(&["managementCenterAccess", parent]).apply(&[(dependent, true)]);
            assert!(
                with_parent.is_ok_and(|s| s.get(dependent)),
                "{dependent} with {parent}"
            );
        }
    }

    #[test]
    fn a_refusal_names_what_each_field_needs_turned_on() {
        let needs = |result: Result<RepFeatureSet, AppError>| match result {
            Err(AppError::DependencyViolation { needs }) => needs,
            other => panic!("expected DEPENDENCY_VIOLATION, got {other:?}"),
        };
        let owned = |pairs: &[(&str, &[&str])]| -> Vec<(String, Vec<String>)> {
            pairs
                .iter()
                .map(|(f, n)| ((*f).to_owned(), n.iter().map(|s| (*s).to_owned()).collect()))
                .collect()
        };
        // Nearest first, all the way up.
        assert_eq!(
            needs(RepFeatureSet::none().apply(&[("exportSessionReplay", true)])),
            owned(&[(
                "exportSessionReplay",
                &["sessionReplay", "managementCenterAccess"]
            )])
        );
        // A parent the patch turns on is not missing; what it needs is.
        assert_eq!(
            needs(
                RepFeatureSet::none()
                    .apply(&[("exportSessionReplay", true), ("sessionReplay", true)])
            ),
            owned(&[
                ("exportSessionReplay", &["managementCenterAccess"]),
                ("sessionReplay", &["managementCenterAccess"]),
            ])
        );
        // A parent the same patch turns off is missing.
        let on = rep(&["managementCenterAccess"]);
        assert_eq!(
            needs(on.apply(&[("managementCenterAccess", false), ("reports", true)])),
            owned(&[("reports", &["managementCenterAccess"])])
        );
    }

    #[test]
    fn turning_parent_and_dependent_on_together_is_fine() {
        let set = RepFeatureSet::none()
            .apply(&[
                ("exportSessionReplay", true),
                ("sessionReplay", true),
                ("managementCenterAccess", true),
            ])
            .unwrap();
        assert_eq!(
            set,
            rep(&[
                "managementCenterAccess",
                "sessionReplay",
                "exportSessionReplay"
            ])
        );
    }

    #[test]
    fn turning_a_parent_off_cascades_transitively() {
        let set = rep(&[
            "managementCenterAccess",
            "reports",
            "sessionReplay",
            "exportSessionReplay",
            "fileTransferSend",
        ]);
        let after = set.apply(&[("managementCenterAccess", false)]).unwrap();
        assert_eq!(after, rep(&["fileTransferSend"]));
        let after = set.apply(&[("sessionReplay", false)]).unwrap();
        assert_eq!(
            after,
            rep(&["managementCenterAccess", "reports", "fileTransferSend"])
        );
    }

    #[test]
    fn rights_have_only_the_replay_rule() {
        let rights = RightSet::none();
        match rights.apply(&[("exportSessionReplay", true)]) {
            Err(AppError::DependencyViolation { needs }) => assert_eq!(
                needs,
                [(
                    "exportSessionReplay".to_owned(),
                    vec!["sessionReplay".to_owned()]
                )]
            ),
            other => panic!("{other:?}"),
        }
        let on = RightSet::all().apply(&[("sessionReplay", false)]).unwrap();
        assert!(!on.get("exportSessionReplay"));
        assert!(on.get("addDeleteReps"));
    }

    #[test]
    fn diff_keeps_only_changed_fields() {
        let (before, after) = RepFeatureSet::diff(rep(&["reports"]), rep(&["multiSession"]));
        assert_eq!(
            before,
            serde_json::json!({ "reports": true, "multiSession": false })
        );
        assert_eq!(
            after,
            serde_json::json!({ "reports": false, "multiSession": true })
        );
    }

    #[test]
    fn overrides_win_over_defaults_and_keep_rules() {
        let defaults = rep(&["managementCenterAccess", "reports"]);
        let none = Overrides::default();
        assert_eq!(none.effective(defaults), defaults);
        let (overrides, effective) = none.apply(defaults, &[("multiSession", true)]).unwrap();
        assert_eq!(
            effective,
            rep(&["managementCenterAccess", "reports", "multiSession"])
        );
        // The team later turns access off: the override stays, the rule still holds.
        assert_eq!(
            overrides.effective(rep(&["reports"])),
            rep(&["multiSession"])
        );
        assert_eq!(overrides.settled(rep(&["reports"])), overrides);
        // A cascade becomes an override too.
        let (overrides, effective) = none
            .apply(defaults, &[("managementCenterAccess", false)])
            .unwrap();
        assert_eq!(effective, RepFeatureSet::none());
        assert_eq!(overrides.effective(defaults), RepFeatureSet::none());
    }

    #[test]
    fn typed_fields_are_the_stored_fields_in_bit_order() {
        let rights: Vec<&str> = Right::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(rights, ManagerRights::FIELDS);
        let features: Vec<&str> = RepFeature::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(features, RepFeatures::FIELDS);
    }

    #[test]
    fn an_override_cut_off_by_its_parent_is_stored_off_for_good() {
        let on = rep(&["managementCenterAccess"]);
        let (overrides, effective) = Overrides::default()
            .apply(on, &[("reports", true)])
            .unwrap();
        assert!(effective.get("reports"));
        // The team turns access off: the override is settled off...
        let settled = overrides.settled(RepFeatureSet::none());
        assert_ne!(settled, overrides);
        assert!(!RepFeatureSet::from_bits(settled.values).get("reports"));
        assert_eq!(settled.mask, overrides.mask, "still overridden, now off");
        // ...and stays off when access comes back.
        assert!(!settled.effective(on).get("reports"));
        assert_eq!(
            overrides.diff(settled),
            (
                serde_json::json!({ "reports": true }),
                serde_json::json!({ "reports": false })
            )
        );
        // Settled overrides are left alone.
        assert_eq!(settled.settled(on), settled);
        assert_eq!(overrides.settled(on), overrides);
    }

    #[test]
    fn a_reps_own_patch_leaves_every_override_equal_to_its_effective_value() {
        // Start from an override left on under an off parent (as stored before the rule), then
        // apply every one-field patch under every set of defaults.
        let stale = Overrides {
            mask: rep(&["reports", "exportSessionReplay"]).bits(),
            values: rep(&["reports", "exportSessionReplay"]).bits(),
        };
        for defaults in (0..1 << RepFeatures::FIELDS.len()).map(RepFeatureSet::from_bits) {
            for field in RepFeatures::FIELDS {
                for on in [false, true] {
                    if let Ok((overrides, effective)) = stale.apply(defaults, &[(field, on)]) {
                        assert_eq!(overrides.settled(defaults), overrides, "{field}={on}");
                        assert_eq!(overrides.values & overrides.mask & !effective.bits(), 0);
                    }
                }
            }
        }
    }

    #[test]
    fn settling_follows_the_rules_transitively() {
        let all = rep(&[
            "managementCenterAccess",
            "sessionReplay",
            "exportSessionReplay",
        ]);
        let (overrides, _) = Overrides::default()
            .apply(all, &[("exportSessionReplay", true)])
            .unwrap();
        let settled = overrides.settled(rep(&["sessionReplay"]));
        assert!(!settled.effective(all).get("exportSessionReplay"));
    }
}
