//! GraphQL shapes of the feature sets: `ManagerRightSet` and `RepFeatureSet` (every field)
//! and their patches (every field optional). Field lists mirror `service::features`; a test
//! checks they agree.

use async_graphql::{InputObject, MaybeUndefined, SimpleObject};

use crate::service::features::{self, OverridePatch, Patch};

/// Team-level rights of a team manager (SPEC 4.1).
#[derive(SimpleObject, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManagerRightSet {
    /// Add and delete sub-teams of the team.
    pub add_delete_subteams: bool,
    /// Add and delete reps of the team.
    pub add_delete_reps: bool,
    /// Change reps' name, login, e-mail and screen name.
    pub change_rep_name_login: bool,
    /// Set reps' passwords.
    pub change_rep_password: bool,
    /// Schedule reports.
    pub schedule_reports: bool,
    /// Receive monthly reports.
    pub monthly_reports: bool,
    /// Watch session recordings.
    pub session_replay: bool,
    /// Export session recordings (needs `sessionReplay`).
    pub export_session_replay: bool,
    /// Set canned responses.
    pub set_canned_responses: bool,
    /// Download the pre-installed app.
    pub download_preinstalled_app: bool,
    /// Cancel support requests.
    pub cancel_requests: bool,
    /// Log reps out.
    pub log_out_reps: bool,
    /// Watch reps' sessions as a supervisor.
    pub supervisor_viewing: bool,
    /// Set how many sessions a rep may run at once.
    pub concurrent_sessions: bool,
    /// Reset portal reports.
    pub reset_portal_reports: bool,
    /// Manage business hours.
    pub manage_business_hours: bool,
}

impl From<features::RightSet> for ManagerRightSet {
    fn from(set: features::RightSet) -> Self {
        ManagerRightSet {
            add_delete_subteams: set.get("addDeleteSubteams"),
            add_delete_reps: set.get("addDeleteReps"),
            change_rep_name_login: set.get("changeRepNameLogin"),
            change_rep_password: set.get("changeRepPassword"),
            schedule_reports: set.get("scheduleReports"),
            monthly_reports: set.get("monthlyReports"),
            session_replay: set.get("sessionReplay"),
            export_session_replay: set.get("exportSessionReplay"),
            set_canned_responses: set.get("setCannedResponses"),
            download_preinstalled_app: set.get("downloadPreinstalledApp"),
            cancel_requests: set.get("cancelRequests"),
            log_out_reps: set.get("logOutReps"),
            supervisor_viewing: set.get("supervisorViewing"),
            concurrent_sessions: set.get("concurrentSessions"),
            reset_portal_reports: set.get("resetPortalReports"),
            manage_business_hours: set.get("manageBusinessHours"),
        }
    }
}

/// Changes to a `ManagerRightSet`; absent fields stay as they are.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct ManagerRightSetPatch {
    /// Add and delete sub-teams of the team.
    pub add_delete_subteams: Option<bool>,
    /// Add and delete reps of the team.
    pub add_delete_reps: Option<bool>,
    /// Change reps' name, login, e-mail and screen name.
    pub change_rep_name_login: Option<bool>,
    /// Set reps' passwords.
    pub change_rep_password: Option<bool>,
    /// Schedule reports.
    pub schedule_reports: Option<bool>,
    /// Receive monthly reports.
    pub monthly_reports: Option<bool>,
    /// Watch session recordings.
    pub session_replay: Option<bool>,
    /// Export session recordings (needs `sessionReplay`).
    pub export_session_replay: Option<bool>,
    /// Set canned responses.
    pub set_canned_responses: Option<bool>,
    /// Download the pre-installed app.
    pub download_preinstalled_app: Option<bool>,
    /// Cancel support requests.
    pub cancel_requests: Option<bool>,
    /// Log reps out.
    pub log_out_reps: Option<bool>,
    /// Watch reps' sessions as a supervisor.
    pub supervisor_viewing: Option<bool>,
    /// Set how many sessions a rep may run at once.
    pub concurrent_sessions: Option<bool>,
    /// Reset portal reports.
    pub reset_portal_reports: Option<bool>,
    /// Manage business hours.
    pub manage_business_hours: Option<bool>,
}

impl ManagerRightSetPatch {
    /// The fields the patch names.
    pub fn fields(&self) -> Patch {
        [
            ("addDeleteSubteams", self.add_delete_subteams),
            ("addDeleteReps", self.add_delete_reps),
            ("changeRepNameLogin", self.change_rep_name_login),
            ("changeRepPassword", self.change_rep_password),
            ("scheduleReports", self.schedule_reports),
            ("monthlyReports", self.monthly_reports),
            ("sessionReplay", self.session_replay),
            ("exportSessionReplay", self.export_session_replay),
            ("setCannedResponses", self.set_canned_responses),
            ("downloadPreinstalledApp", self.download_preinstalled_app),
            ("cancelRequests", self.cancel_requests),
            ("logOutReps", self.log_out_reps),
            ("supervisorViewing", self.supervisor_viewing),
            ("concurrentSessions", self.concurrent_sessions),
            ("resetPortalReports", self.reset_portal_reports),
            ("manageBusinessHours", self.manage_business_hours),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect()
    }
}

/// Rep features (SPEC 4.2).
#[derive(SimpleObject, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepFeatureSet {
    /// Sign in to the management center.
    pub management_center_access: bool,
    /// Reboot and reconnect the customer's device.
    pub reboot_reconnect: bool,
    /// See reports (needs `managementCenterAccess`).
    pub reports: bool,
    /// Run several sessions at once.
    pub multi_session: bool,
    /// Share the rep's screen.
    pub rep_screen_sharing: bool,
    /// Record sessions for replay (needs `managementCenterAccess`).
    pub session_replay: bool,
    /// Export session recordings (needs `sessionReplay`).
    pub export_session_replay: bool,
    /// Send files.
    pub file_transfer_send: bool,
    /// Receive files.
    pub file_transfer_receive: bool,
    /// See the customer's screen.
    pub customer_screen_sharing: bool,
}

impl From<features::RepFeatureSet> for RepFeatureSet {
    fn from(set: features::RepFeatureSet) -> Self {
        RepFeatureSet {
            management_center_access: set.get("managementCenterAccess"),
            reboot_reconnect: set.get("rebootReconnect"),
            reports: set.get("reports"),
            multi_session: set.get("multiSession"),
            rep_screen_sharing: set.get("repScreenSharing"),
            session_replay: set.get("sessionReplay"),
            export_session_replay: set.get("exportSessionReplay"),
            file_transfer_send: set.get("fileTransferSend"),
            file_transfer_receive: set.get("fileTransferReceive"),
            customer_screen_sharing: set.get("customerScreenSharing"),
        }
    }
}

/// Changes to a `RepFeatureSet`; absent fields stay as they are.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct RepFeatureSetPatch {
    /// Sign in to the management center.
    pub management_center_access: Option<bool>,
    /// Reboot and reconnect the customer's device.
    pub reboot_reconnect: Option<bool>,
    /// See reports (needs `managementCenterAccess`).
    pub reports: Option<bool>,
    /// Run several sessions at once.
    pub multi_session: Option<bool>,
    /// Share the rep's screen.
    pub rep_screen_sharing: Option<bool>,
    /// Record sessions for replay (needs `managementCenterAccess`).
    pub session_replay: Option<bool>,
    /// Export session recordings (needs `sessionReplay`).
    pub export_session_replay: Option<bool>,
    /// Send files.
    pub file_transfer_send: Option<bool>,
    /// Receive files.
    pub file_transfer_receive: Option<bool>,
    /// See the customer's screen.
    pub customer_screen_sharing: Option<bool>,
}

impl RepFeatureSetPatch {
    /// The fields the patch names.
    pub fn fields(&self) -> Patch {
        [
            ("managementCenterAccess", self.management_center_access),
            ("rebootReconnect", self.reboot_reconnect),
            ("reports", self.reports),
            ("multiSession", self.multi_session),
            ("repScreenSharing", self.rep_screen_sharing),
            ("sessionReplay", self.session_replay),
            ("exportSessionReplay", self.export_session_replay),
            ("fileTransferSend", self.file_transfer_send),
            ("fileTransferReceive", self.file_transfer_receive),
            ("customerScreenSharing", self.customer_screen_sharing),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect()
    }
}

/// Per-rep overrides: `null` follows the team's `repDefaults`. (What each feature is:
/// `RepFeatureSet`.)
#[derive(SimpleObject, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepFeatureOverrides {
    /// Override of `managementCenterAccess`.
    pub management_center_access: Option<bool>,
    /// Override of `rebootReconnect`.
    pub reboot_reconnect: Option<bool>,
    /// Override of `reports`.
    pub reports: Option<bool>,
    /// Override of `multiSession`.
    pub multi_session: Option<bool>,
    /// Override of `repScreenSharing`.
    pub rep_screen_sharing: Option<bool>,
    /// Override of `sessionReplay`.
    pub session_replay: Option<bool>,
    /// Override of `exportSessionReplay`.
    pub export_session_replay: Option<bool>,
    /// Override of `fileTransferSend`.
    pub file_transfer_send: Option<bool>,
    /// Override of `fileTransferReceive`.
    pub file_transfer_receive: Option<bool>,
    /// Override of `customerScreenSharing`.
    pub customer_screen_sharing: Option<bool>,
}

/// Changes to a rep's overrides: `true`/`false` overrides the team's default for this rep,
/// `null` clears the override (the rep follows its team again), absent leaves it as it is.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct RepFeatureOverridesPatch {
    /// Sign in to the management center.
    pub management_center_access: MaybeUndefined<bool>,
    /// Reboot and reconnect the customer's device.
    pub reboot_reconnect: MaybeUndefined<bool>,
    /// See reports (needs `managementCenterAccess`).
    pub reports: MaybeUndefined<bool>,
    /// Run several sessions at once.
    pub multi_session: MaybeUndefined<bool>,
    /// Share the rep's screen.
    pub rep_screen_sharing: MaybeUndefined<bool>,
    /// Record sessions for replay (needs `managementCenterAccess`).
    pub session_replay: MaybeUndefined<bool>,
    /// Export session recordings (needs `sessionReplay`).
    pub export_session_replay: MaybeUndefined<bool>,
    /// Send files.
    pub file_transfer_send: MaybeUndefined<bool>,
    /// Receive files.
    pub file_transfer_receive: MaybeUndefined<bool>,
    /// See the customer's screen.
    pub customer_screen_sharing: MaybeUndefined<bool>,
}

impl RepFeatureOverridesPatch {
    /// The fields the patch names: `Some` sets, `None` clears.
    pub fn fields(&self) -> OverridePatch {
        [
            ("managementCenterAccess", self.management_center_access),
            ("rebootReconnect", self.reboot_reconnect),
            ("reports", self.reports),
            ("multiSession", self.multi_session),
            ("repScreenSharing", self.rep_screen_sharing),
            ("sessionReplay", self.session_replay),
            ("exportSessionReplay", self.export_session_replay),
            ("fileTransferSend", self.file_transfer_send),
            ("fileTransferReceive", self.file_transfer_receive),
            ("customerScreenSharing", self.customer_screen_sharing),
        ]
        .into_iter()
        .filter_map(|(name, value)| match value {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some((name, None)),
            MaybeUndefined::Value(on) => Some((name, Some(on))),
        })
        .collect()
    }
}

impl From<features::Overrides> for RepFeatureOverrides {
    fn from(o: features::Overrides) -> Self {
        let value = |name: &str| {
            let bit = features::RepFeatureSet::none().with(name, true).bits();
            (o.mask & bit != 0).then_some(o.values & bit != 0)
        };
        RepFeatureOverrides {
            management_center_access: value("managementCenterAccess"),
            reboot_reconnect: value("rebootReconnect"),
            reports: value("reports"),
            multi_session: value("multiSession"),
            rep_screen_sharing: value("repScreenSharing"),
            session_replay: value("sessionReplay"),
            export_session_replay: value("exportSessionReplay"),
            file_transfer_send: value("fileTransferSend"),
            file_transfer_receive: value("fileTransferReceive"),
            customer_screen_sharing: value("customerScreenSharing"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::features::{FeatureKind, ManagerRights, RepFeatures};

    #[test]
    fn graphql_fields_are_the_feature_fields() {
        let all = ManagerRightSetPatch {
            add_delete_subteams: Some(true),
            add_delete_reps: Some(true),
            change_rep_name_login: Some(true),
            change_rep_password: Some(true),
            schedule_reports: Some(true),
            monthly_reports: Some(true),
            session_replay: Some(true),
            export_session_replay: Some(true),
            set_canned_responses: Some(true),
            download_preinstalled_app: Some(true),
            cancel_requests: Some(true),
            log_out_reps: Some(true),
            supervisor_viewing: Some(true),
            concurrent_sessions: Some(true),
            reset_portal_reports: Some(true),
            manage_business_hours: Some(true),
        };
        let names: Vec<_> = all.fields().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ManagerRights::FIELDS);
        let all = RepFeatureSetPatch {
            management_center_access: Some(false),
            reboot_reconnect: Some(false),
            reports: Some(false),
            multi_session: Some(false),
            rep_screen_sharing: Some(false),
            session_replay: Some(false),
            export_session_replay: Some(false),
            file_transfer_send: Some(false),
            file_transfer_receive: Some(false),
            customer_screen_sharing: Some(false),
        };
        let names: Vec<_> = all.fields().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, RepFeatures::FIELDS);
        let all = RepFeatureOverridesPatch {
            management_center_access: MaybeUndefined::Null,
            reboot_reconnect: MaybeUndefined::Null,
            reports: MaybeUndefined::Null,
            multi_session: MaybeUndefined::Null,
            rep_screen_sharing: MaybeUndefined::Null,
            session_replay: MaybeUndefined::Null,
            export_session_replay: MaybeUndefined::Null,
            file_transfer_send: MaybeUndefined::Null,
            file_transfer_receive: MaybeUndefined::Null,
            customer_screen_sharing: MaybeUndefined::Null,
        };
        let names: Vec<_> = all.fields().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, RepFeatures::FIELDS);
    }
}
