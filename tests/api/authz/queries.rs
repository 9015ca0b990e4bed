//! Every query, as every caller.

use super::*;

const LIST: &str = "totalCount nodes { id }";

/// `node(id:)` answers `null` where the single-object query answers `NOT_FOUND`, and the
/// same as it otherwise.
fn as_node(expect: Expect) -> Expect {
    let null = |o: Outcome| if o == NOT_FOUND { NULL } else { o };
    Expect {
        anonymous: null(expect.anonymous),
        company: null(expect.company),
        other_company: null(expect.other_company),
        team_with_right: null(expect.team_with_right),
        team_without_right: null(expect.team_without_right),
        team_on_t2: null(expect.team_on_t2),
        team_elsewhere: null(expect.team_elsewhere),
        api: null(expect.api),
        app: expect.app,
    }
}

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
        // Relay: `node(id:)` on every node type the world holds, as the matching
        // single-object query.
        Row {
            name: "node (a team)",
            params: "$id: ID!",
            call: "node(id: $id)",
            on: "Node",
            vars: |r| json!({ "id": r.team }),
            expect: as_node(ASSIGNED_OR_ACCOUNT_WIDE.needs(&[TEAMS_READ])),
            ..Row::BASE
        },
        Row {
            name: "node (a rep)",
            params: "$id: ID!",
            call: "node(id: $id)",
            on: "Node",
            vars: |r| json!({ "id": r.rep }),
            expect: as_node(ASSIGNED_OR_ACCOUNT_WIDE.needs(&[REPS_READ])),
            ..Row::BASE
        },
        Row {
            name: "node (a portal)",
            params: "$id: ID!",
            call: "node(id: $id)",
            on: "Node",
            vars: |r| json!({ "id": r.portal }),
            expect: as_node(ASSIGNED_OR_ACCOUNT_WIDE.needs(&[PORTALS_READ])),
            ..Row::BASE
        },
        Row {
            name: "node (the caller itself)",
            params: "$id: ID!",
            call: "node(id: $id)",
            on: "Node",
            vars: |r| json!({ "id": r.me }),
            expect: as_node(SIGNED_IN.refused()),
            ..Row::BASE
        },
        Row {
            name: "node (another team manager of A)",
            params: "$id: ID!",
            call: "node(id: $id)",
            on: "Node",
            vars: |r| json!({ "id": r.bystander }),
            expect: as_node(ONLY_COMPANY_OF_A),
            ..Row::BASE
        },
        Row {
            name: "node (a developer app of A)",
            params: "$id: ID!",
            call: "node(id: $id)",
            on: "Node",
            vars: |r| json!({ "id": r.app }),
            expect: as_node(Expect {
                other_company: NOT_FOUND,
                ..COMPANY_ONLY
            }),
            ..Row::BASE
        },
        Row {
            name: "nodes (a team, a rep, a portal)",
            params: "$t: ID!, $r: ID!, $p: ID!",
            call: "nodes(ids: [$t, $r, $p])",
            on: "Node",
            vars: |r| json!({ "t": r.team, "r": r.rep, "p": r.portal }),
            // A list: `null` items for what the caller cannot see (checked in relay.rs);
            // the first scope missing, in the ids' kinds, refuses the whole list.
            expect: Expect {
                other_company: DATA,
                team_elsewhere: DATA,
                ..SIGNED_IN
            }
            .needs(&[TEAMS_READ, REPS_READ, PORTALS_READ]),
            ..Row::BASE
        },
    ];
    fixture.check(Kind::Query, &rows).await;
}
