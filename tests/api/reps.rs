//! Reps: provisioning within rights, feature overrides within rep controls, caps and logins.

use entity::manager::ManagerKind;
use serde_json::{Value, json};

use crate::harness::{TestApp, User, error_code};

fn data<'a>(body: &'a Value, field: &str) -> &'a Value {
    assert!(body["errors"].is_null(), "unexpected errors: {body}");
    &body["data"][field]
}

const CREATE: &str = "mutation($t: ID!, $l: String!, $p: [ID!]) {
    createRep(input: { login: $l, name: \"Rita Rep\", email: \"rita@example.com\", teamId: $t, portalIds: $p, password: \"Rep-Password-1\" }) {
        id login screenName team { id } portals { id } features { managementCenterAccess reports } featureOverrides { reports } } }";

async fn team(who: &User, name: &str, cap: Option<i32>) -> String {
    let body = who
        .gql(
            "mutation($n: String!, $c: Int) { createTeam(input: { name: $n, availableLogins: $c }) { id } }",
            json!({ "n": name, "c": cap }),
        )
        .await;
    data(&body, "createTeam")["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn reps_are_created_within_the_team_cap_with_unique_logins() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let support = team(&owner, "Support", Some(1)).await;
    let portal = owner
        .gql(
            "mutation { createPortal(input: { name: \"EU\" }) { id } }",
            json!({}),
        )
        .await;
    let portal = data(&portal, "createPortal")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let body = owner
        .gql(CREATE, json!({ "t": support, "l": "rita", "p": [portal] }))
        .await;
    let rep = data(&body, "createRep");
    assert_eq!(
        rep["screenName"], "Rita Rep",
        "screen name defaults to the name"
    );
    assert_eq!(rep["team"]["id"], json!(support));
    assert_eq!(rep["portals"], json!([{ "id": portal }]));
    assert_eq!(
        rep["features"],
        json!({ "managementCenterAccess": false, "reports": false }),
        "team defaults: all off"
    );
    assert_eq!(rep["featureOverrides"], json!({ "reports": null }));

    let full = owner
        .gql(CREATE, json!({ "t": support, "l": "rita2" }))
        .await;
    assert_eq!(error_code(&full), Some("CONFLICT"), "availableLogins is 1");
    let other = team(&owner, "Sales", None).await;
    let clash = owner
        .gql(
            CREATE,
            json!({ "t": other, "l": created.owner.login.to_uppercase() }),
        )
        .await;
    assert_eq!(
        error_code(&clash),
        Some("CONFLICT"),
        "a manager's login, other case"
    );
    let busy = owner
        .gql(
            "mutation($t: ID!) { deleteTeam(id: $t) }",
            json!({ "t": support }),
        )
        .await;
    assert_eq!(
        error_code(&busy),
        Some("CONFLICT"),
        "a team with reps stays"
    );

    let moved = owner
        .gql(
            "mutation($r: ID!, $t: ID!) { updateRep(id: $r, input: { teamId: $t }) { team { name } } }",
            json!({ "r": rep["id"], "t": other }),
        )
        .await;
    assert_eq!(data(&moved, "updateRep")["team"]["name"], "Sales");
    let deleted = owner
        .gql(
            "mutation($r: ID!) { deleteRep(id: $r) }",
            json!({ "r": rep["id"] }),
        )
        .await;
    assert_eq!(data(&deleted, "deleteRep"), &rep["id"]);
    let again = owner
        .gql(CREATE, json!({ "t": support, "l": "rita" }))
        .await;
    assert_eq!(
        data(&again, "createRep")["login"],
        "rita",
        "the login is free again"
    );
}

#[tokio::test]
async fn a_team_manager_provisions_reps_only_with_its_effective_rights() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let mine = team(&owner, "Mine", None).await;
    let theirs = team(&owner, "Theirs", None).await;
    let lead = app
        .insert_manager(
            created.account.id,
            ManagerKind::Team,
            "tess.lead",
            "Team-Lead-2026",
        )
        .await;
    let as_lead = app.sign_in(&lead, "Team-Lead-2026").await;
    let id = crate::harness::gid(crate::harness::IdKind::Manager, lead.id);
    owner
        .gql(
            "mutation($id: ID!, $t: [ID!]!) { setManagerTeams(id: $id, teamIds: $t) { id } }",
            json!({ "id": id, "t": [mine] }),
        )
        .await;

    let denied = as_lead.gql(CREATE, json!({ "t": mine, "l": "rep1" })).await;
    assert_eq!(
        error_code(&denied),
        Some("FORBIDDEN"),
        "assigned, right off"
    );
    owner
        .gql(
            "mutation($id: ID!) { updateManagerRights(id: $id, input: { addDeleteReps: true }) { id } }",
            json!({ "id": id }),
        )
        .await;
    let body = as_lead.gql(CREATE, json!({ "t": mine, "l": "rep1" })).await;
    let rep = data(&body, "createRep")["id"].clone();
    let elsewhere = as_lead
        .gql(CREATE, json!({ "t": theirs, "l": "rep2" }))
        .await;
    assert_eq!(error_code(&elsewhere), Some("NOT_FOUND"), "not assigned");

    let rename = "mutation($r: ID!) { updateRep(id: $r, input: { name: \"Renamed\" }) { name } }";
    assert_eq!(
        error_code(&as_lead.gql(rename, json!({ "r": rep }),).await),
        Some("FORBIDDEN")
    );
    let password =
        "mutation($r: ID!) { setRepPassword(id: $r, password: \"New-Rep-Pass-2\") { id } }";
    assert_eq!(
        error_code(&as_lead.gql(password, json!({ "r": rep }),).await),
        Some("FORBIDDEN")
    );
    owner
        .gql(
            "mutation($id: ID!) { updateManagerRights(id: $id, input: { changeRepNameLogin: true, changeRepPassword: true }) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        data(
            &as_lead.gql(rename, json!({ "r": rep }),).await,
            "updateRep"
        )["name"],
        "Renamed"
    );
    assert!(
        data(
            &as_lead.gql(password, json!({ "r": rep }),).await,
            "setRepPassword"
        )["id"]
            .is_string()
    );

    // The team's managerFeatures switch a right off for every team manager of the team.
    owner
        .gql(
            "mutation($t: ID!) { updateTeamManagerFeatures(id: $t, input: { addDeleteReps: false }) { id } }",
            json!({ "t": mine }),
        )
        .await;
    let gone = as_lead
        .gql(
            "mutation($r: ID!) { deleteRep(id: $r) }",
            json!({ "r": rep }),
        )
        .await;
    assert_eq!(error_code(&gone), Some("FORBIDDEN"));

    let visible = as_lead
        .gql("{ reps { totalCount nodes { name } } }", json!({}))
        .await;
    assert_eq!(
        data(&visible, "reps"),
        &json!({ "totalCount": 1, "nodes": [{ "name": "Renamed" }] })
    );
    let hidden = as_lead
        .gql(
            "query($t: ID!) { reps(teamId: $t) { totalCount } }",
            json!({ "t": theirs }),
        )
        .await;
    assert_eq!(error_code(&hidden), Some("NOT_FOUND"));
}

#[tokio::test]
async fn rep_features_override_team_defaults_within_rep_controls() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let support = team(&owner, "Support", None).await;
    let body = owner
        .gql(CREATE, json!({ "t": support, "l": "rita" }))
        .await;
    let rep = data(&body, "createRep")["id"].clone();
    let features = "mutation($r: ID!, $p: RepFeatureOverridesPatch!) { updateRepFeatures(id: $r, input: $p) {
        features { managementCenterAccess reports multiSession } featureOverrides { managementCenterAccess reports multiSession } } }";

    let violation = owner
        .gql(features, json!({ "r": rep, "p": { "reports": true } }))
        .await;
    assert_eq!(error_code(&violation), Some("DEPENDENCY_VIOLATION"));
    assert_eq!(
        violation["errors"][0]["message"],
        "reports needs managementCenterAccess: turn managementCenterAccess on first, or in the \
         same patch.",
        "{violation}"
    );
    assert_eq!(
        violation["errors"][0]["extensions"]["needs"],
        json!({ "reports": ["managementCenterAccess"] })
    );
    let on = owner
        .gql(
            features,
            json!({ "r": rep, "p": { "managementCenterAccess": true, "reports": true } }),
        )
        .await;
    assert_eq!(
        data(&on, "updateRepFeatures")["features"],
        json!({ "managementCenterAccess": true, "reports": true, "multiSession": false })
    );
    assert_eq!(
        data(&on, "updateRepFeatures")["featureOverrides"],
        json!({ "managementCenterAccess": true, "reports": true, "multiSession": null })
    );

    // A team default reaches the fields the rep does not override.
    owner
        .gql(
            "mutation($t: ID!) { updateTeamRepDefaults(id: $t, input: { multiSession: true }) { id } }",
            json!({ "t": support }),
        )
        .await;
    let read = owner
        .gql(
            "query($r: ID!) { rep(id: $r) { features { managementCenterAccess multiSession } } }",
            json!({ "r": rep }),
        )
        .await;
    assert_eq!(
        data(&read, "rep")["features"],
        json!({ "managementCenterAccess": true, "multiSession": true })
    );

    // A team manager switches only what its rep controls allow, cascades included.
    let lead = app
        .insert_manager(
            created.account.id,
            ManagerKind::Team,
            "tess.lead",
            "Team-Lead-2026",
        )
        .await;
    let as_lead = app.sign_in(&lead, "Team-Lead-2026").await;
    let id = crate::harness::gid(crate::harness::IdKind::Manager, lead.id);
    owner
        .gql(
            "mutation($id: ID!, $t: [ID!]!) { setManagerTeams(id: $id, teamIds: $t) { id } }",
            json!({ "id": id, "t": [support] }),
        )
        .await;
    owner
        .gql(
            "mutation($id: ID!) { updateManagerRepControls(id: $id, input: { managementCenterAccess: true, multiSession: true }) { id } }",
            json!({ "id": id }),
        )
        .await;
    let outside = as_lead
        .gql(features, json!({ "r": rep, "p": { "reports": false } }))
        .await;
    assert_eq!(error_code(&outside), Some("FORBIDDEN"));
    assert_eq!(
        outside["errors"][0]["extensions"]["fields"],
        json!(["reports"])
    );
    let cascade = as_lead
        .gql(
            features,
            json!({ "r": rep, "p": { "managementCenterAccess": false } }),
        )
        .await;
    assert_eq!(
        error_code(&cascade),
        Some("FORBIDDEN"),
        "turning access off would switch reports off too"
    );
    assert_eq!(
        cascade["errors"][0]["extensions"]["fields"],
        json!(["reports"])
    );
    let allowed = as_lead
        .gql(
            features,
            json!({ "r": rep, "p": { "multiSession": false } }),
        )
        .await;
    assert_eq!(
        data(&allowed, "updateRepFeatures")["features"]["multiSession"],
        false
    );
    let unassigned_team = team(&owner, "Other", None).await;
    let other_rep = owner
        .gql(CREATE, json!({ "t": unassigned_team, "l": "otto" }))
        .await;
    let other = as_lead
        .gql(
            features,
            json!({ "r": data(&other_rep, "createRep")["id"], "p": { "multiSession": true } }),
        )
        .await;
    assert_eq!(error_code(&other), Some("NOT_FOUND"));
}
