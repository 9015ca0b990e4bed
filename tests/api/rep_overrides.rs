//! A rep's feature overrides and its effective features never disagree: a cascade from the
//! team's defaults (or a move to another team) turns a dependent override off for good.

use serde_json::{Value, json};

use crate::harness::TestApp;

const PASSWORD: &str = "Blue-Harbor-42";

async fn ok(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = app.post_graphql_as(token, query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["errors"].is_null(), "unexpected errors: {body}");
    body["data"].clone()
}

async fn team_with_access(app: &TestApp, token: &str, name: &str, access: bool) -> String {
    let team = ok(
        app,
        token,
        "mutation($n: String!) { createTeam(input: { name: $n }) { id } }",
        json!({ "n": name }),
    )
    .await["createTeam"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    set_access(app, token, &team, access).await;
    team
}

async fn set_access(app: &TestApp, token: &str, team: &str, on: bool) {
    ok(
        app,
        token,
        "mutation($t: ID!, $on: Boolean!) { updateTeamRepDefaults(id: $t, input: { managementCenterAccess: $on }) { id } }",
        json!({ "t": team, "on": on }),
    )
    .await;
}

/// A rep of `team` that overrides `reports: true`.
async fn rep_with_reports(app: &TestApp, token: &str, team: &str, login: &str) -> String {
    let rep = ok(
        app,
        token,
        "mutation($t: ID!, $l: String!) { createRep(input: { login: $l, name: \"Rita Rep\", email: \"rita@example.com\", teamId: $t, password: \"Rep-Password-1\" }) { id } }",
        json!({ "t": team, "l": login }),
    )
    .await["createRep"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let features = ok(
        app,
        token,
        "mutation($r: ID!) { updateRepFeatures(id: $r, input: { reports: true }) { features { reports } featureOverrides { reports } } }",
        json!({ "r": rep }),
    )
    .await;
    assert_eq!(
        features["updateRepFeatures"],
        json!({ "features": { "reports": true }, "featureOverrides": { "reports": true } })
    );
    rep
}

/// `(features.reports, featureOverrides.reports)` of a rep.
async fn reports(app: &TestApp, token: &str, rep: &str) -> (Value, Value) {
    let data = ok(
        app,
        token,
        "query($r: ID!) { rep(id: $r) { features { reports } featureOverrides { reports } } }",
        json!({ "r": rep }),
    )
    .await;
    (
        data["rep"]["features"]["reports"].clone(),
        data["rep"]["featureOverrides"]["reports"].clone(),
    )
}

#[tokio::test]
async fn a_team_default_cascade_turns_a_reps_override_off_for_good() {
    let app = TestApp::new().await;
    let (_, token) = app.signed_in_owner(PASSWORD).await;
    let team = team_with_access(&app, &token, "Support", true).await;
    let rep = rep_with_reports(&app, &token, &team, "rita").await;

    set_access(&app, &token, &team, false).await;
    assert_eq!(
        reports(&app, &token, &rep).await,
        (json!(false), json!(false)),
        "features and featureOverrides agree: reports is off"
    );
    set_access(&app, &token, &team, true).await;
    assert_eq!(
        reports(&app, &token, &rep).await,
        (json!(false), json!(false)),
        "turning the parent back on does not bring reports back"
    );

    // The rep's change is in the audit log, as part of the team's change.
    let data = ok(
        &app,
        &token,
        "query($r: ID!) { auditEvents(targetId: $r, action: UPDATE_TEAM_REP_DEFAULTS) { nodes { targetType before after } } }",
        json!({ "r": rep }),
    )
    .await;
    assert_eq!(
        data["auditEvents"]["nodes"],
        json!([{ "targetType": "REP", "before": { "reports": true }, "after": { "reports": false } }])
    );
}

#[tokio::test]
async fn moving_a_rep_to_a_team_without_the_parent_turns_its_override_off_for_good() {
    let app = TestApp::new().await;
    let (_, token) = app.signed_in_owner(PASSWORD).await;
    let with = team_with_access(&app, &token, "With access", true).await;
    let without = team_with_access(&app, &token, "Without access", false).await;
    let rep = rep_with_reports(&app, &token, &with, "rita").await;
    let untouched = rep_with_reports(&app, &token, &with, "rory").await;

    let move_to = "mutation($r: ID!, $t: ID!) { updateRep(id: $r, input: { teamId: $t }) { features { reports } featureOverrides { reports } } }";
    let moved = ok(&app, &token, move_to, json!({ "r": rep, "t": without })).await;
    assert_eq!(
        moved["updateRep"],
        json!({ "features": { "reports": false }, "featureOverrides": { "reports": false } })
    );
    let back = ok(&app, &token, move_to, json!({ "r": rep, "t": with })).await;
    assert_eq!(
        back["updateRep"],
        json!({ "features": { "reports": false }, "featureOverrides": { "reports": false } }),
        "moving back does not bring reports back"
    );
    assert_eq!(
        reports(&app, &token, &untouched).await,
        (json!(true), json!(true)),
        "reps that stayed keep their overrides"
    );
}

#[tokio::test]
async fn the_cascade_reaches_every_rep_of_a_large_team() {
    use admin_center::clock::Clock;
    use sea_orm::EntityTrait;
    let app = TestApp::new().await;
    let (created, token) = app.signed_in_owner(PASSWORD).await;
    let team = team_with_access(&app, &token, "Large", true).await;
    let team_id = crate::harness::uuid_of_gid(&team);
    // Reps with `reports: true` overrides, inserted directly: more than one statement's worth
    // of bound parameters on either database once each is audited.
    let reports = 1i64 << 2;
    let now = app.clock.now();
    let reps: Vec<entity::rep::ActiveModel> = (0..7000)
        .map(|i| {
            let login = format!("bulk-rep-{i}");
            entity::rep::ActiveModel::from(entity::rep::Model {
                id: uuid::Uuid::now_v7(),
                account_id: created.account.id,
                team_id,
                login_key: login.clone(),
                login,
                name: format!("Bulk {i}"),
                email: format!("bulk{i}@example.com"),
                screen_name: format!("Bulk {i}"),
                password_hash: entity::SecretHash("not-a-hash".into()),
                feature_override_mask: reports,
                feature_override_values: reports,
                created_at: now,
                updated_at: now,
            })
        })
        .collect();
    for chunk in reps.chunks(1000) {
        entity::rep::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&app.state.db)
            .await
            .unwrap();
    }
    set_access(&app, &token, &team, false).await;
    let still_on = entity::rep::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.feature_override_values & reports != 0)
        .count();
    assert_eq!(still_on, 0);
}
