//! App tokens in GraphQL: a developer app acting for an API manager can do what both its
//! scopes and the manager allow, on every path, and is refused past them, naming the scope.

use admin_center::{clock::Clock, service::account};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::harness::{TestApp, USER_PASSWORD, User, error_code};

/// An account that allows API managers, its signed-in owner, and a signed-in API manager.
pub async fn api_world(app: &TestApp) -> (User, User) {
    let (created, owner) = app.company_owner().await;
    account::set_api_managers_allowed(&app.state.db, app.clock.now(), created.account.id, true)
        .await
        .unwrap();
    let body = owner
        .gql(
            "mutation { createApiManager(input: { login: \"bot-api\", name: \"Bot\", email: \"bot@example.com\", password: \"First-Passw0rd-9\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(body["data"]["createApiManager"]["id"].is_string(), "{body}");
    let manager = entity::manager::Entity::find()
        .filter(entity::manager::Column::LoginKey.eq("bot-api"))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let api = app.sign_in(&manager, "First-Passw0rd-9").await;
    (owner, api)
}

#[tokio::test]
async fn app_token_reads_within_its_scopes_and_is_refused_past_them_even_nested() {
    let app = TestApp::new().await;
    let (owner, api) = api_world(&app).await;
    let team = owner
        .gql(
            "mutation { createTeam(input: { name: \"Support\" }) { id } }",
            json!({}),
        )
        .await["data"]["createTeam"]["id"]
        .clone();
    owner
        .gql(
            "mutation($t: ID!) { createRep(input: { login: \"rep-one\", name: \"Rep\", email: \"rep@example.com\", screenName: \"R\", teamId: $t, password: \"Rep-Passw0rd-77\" }) { id } }",
            json!({ "t": team }),
        )
        .await;
    let client = app.register_app(&owner, &["REPS_READ", "TEAMS_READ"]).await;
    let tokens = app
        .authorize_app(&client, &api.manager.login, USER_PASSWORD, "reps:read")
        .await;
    let as_app = |q: &'static str| {
        let token = tokens.access_token.clone();
        let app = &app;
        async move { app.post_graphql_as(&token, q, json!({})).await.1 }
    };

    let me = as_app("{ me { id login } }").await;
    assert_eq!(
        me["data"]["me"]["login"],
        api.manager.login.as_str(),
        "{me}"
    );
    let reps = as_app("{ reps(first: 5) { totalCount nodes { login } } }").await;
    assert_eq!(reps["data"]["reps"]["totalCount"], 1, "{reps}");

    for query in [
        "{ teams(first: 5) { totalCount } }",
        "{ reps(first: 5) { nodes { team { name } } } }",
        "{ a: reps(first: 5) { nodes { ...T } } } fragment T on Rep { team { name } }",
    ] {
        let refused = as_app(query).await;
        assert_eq!(
            error_code(&refused),
            Some("FORBIDDEN"),
            "{query}: {refused}"
        );
        assert_eq!(
            refused["errors"][0]["extensions"]["scope"], "teams:read",
            "{query}: {refused}"
        );
    }
    for query in [
        "{ managers(first: 5) { totalCount } }",
        "{ developerApps(first: 5) { totalCount } }",
        "{ auditEvents(first: 5) { totalCount } }",
        "{ me { authorizedApplications { id } } }",
    ] {
        let refused = as_app(query).await;
        assert_eq!(
            error_code(&refused),
            Some("FORBIDDEN"),
            "{query}: {refused}"
        );
    }
    // The same manager's own session reads all of it.
    let teams = api
        .gql("{ teams(first: 5) { totalCount } }", json!({}))
        .await;
    assert_eq!(teams["data"]["teams"]["totalCount"], 1, "{teams}");

    // The company manager revokes the app: the very next call is 401, the refresh invalid_grant.
    let revoked = owner
        .gql(
            "mutation($m: ID!, $a: [ID!]!) { revokeApiManagerApplications(managerId: $m, appIds: $a) { authorizedApplications { id } } }",
            json!({ "m": crate::harness::gid(crate::harness::IdKind::Manager, api.id()), "a": [client.id] }),
        )
        .await;
    assert_eq!(
        revoked["data"]["revokeApiManagerApplications"]["authorizedApplications"],
        json!([]),
        "{revoked}"
    );
    let (status, _) = app
        .post_graphql_as(&tokens.access_token, "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 401);
    let refreshed: serde_json::Value = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh_token.as_str()),
            ("client_id", client.client_id.as_str()),
            ("client_secret", client.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed["error"], "invalid_grant", "{refreshed}");
}

#[tokio::test]
async fn a_token_used_before_is_refused_once_it_expires() {
    let app = TestApp::new().await;
    let (owner, api) = api_world(&app).await;
    let client = app.register_app(&owner, &["REPS_READ"]).await;
    let tokens = app
        .authorize_app(&client, &api.manager.login, USER_PASSWORD, "reps:read")
        .await;
    // Used twice (the second time its verified signature is remembered)…
    for _ in 0..2 {
        let (status, body) = app
            .post_graphql_as(&tokens.access_token, "{ me { id } }", json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    // …and still refused the moment it expires, and before it is valid.
    app.clock.advance(chrono::Duration::minutes(15));
    let (status, _) = app
        .post_graphql_as(&tokens.access_token, "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 401, "at exp");
    app.clock.advance(chrono::Duration::minutes(-30));
    let (status, _) = app
        .post_graphql_as(&tokens.access_token, "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 401, "before nbf");
}

#[tokio::test]
async fn a_spent_refresh_token_of_an_ended_family_revokes_nothing_else() {
    let app = TestApp::new().await;
    let (owner, api) = api_world(&app).await;
    let client = app.register_app(&owner, &["REPS_READ"]).await;
    let old = app
        .authorize_app(&client, &api.manager.login, USER_PASSWORD, "reps:read")
        .await;
    let refresh = |token: String| {
        let (app, client) = (&app, &client);
        async move {
            let body: serde_json::Value = app
                .client
                .post(app.url("/oauth/token"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                    ("client_id", client.client_id.as_str()),
                    ("client_secret", client.secret.as_deref().unwrap()),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body
        }
    };
    // The first family: refreshed once (its first refresh token is now spent), then revoked
    // by the app itself.
    let rotated = refresh(old.refresh_token.clone()).await;
    let current = rotated["refresh_token"].as_str().unwrap().to_owned();
    let revoked = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("token", current.as_str()),
            ("client_id", client.client_id.as_str()),
            ("client_secret", client.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    // A second grant under the same authorization (consent skipped).
    let second = app
        .authorize_app(&client, &api.manager.login, USER_PASSWORD, "reps:read")
        .await;
    // Replaying the first family's spent token fails, and ends nothing else.
    let replay = refresh(old.refresh_token.clone()).await;
    assert_eq!(replay["error"], "invalid_grant", "{replay}");
    let (status, body) = app
        .post_graphql_as(&second.access_token, "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app
        .post_graphql_as(&old.access_token, "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 401, "the revoked family's access token");
}
