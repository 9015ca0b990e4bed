//! Regressions "found by trying it" (issue 7), each its own test: a `login` answer checked
//! against another token's reach, restricted sessions reading past the manager, work after
//! `logout` in the same request, and mutations dropping links the caller cannot see.

use super::nested::{NestedWorld, nested_world, nested_world_with};
use super::*;
use crate::harness::USER_PASSWORD;

const LOGIN_WITH_TEAMS: &str = "mutation($l: String!, $p: String!) {
    login(login: $l, password: $p) { restriction manager { login
        teams { id subteams { id } managers { login email } reps { nodes { login email } } } } } }";

/// The `login` answer's teams with ids, sub-teams and managers' and reps' logins, sorted, for
/// comparison.
fn teams_seen(body: &Value) -> Vec<Value> {
    let mut teams: Vec<Value> = body["data"]["login"]["manager"]["teams"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    teams.sort_by_key(|t| t["id"].as_str().unwrap_or_default().to_owned());
    teams
}

#[tokio::test]
async fn login_with_another_accounts_token_shows_only_what_the_signed_in_manager_reaches() {
    let NestedWorld { fixture: f, ta, .. } = nested_world().await;
    let with_right = f.user(Caller::TeamWithRight).unwrap();
    let (login, email) = (&with_right.manager.login, &with_right.manager.email);
    let me = json!([{ "login": login, "email": email }]);
    // T has sub-teams TA (assigned) and TS (not); T's managers are the two team managers on T
    // and the bystander; the token's manager would see them all.
    let mut want = vec![
        json!({ "id": crate::harness::gid_of(f.t), "subteams": [{ "id": crate::harness::gid_of(ta) }],
                "managers": me, "reps": { "nodes": [{ "login": "rep.t", "email": "rep.t@example.com" }] } }),
        json!({ "id": crate::harness::gid_of(ta), "subteams": [],
                "managers": me, "reps": { "nodes": [{ "login": "rep.ta", "email": "rep.ta@example.com" }] } }),
    ];
    want.sort_by_key(|t| t["id"].as_str().unwrap_or_default().to_owned());
    for token_of in [
        Caller::OtherCompany,
        Caller::Company,
        Caller::Api,
        Caller::AppAll,
        Caller::AppRepsOnly,
    ] {
        let body = f
            .send(
                token_of,
                LOGIN_WITH_TEAMS,
                json!({ "l": login, "p": SEED_PASSWORD }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        assert_eq!(body["data"]["login"]["restriction"], "NONE");
        assert_eq!(
            teams_seen(&body),
            want,
            "signing in as the team manager on T with the token of {token_of:?}"
        );
    }
}

/// A team manager of A assigned to T and P whose next sign-in is restricted, by A's company
/// manager through the API; returns its login.
async fn restricted_manager(f: &Fixture, login: &str, settings: Value) -> (Uuid, String) {
    let manager = f
        .app
        .insert_manager(f.account_a, ManagerKind::Team, login, SEED_PASSWORD)
        .await;
    let owner = &f.owner;
    setup(owner, SET_TEAMS, json!({ "id": manager.id, "ids": [f.t] })).await;
    setup(
        owner,
        SET_PORTALS,
        json!({ "id": manager.id, "ids": [f.p] }),
    )
    .await;
    setup(
        owner,
        "mutation($id: ID!, $s: LoginSettingsPatch!) {
            updateManagerLoginSettings(id: $id, input: $s) { id } }",
        json!({ "id": manager.id, "s": settings }),
    )
    .await;
    (manager.id, manager.login)
}

#[tokio::test]
async fn a_restricted_login_answer_gives_nothing_past_the_manager_whatever_the_token() {
    let NestedWorld { fixture: f, .. } = nested_world().await;
    for (login, settings, code) in [
        (
            "tm.must-validate",
            json!({ "forceValidationPrompt": true }),
            "EMAIL_VALIDATION_REQUIRED",
        ),
        (
            "tm.must-change",
            json!({ "forcePasswordChange": true }),
            "PASSWORD_CHANGE_REQUIRED",
        ),
    ] {
        restricted_manager(&f, login, settings).await;
        for token_of in [
            Caller::Anonymous,
            Caller::Company,
            Caller::OtherCompany,
            Caller::AppAll,
        ] {
            let body = f
                .send(
                    token_of,
                    LOGIN_WITH_TEAMS,
                    json!({ "l": login, "p": SEED_PASSWORD }),
                )
                .await;
            assert_eq!(
                error_code(&body),
                Some(code),
                "{login} with the token of {token_of:?}: {body}"
            );
            assert!(
                body["data"]["login"]["manager"]["teams"].is_null(),
                "{login} with the token of {token_of:?}: {body}"
            );
            let text = body.to_string();
            for secret in [
                crate::harness::gid_of(f.t),
                "rep.t".to_owned(),
                "tm.bystander".to_owned(),
            ] {
                assert!(!text.contains(&secret), "{login} sees {secret}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn a_restricted_session_reads_only_the_scalars_of_me() {
    let NestedWorld { fixture: f, .. } = nested_world().await;
    for (login, settings, restriction, code) in [
        (
            "tm.must-validate",
            json!({ "forceValidationPrompt": true }),
            "EMAIL_VALIDATION",
            "EMAIL_VALIDATION_REQUIRED",
        ),
        (
            "tm.must-change",
            json!({ "forcePasswordChange": true }),
            "PASSWORD_CHANGE",
            "PASSWORD_CHANGE_REQUIRED",
        ),
    ] {
        let (id, login) = restricted_manager(&f, login, settings).await;
        let body = f.app.login(&login, SEED_PASSWORD).await;
        assert_eq!(body["data"]["login"]["restriction"], restriction, "{body}");
        let token = body["data"]["login"]["token"].as_str().unwrap().to_owned();
        let (_, me) = f
            .app
            .post_graphql_as(&token, "{ me { id login email kind } }", json!({}))
            .await;
        assert!(me["errors"].is_null(), "{me}");
        assert_eq!(me["data"]["me"]["id"], json!(crate::harness::gid_of(id)));
        for (beyond, vars) in [
            ("{ me { id teams { id } } }", json!({})),
            ("{ me { id portals { id } } }", json!({})),
            (
                "query($t: ID!) { me { id effectiveRights(teamId: $t) { addDeleteReps } } }",
                json!({ "t": f.t }),
            ),
            (
                "{ me { ...M } } fragment M on Manager { id teams { id reps { nodes { id } } } }",
                json!({}),
            ),
        ] {
            let (_, body) = f.app.post_graphql_as(&token, beyond, vars).await;
            assert_eq!(error_code(&body), Some(code), "{login}: {beyond}: {body}");
            // Nothing past the manager: at most `me { id }`.
            let me = &body["data"]["me"];
            assert!(
                me.is_null() || me.as_object().is_some_and(|m| m.keys().all(|k| k == "id")),
                "{login}: {beyond}: {body}"
            );
        }
    }
}

/// Lifting the restriction answers with the manager as it now reaches: its own teams only,
/// their sub-teams filtered (T's sub-team TS is not assigned to it), itself among managers.
#[tokio::test]
async fn the_change_password_answer_shows_the_manager_as_its_new_session_reaches() {
    let NestedWorld { fixture: f, ta, .. } = nested_world().await;
    let (id, login) =
        restricted_manager(&f, "tm.changed", json!({ "forcePasswordChange": true })).await;
    setup(&f.owner, SET_TEAMS, json!({ "id": id, "ids": [f.t, ta] })).await;
    let signed_in = f.app.login(&login, SEED_PASSWORD).await;
    let token = signed_in["data"]["login"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, changed) = f
        .app
        .post_graphql_as(
            &token,
            "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) {
                restriction manager { teams { id subteams { id } managers { login } } } } }",
            json!({ "c": SEED_PASSWORD, "n": USER_PASSWORD }),
        )
        .await;
    assert!(changed["errors"].is_null(), "{changed}");
    let mut teams = changed["data"]["changePassword"]["manager"]["teams"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    teams.sort_by_key(|t| t["id"].as_str().unwrap_or_default().to_owned());
    let me = json!([{ "login": login }]);
    let mut want = vec![
        json!({ "id": crate::harness::gid_of(f.t), "subteams": [{ "id": crate::harness::gid_of(ta) }], "managers": me }),
        json!({ "id": crate::harness::gid_of(ta), "subteams": [], "managers": me }),
    ];
    want.sort_by_key(|t| t["id"].as_str().unwrap_or_default().to_owned());
    assert_eq!(teams, want, "{changed}");
}

/// Validating the e-mail address answers with the manager as its new, unrestricted session
/// reaches, like `changePassword`.
#[tokio::test]
async fn the_validate_email_answer_shows_the_manager_as_its_new_session_reaches() {
    let mail = tempfile::tempdir().unwrap();
    let dir = mail.path().to_owned();
    let NestedWorld { fixture: f, ta, .. } = nested_world_with(|config| {
        config.mail_transport = admin_center::config::MailTransport::File(dir.clone());
    })
    .await;
    let (id, login) =
        restricted_manager(&f, "tm.validates", json!({ "forceValidationPrompt": true })).await;
    setup(&f.owner, SET_TEAMS, json!({ "id": id, "ids": [f.t, ta] })).await;
    let signed_in = f.app.login(&login, SEED_PASSWORD).await;
    assert_eq!(
        signed_in["data"]["login"]["restriction"], "EMAIL_VALIDATION",
        "{signed_in}"
    );
    let token = signed_in["data"]["login"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mails = crate::harness::outbox(&dir, 1).await;
    let body = mails.last().unwrap();
    let marker = "validate this e-mail address is:";
    let code: String = body[body.find(marker).unwrap() + marker.len()..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let (_, validated) = f
        .app
        .post_graphql_as(
            &token,
            "mutation($c: String!) { validateEmail(code: $c) {
                restriction manager { teams { id subteams { id } managers { login } } } } }",
            json!({ "c": code }),
        )
        .await;
    assert!(validated["errors"].is_null(), "{validated}");
    let mut teams = validated["data"]["validateEmail"]["manager"]["teams"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    teams.sort_by_key(|t| t["id"].as_str().unwrap_or_default().to_owned());
    let me = json!([{ "login": login }]);
    let mut want = vec![
        json!({ "id": crate::harness::gid_of(f.t), "subteams": [{ "id": crate::harness::gid_of(ta) }], "managers": me }),
        json!({ "id": crate::harness::gid_of(ta), "subteams": [], "managers": me }),
    ];
    want.sort_by_key(|t| t["id"].as_str().unwrap_or_default().to_owned());
    assert_eq!(teams, want, "{validated}");
}

/// Teams of `owner`'s account named `name`.
async fn teams_named(owner: &User, name: &str) -> usize {
    let body = owner
        .gql(
            "query($s: String!) { teams(search: $s) { nodes { name } } }",
            json!({ "s": name }),
        )
        .await;
    body["data"]["teams"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .filter(|t| t["name"] == name)
        .count()
}

#[tokio::test]
async fn work_after_logout_in_the_same_request_runs_as_anonymous() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let session = app.sign_in(&owner.manager, USER_PASSWORD).await;
    let body = session
        .gql(
            "mutation { logout a: createTeam(input: { name: \"After logout\" }) { id } }",
            json!({}),
        )
        .await;
    let refused = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["path"] == json!(["a"]));
    assert_eq!(
        refused.map(|e| &e["extensions"]["code"]),
        Some(&json!("UNAUTHENTICATED")),
        "{body}"
    );
    assert!(
        body["data"].is_null() || body["data"]["a"].is_null(),
        "{body}"
    );
    assert_eq!(
        teams_named(&owner, "After logout").await,
        0,
        "no team is created"
    );
    // The logout itself happened.
    let (status, _) = session.post("{ me { id } }", json!({})).await;
    assert_eq!(status, 401);
}

/// POSTs a JSON batch with `token`; returns the answers.
async fn batch(app: &TestApp, token: &str, queries: &[&str]) -> Vec<Value> {
    let body: Vec<Value> = queries.iter().map(|q| json!({ "query": q })).collect();
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answers: Value = response.json().await.unwrap();
    answers
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{answers}"))
}

#[tokio::test]
async fn work_after_logout_in_the_same_batch_runs_as_anonymous() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;

    let session = app.sign_in(&owner.manager, USER_PASSWORD).await;
    let answers = batch(
        &app,
        &session.token,
        &["mutation { logout }", "{ me { id } }"],
    )
    .await;
    assert_eq!(answers[0]["data"]["logout"], true, "{answers:?}");
    assert_eq!(answers[1], json!({ "data": { "me": null } }), "{answers:?}");

    let session = app.sign_in(&owner.manager, USER_PASSWORD).await;
    let answers = batch(
        &app,
        &session.token,
        &[
            "mutation { logout }",
            "mutation { createTeam(input: { name: \"After logout\" }) { id } }",
        ],
    )
    .await;
    assert_eq!(answers[0]["data"]["logout"], true, "{answers:?}");
    assert_eq!(
        error_code(&answers[1]),
        Some("UNAUTHENTICATED"),
        "{answers:?}"
    );
    assert_eq!(
        teams_named(&owner, "After logout").await,
        0,
        "no team is created"
    );
}

#[tokio::test]
async fn a_team_manager_changing_a_reps_portals_keeps_the_portals_it_cannot_see() {
    let NestedWorld {
        fixture: f, p1, px, ..
    } = nested_world().await;
    // rep.t works in P1 and PX; the team manager on T (addDeleteReps on) sees only P1 and
    // sends the portals it sees, as a client editing the rep would.
    let with_right = f.user(Caller::TeamWithRight).unwrap();
    let body = with_right
        .gql(
            "mutation($id: ID!, $p: [ID!]) { updateRep(id: $id, input: { portalIds: $p }) { portals { id } } }",
            json!({ "id": f.rep_t, "p": [p1] }),
        )
        .await;
    let stored = f
        .owner
        .gql(
            "query($id: ID!) { rep(id: $id) { portals { id } } }",
            json!({ "id": f.rep_t }),
        )
        .await;
    let mut portals: Vec<String> = stored["data"]["rep"]["portals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    portals.sort();
    let mut want = vec![crate::harness::gid_of(p1), crate::harness::gid_of(px)];
    want.sort();
    assert_eq!(
        portals, want,
        "the portal the team manager cannot see is still linked (its update answered {body})"
    );
}
