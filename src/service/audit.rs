//! Writing the audit log. Every change goes through [`record`] inside the change's own
//! transaction, so a change and its audit entry land together or not at all.

use chrono::{DateTime, Utc};
use entity::audit_event;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::{Actor, ClientInfo},
    error::AppError,
    service::{
        access::{self, Access},
        paging::{self, Order, Page, PageRequest},
    },
    state::AppState,
};

/// A closed list of names stored as text: `as_str` is what the database keeps, the GraphQL
/// enum value is the variant in SCREAMING_CASE.
macro_rules! stored_names {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident => $text:literal,)*
    }) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, async_graphql::Enum)]
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// The name as stored.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value a stored name stands for.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

stored_names! {
    /// What was done: the mutation (or CLI command, or detected attack) an audit event
    /// records.
    #[graphql(name = "AuditAction")]
    pub enum Action {
        /// `admin-center account create` (the platform operator).
        CreateAccount => "createAccount",
        /// `admin-center account allow-api-managers` (the platform operator).
        AllowApiManagers => "allowApiManagers",
        /// A successful sign-in.
        Login => "login",
        /// A failed sign-in of a known login (the caller is anonymous).
        LoginFailed => "loginFailed",
        /// `logout`.
        Logout => "logout",
        /// `changePassword`.
        ChangePassword => "changePassword",
        /// A `changePassword` with a wrong current password.
        ChangePasswordFailed => "changePasswordFailed",
        /// `requestPasswordReset` for a login that may reset its password.
        RequestPasswordReset => "requestPasswordReset",
        /// `resetPassword`.
        ResetPassword => "resetPassword",
        /// `admin-center manager reset-password` (the platform operator): a new one-time
        /// password, every session of the manager ended (the password is never recorded).
        ResetPasswordByOperator => "resetPasswordByOperator",
        /// `validateEmail`.
        ValidateEmail => "validateEmail",
        /// `createTeamManager`.
        CreateTeamManager => "createTeamManager",
        /// `createApiManager`.
        CreateApiManager => "createApiManager",
        /// `updateManager`.
        UpdateManager => "updateManager",
        /// `deleteManager`.
        DeleteManager => "deleteManager",
        /// `updateManagerRights`.
        UpdateManagerRights => "updateManagerRights",
        /// `updateManagerRepControls`.
        UpdateManagerRepControls => "updateManagerRepControls",
        /// `setManagerTeams`.
        SetManagerTeams => "setManagerTeams",
        /// `setManagerPortals`.
        SetManagerPortals => "setManagerPortals",
        /// `updateManagerLoginSettings`.
        UpdateManagerLoginSettings => "updateManagerLoginSettings",
        /// `updateAccountSso` (for the client secret, only that it changed).
        UpdateAccountSso => "updateAccountSso",
        /// A single sign-on that gave no session (its `reason` in `after`; the caller is
        /// anonymous).
        SsoLoginFailed => "ssoLoginFailed",
        /// An identity at the account's provider linked to a manager: by the manager itself
        /// (`completeSsoLink`), or by its first sign-in with a matching e-mail address
        /// (`after.by: "emailMatch"`).
        LinkSsoIdentity => "linkSsoIdentity",
        /// `unlinkSsoIdentities` (the identities removed in `before`).
        UnlinkSsoIdentity => "unlinkSsoIdentity",
        /// `createTeam`.
        CreateTeam => "createTeam",
        /// `updateTeam`.
        UpdateTeam => "updateTeam",
        /// `deleteTeam`.
        DeleteTeam => "deleteTeam",
        /// `updateTeamManagerFeatures`.
        UpdateTeamManagerFeatures => "updateTeamManagerFeatures",
        /// `updateTeamRepDefaults` (one event for the team, one per rep whose overrides it
        /// settled).
        UpdateTeamRepDefaults => "updateTeamRepDefaults",
        /// `createPortal`.
        CreatePortal => "createPortal",
        /// `updatePortal`.
        UpdatePortal => "updatePortal",
        /// `deletePortal`.
        DeletePortal => "deletePortal",
        /// `createRep`.
        CreateRep => "createRep",
        /// `updateRep`.
        UpdateRep => "updateRep",
        /// `setRepPassword` (the password is never recorded).
        SetRepPassword => "setRepPassword",
        /// `updateRepFeatures`.
        UpdateRepFeatures => "updateRepFeatures",
        /// `deleteRep`.
        DeleteRep => "deleteRep",
        /// `registerDeveloperApp` (or `admin-center app register`).
        RegisterDeveloperApp => "registerDeveloperApp",
        /// `rotateDeveloperAppSecret`.
        RotateDeveloperAppSecret => "rotateDeveloperAppSecret",
        /// `updateDeveloperApp`.
        UpdateDeveloperApp => "updateDeveloperApp",
        /// `disableDeveloperApp`.
        DisableDeveloperApp => "disableDeveloperApp",
        /// An API manager authorized an app (OAuth consent).
        AuthorizeApplication => "authorizeApplication",
        /// `revokeApiManagerApplications` (one event per authorization).
        RevokeApiManagerApplications => "revokeApiManagerApplications",
        /// A refresh token was used twice: its whole family was revoked.
        RefreshTokenReuse => "refreshTokenReuse",
        /// An authorization code was redeemed twice: what it issued was revoked.
        AuthorizationCodeReuse => "authorizationCodeReuse",
    }
}

stored_names! {
    /// What kind of thing an audit event is about.
    #[graphql(name = "AuditTargetType")]
    pub enum TargetType {
        /// The account itself.
        Account => "account",
        /// A manager.
        Manager => "manager",
        /// A team or sub-team.
        Team => "team",
        /// A portal or sub-portal.
        Portal => "portal",
        /// A rep.
        Rep => "rep",
        /// A developer app.
        DeveloperApp => "developerApp",
        /// An API manager's authorization of a developer app.
        AppAuthorization => "appAuthorization",
    }
}

/// Who did it: a signed-in manager, the platform operator at the CLI, or an anonymous caller
/// (a failed sign-in, a reset request, a reset with a mailed token: whoever sent it is not
/// known to be the manager, who stays the target).
#[derive(Clone, Debug)]
pub enum AuditActor<'a> {
    Manager { id: Uuid, login: &'a str },
    Operator,
    Anonymous,
}

impl<'a> AuditActor<'a> {
    pub fn of(actor: &'a Actor) -> Self {
        AuditActor::Manager {
            id: actor.manager_id,
            login: &actor.login,
        }
    }
}

#[derive(Debug)]
pub struct AuditEntry<'a> {
    pub account_id: Uuid,
    pub actor: AuditActor<'a>,
    /// The GraphQL mutation name (or its CLI equivalent), e.g. `createAccount`.
    pub action: Action,
    pub target_type: TargetType,
    pub target_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub client_address: Option<String>,
}

/// The entry for a change `actor` made to `target` (of `target_type`), with the settings
/// that changed.
pub fn entry<'a>(
    actor: &'a Actor,
    client: &ClientInfo,
    target_type: TargetType,
    action: Action,
    target: Uuid,
    before: Option<Value>,
    after: Option<Value>,
) -> AuditEntry<'a> {
    AuditEntry {
        account_id: actor.account_id,
        actor: AuditActor::of(actor),
        action,
        target_type,
        target_id: Some(target),
        before,
        after,
        client_address: client.address.clone(),
    }
}

pub async fn record(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    entry: AuditEntry<'_>,
) -> Result<(), AppError> {
    audit_event::Entity::insert(row(now, entry))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Rows per multi-row insert: 11 parameters each stays well under SQLite's and PostgreSQL's
/// limits on bound parameters.
const ROWS_PER_INSERT: usize = 500;

/// Several entries, a few hundred per statement (nothing when there are none).
pub async fn record_all<'a>(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    entries: impl IntoIterator<Item = AuditEntry<'a>>,
) -> Result<(), AppError> {
    let rows: Vec<audit_event::ActiveModel> =
        entries.into_iter().map(|entry| row(now, entry)).collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        audit_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

fn row(now: DateTime<Utc>, entry: AuditEntry<'_>) -> audit_event::ActiveModel {
    let (actor_id, actor_label) = match entry.actor {
        AuditActor::Manager { id, login } => (Some(id), login.to_owned()),
        AuditActor::Operator => (None, "operator".to_owned()),
        AuditActor::Anonymous => (None, "anonymous".to_owned()),
    };
    audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(entry.account_id),
        actor_id: Set(actor_id),
        actor_label: Set(actor_label),
        action: Set(entry.action.as_str().to_owned()),
        target_type: Set(entry.target_type.as_str().to_owned()),
        target_id: Set(entry.target_id),
        before: Set(entry.before),
        after: Set(entry.after),
        client_address: Set(entry.client_address),
        created_at: Set(now),
    }
}

/// What `auditEvents` keeps: every filter set must match.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub action: Option<Action>,
    pub target_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Strictly before.
    pub until: Option<DateTime<Utc>>,
}

/// `auditEvents(action, targetId, actorId, since, until, …)`: the account's log, newest first.
/// Company managers only.
pub async fn list(
    state: &AppState,
    caller: &Access,
    filter: AuditFilter,
    page: PageRequest,
) -> Result<Page<audit_event::Model>, AppError> {
    let actor = caller.person()?;
    access::company_only(actor)?;
    let mut query =
        audit_event::Entity::find().filter(audit_event::Column::AccountId.eq(actor.account_id));
    if let Some(action) = filter.action {
        query = query.filter(audit_event::Column::Action.eq(action.as_str()));
    }
    if let Some(target) = filter.target_id {
        query = query.filter(audit_event::Column::TargetId.eq(target));
    }
    if let Some(actor_id) = filter.actor_id {
        query = query.filter(audit_event::Column::ActorId.eq(actor_id));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_event::Column::CreatedAt.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_event::Column::CreatedAt.lt(until));
    }
    let page = page.check()?;
    paging::fetch(
        &state.db,
        query,
        audit_event::Column::Id,
        page,
        Order::NewestFirst,
    )
    .await
}
