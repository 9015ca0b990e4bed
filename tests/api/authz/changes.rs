//! Teams, portals and reps changes, as every caller.

use super::*;

#[tokio::test]
async fn teams_and_portals_change_only_within_reach_and_rights() {
    let fixture = fixture().await;
    let name = |r: &Run| json!({ "name": format!("Row {} name", r.n) });
    let fresh_name = |r: &Run| json!({ "id": r.fresh, "name": format!("Row {} name", r.n) });
    let fresh = |r: &Run| json!({ "id": r.fresh });
    let rows = [
        Row {
            name: "createTeam (top-level)",
            params: "$name: String!",
            call: "createTeam(input: { name: $name })",
            on: "Team",
            vars: name,
            expect: PROVISIONING.needs(&[TEAMS_WRITE]),
            ..Row::BASE
        },
        Row {
            name: "createTeam (sub-team of the run's team)",
            params: "$name: String!, $parent: ID!",
            call: "createTeam(input: { name: $name, parentId: $parent })",
            on: "Team",
            vars: |r| json!({ "name": format!("Row {} sub", r.n), "parent": r.team }),
            expect: NEEDS_RIGHT.needs(&[TEAMS_WRITE]),
            ..Row::BASE
        },
        Row {
            name: "updateTeam",
            params: "$id: ID!, $name: String!",
            call: "updateTeam(id: $id, input: { name: $name })",
            on: "Team",
            fresh: Fresh::Team,
            vars: fresh_name,
            expect: TEAM_SETTINGS.needs(&[TEAMS_WRITE]),
            ..Row::BASE
        },
        Row {
            name: "deleteTeam (top-level)",
            params: "$id: ID!",
            call: "deleteTeam(id: $id)",
            select: "",
            fresh: Fresh::Team,
            vars: fresh,
            expect: TEAM_SETTINGS.needs(&[TEAMS_WRITE]),
            ..Row::BASE
        },
        // The team manager is assigned to the sub-team; the right counts on its parent.
        Row {
            name: "deleteTeam (sub-team of the run's team)",
            params: "$id: ID!",
            call: "deleteTeam(id: $id)",
            select: "",
            fresh: Fresh::SubTeam,
            vars: fresh,
            expect: NEEDS_RIGHT.needs(&[TEAMS_WRITE]),
            ..Row::BASE
        },
        Row {
            name: "updateTeamManagerFeatures",
            params: "$id: ID!",
            call: "updateTeamManagerFeatures(id: $id, input: { scheduleReports: false })",
            on: "Team",
            fresh: Fresh::Team,
            vars: fresh,
            // Company managers only; a token without teams:write hears about the scope first.
            expect: Expect {
                api: FORBIDDEN,
                ..TEAM_SETTINGS
            }
            .needs(&[TEAMS_WRITE]),
            ..Row::BASE
        },
        Row {
            name: "updateTeamRepDefaults",
            params: "$id: ID!",
            call: "updateTeamRepDefaults(id: $id, input: { multiSession: true })",
            on: "Team",
            fresh: Fresh::Team,
            vars: fresh,
            expect: TEAM_SETTINGS.needs(&[TEAMS_WRITE]),
            ..Row::BASE
        },
        Row {
            name: "createPortal",
            params: "$name: String!",
            call: "createPortal(input: { name: $name })",
            on: "Portal",
            vars: name,
            // No scope lets an app change portals.
            expect: PROVISIONING.refused(),
            ..Row::BASE
        },
        Row {
            name: "createPortal (sub-portal of P)",
            params: "$name: String!, $parent: ID!",
            call: "createPortal(input: { name: $name, parentId: $parent })",
            on: "Portal",
            vars: |r| json!({ "name": format!("Row {} sub", r.n), "parent": r.portal }),
            expect: PROVISIONING_IN_A.refused(),
            ..Row::BASE
        },
        // The team managers on T and T2 are assigned to the portal: still not theirs to change.
        Row {
            name: "updatePortal",
            params: "$id: ID!, $name: String!",
            call: "updatePortal(id: $id, input: { name: $name })",
            on: "Portal",
            fresh: Fresh::Portal,
            vars: fresh_name,
            expect: PROVISIONING_IN_A.refused(),
            ..Row::BASE
        },
        Row {
            name: "deletePortal",
            params: "$id: ID!",
            call: "deletePortal(id: $id)",
            select: "",
            fresh: Fresh::Portal,
            vars: fresh,
            expect: PROVISIONING_IN_A.refused(),
            ..Row::BASE
        },
    ];
    fixture.check(Kind::Mutation, &rows).await;
}

#[tokio::test]
async fn reps_change_only_with_the_effective_right_or_rep_control() {
    let fixture = fixture().await;
    let fresh = |r: &Run| json!({ "id": r.fresh });
    let rows = [
        Row {
            name: "createRep (addDeleteReps)",
            params: "$team: ID!, $login: String!",
            call: r#"createRep(input: { teamId: $team, login: $login,
                name: "Row Rep", email: "row.rep@example.com", password: "Row-Pass-2026x" })"#,
            on: "Rep",
            vars: |r| json!({ "team": r.team, "login": format!("row{}.new", r.n) }),
            expect: NEEDS_RIGHT.needs(&[REPS_WRITE]),
            ..Row::BASE
        },
        Row {
            name: "updateRep renaming (changeRepNameLogin)",
            params: "$id: ID!",
            call: r#"updateRep(id: $id, input: { name: "Renamed Rep" })"#,
            on: "Rep",
            fresh: Fresh::Rep,
            vars: fresh,
            expect: NEEDS_RIGHT.needs(&[REPS_WRITE]),
            ..Row::BASE
        },
        Row {
            name: "setRepPassword (changeRepPassword)",
            params: "$id: ID!",
            call: r#"setRepPassword(id: $id, password: "Row-Pass-2026x")"#,
            on: "Rep",
            fresh: Fresh::Rep,
            vars: fresh,
            expect: NEEDS_RIGHT.needs(&[REPS_WRITE]),
            ..Row::BASE
        },
        // Rep controls are not team rights: T2's managerFeatures do not limit them, so the
        // team manager on T2 (multiSession in its repControls) may.
        Row {
            name: "updateRepFeatures (repControls)",
            params: "$id: ID!",
            call: "updateRepFeatures(id: $id, input: { multiSession: true })",
            on: "Rep",
            fresh: Fresh::Rep,
            vars: fresh,
            expect: Expect {
                team_on_t2: DATA,
                ..NEEDS_RIGHT
            }
            .needs(&[REPS_WRITE]),
            ..Row::BASE
        },
        Row {
            name: "deleteRep (addDeleteReps)",
            params: "$id: ID!",
            call: "deleteRep(id: $id)",
            select: "",
            fresh: Fresh::Rep,
            vars: fresh,
            expect: NEEDS_RIGHT.needs(&[REPS_WRITE]),
            ..Row::BASE
        },
    ];
    fixture.check(Kind::Mutation, &rows).await;
}
