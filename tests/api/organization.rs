//! Managers, teams, portals: rights and their dependency rules, effective permission,
//! assignments, row scoping, conflicts, audit, and constant query counts.

use std::sync::atomic::Ordering;

use entity::{audit_event, manager::ManagerKind};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::harness::{TestApp, User, error_code};

fn data<'a>(body: &'a Value, field: &str) -> &'a Value {
    assert!(body["errors"].is_null(), "unexpected errors: {body}");
    &body["data"][field]
}

async fn create_team(who: &User, name: &str, parent: Option<&str>) -> String {
    let body = who
        .gql(
            "mutation($n: String!, $p: ID) { createTeam(input: { name: $n, parentId: $p }) { id } }",
            json!({ "n": name, "p": parent }),
        )
        .await;
    data(&body, "createTeam")["id"].as_str().unwrap().to_owned()
}

async fn create_team_manager(owner: &User, login: &str) -> Value {
    let body = owner
        .gql(
            "mutation($l: String!) { createTeamManager(input: { login: $l, name: \"Tess Lead\", email: \"tess@example.com\", password: \"Team-Lead-2026\" }) {
                id kind login loginSettings { forcePasswordChange } } }",
            json!({ "l": login }),
        )
        .await;
    data(&body, "createTeamManager").clone()
}

const RIGHTS: &str =
    "mutation($id: ID!, $r: ManagerRightSetPatch!) { updateManagerRights(id: $id, input: $r) {
    rights { addDeleteReps sessionReplay exportSessionReplay } } }";

#[tokio::test]
async fn rights_follow_the_dependency_rules_and_a_rejected_patch_stores_nothing() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let lead = create_team_manager(&owner, "tess.lead").await;
    assert_eq!(lead["kind"], "TEAM");
    assert_eq!(lead["loginSettings"]["forcePasswordChange"], true);
    let id = lead["id"].as_str().unwrap();

    let rejected = owner
        .gql(
            RIGHTS,
            json!({ "id": id, "r": { "addDeleteReps": true, "exportSessionReplay": true } }),
        )
        .await;
    assert_eq!(error_code(&rejected), Some("DEPENDENCY_VIOLATION"));
    assert_eq!(
        rejected["errors"][0]["extensions"]["fields"],
        json!(["exportSessionReplay"])
    );
    // The refusal names the setting to turn on, by its GraphQL field name.
    assert_eq!(
        rejected["errors"][0]["message"],
        "exportSessionReplay needs sessionReplay: turn sessionReplay on first, or in the same patch.",
        "{rejected}"
    );
    assert_eq!(
        rejected["errors"][0]["extensions"]["needs"],
        json!({ "exportSessionReplay": ["sessionReplay"] })
    );
    let unchanged = owner
        .gql(
            "query($id: ID!) { manager(id: $id) { rights { addDeleteReps } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data(&unchanged, "manager")["rights"]["addDeleteReps"],
        false,
        "nothing stored"
    );

    let ok = owner
        .gql(
            RIGHTS,
            json!({ "id": id, "r": { "addDeleteReps": true, "sessionReplay": true, "exportSessionReplay": true } }),
        )
        .await;
    assert_eq!(
        data(&ok, "updateManagerRights")["rights"],
        json!({ "addDeleteReps": true, "sessionReplay": true, "exportSessionReplay": true })
    );
    // Turning the parent off turns the dependent off too.
    let cascaded = owner
        .gql(RIGHTS, json!({ "id": id, "r": { "sessionReplay": false } }))
        .await;
    assert_eq!(
        data(&cascaded, "updateManagerRights")["rights"],
        json!({ "addDeleteReps": true, "sessionReplay": false, "exportSessionReplay": false })
    );
    let event = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("updateManagerRights"))
        .order_by_desc(audit_event::Column::Id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        event.before,
        Some(json!({ "sessionReplay": true, "exportSessionReplay": true }))
    );
    assert_eq!(
        event.after,
        Some(json!({ "sessionReplay": false, "exportSessionReplay": false }))
    );
}

#[tokio::test]
async fn rep_controls_and_rep_defaults_keep_the_rep_feature_rules() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let lead = create_team_manager(&owner, "tess.lead").await;
    let controls = "mutation($id: ID!, $p: RepFeatureSetPatch!) { updateManagerRepControls(id: $id, input: $p) {
        repControls { managementCenterAccess reports } } }";
    let bad = owner
        .gql(
            controls,
            json!({ "id": lead["id"], "p": { "reports": true } }),
        )
        .await;
    assert_eq!(error_code(&bad), Some("DEPENDENCY_VIOLATION"));
    let good = owner
        .gql(
            controls,
            json!({ "id": lead["id"], "p": { "reports": true, "managementCenterAccess": true } }),
        )
        .await;
    assert_eq!(
        data(&good, "updateManagerRepControls")["repControls"],
        json!({ "managementCenterAccess": true, "reports": true })
    );

    let team = create_team(&owner, "Support", None).await;
    let defaults =
        "mutation($id: ID!, $p: RepFeatureSetPatch!) { updateTeamRepDefaults(id: $id, input: $p) {
        repDefaults { managementCenterAccess reports sessionReplay exportSessionReplay } } }";
    let bad = owner
        .gql(
            defaults,
            json!({ "id": team, "p": { "managementCenterAccess": true, "exportSessionReplay": true } }),
        )
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["fields"],
        json!(["exportSessionReplay"])
    );
    let all = owner
        .gql(
            defaults,
            json!({ "id": team, "p": { "managementCenterAccess": true, "reports": true, "sessionReplay": true, "exportSessionReplay": true } }),
        )
        .await;
    assert_eq!(
        data(&all, "updateTeamRepDefaults")["repDefaults"]["exportSessionReplay"],
        true
    );
    let off = owner
        .gql(
            defaults,
            json!({ "id": team, "p": { "managementCenterAccess": false } }),
        )
        .await;
    assert_eq!(
        data(&off, "updateTeamRepDefaults")["repDefaults"],
        json!({ "managementCenterAccess": false, "reports": false, "sessionReplay": false, "exportSessionReplay": false }),
        "the cascade is transitive"
    );
}

#[tokio::test]
async fn effective_rights_need_assignment_own_right_and_team_feature() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let team = create_team(&owner, "Support", None).await;
    let other = create_team(&owner, "Sales", None).await;
    let lead = create_team_manager(&owner, "tess.lead").await;
    let id = lead["id"].as_str().unwrap();
    owner
        .gql(
            RIGHTS,
            json!({ "id": id, "r": { "addDeleteReps": true, "changeRepPassword": true } }),
        )
        .await;
    let set = owner
        .gql(
            "mutation($id: ID!, $t: [ID!]!) { setManagerTeams(id: $id, teamIds: $t) { teams { id } } }",
            json!({ "id": id, "t": [team] }),
        )
        .await;
    assert_eq!(
        data(&set, "setManagerTeams")["teams"],
        json!([{ "id": team }])
    );

    let effective = "query($id: ID!, $t: ID!) { manager(id: $id) { effectiveRights(teamId: $t) { addDeleteReps changeRepPassword logOutReps } } }";
    let on_team = owner.gql(effective, json!({ "id": id, "t": team })).await;
    assert_eq!(
        data(&on_team, "manager")["effectiveRights"],
        json!({ "addDeleteReps": true, "changeRepPassword": true, "logOutReps": false })
    );
    let elsewhere = owner.gql(effective, json!({ "id": id, "t": other })).await;
    assert_eq!(
        data(&elsewhere, "manager")["effectiveRights"],
        json!({ "addDeleteReps": false, "changeRepPassword": false, "logOutReps": false }),
        "not assigned: nothing"
    );
    owner
        .gql(
            "mutation($t: ID!) { updateTeamManagerFeatures(id: $t, input: { addDeleteReps: false }) { id } }",
            json!({ "t": team }),
        )
        .await;
    let feature_off = owner.gql(effective, json!({ "id": id, "t": team })).await;
    assert_eq!(
        data(&feature_off, "manager")["effectiveRights"],
        json!({ "addDeleteReps": false, "changeRepPassword": true, "logOutReps": false }),
        "the team's managerFeatures switch the right off"
    );
    let me = owner
        .gql(
            "query($t: ID!) { me { effectiveRights(teamId: $t) { addDeleteReps logOutReps } } }",
            json!({ "t": team }),
        )
        .await;
    assert_eq!(
        data(&me, "me")["effectiveRights"],
        json!({ "addDeleteReps": true, "logOutReps": true }),
        "company managers hold every right"
    );
}

#[tokio::test]
async fn a_team_manager_sees_only_its_teams_and_adds_subteams_within_its_rights() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let team = create_team(&owner, "Support", None).await;
    let hidden = create_team(&owner, "Sales", None).await;
    let lead = app
        .insert_manager(
            created.account.id,
            ManagerKind::Team,
            "tess.lead",
            "Team-Lead-2026",
        )
        .await;
    let as_lead = app.sign_in(&lead, "Team-Lead-2026").await;
    owner
        .gql(
            "mutation($id: ID!, $t: [ID!]!) { setManagerTeams(id: $id, teamIds: $t) { id } }",
            json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, lead.id), "t": [team] }),
        )
        .await;

    let teams = as_lead
        .gql("{ teams { totalCount nodes { id } } }", json!({}))
        .await;
    assert_eq!(
        data(&teams, "teams"),
        &json!({ "totalCount": 1, "nodes": [{ "id": team }] })
    );
    for query in [
        "query($t: ID!) { team(id: $t) { id } }",
        "query($t: ID!) { alias: team(id: $t) { id } }",
        "query($t: ID!) { team(id: $t) { ...F } } fragment F on Team { id name }",
    ] {
        let body = as_lead.gql(query, json!({ "t": hidden })).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{query}");
    }
    let managers = as_lead
        .gql("{ managers { totalCount nodes { login } } }", json!({}))
        .await;
    assert_eq!(
        data(&managers, "managers"),
        &json!({ "totalCount": 1, "nodes": [{ "login": "tess.lead" }] })
    );

    let top = as_lead
        .gql(
            "mutation { createTeam(input: { name: \"Rogue\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&top), Some("FORBIDDEN"));
    let sub = "mutation($p: ID!) { createTeam(input: { name: \"Night shift\", parentId: $p }) { id parent { id } } }";
    let without_right = as_lead.gql(sub, json!({ "p": team })).await;
    assert_eq!(error_code(&without_right), Some("FORBIDDEN"));
    owner
        .gql(
            RIGHTS,
            json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, lead.id), "r": { "addDeleteSubteams": true } }),
        )
        .await;
    let with_right = as_lead.gql(sub, json!({ "p": team })).await;
    let subteam = data(&with_right, "createTeam")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(data(&with_right, "createTeam")["parent"]["id"], json!(team));
    let teams = as_lead.gql("{ teams { totalCount } }", json!({})).await;
    assert_eq!(
        data(&teams, "teams")["totalCount"],
        2,
        "a sub-team it created is assigned to it"
    );
    let under_hidden = as_lead.gql(sub, json!({ "p": hidden })).await;
    assert_eq!(error_code(&under_hidden), Some("NOT_FOUND"));

    // The team's managerFeatures can take the right away again.
    owner
        .gql(
            "mutation($t: ID!) { updateTeamManagerFeatures(id: $t, input: { addDeleteSubteams: false }) { id } }",
            json!({ "t": team }),
        )
        .await;
    let delete = as_lead
        .gql(
            "mutation($t: ID!) { deleteTeam(id: $t) }",
            json!({ "t": subteam }),
        )
        .await;
    assert_eq!(error_code(&delete), Some("FORBIDDEN"));
    // Team managers never administer managers, themselves included.
    let own = as_lead
        .gql(
            RIGHTS,
            json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, lead.id), "r": { "addDeleteReps": true } }),
        )
        .await;
    assert_eq!(error_code(&own), Some("FORBIDDEN"));
}

#[tokio::test]
async fn api_managers_exist_only_when_allowed_and_never_touch_managers() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let create = "mutation { createApiManager(input: { login: \"robot\", name: \"Robot\", email: \"robot@example.com\", password: \"Robot-Pass-2026\" }) { id kind } }";
    assert_eq!(
        error_code(&owner.gql(create, json!({}),).await),
        Some("FORBIDDEN")
    );
    admin_center::service::account::set_api_managers_allowed(
        &app.state.db,
        admin_center::clock::Clock::now(&app.clock),
        created.account.id,
        true,
    )
    .await
    .unwrap();
    let body = owner.gql(create, json!({})).await;
    assert_eq!(data(&body, "createApiManager")["kind"], "API");
    let robot = entity::manager::Entity::find()
        .filter(entity::manager::Column::Login.eq("robot"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let as_robot = app.sign_in(&robot, "Robot-Pass-2026").await;
    let team = as_robot
        .gql(
            "mutation { createTeam(input: { name: \"Provisioned\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(
        data(&team, "createTeam")["id"].is_string(),
        "API managers provision teams"
    );
    // What it may do on a team is exactly what effectiveRights shows: the provisioning rights.
    let rights = as_robot
        .gql(
            "query($t: ID!) { me { effectiveRights(teamId: $t) { addDeleteSubteams addDeleteReps
                changeRepNameLogin changeRepPassword sessionReplay monthlyReports } } }",
            json!({ "t": data(&team, "createTeam")["id"] }),
        )
        .await;
    assert_eq!(
        data(&rights, "me")["effectiveRights"],
        json!({ "addDeleteSubteams": true, "addDeleteReps": true, "changeRepNameLogin": true,
                "changeRepPassword": true, "sessionReplay": false, "monthlyReports": false })
    );
    let touch = as_robot
        .gql(
            "mutation($id: ID!) { updateManager(id: $id, input: { name: \"x\" }) { id } }",
            json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, created.owner.id) }),
        )
        .await;
    assert_eq!(error_code(&touch), Some("FORBIDDEN"));
    let managers = as_robot.gql("{ managers { totalCount } }", json!({})).await;
    assert_eq!(data(&managers, "managers")["totalCount"], 1, "only itself");
}

#[tokio::test]
async fn logins_are_unique_across_the_installation_and_the_last_company_manager_stays() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let (_, stranger) = app.company_owner().await;
    let taken = stranger
        .gql(
            "mutation($l: String!) { createTeamManager(input: { login: $l, name: \"Copy\", email: \"c@example.com\", password: \"Copy-Cat-2026\" }) { id } }",
            json!({ "l": created.owner.login.to_uppercase() }),
        )
        .await;
    assert_eq!(
        error_code(&taken),
        Some("CONFLICT"),
        "another account's login, other case"
    );

    let last = owner
        .gql(
            "mutation($id: ID!) { deleteManager(id: $id) }",
            json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, created.owner.id) }),
        )
        .await;
    assert_eq!(error_code(&last), Some("CONFLICT"));
    let lead = create_team_manager(&owner, "short.lived").await;
    let deleted = owner
        .gql(
            "mutation($id: ID!) { deleteManager(id: $id) }",
            json!({ "id": lead["id"] }),
        )
        .await;
    assert_eq!(data(&deleted, "deleteManager"), &lead["id"]);
    let again = create_team_manager(&owner, "short.lived").await;
    assert_eq!(
        again["login"], "short.lived",
        "a deleted manager's login is free again"
    );
    let cross = stranger
        .gql(
            "mutation($id: ID!) { deleteManager(id: $id) }",
            json!({ "id": again["id"] }),
        )
        .await;
    assert_eq!(
        error_code(&cross),
        Some("NOT_FOUND"),
        "nothing crosses accounts"
    );
}

#[tokio::test]
async fn teams_refuse_cycles_and_deletion_with_subteams() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let top = create_team(&owner, "Top", None).await;
    let mid = create_team(&owner, "Mid", Some(&top)).await;
    let low = create_team(&owner, "Low", Some(&mid)).await;
    let cycle = owner
        .gql(
            "mutation($t: ID!, $p: ID!) { updateTeam(id: $t, input: { parentId: $p }) { id } }",
            json!({ "t": top, "p": low }),
        )
        .await;
    assert_eq!(error_code(&cycle), Some("BAD_USER_INPUT"));
    let busy = owner
        .gql(
            "mutation($t: ID!) { deleteTeam(id: $t) }",
            json!({ "t": mid }),
        )
        .await;
    assert_eq!(error_code(&busy), Some("CONFLICT"));
    let tree = owner
        .gql(
            "query($t: ID!) { team(id: $t) { subteams { name subteams { name } } } }",
            json!({ "t": top }),
        )
        .await;
    assert_eq!(
        data(&tree, "team")["subteams"],
        json!([{ "name": "Mid", "subteams": [{ "name": "Low" }] }])
    );
    let done = owner
        .gql(
            "mutation($t: ID!) { deleteTeam(id: $t) }",
            json!({ "t": low }),
        )
        .await;
    assert_eq!(data(&done, "deleteTeam"), &json!(low));
    let search = owner
        .gql("{ teams(search: \"MI\") { nodes { name } } }", json!({}))
        .await;
    assert_eq!(data(&search, "teams")["nodes"], json!([{ "name": "Mid" }]));
}

#[tokio::test]
async fn portals_come_with_a_first_subportal_and_are_kept_while_used() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let body = owner
        .gql(
            "mutation { createPortal(input: { name: \"EU\" }) { id subportals { id name } } }",
            json!({}),
        )
        .await;
    let portal = data(&body, "createPortal");
    let portal_id = portal["id"].as_str().unwrap().to_owned();
    let first = portal["subportals"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(portal["subportals"].as_array().unwrap().len(), 1);
    let last = owner
        .gql(
            "mutation($p: ID!) { deletePortal(id: $p) }",
            json!({ "p": first }),
        )
        .await;
    assert_eq!(
        error_code(&last),
        Some("CONFLICT"),
        "a portal keeps one sub-portal"
    );

    let team = owner
        .gql(
            "mutation($p: ID!, $s: [ID!]) { createTeam(input: { name: \"EU desk\", portalId: $p, subportalIds: $s }) { portal { name } subportals { id } } }",
            json!({ "p": portal_id, "s": [first] }),
        )
        .await;
    assert_eq!(data(&team, "createTeam")["portal"]["name"], "EU");
    let wrong = owner
        .gql(
            "mutation($p: ID!) { createTeam(input: { name: \"Bad\", portalId: $p }) { id } }",
            json!({ "p": first }),
        )
        .await;
    assert_eq!(
        error_code(&wrong),
        Some("BAD_USER_INPUT"),
        "a sub-portal is not a portal"
    );
    let used = owner
        .gql(
            "mutation($p: ID!) { deletePortal(id: $p) }",
            json!({ "p": portal_id }),
        )
        .await;
    assert_eq!(error_code(&used), Some("CONFLICT"));
    let list = owner
        .gql(
            "{ portals { totalCount nodes { name subportals { name parent { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&list, "portals"),
        &json!({ "totalCount": 1, "nodes": [{ "name": "EU", "subportals": [{ "name": "EU", "parent": { "name": "EU" } }] }] })
    );
}

#[tokio::test]
async fn listing_managers_costs_the_same_queries_for_5_or_50() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let mut teams = Vec::new();
    for i in 0..3 {
        teams.push(create_team(&owner, &format!("Team {i}"), None).await);
    }
    for i in 0..50 {
        let m = app
            .insert_manager(
                created.account.id,
                ManagerKind::Team,
                &format!("lead-{i:02}"),
                "Team-Lead-2026",
            )
            .await;
        owner
            .gql(
                "mutation($id: ID!, $t: [ID!]!) { setManagerTeams(id: $id, teamIds: $t) { id } }",
                json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, m.id), "t": [teams[i % 3]] }),
            )
            .await;
    }
    for (i, team) in teams.iter().enumerate() {
        for r in 0..12 {
            owner
                .gql(
                    "mutation($t: ID!, $l: String!) { createRep(input: { login: $l, name: \"Rep\", email: \"rep@example.com\", teamId: $t, password: \"Rep-Password-1\" }) { id } }",
                    json!({ "t": team, "l": format!("rep-{i}-{r}") }),
                )
                .await;
        }
    }
    // The query the issue names, plus portals and counts.
    let query = "query($n: Int!) { managers(first: $n) { nodes { rights { addDeleteReps }
        teams { id reps(first: 10) { totalCount nodes { id } } } portals { id } } } }";
    let mut counts = Vec::new();
    for n in [5, 50] {
        let before = app.statements.load(Ordering::SeqCst);
        let body = owner.gql(query, json!({ "n": n })).await;
        assert_eq!(
            data(&body, "managers")["nodes"].as_array().unwrap().len(),
            n
        );
        counts.push(app.statements.load(Ordering::SeqCst) - before);
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 5 vs 50 managers: {counts:?}"
    );
}

/// The benchmark's queries A and B (BENCHMARKS.md) in as few statements as they need: the
/// session; a page with its total count in one; a nested list in one (links and rows joined).
#[tokio::test]
async fn a_page_with_its_count_and_a_nested_list_cost_one_statement_each() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let team = create_team(&owner, "Support", None).await;
    for i in 0..3 {
        let m = app
            .insert_manager(
                created.account.id,
                ManagerKind::Team,
                &format!("lead-{i}"),
                "Team-Lead-2026",
            )
            .await;
        owner
            .gql(
                "mutation($id: ID!, $t: [ID!]!) { setManagerTeams(id: $id, teamIds: $t) { id } }",
                json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, m.id), "t": [team] }),
            )
            .await;
        owner
            .gql(
                "mutation($t: ID!, $l: String!) { createRep(input: { login: $l, name: \"Rep\", email: \"rep@example.com\", teamId: $t, password: \"Rep-Password-1\" }) { id } }",
                json!({ "t": team, "l": format!("rep-{i}") }),
            )
            .await;
    }
    // A fourth rep: the page below reads two, and its window three, so the count must come
    // from the whole team, not from the rows read.
    owner
        .gql(
            "mutation($t: ID!) { createRep(input: { login: \"rep-3\", name: \"Rep\", email: \"rep@example.com\", teamId: $t, password: \"Rep-Password-1\" }) { id } }",
            json!({ "t": team }),
        )
        .await;
    let statements = |query: &'static str, variables: serde_json::Value| {
        let owner = &owner;
        let app = &app;
        async move {
            let before = app.statements.load(Ordering::SeqCst);
            let body = owner.gql(query, variables).await;
            (body, app.statements.load(Ordering::SeqCst) - before)
        }
    };
    let (body, a) = statements(
        "{ managers(first: 50) { totalCount nodes { login teams { name } } } }",
        json!({}),
    )
    .await;
    let managers = data(&body, "managers");
    assert_eq!(managers["totalCount"], 4, "{body}");
    assert_eq!(
        managers["nodes"][1]["teams"],
        json!([{ "name": "Support" }])
    );
    assert_eq!(a, 3, "session, the page with its count, the teams");
    let (body, b) = statements(
        "query($t: ID!) { team(id: $t) { reps(first: 2) { totalCount nodes { login } } } }",
        json!({ "t": team }),
    )
    .await;
    let reps = &data(&body, "team")["reps"];
    assert_eq!(reps["totalCount"], 4, "{body}");
    assert_eq!(reps["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(b, 3, "session, the team, the reps with their count");
    // Past the end of the list, the page is empty and the count still right.
    let (body, _) = statements(
        "query($t: ID!) { team(id: $t) { reps(first: 2, after: \"_____________________w\") { totalCount nodes { login } } } }",
        json!({ "t": team }),
    )
    .await;
    assert_eq!(data(&body, "team")["reps"]["totalCount"], 4, "{body}");
    let (body, _) = statements(
        "{ managers(first: 1, after: \"_____________________w\") { totalCount nodes { login } } }",
        json!({}),
    )
    .await;
    assert_eq!(data(&body, "managers")["totalCount"], 4, "{body}");
    assert_eq!(data(&body, "managers")["nodes"], json!([]));
}

/// On PostgreSQL the server's connections plan their prepared statements once (generic
/// plans): planning each execution again cost more than running the statement.
#[tokio::test]
async fn postgresql_connections_keep_generic_plans() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let app = TestApp::new().await;
    if app.state.db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let row = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('plan_cache_mode') AS mode",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<String>("", "mode").unwrap(),
        "force_generic_plan"
    );
}

#[tokio::test]
async fn audit_events_are_for_company_managers_of_the_account_newest_first() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let (_, stranger) = app.company_owner().await;
    let team = create_team(&owner, "Support", None).await;
    owner
        .gql(
            "mutation($t: ID!) { updateTeam(id: $t, input: { name: \"Help desk\" }) { id } }",
            json!({ "t": team }),
        )
        .await;
    let all = owner
        .gql(
            "{ auditEvents { totalCount nodes { action actorLogin targetType } } }",
            json!({}),
        )
        .await;
    let events = data(&all, "auditEvents");
    assert_eq!(events["totalCount"], 5);
    let owner_login = &created.owner.login;
    assert_eq!(
        events["nodes"],
        json!([
            { "action": "UPDATE_TEAM", "actorLogin": owner_login, "targetType": "TEAM" },
            { "action": "CREATE_TEAM", "actorLogin": owner_login, "targetType": "TEAM" },
            // The owner's first sign-in with its one-time password, and the password change.
            { "action": "CHANGE_PASSWORD", "actorLogin": owner_login, "targetType": "MANAGER" },
            { "action": "LOGIN", "actorLogin": owner_login, "targetType": "MANAGER" },
            { "action": "CREATE_ACCOUNT", "actorLogin": "operator", "targetType": "ACCOUNT" },
        ])
    );
    let filtered = owner
        .gql(
            "query($t: ID!) { auditEvents(action: UPDATE_TEAM, targetId: $t) { nodes { before after } } }",
            json!({ "t": team }),
        )
        .await;
    assert_eq!(
        data(&filtered, "auditEvents")["nodes"],
        json!([{ "before": { "name": "Support" }, "after": { "name": "Help desk" } }])
    );
    let theirs = stranger
        .gql("{ auditEvents { totalCount } }", json!({}))
        .await;
    assert_eq!(
        data(&theirs, "auditEvents")["totalCount"],
        3,
        "only its own account's createAccount and its owner's sign-in"
    );
    let lead = app
        .insert_manager(
            created.account.id,
            ManagerKind::Team,
            "tess.lead",
            "Team-Lead-2026",
        )
        .await;
    let lead = app.sign_in(&lead, "Team-Lead-2026").await;
    let denied = lead.gql("{ auditEvents { totalCount } }", json!({})).await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"));
}

#[tokio::test]
async fn nested_team_fields_and_effective_rights_cost_the_same_for_few_or_many() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let top = create_team(&owner, "Top", None).await;
    let mut subteams = Vec::new();
    for i in 0..12 {
        subteams.push(create_team(&owner, &format!("Sub {i}"), Some(&top)).await);
    }
    let lead = app
        .insert_manager(
            created.account.id,
            ManagerKind::Team,
            "tess.lead",
            "Team-Lead-2026",
        )
        .await;
    owner
        .gql(
            "mutation($id: ID!, $t: [ID!]!) { setManagerTeams(id: $id, teamIds: $t) { id } }",
            json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, lead.id), "t": subteams }),
        )
        .await;
    for i in 0..20 {
        app.insert_manager(
            created.account.id,
            ManagerKind::Team,
            &format!("lead-{i:02}"),
            "Team-Lead-2026",
        )
        .await;
    }
    let as_lead = app.sign_in(&lead, "Team-Lead-2026").await;
    let count = |who: User, query: &'static str, n: usize, vars: Value| {
        let app = &app;
        async move {
            let before = app.statements.load(Ordering::SeqCst);
            let body = who.gql(query, json!({ "n": n, "t": vars })).await;
            assert!(body["errors"].is_null(), "{body}");
            app.statements.load(Ordering::SeqCst) - before
        }
    };
    let teams = "query($n: Int!) { teams(first: $n) { nodes { parent { id } subteams { id } } } }";
    let few = count(as_lead.clone(), teams, 3, json!(null)).await;
    let many = count(as_lead.clone(), teams, 12, json!(null)).await;
    assert_eq!(
        few, many,
        "a team manager's teams with parents and sub-teams"
    );

    let rights = "query($n: Int!, $t: ID!) { managers(first: $n) { nodes { effectiveRights(teamId: $t) { addDeleteReps } } } }";
    let few = count(owner.clone(), rights, 3, json!(top)).await;
    let many = count(owner.clone(), rights, 20, json!(top)).await;
    assert_eq!(few, many, "effectiveRights on a page of managers");
}
