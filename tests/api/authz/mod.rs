//! Authorization, table-driven: every query and mutation as every kind of caller, each outcome
//! exact, and the same again through an alias and (queries) fragments, because no spelling of a
//! request may reach more than the plain one (SPEC 2, 4.4).
//!
//! App tokens are callers too (SPEC 4.4, 6): tokens of A's API manager that real developer
//! apps got through the sign-in and consent pages, each with its own scopes. A token gets what
//! its API manager gets where its scopes allow, `FORBIDDEN` naming the first missing scope
//! where they do not, and `FORBIDDEN` (naming none) for what is for people only.
//!
//! Not in the table: `login`, `requestPasswordReset` and `resetPassword` are open to anyone,
//! and `logout`, `changePassword` and `validateEmail` act on a real session; signin.rs covers
//! all six (apps.rs: app tokens on `logout` and `changePassword`). `completeSsoLogin` is open
//! to anyone too: tests/api/sso.rs covers it.

use std::sync::atomic::{AtomicUsize, Ordering};

use admin_center::{
    clock::Clock,
    service::{account, logins},
};
use entity::{
    SecretHash,
    manager::{self, ManagerKind},
    rep,
};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, User, error_code};

mod apps;
mod changes;
mod found;
mod managers;
mod nested;
mod queries;
mod sso;
mod world;

use world::*;

/// Who asks. Account A has teams T, T2 and U and portals P and P2; B is another account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    /// A's company manager.
    Company,
    /// B's company manager, on A's rows.
    OtherCompany,
    /// Assigned to T (and P) with the rights on, which T allows.
    TeamWithRight,
    /// Assigned to T (and P), no rights, no rep controls.
    TeamWithoutRight,
    /// Rights on, assigned to T2 (and P), whose `managerFeatures` switch those rights off. Its
    /// runs target T2.
    TeamOnT2,
    /// Rights on, assigned to U (and P2) only.
    TeamElsewhere,
    /// A's API manager (A allows API managers).
    Api,
    /// An app token of A's API manager with every scope.
    AppAll,
    /// An app token of A's API manager with the read scopes only.
    AppReadOnly,
    /// An app token of A's API manager with `reps:read` only.
    AppRepsOnly,
    /// An app token of A's API manager with every scope but `portals:read`.
    AppNoPortals,
    /// An app token of A's API manager with the write scopes only.
    AppWriteOnly,
}

const REPS_READ: &str = "reps:read";
const REPS_WRITE: &str = "reps:write";
const TEAMS_READ: &str = "teams:read";
const TEAMS_WRITE: &str = "teams:write";
const PORTALS_READ: &str = "portals:read";

impl Caller {
    /// The scopes of an app token (what its app asked for and the API manager allowed);
    /// `None` for people.
    fn scopes(self) -> Option<&'static [&'static str]> {
        match self {
            Caller::AppAll => Some(&[REPS_READ, REPS_WRITE, TEAMS_READ, TEAMS_WRITE, PORTALS_READ]),
            Caller::AppReadOnly => Some(&[REPS_READ, TEAMS_READ, PORTALS_READ]),
            Caller::AppRepsOnly => Some(&[REPS_READ]),
            Caller::AppNoPortals => Some(&[REPS_READ, REPS_WRITE, TEAMS_READ, TEAMS_WRITE]),
            Caller::AppWriteOnly => Some(&[REPS_WRITE, TEAMS_WRITE]),
            _ => None,
        }
    }

    fn is_app(self) -> bool {
        self.scopes().is_some()
    }

    /// Whether the caller is an app token without `scope`.
    fn lacks(self, scope: &str) -> bool {
        self.scopes().is_some_and(|held| !held.contains(&scope))
    }
}

/// In declaration order: `Fixture::people` is indexed by `caller as usize`.
const CALLERS: [Caller; 13] = [
    Caller::Anonymous,
    Caller::Company,
    Caller::OtherCompany,
    Caller::TeamWithRight,
    Caller::TeamWithoutRight,
    Caller::TeamOnT2,
    Caller::TeamElsewhere,
    Caller::Api,
    Caller::AppAll,
    Caller::AppReadOnly,
    Caller::AppRepsOnly,
    Caller::AppNoPortals,
    Caller::AppWriteOnly,
];

/// What one caller must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// `data.<field>` is there and not null, with no error.
    Data,
    /// `data.<field>` is null, with no error (`me` when anonymous).
    Null,
    /// `errors[0].extensions.code` is exactly this, `extensions.scope` is absent, and
    /// `data.<field>` holds nothing.
    Code(&'static str),
    /// A missing scope: `FORBIDDEN` with `extensions.scope` (and the message) naming it, and
    /// `data.<field>` holds nothing.
    Scope(&'static str),
}

const DATA: Outcome = Outcome::Data;
const NULL: Outcome = Outcome::Null;
const UNAUTHENTICATED: Outcome = Outcome::Code("UNAUTHENTICATED");
const FORBIDDEN: Outcome = Outcome::Code("FORBIDDEN");
const NOT_FOUND: Outcome = Outcome::Code("NOT_FOUND");
const BAD_USER_INPUT: Outcome = Outcome::Code("BAD_USER_INPUT");
const CONFLICT: Outcome = Outcome::Code("CONFLICT");

/// What app tokens need for a row, on top of what their API manager may do.
#[derive(Clone, Copy, Debug)]
enum App {
    /// Forgotten: fails for every app token.
    Unset,
    /// For people only (manager administration, developer apps, the audit log): `FORBIDDEN`
    /// naming no scope, whatever the scopes.
    Refused,
    /// These scopes, in the order the server checks them: a token without one gets
    /// `FORBIDDEN` naming the first it lacks; with all of them, what its API manager gets.
    Needs(&'static [&'static str]),
}

/// The outcome for each caller of one row.
#[derive(Clone, Copy, Debug)]
struct Expect {
    anonymous: Outcome,
    company: Outcome,
    other_company: Outcome,
    team_with_right: Outcome,
    team_without_right: Outcome,
    team_on_t2: Outcome,
    team_elsewhere: Outcome,
    api: Outcome,
    /// For the app tokens (of the API manager), from `api`.
    app: App,
}

impl Expect {
    fn of(&self, caller: Caller) -> Outcome {
        if let Some(held) = caller.scopes() {
            return match self.app {
                App::Unset => Outcome::Code("row has no expectations for app tokens"),
                App::Refused => FORBIDDEN,
                App::Needs(needed) => needed
                    .iter()
                    .find(|scope| !held.contains(scope))
                    .map_or(self.api, |scope| Outcome::Scope(scope)),
            };
        }
        match caller {
            Caller::Anonymous => self.anonymous,
            Caller::Company => self.company,
            Caller::OtherCompany => self.other_company,
            Caller::TeamWithRight => self.team_with_right,
            Caller::TeamWithoutRight => self.team_without_right,
            Caller::TeamOnT2 => self.team_on_t2,
            Caller::TeamElsewhere => self.team_elsewhere,
            Caller::Api
            | Caller::AppAll
            | Caller::AppReadOnly
            | Caller::AppRepsOnly
            | Caller::AppNoPortals
            | Caller::AppWriteOnly => self.api,
        }
    }

    /// The same, with app tokens needing `scopes` (in the order the server checks them).
    const fn needs(self, scopes: &'static [&'static str]) -> Expect {
        Expect {
            app: App::Needs(scopes),
            ..self
        }
    }

    /// The same, with app tokens always refused.
    const fn refused(self) -> Expect {
        Expect {
            app: App::Refused,
            ..self
        }
    }
}

/// Any signed-in caller, each within its own reach (`account`, the lists).
const SIGNED_IN: Expect = Expect {
    anonymous: UNAUTHENTICATED,
    company: DATA,
    other_company: DATA,
    team_with_right: DATA,
    team_without_right: DATA,
    team_on_t2: DATA,
    team_elsewhere: DATA,
    api: DATA,
    app: App::Unset,
};

/// `me`: `null` rather than an error when anonymous.
const ME: Expect = Expect {
    anonymous: NULL,
    ..SIGNED_IN
};

/// A row of A that company and API managers reach account-wide and a team manager only when
/// assigned to it (a team, its reps, a portal).
const ASSIGNED_OR_ACCOUNT_WIDE: Expect = Expect {
    other_company: NOT_FOUND,
    team_elsewhere: NOT_FOUND,
    ..SIGNED_IN
};

/// A right on the target team (SPEC 4.4): assigned, its own right on, and the team allows it.
const NEEDS_RIGHT: Expect = Expect {
    team_without_right: FORBIDDEN,
    team_on_t2: FORBIDDEN,
    ..ASSIGNED_OR_ACCOUNT_WIDE
};

/// Team settings: company and API managers; a team manager sees its team but may not change it.
const TEAM_SETTINGS: Expect = Expect {
    team_with_right: FORBIDDEN,
    team_without_right: FORBIDDEN,
    team_on_t2: FORBIDDEN,
    ..ASSIGNED_OR_ACCOUNT_WIDE
};

/// Account-wide provisioning in the caller's own account: company and API managers.
const PROVISIONING: Expect = Expect {
    anonymous: UNAUTHENTICATED,
    company: DATA,
    other_company: DATA,
    team_with_right: FORBIDDEN,
    team_without_right: FORBIDDEN,
    team_on_t2: FORBIDDEN,
    team_elsewhere: FORBIDDEN,
    api: DATA,
    app: App::Unset,
};

/// Provisioning on a row of A: B's company manager does not see it.
const PROVISIONING_IN_A: Expect = Expect {
    other_company: NOT_FOUND,
    ..PROVISIONING
};

/// Company managers, in their own account. Never app tokens (SPEC 6).
const COMPANY_ONLY: Expect = Expect {
    api: FORBIDDEN,
    app: App::Refused,
    ..PROVISIONING
};

/// Manager administration on a manager of A.
const MANAGER_ADMIN_IN_A: Expect = Expect {
    other_company: NOT_FOUND,
    ..COMPANY_ONLY
};

/// Only A's company manager sees another manager of A.
const ONLY_COMPANY_OF_A: Expect = Expect {
    anonymous: UNAUTHENTICATED,
    company: DATA,
    other_company: NOT_FOUND,
    team_with_right: NOT_FOUND,
    team_without_right: NOT_FOUND,
    team_on_t2: NOT_FOUND,
    team_elsewhere: NOT_FOUND,
    api: NOT_FOUND,
    app: App::Refused,
};

/// A row that forgot its expectations fails for every caller.
const UNSET: Expect = Expect {
    anonymous: Outcome::Code("row has no expectations"),
    company: Outcome::Code("row has no expectations"),
    other_company: Outcome::Code("row has no expectations"),
    team_with_right: Outcome::Code("row has no expectations"),
    team_without_right: Outcome::Code("row has no expectations"),
    team_on_t2: Outcome::Code("row has no expectations"),
    team_elsewhere: Outcome::Code("row has no expectations"),
    api: Outcome::Code("row has no expectations"),
    app: App::Unset,
};

/// What A's company manager creates just before each run of a row, so that no run depends on
/// another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fresh {
    Nothing,
    /// A team manager of A.
    TeamManager,
    /// A top-level team, assigned to the team managers on T and T2 (like T2 for the one on T2).
    Team,
    /// A sub-team of the run's team, assigned to the team managers on T and T2.
    SubTeam,
    /// A portal, assigned to the team managers on T and T2.
    Portal,
    /// A rep of the run's team.
    Rep,
    /// A confidential developer app of A, authorized by no one.
    App,
}

/// The ids one run works with, as its caller sees the world.
struct Run {
    /// The caller itself (A's company manager for the anonymous caller).
    me: Uuid,
    /// The team the operation targets: T, or T2 for the team manager on T2.
    team: Uuid,
    /// A rep of `team`.
    rep: Uuid,
    /// P, which the team managers on T and T2 are assigned to.
    portal: Uuid,
    /// A team manager of A that no caller is.
    bystander: Uuid,
    /// A's API manager (whom the app tokens act for).
    api: Uuid,
    /// A developer app of A, authorized by A's API manager.
    app: Uuid,
    /// The run's own target (`Fresh`); nil when the row needs none.
    fresh: Uuid,
    /// Unique in the test: logins and names.
    n: usize,
}

/// One operation of the API and what each caller must get from it.
struct Row {
    name: &'static str,
    /// Variable definitions, without the parentheses.
    params: &'static str,
    /// The root field with its arguments.
    call: &'static str,
    /// The field's type, for the fragment forms.
    on: &'static str,
    /// The selection on the result; empty for a scalar.
    select: &'static str,
    fresh: Fresh,
    vars: fn(&Run) -> Value,
    expect: Expect,
    /// For a connection: exactly the ids the caller must see.
    scope: Option<fn(&Fixture, Caller) -> Vec<Uuid>>,
}

fn no_vars(_: &Run) -> Value {
    json!({})
}

impl Row {
    const BASE: Row = Row {
        name: "",
        params: "",
        call: "",
        on: "",
        select: "id",
        fresh: Fresh::Nothing,
        vars: no_vars,
        expect: UNSET,
        scope: None,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Query,
    Mutation,
}

/// How the root field is spelled in the document.
#[derive(Clone, Copy, Debug)]
enum Form {
    Plain,
    /// `x: field(…)`.
    Alias,
    /// `{ ...Root } fragment Root on Query { field(…) { ...Fields } } fragment Fields on T`.
    NamedFragment,
    /// `{ ... on Query { field(…) { ... on T { … } } } }`.
    InlineFragment,
}

/// The document for `row` in `form`, and the key of its root field under `data`.
fn document(kind: Kind, row: &Row, form: Form) -> (String, String) {
    let (keyword, root) = match kind {
        Kind::Query => ("query", "Query"),
        Kind::Mutation => ("mutation", "Mutation"),
    };
    let params = if row.params.is_empty() {
        String::new()
    } else {
        format!("({})", row.params)
    };
    let (call, on, select) = (row.call, row.on, row.select);
    let selection = if select.is_empty() {
        String::new()
    } else {
        format!(" {{ {select} }}")
    };
    let field = call.split('(').next().unwrap_or(call).trim().to_owned();
    match form {
        Form::Plain => (format!("{keyword}{params} {{ {call}{selection} }}"), field),
        Form::Alias => (
            format!("{keyword}{params} {{ x: {call}{selection} }}"),
            "x".to_owned(),
        ),
        Form::NamedFragment => (
            format!(
                "{keyword}{params} {{ ...Root }} \
                 fragment Root on {root} {{ {call} {{ ...Fields }} }} \
                 fragment Fields on {on} {{ {select} }}"
            ),
            field,
        ),
        Form::InlineFragment => (
            format!(
                "{keyword}{params} {{ ... on {root} {{ \
                 {call} {{ ... on {on} {{ {select} }} }} }} }}"
            ),
            field,
        ),
    }
}
