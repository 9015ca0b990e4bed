//! Token revocation (RFC 7009) and introspection (RFC 7662): what each answers, to whom, and
//! what a revocation ends.

use chrono::Duration;
use serde_json::json;

use super::support::*;

#[tokio::test]
async fn revocation_answers_200_for_unknown_tokens_and_spares_other_clients_tokens() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let other = confidential_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;

    for unknown in ["garbage", "acr_unknown", "eyJhbGciOiJFZERTQSJ9.e30.AAAA"] {
        let answer = revoke(&world.app, Auth::Basic(&dev), unknown).await;
        assert_eq!(answer.status, 200, "{unknown}: {answer:?}");
    }
    // Another client's attempt answers 200 and does nothing.
    for token in [&tokens.refresh, &tokens.access] {
        let answer = revoke(&world.app, Auth::Basic(&other), token).await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    assert_works(&world, &tokens.access, "after another client's revocation").await;
    let answer = refresh(&world.app, &dev, &tokens.refresh).await;
    assert_eq!(answer.status, 200, "the refresh token too: {answer:?}");

    // Revocation needs client authentication.
    revoke(
        &world.app,
        Auth::BasicWith(&dev.client_id, "acs_wrong"),
        "garbage",
    )
    .await
    .assert_error(401, "invalid_client", "wrong secret at revoke");
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_access_tokens() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let first = tokens(&world, &dev, "reps:read").await;
    let second = Tokens::from_reply(&refresh(&world.app, &dev, &first.refresh).await);
    let answer = post_form(
        &world.app,
        "/oauth/revoke",
        Auth::Basic(&dev),
        &[
            ("token", &second.refresh),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_refused(&world.app, &second.access, "its access token").await;
    assert_refused(&world.app, &first.access, "the family's older access token").await;
    refresh(&world.app, &dev, &second.refresh)
        .await
        .assert_error(400, "invalid_grant", "the revoked refresh token");
    // Revoking again is still fine.
    assert_eq!(
        revoke(&world.app, Auth::Basic(&dev), &second.refresh)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn revoking_an_access_token_ends_its_family() {
    let world = world().await;
    let dev = public_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    // A public client revokes with its client_id (token_type_hint wrong on purpose: a hint only).
    let answer = post_form(
        &world.app,
        "/oauth/revoke",
        Auth::Public(&dev),
        &[
            ("token", &tokens.access),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_refused(&world.app, &tokens.access, "the revoked access token").await;
    refresh(&world.app, &dev, &tokens.refresh)
        .await
        .assert_error(400, "invalid_grant", "its refresh token");
}

#[tokio::test]
async fn introspection_requires_client_authentication() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let public = public_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    for (what, auth) in [
        ("nothing", Auth::Nothing),
        ("client_id only", Auth::Public(&dev)),
        ("wrong secret", Auth::BasicWith(&dev.client_id, "acs_wrong")),
        ("a public client", Auth::Public(&public)),
    ] {
        let answer = introspect(&world.app, auth, &tokens.access).await;
        answer.assert_error(401, "invalid_client", what);
        assert!(answer.body.get("active").is_none(), "{what}: {answer:?}");
        assert!(answer.header("www-authenticate").is_some(), "{what}");
    }
}

#[tokio::test]
async fn introspection_describes_own_active_tokens_and_nothing_else() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read", "teams:read"]).await;
    let other = confidential_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read teams:read").await;
    let iss = issuer(&world.app);

    let answer = introspect(&world.app, Auth::Basic(&dev), &tokens.access).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let body = &answer.body;
    assert_eq!(body["active"], json!(true));
    assert_eq!(body["scope"], json!("reps:read teams:read"));
    assert_eq!(body["client_id"], json!(dev.client_id));
    assert_eq!(body["sub"], json!(world.api.id.to_string()));
    assert_eq!(body["token_type"], json!("Bearer"));
    assert_eq!(body["iss"], json!(iss));
    assert_eq!(body["aud"], json!(format!("{iss}/graphql")));
    let (exp, iat) = (body["exp"].as_i64().unwrap(), body["iat"].as_i64().unwrap());
    assert_eq!(exp - iat, 15 * 60, "{body}");

    let answer = introspect(&world.app, Auth::Post(&dev), &tokens.refresh).await;
    assert_eq!(
        answer.body["active"],
        json!(true),
        "own refresh token: {answer:?}"
    );
    assert_eq!(answer.body["client_id"], json!(dev.client_id));

    let inactive = json!({ "active": false });
    // Foreign: another client asks about this client's tokens.
    for token in [&tokens.access, &tokens.refresh] {
        let answer = introspect(&world.app, Auth::Basic(&other), token).await;
        assert_eq!((answer.status, &answer.body), (200, &inactive), "foreign");
    }
    for garbage in ["garbage", "acr_garbage", "eyJhbGciOiJFZERTQSJ9.e30.AAAA"] {
        let answer = introspect(&world.app, Auth::Basic(&dev), garbage).await;
        assert_eq!(
            (answer.status, &answer.body),
            (200, &inactive),
            "{garbage:?}"
        );
    }
    // Rotated away: the old refresh token is no longer active.
    let next = Tokens::from_reply(&refresh(&world.app, &dev, &tokens.refresh).await);
    let answer = introspect(&world.app, Auth::Basic(&dev), &tokens.refresh).await;
    assert_eq!(answer.body, inactive, "a used refresh token");
    // Expired.
    world.app.clock.advance(Duration::minutes(16));
    let answer = introspect(&world.app, Auth::Basic(&dev), &next.access).await;
    assert_eq!(answer.body, inactive, "an expired access token");
    let live = Tokens::from_reply(&refresh(&world.app, &dev, &next.refresh).await);
    // Revoked.
    assert_eq!(
        revoke(&world.app, Auth::Basic(&dev), &live.refresh)
            .await
            .status,
        200
    );
    for token in [&live.access, &live.refresh] {
        let answer = introspect(&world.app, Auth::Basic(&dev), token).await;
        assert_eq!((answer.status, &answer.body), (200, &inactive), "revoked");
    }
}

#[tokio::test]
async fn introspection_sees_a_revoked_authorization_and_a_disabled_app() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    ok(
        &world.owner,
        REVOKE_APPS,
        json!({ "m": world.api.id, "apps": [dev.id] }),
    )
    .await;
    for token in [&tokens.access, &tokens.refresh] {
        let answer = introspect(&world.app, Auth::Basic(&dev), token).await;
        assert_eq!(answer.body, json!({ "active": false }), "{answer:?}");
    }
}
