//! Scopes in GraphQL: an app token does only what both its scopes and its API manager allow,
//! on every path (nested fields, aliases, fragments), and never reaches manager
//! administration, developer apps, authorizations or the audit log.

use serde_json::{Value, json};

use super::support::*;
use crate::harness::error_code;

const ALL: [&str; 5] = [
    "reps:read",
    "reps:write",
    "teams:read",
    "teams:write",
    "portals:read",
];

/// A portal, a team serving it and a rep in the team, made by the company manager.
struct Rows {
    portal: String,
    team: String,
    rep: String,
}

const TEAM_NAME: &str = "Secret Team Name";
const PORTAL_NAME: &str = "Secret Portal Name";
const REP_NAME: &str = "Secret Rep Name";

async fn rows(world: &World) -> Rows {
    let portal = ok(
        &world.owner,
        "mutation($n: String!) { createPortal(input: { name: $n }) { id } }",
        json!({ "n": PORTAL_NAME }),
    )
    .await["createPortal"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team = ok(
        &world.owner,
        "mutation($n: String!, $p: ID) { createTeam(input: { name: $n, portalId: $p }) { id } }",
        json!({ "n": TEAM_NAME, "p": portal }),
    )
    .await["createTeam"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rep = ok(
        &world.owner,
        "mutation($t: ID!, $p: [ID!], $n: String!) { createRep(input: { login: \"rep.scoped\", name: $n, email: \"rep@example.com\", teamId: $t, portalIds: $p, password: \"Rep-Password-1\" }) { id } }",
        json!({ "t": team, "p": [portal], "n": REP_NAME }),
    )
    .await["createRep"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Rows { portal, team, rep }
}

/// Asserts `query` is refused for lack of `scope`, and that nothing it guards leaked.
async fn refused(world: &World, token: &str, query: &str, variables: Value, scope: &str) {
    let (status, body) = gql(&world.app, token, query, variables).await;
    assert_eq!(status, 200, "{query}: {body}");
    assert_lacks_scope(&body, scope, query);
    let text = body.to_string();
    let guarded = match scope {
        "teams:read" => TEAM_NAME,
        "portals:read" => PORTAL_NAME,
        "reps:read" => REP_NAME,
        _ => "",
    };
    assert!(
        guarded.is_empty() || !text.contains(guarded),
        "{query}: leaked {guarded}: {body}"
    );
}

async fn allowed(world: &World, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = gql(&world.app, token, query, variables).await;
    assert!(
        status == 200 && body["errors"].is_null(),
        "{query}: {status} {body}"
    );
    body["data"].clone()
}

#[tokio::test]
async fn an_app_token_reads_only_what_its_scopes_allow() {
    let world = world().await;
    let rows = rows(&world).await;
    let dev = confidential_app(&world, &ALL).await;
    let reps_only = tokens(&world, &dev, "reps:read").await.access;
    let teams_only = tokens(&world, &dev, "teams:read").await.access;

    // `me` needs no scope.
    assert_works(&world, &reps_only, "me with reps:read").await;
    let data = allowed(&world, &reps_only, "{ reps { nodes { name } } }", json!({})).await;
    assert_eq!(data["reps"]["nodes"], json!([{ "name": REP_NAME }]));
    let data = allowed(
        &world,
        &reps_only,
        "query($id: ID!) { rep(id: $id) { name } }",
        json!({ "id": rows.rep }),
    )
    .await;
    assert_eq!(data["rep"]["name"], REP_NAME);
    let data = allowed(
        &world,
        &teams_only,
        "{ teams { nodes { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(data["teams"]["nodes"], json!([{ "name": TEAM_NAME }]));

    for (token, query, variables, scope) in [
        (
            &reps_only,
            "{ teams { totalCount } }",
            json!({}),
            "teams:read",
        ),
        (
            &reps_only,
            "query($id: ID!) { team(id: $id) { name } }",
            json!({ "id": rows.team }),
            "teams:read",
        ),
        (
            &reps_only,
            "{ portals { nodes { name } } }",
            json!({}),
            "portals:read",
        ),
        (
            &reps_only,
            "query($id: ID!) { portal(id: $id) { name } }",
            json!({ "id": rows.portal }),
            "portals:read",
        ),
        (
            &teams_only,
            "{ reps { nodes { name } } }",
            json!({}),
            "reps:read",
        ),
        (
            &teams_only,
            "query($id: ID!) { rep(id: $id) { name } }",
            json!({ "id": rows.rep }),
            "reps:read",
        ),
    ] {
        refused(&world, token, query, variables, scope).await;
    }
}

#[tokio::test]
async fn nested_fields_aliases_and_fragments_need_the_same_scopes() {
    let world = world().await;
    let rows = rows(&world).await;
    let dev = confidential_app(&world, &ALL).await;
    let reps_only = tokens(&world, &dev, "reps:read").await.access;
    let teams_only = tokens(&world, &dev, "teams:read").await.access;
    let rep = json!({ "id": rows.rep });
    let team = json!({ "id": rows.team });

    for (token, query, variables, scope) in [
        (
            &reps_only,
            "query($id: ID!) { rep(id: $id) { team { name } } }",
            rep.clone(),
            "teams:read",
        ),
        (
            &reps_only,
            "{ reps { nodes { team { name } } } }",
            json!({}),
            "teams:read",
        ),
        (
            &reps_only,
            "{ reps { nodes { portals { name } } } }",
            json!({}),
            "portals:read",
        ),
        (
            &reps_only,
            "{ me { teams { name } } }",
            json!({}),
            "teams:read",
        ),
        (
            &reps_only,
            "{ me { portals { name } } }",
            json!({}),
            "portals:read",
        ),
        (
            &reps_only,
            "{ mine: reps { totalCount } sneaky: teams { nodes { name } } }",
            json!({}),
            "teams:read",
        ),
        (
            &reps_only,
            "query { ...Q } fragment Q on Query { teams { nodes { name } } }",
            json!({}),
            "teams:read",
        ),
        (
            &reps_only,
            "{ ... on Query { teams { nodes { name } } } }",
            json!({}),
            "teams:read",
        ),
        (
            &reps_only,
            "query($id: ID!) { rep(id: $id) { ...R } } fragment R on Rep { t: team { n: name } }",
            rep.clone(),
            "teams:read",
        ),
        (
            &teams_only,
            "query($id: ID!) { team(id: $id) { reps { nodes { name } } } }",
            team.clone(),
            "reps:read",
        ),
        (
            &teams_only,
            "{ teams { nodes { portal { name } } } }",
            json!({}),
            "portals:read",
        ),
        (
            &teams_only,
            "query($id: ID!) { team(id: $id) { subportals { name } } }",
            team.clone(),
            "portals:read",
        ),
    ] {
        refused(&world, token, query, variables, scope).await;
    }

    // With both scopes the same nested read goes through.
    let both = tokens(&world, &dev, "reps:read teams:read").await.access;
    let data = allowed(
        &world,
        &both,
        "query($id: ID!) { rep(id: $id) { team { name } } }",
        rep,
    )
    .await;
    assert_eq!(data["rep"]["team"]["name"], TEAM_NAME);
}

#[tokio::test]
async fn write_scopes_gate_mutations_and_portal_writes_are_never_allowed() {
    let world = world().await;
    let rows = rows(&world).await;
    let dev = confidential_app(&world, &ALL).await;
    let readers = tokens(&world, &dev, "reps:read teams:read portals:read")
        .await
        .access;
    let writers = tokens(&world, &dev, "reps:write teams:write").await.access;
    let everything = tokens(&world, &dev, &ALL.join(" ")).await.access;

    const CREATE_TEAM: &str = "mutation { createTeam(input: { name: \"By the app\" }) { id } }";
    const CREATE_REP: &str = "mutation($t: ID!) { createRep(input: { login: \"rep.by.app\", name: \"By App\", email: \"app@example.com\", teamId: $t, password: \"Rep-Password-1\" }) { id } }";
    const RENAME_REP: &str =
        "mutation($id: ID!) { updateRep(id: $id, input: { name: \"Renamed\" }) { id } }";
    const RENAME_TEAM: &str =
        "mutation($id: ID!) { updateTeam(id: $id, input: { name: \"Renamed\" }) { id } }";
    let team = json!({ "t": rows.team });
    refused(&world, &readers, CREATE_TEAM, json!({}), "teams:write").await;
    refused(
        &world,
        &readers,
        RENAME_TEAM,
        json!({ "id": rows.team }),
        "teams:write",
    )
    .await;
    refused(&world, &readers, CREATE_REP, team.clone(), "reps:write").await;
    refused(
        &world,
        &readers,
        RENAME_REP,
        json!({ "id": rows.rep }),
        "reps:write",
    )
    .await;
    // Nothing changed.
    let data = ok(
        &world.owner,
        "{ teams { totalCount } reps { totalCount nodes { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(data["teams"]["totalCount"], 1);
    assert_eq!(data["reps"]["nodes"], json!([{ "name": REP_NAME }]));

    allowed(&world, &writers, CREATE_TEAM, json!({})).await;
    allowed(&world, &writers, CREATE_REP, team).await;
    allowed(&world, &writers, RENAME_REP, json!({ "id": rows.rep })).await;

    let portals = "{ portals { totalCount nodes { name } } }";
    let before = ok(&world.owner, portals, json!({})).await;
    for (query, variables) in [
        (
            "mutation { createPortal(input: { name: \"P\" }) { id } }",
            json!({}),
        ),
        (
            "mutation($id: ID!) { updatePortal(id: $id, input: { name: \"P\" }) { id } }",
            json!({ "id": rows.portal }),
        ),
        (
            "mutation($id: ID!) { deletePortal(id: $id) }",
            json!({ "id": rows.portal }),
        ),
    ] {
        let (_, body) = gql(&world.app, &everything, query, variables).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{query}: {body}");
    }
    let after = ok(&world.owner, portals, json!({})).await;
    assert_eq!(after, before, "the portals are untouched");
}

#[tokio::test]
async fn scopes_add_nothing_to_what_the_api_manager_may_do() {
    let world = world().await;
    let rows = rows(&world).await;
    let (_, other_owner) = world.app.company_owner().await;
    let foreign_team = ok(
        &other_owner,
        "mutation { createTeam(input: { name: \"Elsewhere\" }) { id } }",
        json!({}),
    )
    .await["createTeam"]["id"]
        .clone();
    let dev = confidential_app(&world, &ALL).await;
    let everything = tokens(&world, &dev, &ALL.join(" ")).await.access;

    let (_, body) = gql(
        &world.app,
        &everything,
        "query($id: ID!) { team(id: $id) { name } }",
        json!({ "id": foreign_team }),
    )
    .await;
    assert_eq!(
        error_code(&body),
        Some("NOT_FOUND"),
        "another account: {body}"
    );
    // Company-only team settings stay company-only with teams:write.
    let (_, body) = gql(
        &world.app,
        &everything,
        "mutation($id: ID!) { updateTeamManagerFeatures(id: $id, input: { scheduleReports: true }) { id } }",
        json!({ "id": rows.team }),
    )
    .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
}

#[tokio::test]
async fn app_tokens_never_reach_administration_developer_apps_or_the_audit_log() {
    let world = world().await;
    let dev = confidential_app(&world, &ALL).await;
    let token = tokens(&world, &dev, &ALL.join(" ")).await.access;
    let api = crate::harness::gid(crate::harness::IdKind::Manager, world.api.id);
    let owner = crate::harness::gid(crate::harness::IdKind::Manager, world.owner.id());
    let new_manager = json!({ "i": { "login": "made-by-app", "name": "Made By App", "email": "made@example.com", "password": "Made-By-App-1" } });
    let cases: Vec<(&str, Value)> = vec![
        ("{ developerApps(first: 5) { nodes { id } } }", json!({})),
        (
            "query($id: ID!) { developerApp(id: $id) { id } }",
            json!({ "id": dev.id }),
        ),
        ("{ auditEvents(first: 5) { nodes { id } } }", json!({})),
        ("{ me { authorizedApplications { id } } }", json!({})),
        (
            "query($id: ID!) { manager(id: $id) { authorizedApplications { id } } }",
            json!({ "id": api }),
        ),
        (
            "mutation($i: RegisterDeveloperAppInput!) { registerDeveloperApp(input: $i) { clientSecret } }",
            json!({ "i": { "name": "x", "redirectUris": [REDIRECT], "scopes": ["REPS_READ"], "confidential": true } }),
        ),
        (
            "mutation($id: ID!) { rotateDeveloperAppSecret(id: $id) { clientSecret } }",
            json!({ "id": dev.id }),
        ),
        (
            "mutation($id: ID!) { updateDeveloperApp(id: $id, input: { scopes: [PORTALS_READ] }) { id } }",
            json!({ "id": dev.id }),
        ),
        (
            "mutation($id: ID!) { disableDeveloperApp(id: $id) { id } }",
            json!({ "id": dev.id }),
        ),
        (REVOKE_APPS, json!({ "m": api, "apps": [dev.id] })),
        (
            "mutation($i: CreateManagerInput!) { createTeamManager(input: $i) { id } }",
            new_manager.clone(),
        ),
        (
            "mutation($i: CreateManagerInput!) { createApiManager(input: $i) { id } }",
            new_manager,
        ),
        (
            "mutation($id: ID!) { updateManager(id: $id, input: { name: \"Renamed by app\" }) { id } }",
            json!({ "id": api }),
        ),
        (
            "mutation($id: ID!) { deleteManager(id: $id) }",
            json!({ "id": owner }),
        ),
        (
            "mutation($id: ID!) { updateManagerLoginSettings(id: $id, input: { forcePasswordChange: true }) { id } }",
            json!({ "id": api }),
        ),
        (
            "mutation { changePassword(currentPassword: \"Api-Manager-Pass-7\", newPassword: \"Another-Pass-8\") { token } }",
            json!({}),
        ),
        ("mutation { logout }", json!({})),
    ];
    for (query, variables) in cases {
        let (status, body) = gql(&world.app, &token, query, variables).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{query}: {body}");
    }

    // None of it happened: the app, the authorization and the token are as they were.
    assert_works(&world, &token, "after every refused call").await;
    let app = ok(
        &world.owner,
        "query($id: ID!) { developerApp(id: $id) { scopes disabledAt } }",
        json!({ "id": dev.id }),
    )
    .await;
    assert!(app["developerApp"]["disabledAt"].is_null());
    assert_eq!(app["developerApp"]["scopes"].as_array().unwrap().len(), 5);
    let listed = authorizations(&world.owner, world.api.id).await;
    assert!(
        listed.iter().all(|a| a["revokedAt"].is_null()),
        "{listed:?}"
    );
    let (_, managers) = world
        .owner
        .post("{ managers { totalCount } }", json!({}))
        .await;
    assert_eq!(managers["data"]["managers"]["totalCount"], 2, "{managers}");
    assert!(audit(&world, "updateManager").await.is_empty());
}
