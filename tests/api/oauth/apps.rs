//! Developer apps and authorizations through GraphQL: registration (the secret shown once,
//! only its hash kept), rotation, update, disable, listing, who may do it, `authorizedApplications`
//! and `revokeApiManagerApplications`, with their audit events.

use admin_center::clock::Clock;
use chrono::Duration;
use entity::manager::ManagerKind;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use super::support::*;
use crate::harness::{User, error_code};

const APP_FIELDS: &str = "id clientId name description redirectUris scopes confidential platform disabledAt createdAt updatedAt";

async fn read_app(who: &User, id: &str) -> (u16, Value) {
    who.post(
        &format!("query($id: ID!) {{ developerApp(id: $id) {{ {APP_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await
}

/// The app's fields but its timestamps (PostgreSQL keeps microseconds; the mutation answers
/// with the clock's nanoseconds).
fn without_times(app: &Value) -> Value {
    let mut app = app.clone();
    if let Some(fields) = app.as_object_mut() {
        fields.retain(|k, _| !k.ends_with("At"));
    }
    app
}

/// Every audit event of the account, all fields, as text.
async fn whole_audit_log(world: &World) -> String {
    let data = ok(
        &world.owner,
        "{ auditEvents(first: 100) { nodes { id actorId actorLogin action targetType targetId before after clientAddress createdAt } } }",
        json!({}),
    )
    .await;
    data.to_string()
}

#[tokio::test]
async fn registering_an_app_shows_the_secret_once_and_keeps_only_its_hash() {
    let world = world().await;
    let (status, body) = register_raw(
        &world.owner,
        "Rep Sync",
        &[REDIRECT, "https://sync.example.com/cb"],
        &["reps:read", "teams:read"],
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let registered = &body["data"]["registerDeveloperApp"];
    let secret = registered["clientSecret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert!(secret.starts_with("acs_") && secret.len() >= 36, "{secret}");
    let app = &registered["app"];
    assert_eq!(app["name"], "Rep Sync");
    assert_eq!(app["description"], "A test app");
    assert_eq!(
        app["redirectUris"],
        json!([REDIRECT, "https://sync.example.com/cb"])
    );
    assert_eq!(app["scopes"], json!(["REPS_READ", "TEAMS_READ"]));
    assert_eq!(app["confidential"], json!(true));
    assert_eq!(app["platform"], json!(false));
    assert!(app["disabledAt"].is_null());
    let client_id = app["clientId"].as_str().unwrap();
    assert!(!client_id.is_empty() && !secret.contains(client_id));
    let id = app["id"].as_str().unwrap().to_owned();

    // Never again: not in the app's fields, its listing, the audit log or the database.
    let (_, again) = read_app(&world.owner, &id).await;
    assert_eq!(
        without_times(&again["data"]["developerApp"]),
        without_times(app),
        "{again}"
    );
    let (_, listing) = world
        .owner
        .post(
            &format!("{{ developerApps(first: 10) {{ nodes {{ {APP_FIELDS} }} }} }}"),
            json!({}),
        )
        .await;
    assert!(!listing.to_string().contains(&secret));
    let log = whole_audit_log(&world).await;
    assert!(log.contains("REGISTER_DEVELOPER_APP"), "{log}");
    assert!(!log.contains(&secret), "{log}");
    let rows = entity::developer_app::Entity::find()
        .all(&world.app.state.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored = rows[0].secret_hash.clone().expect("a hash").0;
    assert!(
        !stored.contains(&secret) && !stored.contains(&secret[4..]),
        "{stored}"
    );
    assert!(!format!("{:?}", rows[0]).contains(&secret));

    // A public app has no secret at all.
    let (_, public) =
        register_raw(&world.owner, "Public", &[REDIRECT], &["reps:read"], false).await;
    let public = &public["data"]["registerDeveloperApp"];
    assert!(public["clientSecret"].is_null(), "{public}");
    assert_eq!(public["app"]["confidential"], json!(false));
}

#[tokio::test]
async fn rotating_the_secret_stops_the_old_one_at_once() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    let old = dev.secret.clone().unwrap();
    let data = ok(
        &world.owner,
        "mutation($id: ID!) { rotateDeveloperAppSecret(id: $id) { app { id clientId } clientSecret } }",
        json!({ "id": dev.id }),
    )
    .await;
    let rotated = &data["rotateDeveloperAppSecret"];
    assert_eq!(
        rotated["app"]["clientId"],
        json!(dev.client_id),
        "same client"
    );
    let new = rotated["clientSecret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("acs_") && new != old);

    introspect(
        &world.app,
        Auth::BasicWith(&dev.client_id, &old),
        &tokens.access,
    )
    .await
    .assert_error(401, "invalid_client", "the old secret");
    let answer = introspect(
        &world.app,
        Auth::BasicWith(&dev.client_id, &new),
        &tokens.access,
    )
    .await;
    assert_eq!(answer.status, 200, "the new secret: {answer:?}");
    let with_new = DevApp {
        secret: Some(new.clone()),
        ..dev.clone()
    };
    assert_eq!(
        refresh(&world.app, &with_new, &tokens.refresh).await.status,
        200
    );

    let log = whole_audit_log(&world).await;
    assert!(log.contains("ROTATE_DEVELOPER_APP_SECRET"), "{log}");
    assert!(!log.contains(&new) && !log.contains(&old));

    let public = public_app(&world, &["reps:read"]).await;
    let (_, body) = world
        .owner
        .post(
            "mutation($id: ID!) { rotateDeveloperAppSecret(id: $id) { clientSecret } }",
            json!({ "id": public.id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

#[tokio::test]
async fn updating_an_app_changes_only_what_is_given_and_takes_effect_at_once() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read", "teams:read"]).await;
    let (_, before) = read_app(&world.owner, &dev.id).await;
    let before = before["data"]["developerApp"].clone();
    world.app.clock.advance(Duration::minutes(1));
    let data = ok(
        &world.owner,
        &format!("mutation($id: ID!) {{ updateDeveloperApp(id: $id, input: {{ name: \"Renamed\" }}) {{ {APP_FIELDS} }} }}"),
        json!({ "id": dev.id }),
    )
    .await;
    let after = &data["updateDeveloperApp"];
    assert_eq!(after["name"], "Renamed");
    for field in [
        "clientId",
        "description",
        "redirectUris",
        "scopes",
        "confidential",
        "createdAt",
    ] {
        assert_eq!(after[field], before[field], "{field} unchanged");
    }
    assert_ne!(after["updatedAt"], before["updatedAt"]);

    let moved = "https://moved.example.com/cb";
    ok(
        &world.owner,
        "mutation($id: ID!, $u: [String!]) { updateDeveloperApp(id: $id, input: { redirectUris: $u, scopes: [REPS_READ] }) { id } }",
        json!({ "id": dev.id, "u": [moved] }),
    )
    .await;
    let (challenge, _) = pkce();
    let old_redirect = request_params(&dev, "reps:read", &challenge);
    Browser::new(&world.app)
        .get(&authorize_url(&world.app, &old_redirect))
        .await
        .assert_error_page(400, "the removed redirect URI");
    let moved_dev = DevApp {
        redirect: moved.into(),
        ..dev.clone()
    };
    let page = Browser::new(&world.app)
        .get(&authorize_url(
            &world.app,
            &request_params(&moved_dev, "reps:read teams:read", &challenge),
        ))
        .await;
    let back = page.redirect_params(moved);
    assert_eq!(
        back.get("error").map(String::as_str),
        Some("invalid_scope"),
        "a scope no longer registered"
    );
    let events = audit(&world, "updateDeveloperApp").await;
    assert_eq!(events.len(), 2, "{events:?}");
}

#[tokio::test]
async fn redirect_uris_must_be_https_or_loopback_http_without_fragment() {
    let world = world().await;
    for good in [
        "https://app.example.com/callback",
        "http://localhost:3000/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb",
    ] {
        let (_, body) = register_raw(&world.owner, "Good", &[good], &["reps:read"], true).await;
        assert!(body["errors"].is_null(), "{good}: {body}");
    }
    for bad in [
        "http://app.example.com/cb",
        "http://localhost.evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "https://app.example.com/cb#fragment",
        "ftp://app.example.com/cb",
        "javascript:alert(1)",
        "/relative/cb",
        "not a url",
    ] {
        let (_, body) = register_raw(&world.owner, "Bad", &[bad], &["reps:read"], true).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{bad}: {body}");
    }
    let ten: Vec<String> = (0..10)
        .map(|i| format!("https://app.example.com/cb{i}"))
        .collect();
    let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
    let (_, body) = register_raw(&world.owner, "Ten", &ten, &["reps:read"], true).await;
    assert!(body["errors"].is_null(), "ten redirect URIs: {body}");
    let mut eleven = ten.clone();
    eleven.push("https://app.example.com/cb10");
    let (_, body) = register_raw(&world.owner, "Eleven", &eleven, &["reps:read"], true).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "eleven: {body}");

    // Updates obey the same rules.
    let dev = confidential_app(&world, &["reps:read"]).await;
    let (_, body) = world
        .owner
        .post(
            "mutation($id: ID!) { updateDeveloperApp(id: $id, input: { redirectUris: [\"http://app.example.com/cb\"] }) { id } }",
            json!({ "id": dev.id }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let (_, app) = read_app(&world.owner, &dev.id).await;
    assert_eq!(
        app["data"]["developerApp"]["redirectUris"],
        json!([REDIRECT])
    );
}

#[tokio::test]
async fn developer_apps_lists_only_the_accounts_own_apps() {
    let world = world().await;
    let mut mine = Vec::new();
    for _ in 0..3 {
        mine.push(confidential_app(&world, &["reps:read"]).await.id);
    }
    let (_, other_owner) = world.app.company_owner().await;
    let theirs = register_with(&other_owner, "Theirs", &[REDIRECT], &["reps:read"], true).await;

    let page = |after: Option<String>| {
        let owner = &world.owner;
        async move {
            ok(
                owner,
                "query($a: String) { developerApps(first: 2, after: $a) { nodes { id } pageInfo { hasNextPage endCursor } } }",
                json!({ "a": after }),
            )
            .await["developerApps"]
                .clone()
        }
    };
    let first = page(None).await;
    assert_eq!(first["pageInfo"]["hasNextPage"], json!(true));
    let second = page(first["pageInfo"]["endCursor"].as_str().map(str::to_owned)).await;
    assert_eq!(second["pageInfo"]["hasNextPage"], json!(false));
    let mut listed: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|p| p["nodes"].as_array().unwrap().clone())
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    mine.sort();
    assert_eq!(listed, mine);

    // Another account's app is not found, whatever the operation.
    let (_, body) = read_app(&world.owner, &theirs.id).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    for mutation in [
        "mutation($id: ID!) { rotateDeveloperAppSecret(id: $id) { clientSecret } }",
        "mutation($id: ID!) { updateDeveloperApp(id: $id, input: { name: \"Mine now\" }) { id } }",
        "mutation($id: ID!) { disableDeveloperApp(id: $id) { id } }",
    ] {
        let (_, body) = world.owner.post(mutation, json!({ "id": theirs.id })).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{mutation}: {body}");
    }
    let (_, body) = read_app(&other_owner, &theirs.id).await;
    assert_eq!(body["data"]["developerApp"]["name"], "Theirs");
    assert!(body["data"]["developerApp"]["disabledAt"].is_null());
    // Its secret still works.
    let answer = introspect(&world.app, Auth::Basic(&theirs), "garbage").await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn team_and_api_managers_cannot_manage_developer_apps() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let team_manager = world
        .app
        .insert_manager(
            world.account_id,
            ManagerKind::Team,
            &format!("tm-{}", short_id()),
            API_PASSWORD,
        )
        .await;
    let team_manager = world.app.sign_in(&team_manager, API_PASSWORD).await;
    let api_manager = world.app.sign_in(&world.api, API_PASSWORD).await;
    let register = json!({ "i": { "name": "x", "redirectUris": [REDIRECT], "scopes": ["REPS_READ"], "confidential": true } });
    for who in [&team_manager, &api_manager] {
        for (query, variables) in [
            ("{ developerApps(first: 5) { nodes { id } } }", json!({})),
            (
                "query($id: ID!) { developerApp(id: $id) { id } }",
                json!({ "id": dev.id }),
            ),
            (
                "mutation($i: RegisterDeveloperAppInput!) { registerDeveloperApp(input: $i) { clientSecret } }",
                register.clone(),
            ),
            (
                "mutation($id: ID!) { rotateDeveloperAppSecret(id: $id) { clientSecret } }",
                json!({ "id": dev.id }),
            ),
            (
                "mutation($id: ID!) { updateDeveloperApp(id: $id, input: { name: \"n\" }) { id } }",
                json!({ "id": dev.id }),
            ),
            (
                "mutation($id: ID!) { disableDeveloperApp(id: $id) { id } }",
                json!({ "id": dev.id }),
            ),
        ] {
            let (_, body) = who.post(query, variables).await;
            assert_eq!(
                error_code(&body),
                Some("FORBIDDEN"),
                "{} {query}: {body}",
                who.manager.login
            );
        }
    }
    let (_, app) = read_app(&world.owner, &dev.id).await;
    assert!(app["data"]["developerApp"]["disabledAt"].is_null());
    assert_eq!(audit(&world, "registerDeveloperApp").await.len(), 1);
}

#[tokio::test]
async fn authorized_applications_show_last_use_and_the_api_manager_revokes_its_own() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let other = confidential_app(&world, &["reps:read"]).await;
    let issued = tokens(&world, &dev, "reps:read").await;
    let kept = tokens(&world, &other, "reps:read").await;
    let session = world.app.sign_in(&world.api, API_PASSWORD).await;

    let mine = "{ me { authorizedApplications { id scopes lastUsedAt revokedAt application { id clientId name } } } }";
    let listed = ok(&session, mine, json!({})).await["me"]["authorizedApplications"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");

    // Used an hour later: lastUsedAt moves.
    world.app.clock.advance(Duration::hours(1));
    let now = world.app.clock.now();
    let again = Tokens::from_reply(&refresh(&world.app, &dev, &issued.refresh).await);
    let kept = Tokens::from_reply(&refresh(&world.app, &other, &kept.refresh).await);
    assert_works(&world, &again.access, "an hour later").await;
    let last_used = last_used_since(&world, &dev.id, now).await;
    assert!(last_used <= world.app.clock.now(), "{last_used} vs {now}");

    // The API manager revokes one of its apps with its own session; apps it never authorized
    // are ignored.
    let never = crate::harness::gid(crate::harness::IdKind::DeveloperApp, uuid::Uuid::new_v4());
    let data = ok(
        &session,
        REVOKE_APPS,
        json!({ "m": world.api.id, "apps": [dev.id, never] }),
    )
    .await;
    assert_eq!(
        data["revokeApiManagerApplications"]["id"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Manager,
            world.api.id
        ))
    );
    assert_refused(&world.app, &again.access, "revoked by the API manager").await;
    assert_works(&world, &kept.access, "the other app stays authorized").await;
    let events = audit(&world, "revokeApiManagerApplications").await;
    assert_eq!(
        events[0]["actorId"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Manager,
            world.api.id
        ))
    );

    // An app token cannot list them; another account's company manager cannot revoke them.
    let (_, body) = gql(&world.app, &kept.access, mine, json!({})).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, stranger) = world.app.company_owner().await;
    let (_, body) = stranger
        .post(
            REVOKE_APPS,
            json!({ "m": world.api.id, "apps": [other.id] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert_works(&world, &kept.access, "after the stranger's attempt").await;
}

#[tokio::test]
async fn another_api_manager_cannot_revoke_or_see_an_api_managers_apps() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    let colleague = world
        .app
        .insert_manager(
            world.account_id,
            ManagerKind::Api,
            &format!("api2-{}", short_id()),
            API_PASSWORD,
        )
        .await;
    let colleague = world.app.sign_in(&colleague, API_PASSWORD).await;
    let (_, body) = colleague
        .post(REVOKE_APPS, json!({ "m": world.api.id, "apps": [dev.id] }))
        .await;
    assert!(
        matches!(error_code(&body), Some("FORBIDDEN" | "NOT_FOUND")),
        "{body}"
    );
    let (_, body) = colleague
        .post(AUTHORIZED, json!({ "id": world.api.id, "all": true }))
        .await;
    assert!(
        matches!(error_code(&body), Some("FORBIDDEN" | "NOT_FOUND")),
        "{body}"
    );
    assert_works(&world, &tokens.access, "still authorized").await;
}

#[tokio::test]
async fn deleting_an_api_manager_ends_its_app_tokens() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    ok(
        &world.owner,
        "mutation($id: ID!) { deleteManager(id: $id) }",
        json!({ "id": world.api.id }),
    )
    .await;
    assert_refused(
        &world.app,
        &tokens.access,
        "the deleted manager's app token",
    )
    .await;
    let answer = refresh(&world.app, &dev, &tokens.refresh).await;
    answer.assert_error(400, "invalid_grant", "the deleted manager's refresh token");
}
