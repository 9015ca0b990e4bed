//! Developer apps and authorizations, as every caller (SPEC 6: company managers manage their
//! account's apps; a company manager or the API manager itself, with its own session, sees
//! and revokes the API manager's authorizations; app tokens never), and what app tokens get
//! where the table's rows do not say it all: the values of `effectiveRights`, sessions, and
//! fields that would answer `null` without their scope.

use super::*;

const LIST: &str = "totalCount nodes { id }";

/// A manager's own authorized applications (through `me`): company managers and the API
/// manager; a team manager has none to see and is refused like any other developer-center
/// operation.
const OWN_AUTHORIZATIONS: Expect = Expect {
    anonymous: NULL,
    api: DATA,
    ..COMPANY_ONLY
};

/// The authorizations of A's API manager: A's company manager, and the API manager itself;
/// to everyone else the manager is not there.
const AUTHORIZATIONS_OF_A_API: Expect = Expect {
    api: DATA,
    ..ONLY_COMPANY_OF_A
};

#[tokio::test]
async fn developer_apps_and_authorizations_are_read_by_company_managers_only() {
    let fixture = fixture().await;
    let rows = [
        Row {
            name: "developerApps",
            call: "developerApps(first: 100)",
            on: "DeveloperAppConnection",
            select: LIST,
            expect: COMPANY_ONLY,
            scope: Some(Fixture::visible_apps),
            ..Row::BASE
        },
        Row {
            name: "developerApp (an app of A)",
            params: "$id: ID!",
            call: "developerApp(id: $id)",
            on: "DeveloperApp",
            select: "id clientId scopes",
            vars: |r| json!({ "id": r.app }),
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        Row {
            name: "Manager.authorizedApplications (of the caller itself)",
            call: "me",
            on: "Manager",
            select: "authorizedApplications { id application { id } scopes }",
            expect: OWN_AUTHORIZATIONS,
            ..Row::BASE
        },
        Row {
            name: "Manager.authorizedApplications (of the caller itself, with the revoked)",
            call: "me",
            on: "Manager",
            select: "authorizedApplications(includeRevoked: true) { id revokedAt }",
            expect: OWN_AUTHORIZATIONS,
            ..Row::BASE
        },
        Row {
            name: "Manager.authorizedApplications (of A's API manager)",
            params: "$id: ID!",
            call: "manager(id: $id)",
            on: "Manager",
            select: "authorizedApplications { id application { id } scopes }",
            vars: |r| json!({ "id": r.api }),
            expect: AUTHORIZATIONS_OF_A_API,
            ..Row::BASE
        },
    ];
    fixture.check(Kind::Query, &rows).await;
}

#[tokio::test]
async fn developer_apps_and_authorizations_change_only_for_company_managers() {
    let fixture = fixture().await;
    let fresh = |r: &Run| json!({ "id": r.fresh });
    let rows = [
        Row {
            name: "registerDeveloperApp",
            params: "$name: String!",
            call: r#"registerDeveloperApp(input: { name: $name,
                redirectUris: ["https://app.example.com/callback"], scopes: [REPS_READ],
                confidential: true })"#,
            on: "RegisteredApp",
            select: "app { id } clientSecret",
            vars: |r| json!({ "name": format!("Row {} app", r.n) }),
            expect: COMPANY_ONLY,
            ..Row::BASE
        },
        Row {
            name: "rotateDeveloperAppSecret",
            params: "$id: ID!",
            call: "rotateDeveloperAppSecret(id: $id)",
            on: "RegisteredApp",
            select: "app { id } clientSecret",
            fresh: Fresh::App,
            vars: fresh,
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        Row {
            name: "updateDeveloperApp",
            params: "$id: ID!, $name: String!",
            call: "updateDeveloperApp(id: $id, input: { name: $name })",
            on: "DeveloperApp",
            fresh: Fresh::App,
            vars: |r| json!({ "id": r.fresh, "name": format!("Row {} renamed", r.n) }),
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        Row {
            name: "disableDeveloperApp",
            params: "$id: ID!",
            call: "disableDeveloperApp(id: $id)",
            on: "DeveloperApp",
            select: "id disabledAt",
            fresh: Fresh::App,
            vars: fresh,
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        // An app nobody authorized: the call is judged, nothing real is revoked (the fixture's
        // app tokens live on for the next rows).
        Row {
            name: "revokeApiManagerApplications (of A's API manager)",
            params: "$m: ID!, $a: [ID!]!",
            call: "revokeApiManagerApplications(managerId: $m, appIds: $a)",
            on: "Manager",
            fresh: Fresh::App,
            vars: |r| json!({ "m": r.api, "a": [r.fresh] }),
            expect: AUTHORIZATIONS_OF_A_API,
            ..Row::BASE
        },
        Row {
            name: "revokeApiManagerApplications (of the caller itself)",
            params: "$m: ID!, $a: [ID!]!",
            call: "revokeApiManagerApplications(managerId: $m, appIds: $a)",
            on: "Manager",
            fresh: Fresh::App,
            vars: |r| json!({ "m": r.me, "a": [r.fresh] }),
            expect: Expect {
                anonymous: UNAUTHENTICATED,
                ..OWN_AUTHORIZATIONS
            },
            ..Row::BASE
        },
    ];
    fixture.check(Kind::Mutation, &rows).await;
}

const APP_CALLERS: [Caller; 5] = [
    Caller::AppAll,
    Caller::AppReadOnly,
    Caller::AppRepsOnly,
    Caller::AppNoPortals,
    Caller::AppWriteOnly,
];

/// Each token is what the API manager allowed: its own session lists one authorization per
/// app, with exactly the scopes the token was asked for.
#[tokio::test]
async fn the_api_manager_sees_one_authorization_per_app_with_its_scopes() {
    let f = fixture().await;
    let api = f.user(Caller::Api).unwrap();
    let body = api
        .gql(
            "{ me { authorizedApplications { application { id } scopes revokedAt } } }",
            json!({}),
        )
        .await;
    let mut got: Vec<(String, Vec<String>)> = body["data"]["me"]["authorizedApplications"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|a| {
            assert!(a["revokedAt"].is_null(), "{body}");
            let mut scopes: Vec<String> = a["scopes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str())
                .map(|s| s.to_lowercase().replace('_', ":"))
                .collect();
            scopes.sort();
            (a["application"]["id"].as_str().unwrap().to_owned(), scopes)
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, Vec<String>)> = APP_CALLERS
        .iter()
        .zip(&f.apps_of_a)
        .map(|(caller, app)| {
            let mut scopes: Vec<String> = caller
                .scopes()
                .unwrap()
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            scopes.sort();
            (crate::harness::gid_of(*app), scopes)
        })
        .collect();
    want.sort();
    assert_eq!(got, want, "{body}");
}

/// `Manager.effectiveRights` through an app token shows what the token's scopes leave of the
/// API manager's provisioning rights: `teams:write` keeps `addDeleteSubteams`, `reps:write`
/// the rep rights; naming the team needs `teams:read`.
#[tokio::test]
async fn effective_rights_through_an_app_token_are_what_its_scopes_leave() {
    let f = fixture().await;
    let query = "query($t: ID!) { me { effectiveRights(teamId: $t) {
        addDeleteSubteams addDeleteReps changeRepNameLogin changeRepPassword
        scheduleReports sessionReplay manageBusinessHours } } }";
    let mut failures = Vec::new();
    for caller in std::iter::once(Caller::Api).chain(APP_CALLERS) {
        let body = f.send(caller, query, json!({ "t": f.t })).await;
        let held = |scope: &str| !caller.lacks(scope);
        let ok = if caller.lacks(TEAMS_READ) {
            error_code(&body) == Some("FORBIDDEN")
                && body["errors"][0]["extensions"]["scope"] == TEAMS_READ
                && body["data"]["me"].is_null()
        } else {
            body["errors"].is_null()
                && body["data"]["me"]["effectiveRights"]
                    == json!({
                        "addDeleteSubteams": held(TEAMS_WRITE),
                        "addDeleteReps": held(REPS_WRITE),
                        "changeRepNameLogin": held(REPS_WRITE),
                        "changeRepPassword": held(REPS_WRITE),
                        "scheduleReports": false,
                        "sessionReplay": false,
                        "manageBusinessHours": false,
                    })
        };
        if !ok {
            failures.push(format!("{caller:?}: {body}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Sessions are people's: an app token neither ends nor changes one, nor lifts a
/// restriction, and it keeps working afterwards (it ended nothing).
#[tokio::test]
async fn app_tokens_are_refused_logout_change_password_and_validate_email() {
    let f = fixture().await;
    let mut failures = Vec::new();
    for caller in APP_CALLERS {
        for document in [
            "mutation { x: logout }",
            "mutation($c: String!) { x: changePassword(currentPassword: $c,
                newPassword: \"Other-Pass-2026x\") { token } }",
            "mutation { x: validateEmail(code: \"ABCDEFGH\") { token } }",
        ] {
            let body = f
                .send(caller, document, json!({ "c": SEED_PASSWORD }))
                .await;
            let refused = error_code(&body) == Some("FORBIDDEN")
                && body["errors"][0]["extensions"].get("scope").is_none()
                && body["data"]["x"].is_null();
            if !refused {
                failures.push(format!("{caller:?}: {document}: {body}"));
            }
        }
        let body = f.send(caller, "{ me { id } }", json!({})).await;
        if body["data"]["me"]["id"]
            != json!(crate::harness::gid(
                crate::harness::IdKind::Manager,
                f.id(Caller::Api)
            ))
        {
            failures.push(format!("{caller:?} afterwards: {body}"));
        }
    }
    // The API manager's password is still the one it had.
    let signed_in = f.app.login("api.manager", SEED_PASSWORD).await;
    if signed_in["data"]["login"]["token"].is_null() {
        failures.push(format!("the API manager's password changed: {signed_in}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A nested team field an app token has no scope for is refused whether or not the team has
/// one: answering `null` for a team that serves no portal and `FORBIDDEN` for one that does
/// would tell a token without `portals:read` which teams serve portals.
#[tokio::test]
async fn team_portal_is_refused_without_portals_read_even_when_the_team_has_none() {
    let f = fixture().await;
    setup(
        &f.owner,
        "mutation($id: ID!, $p: ID!) { updateTeam(id: $id, input: { portalId: $p }) { id } }",
        json!({ "id": f.t, "p": f.p }),
    )
    .await;
    let mut failures = Vec::new();
    for caller in [Caller::AppNoPortals, Caller::AppWriteOnly] {
        for (team, serves) in [(f.t, "serves P"), (f.t2, "serves no portal")] {
            let body = if caller.lacks(TEAMS_READ) {
                // Reached through a team mutation's payload instead.
                f.send(
                    caller,
                    "mutation($id: ID!) { x: updateTeamRepDefaults(id: $id, input: { multiSession: true }) {
                        id portal { id } } }",
                    json!({ "id": team }),
                )
                .await
            } else {
                f.send(
                    caller,
                    "query($id: ID!) { x: team(id: $id) { id portal { id } } }",
                    json!({ "id": team }),
                )
                .await
            };
            let refused = error_code(&body) == Some("FORBIDDEN")
                && body["errors"][0]["extensions"]["scope"] == PORTALS_READ
                && body["data"]["x"]["portal"].is_null();
            if !refused {
                failures.push(format!(
                    "{caller:?} on the team that {serves}: expected FORBIDDEN naming \
                     {PORTALS_READ}, got {body}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// On another account's rows an app token gets what its API manager gets, `NOT_FOUND`, once
/// its scopes allow the operation at all (and `FORBIDDEN` naming the scope before that).
#[tokio::test]
async fn app_tokens_reach_no_row_of_another_account() {
    let f = fixture().await;
    let changes: [(&str, &str, Value); 8] = [
        (
            TEAMS_WRITE,
            "mutation($id: ID!) { x: updateTeam(id: $id, input: { name: \"Taken\" }) { id } }",
            json!({ "id": f.team_b }),
        ),
        (
            TEAMS_WRITE,
            "mutation($id: ID!) { x: createTeam(input: { name: \"Under B\", parentId: $id }) { id } }",
            json!({ "id": f.team_b }),
        ),
        (
            TEAMS_WRITE,
            "mutation($id: ID!) { x: deleteTeam(id: $id) }",
            json!({ "id": f.team_b }),
        ),
        (
            REPS_WRITE,
            "mutation($id: ID!) { x: createRep(input: { teamId: $id, login: \"into.b\",
                name: \"Into B\", email: \"into.b@example.com\", password: \"Row-Pass-2026x\" }) { id } }",
            json!({ "id": f.team_b }),
        ),
        (
            REPS_WRITE,
            "mutation($id: ID!) { x: updateRep(id: $id, input: { name: \"Taken\" }) { id } }",
            json!({ "id": f.rep_b }),
        ),
        (
            REPS_WRITE,
            "mutation($id: ID!) { x: setRepPassword(id: $id, password: \"Row-Pass-2026x\") { id } }",
            json!({ "id": f.rep_b }),
        ),
        (
            REPS_WRITE,
            "mutation($id: ID!) { x: deleteRep(id: $id) }",
            json!({ "id": f.rep_b }),
        ),
        (
            REPS_WRITE,
            "mutation($id: ID!, $p: [ID!]) { x: updateRep(id: $id, input: { portalIds: $p }) { id } }",
            json!({ "id": f.rep_t, "p": [f.portal_b] }),
        ),
    ];
    let mut failures = Vec::new();
    for caller in std::iter::once(Caller::Api).chain(APP_CALLERS) {
        for (scope, document, vars) in &changes {
            let body = f.send(caller, document, vars.clone()).await;
            let (ok, want) = if caller.lacks(scope) {
                let refused = error_code(&body) == Some("FORBIDDEN")
                    && body["errors"][0]["extensions"]["scope"] == *scope;
                (refused, format!("FORBIDDEN naming {scope}"))
            } else {
                (
                    error_code(&body) == Some("NOT_FOUND"),
                    "NOT_FOUND".to_owned(),
                )
            };
            if !ok || !body["data"]["x"].is_null() {
                failures.push(format!(
                    "{caller:?}: {document}: expected {want}, got {body}"
                ));
            }
        }
    }
    // B's rows are as they were.
    let b = f.user(Caller::OtherCompany).unwrap();
    let rows = b
        .gql(
            "query($t: ID!, $r: ID!) { team(id: $t) { name subteams { id } }
                rep(id: $r) { name } reps(teamId: $t) { totalCount } }",
            json!({ "t": f.team_b, "r": f.rep_b }),
        )
        .await;
    assert_eq!(
        rows["data"],
        json!({
            "team": { "name": "B team", "subteams": [] },
            "rep": { "name": "rep.b name" },
            "reps": { "totalCount": 1 },
        }),
        "{rows}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
