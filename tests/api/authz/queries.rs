//! Every query, as every caller.

use super::*;

const LIST: &str = "totalCount nodes { id }";

#[tokio::test]
async fn every_query_answers_each_caller_within_its_reach() {
    let fixture = fixture().await;
    let rows = [
        Row {
            name: "me",
            call: "me",
            on: "Manager",
            expect: ME.needs(&[]),
            ..Row::BASE
        },
        Row {
            name: "account",
            call: "account",
            on: "Account",
            expect: SIGNED_IN.needs(&[]),
            ..Row::BASE
        },
        Row {
            name: "managers",
            call: "managers(first: 100)",
            on: "ManagerConnection",
            select: LIST,
            expect: SIGNED_IN.refused(),
            scope: Some(Fixture::visible_managers),
            ..Row::BASE
        },
        Row {
            name: "manager (the caller itself)",
            params: "$id: ID!",
            call: "manager(id: $id)",
            on: "Manager",
            vars: |r| json!({ "id": r.me }),
            expect: SIGNED_IN.refused(),
            ..Row::BASE
        },
        Row {
            name: "manager (another team manager of A)",
            params: "$id: ID!",
            call: "manager(id: $id)",
            on: "Manager",
            vars: |r| json!({ "id": r.bystander }),
            expect: ONLY_COMPANY_OF_A,
            ..Row::BASE
        },
        Row {
            name: "teams",
            call: "teams(first: 100)",
            on: "TeamConnection",
            select: LIST,
            expect: SIGNED_IN.needs(&[TEAMS_READ]),
            scope: Some(Fixture::visible_teams),
            ..Row::BASE
        },
        Row {
            name: "team",
            params: "$id: ID!",
            call: "team(id: $id)",
            on: "Team",
            vars: |r| json!({ "id": r.team }),
            expect: ASSIGNED_OR_ACCOUNT_WIDE.needs(&[TEAMS_READ]),
            ..Row::BASE
        },
        Row {
            name: "reps",
            call: "reps(first: 100)",
            on: "RepConnection",
            select: LIST,
            expect: SIGNED_IN.needs(&[REPS_READ]),
            scope: Some(Fixture::visible_reps),
            ..Row::BASE
        },
        Row {
            name: "reps (of a team)",
            params: "$team: ID!",
            call: "reps(teamId: $team, first: 100)",
            on: "RepConnection",
            select: "totalCount",
            vars: |r| json!({ "team": r.team }),
            // Filtering by a team answers nothing of the team: reps:read is enough.
            expect: ASSIGNED_OR_ACCOUNT_WIDE.needs(&[REPS_READ]),
            ..Row::BASE
        },
        Row {
            name: "rep",
            params: "$id: ID!",
            call: "rep(id: $id)",
            on: "Rep",
            vars: |r| json!({ "id": r.rep }),
            expect: ASSIGNED_OR_ACCOUNT_WIDE.needs(&[REPS_READ]),
            ..Row::BASE
        },
        Row {
            name: "portals",
            call: "portals(first: 100)",
            on: "PortalConnection",
            select: LIST,
            expect: SIGNED_IN.needs(&[PORTALS_READ]),
            scope: Some(Fixture::visible_portals),
            ..Row::BASE
        },
        Row {
            name: "portal",
            params: "$id: ID!",
            call: "portal(id: $id)",
            on: "Portal",
            vars: |r| json!({ "id": r.portal }),
            expect: ASSIGNED_OR_ACCOUNT_WIDE.needs(&[PORTALS_READ]),
            ..Row::BASE
        },
        // A rep's effective features are its overrides over its team's `repDefaults`: team
        // data, so they need `teams:read` too. (Only the refused field is selected: async-graphql
        // leaves a failed field out of its object, so the object is null only when every
        // selected field failed.)
        Row {
            name: "Rep.features",
            params: "$id: ID!",
            call: "rep(id: $id)",
            on: "Rep",
            select: "features { multiSession }",
            vars: |r| json!({ "id": r.rep }),
            // The team's defaults are read for the rep's features, not shown: reps:read.
            expect: ASSIGNED_OR_ACCOUNT_WIDE.needs(&[REPS_READ]),
            ..Row::BASE
        },
        Row {
            name: "auditEvents",
            call: "auditEvents(first: 10)",
            on: "AuditEventConnection",
            select: "totalCount",
            expect: COMPANY_ONLY,
            ..Row::BASE
        },
        Row {
            name: "Manager.effectiveRights (of the caller, on its team)",
            params: "$team: ID!",
            call: "me",
            on: "Manager",
            select: "effectiveRights(teamId: $team) { addDeleteReps }",
            vars: |r| json!({ "team": r.team }),
            // Through an app token, what its scopes leave (apps.rs checks the values).
            expect: Expect {
                anonymous: NULL,
                ..ASSIGNED_OR_ACCOUNT_WIDE
            }
            .needs(&[TEAMS_READ]),
            ..Row::BASE
        },
    ];
    fixture.check(Kind::Query, &rows).await;
}
