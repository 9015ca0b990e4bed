//! Manager administration, as every caller.

use super::*;

#[tokio::test]
async fn manager_administration_is_for_company_managers_of_the_same_account() {
    let fixture = fixture().await;
    let login = |r: &Run| json!({ "login": format!("row{}.new", r.n) });
    let fresh_name = |r: &Run| json!({ "id": r.fresh, "name": format!("Row {} Renamed", r.n) });
    let rows = [
        Row {
            name: "createTeamManager",
            params: "$login: String!",
            call: r#"createTeamManager(input: {
                login: $login, name: "Row Manager", email: "row@example.com",
                password: "Row-Pass-2026x" })"#,
            on: "Manager",
            vars: login,
            expect: COMPANY_ONLY,
            ..Row::BASE
        },
        Row {
            name: "createApiManager",
            params: "$login: String!",
            call: r#"createApiManager(input: {
                login: $login, name: "Row Robot", email: "robot@example.com",
                password: "Row-Pass-2026x" })"#,
            on: "Manager",
            vars: login,
            // B's account does not allow API managers (SPEC 2).
            expect: Expect {
                other_company: FORBIDDEN,
                ..COMPANY_ONLY
            },
            ..Row::BASE
        },
        Row {
            name: "updateManager",
            params: "$id: ID!, $name: String!",
            call: "updateManager(id: $id, input: { name: $name })",
            on: "Manager",
            fresh: Fresh::TeamManager,
            vars: fresh_name,
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        Row {
            name: "deleteManager",
            params: "$id: ID!",
            call: "deleteManager(id: $id)",
            select: "",
            fresh: Fresh::TeamManager,
            vars: |r| json!({ "id": r.fresh }),
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        Row {
            name: "updateManagerLoginSettings",
            params: "$id: ID!",
            call: "updateManagerLoginSettings(id: $id, input: { forcePasswordChange: true })",
            on: "Manager",
            fresh: Fresh::TeamManager,
            vars: |r| json!({ "id": r.fresh }),
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        Row {
            name: "updateManagerRights",
            params: "$id: ID!",
            call: "updateManagerRights(id: $id, input: { addDeleteReps: true })",
            on: "Manager",
            fresh: Fresh::TeamManager,
            vars: |r| json!({ "id": r.fresh }),
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        Row {
            name: "updateManagerRepControls",
            params: "$id: ID!",
            call: "updateManagerRepControls(id: $id, input: { multiSession: true })",
            on: "Manager",
            fresh: Fresh::TeamManager,
            vars: |r| json!({ "id": r.fresh }),
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        Row {
            name: "setManagerTeams",
            params: "$id: ID!, $teams: [ID!]!",
            call: "setManagerTeams(id: $id, teamIds: $teams)",
            on: "Manager",
            fresh: Fresh::TeamManager,
            vars: |r| json!({ "id": r.fresh, "teams": [r.team] }),
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        Row {
            name: "setManagerPortals",
            params: "$id: ID!, $portals: [ID!]!",
            call: "setManagerPortals(id: $id, portalIds: $portals)",
            on: "Manager",
            fresh: Fresh::TeamManager,
            vars: |r| json!({ "id": r.fresh, "portals": [r.portal] }),
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        // On the caller itself: a team manager cannot change its own settings (SPEC 2).
        Row {
            name: "updateManager (the caller itself)",
            params: "$id: ID!, $name: String!",
            call: "updateManager(id: $id, input: { name: $name })",
            on: "Manager",
            vars: |r| json!({ "id": r.me, "name": format!("Row {} Self", r.n) }),
            expect: COMPANY_ONLY,
            ..Row::BASE
        },
        Row {
            name: "updateManagerLoginSettings (the caller itself)",
            params: "$id: ID!",
            call: "updateManagerLoginSettings(id: $id,
                input: { userInitiatedPasswordReset: true })",
            on: "Manager",
            vars: |r| json!({ "id": r.me }),
            expect: COMPANY_ONLY,
            ..Row::BASE
        },
        // Company managers hold every right already: rights are set on team managers only.
        Row {
            name: "updateManagerRights (the caller itself)",
            params: "$id: ID!",
            call: "updateManagerRights(id: $id, input: { scheduleReports: true })",
            on: "Manager",
            vars: |r| json!({ "id": r.me }),
            expect: Expect {
                company: BAD_USER_INPUT,
                other_company: BAD_USER_INPUT,
                ..COMPANY_ONLY
            },
            ..Row::BASE
        },
        Row {
            name: "setManagerTeams (the caller itself)",
            params: "$id: ID!, $teams: [ID!]!",
            call: "setManagerTeams(id: $id, teamIds: $teams)",
            on: "Manager",
            vars: |r| json!({ "id": r.me, "teams": [r.team] }),
            expect: Expect {
                company: BAD_USER_INPUT,
                other_company: BAD_USER_INPUT,
                ..COMPANY_ONLY
            },
            ..Row::BASE
        },
        // Last: were it wrongly allowed, the caller would be gone for later rows.
        Row {
            name: "deleteManager (the caller itself)",
            params: "$id: ID!",
            call: "deleteManager(id: $id)",
            select: "",
            vars: |r| json!({ "id": r.me }),
            // Each account's only company manager stays.
            expect: Expect {
                company: CONFLICT,
                other_company: CONFLICT,
                ..COMPANY_ONLY
            },
            ..Row::BASE
        },
    ];
    fixture.check(Kind::Mutation, &rows).await;
}
