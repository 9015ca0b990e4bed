//! The operator's OAuth commands, run as the real binary against a running server's database:
//! `app register` (platform-wide apps) and `keys rotate`.

use std::process::{Command, Output};

use chrono::Duration;
use serde_json::{Value, json};

use super::flow::verify_with_jwks;
use super::support::*;
use crate::harness::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_admin-center");

/// Runs the binary on the app's database, off the async runtime (the server keeps serving).
async fn run(app: &TestApp, args: &[&str]) -> Output {
    let url = app.state.config.database_url.clone();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&args)
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .env_remove("ADMIN_CENTER_CONFIG")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run admin-center")
    })
    .await
    .unwrap()
}

/// The one JSON object a `--json` command prints.
fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        text.trim_end().lines().count(),
        1,
        "exactly one JSON object: {text}"
    );
    serde_json::from_str(&text).expect("JSON")
}

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = reqwest::Client::new()
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn app_register_json_prints_one_object_and_the_platform_app_runs_the_flow() {
    let world = world().await;
    let output = run(
        &world.app,
        &[
            "app",
            "register",
            "--name",
            "Platform Sync",
            "--redirect-uri",
            REDIRECT,
            "--redirect-uri",
            "https://sync.example.com/cb",
            "--scope",
            "reps:read",
            "--scope",
            "teams:read",
            "--description",
            "Syncs reps",
            "--json",
        ],
    )
    .await;
    let object = json_of(&output);
    let keys: Vec<_> = object.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["appId", "clientId", "clientSecret"]);
    let secret = object["clientSecret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("acs_"));
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains(&secret),
        "the secret never reaches the log stream"
    );
    let dev = DevApp {
        id: object["appId"].as_str().unwrap().to_owned(),
        client_id: object["clientId"].as_str().unwrap().to_owned(),
        secret: Some(secret),
        name: "Platform Sync".into(),
        redirect: REDIRECT.into(),
    };

    // Any account's API manager can authorize it; the consent page names the platform.
    let (challenge, _) = pkce();
    let mut browser = Browser::new(&world.app);
    let page = browser
        .get(&authorize_url(
            &world.app,
            &request_params(&dev, "reps:read teams:read", &challenge),
        ))
        .await;
    let consent = browser.sign_in(&page, &world.api.login, API_PASSWORD).await;
    assert_eq!(consent.status, 200, "{consent:?}");
    assert!(consent.body.contains("Platform Sync"));
    assert!(consent.body.contains("admin-center platform"), "its owner");
    let tokens = tokens(&world, &dev, "reps:read teams:read").await;
    assert_works(&world, &tokens.access, "platform app's token").await;
    let listed = authorizations(&world.owner, world.api.id).await;
    assert_eq!(listed[0]["application"]["name"], "Platform Sync");

    // It is not the account's app to manage.
    let data = ok(
        &world.owner,
        "{ developerApps(first: 10) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(data["developerApps"]["nodes"], json!([]));
    let (_, body) = world
        .owner
        .post(
            "mutation($id: ID!) { disableDeveloperApp(id: $id) { id } }",
            json!({ "id": dev.id }),
        )
        .await;
    assert_eq!(
        crate::harness::error_code(&body),
        Some("NOT_FOUND"),
        "{body}"
    );

    let public = json_of(
        &run(
            &world.app,
            &[
                "app",
                "register",
                "--name",
                "Platform CLI",
                "--redirect-uri",
                "http://127.0.0.1:8765/cb",
                "--scope",
                "reps:read",
                "--public",
                "--json",
            ],
        )
        .await,
    );
    assert!(public["clientSecret"].is_null(), "{public}");
    assert!(public["clientId"].is_string());
}

#[tokio::test]
async fn app_register_refuses_bad_input_and_says_why() {
    let world = world().await;
    for (what, args) in [
        (
            "plain http elsewhere than loopback",
            vec![
                "--redirect-uri",
                "http://sync.example.com/cb",
                "--scope",
                "reps:read",
            ],
        ),
        (
            "an unknown scope",
            vec!["--redirect-uri", REDIRECT, "--scope", "admin"],
        ),
    ] {
        let mut all = vec!["app", "register", "--name", "Bad", "--json"];
        all.extend(args);
        let output = run(&world.app, &all).await;
        assert!(!output.status.success(), "{what}");
        assert!(
            !String::from_utf8_lossy(&output.stderr).trim().is_empty(),
            "{what}: says why"
        );
    }
}

#[tokio::test]
async fn keys_rotate_adds_a_key_and_tokens_signed_before_still_work() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let before = tokens(&world, &dev, "reps:read").await;
    // A replica that has already verified a token (and may have cached the keys).
    let replica = Replica::start(&world.app, issuer(&world.app)).await;
    let (status, body) = replica.gql(&before.access, ME, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let old_kids = jwks_kids(&world.app).await;
    let old_kid = jsonwebtoken::decode_header(&before.access)
        .unwrap()
        .kid
        .unwrap();
    assert!(old_kids.contains(&old_kid));

    let rotated = json_of(&run(&world.app, &["keys", "rotate", "--json"]).await);
    let keys: Vec<_> = rotated.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["kid"]);
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);

    let kids = jwks_kids(&world.app).await;
    assert!(kids.contains(&old_kid), "the retired key stays: {kids:?}");
    assert!(
        kids.contains(&new_kid),
        "the new key is published: {kids:?}"
    );

    // The token signed before the rotation still works, and still verifies with the JWKS.
    assert_works(&world, &before.access, "token signed before the rotation").await;
    verify_with_jwks(&world.app, &before.access).await;

    // Each replica reloads its keys within a minute (RELOAD_EVERY): until then it still
    // signs with the retired key, so that key must outlive the tokens it signs then.
    world.app.clock.advance(Duration::seconds(30));
    let late = Tokens::from_reply(&refresh(&world.app, &dev, &before.refresh).await);
    world.app.clock.advance(Duration::seconds(31));
    let after = Tokens::from_reply(&refresh(&world.app, &dev, &late.refresh).await);
    let kid = jsonwebtoken::decode_header(&after.access)
        .unwrap()
        .kid
        .unwrap();
    assert_eq!(kid, new_kid, "a minute on, the newest key signs");
    assert_works(&world, &after.access, "token signed after the rotation").await;
    verify_with_jwks(&world.app, &after.access).await;

    // The replica that was running during the rotation verifies both keys' tokens.
    for token in [&late.access, &after.access] {
        let (status, body) = replica.gql(token, ME, json!({})).await;
        assert_eq!(status, 200, "{body}");
    }

    // Just before the last token the retired key signed expires, the key still verifies it
    // and the JWKS still lists it.
    world
        .app
        .clock
        .advance(Duration::minutes(15) - Duration::seconds(31 + 2));
    assert_works(&world, &late.access, "the retired key's last token").await;
    verify_with_jwks(&world.app, &late.access).await;
    let (status, body) = replica.gql(&late.access, ME, json!({})).await;
    assert_eq!(status, 200, "the replica too: {body}");
}
