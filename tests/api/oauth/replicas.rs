//! Two servers on one database, as two replicas behind one address: neither keeps token state
//! of its own, so what one revokes the other refuses on its very next request.

use serde_json::json;

use super::support::*;

#[tokio::test]
async fn a_revocation_on_one_server_is_refused_by_the_other_on_its_next_request() {
    let world = world().await;
    let a = &world.app;
    let b = Replica::start(a, issuer(a)).await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let first = tokens(&world, &dev, "reps:read").await;

    // Tokens issued by A work on B, and B refreshes them.
    let (status, me) = b.gql(&first.access, ME, json!({})).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me["data"]["me"]["id"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Manager,
            world.api.id
        ))
    );
    let second = Tokens::from_reply(&refresh(&b, &dev, &first.refresh).await);
    assert_works(&world, &second.access, "B's token on A").await;

    // The company manager revokes on B; A refuses at once (it served the token just before).
    let (status, body) = b
        .gql(
            &world.owner.token,
            REVOKE_APPS,
            json!({ "m": world.api.id, "apps": [dev.id] }),
        )
        .await;
    assert!(status == 200 && body["errors"].is_null(), "{body}");
    assert_refused(a, &second.access, "A, right after B revoked").await;
    let (status, _) = b.gql(&second.access, ME, json!({})).await;
    assert_eq!(status, 401, "B as well");
    refresh(a, &dev, &second.refresh).await.assert_error(
        400,
        "invalid_grant",
        "refresh on A after B revoked",
    );

    // The other way round, through the revocation endpoint.
    let third = tokens(&world, &dev, "reps:read").await;
    let (status, _) = b.gql(&third.access, ME, json!({})).await;
    assert_eq!(status, 200, "B serves the new token");
    assert_eq!(
        revoke(a, Auth::Basic(&dev), &third.refresh).await.status,
        200
    );
    let (status, _) = b.gql(&third.access, ME, json!({})).await;
    assert_eq!(status, 401, "B, right after A's revocation endpoint");

    // A code granted on A is single use across both.
    let grant = grant(&world, &dev, "reps:read").await;
    let fourth = Tokens::from_reply(&exchange(a, &dev, &grant).await);
    exchange(&b, &dev, &grant)
        .await
        .assert_error(400, "invalid_grant", "second redemption, on B");
    let (status, _) = b.gql(&fourth.access, ME, json!({})).await;
    assert_eq!(status, 401, "and it revoked the first redemption's tokens");

    // Disabling the app on A stops its tokens on B.
    let fifth = tokens(&world, &dev, "reps:read").await;
    let (status, _) = b.gql(&fifth.access, ME, json!({})).await;
    assert_eq!(status, 200);
    ok(
        &world.owner,
        "mutation($id: ID!) { disableDeveloperApp(id: $id) { id } }",
        json!({ "id": dev.id }),
    )
    .await;
    let (status, _) = b.gql(&fifth.access, ME, json!({})).await;
    assert_eq!(status, 401, "B, right after A disabled the app");
}

#[tokio::test]
async fn a_server_announcing_another_issuer_refuses_the_tokens() {
    let world = world().await;
    let other = Replica::start(&world.app, "https://other.example".into()).await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    let (status, _) = other.gql(&tokens.access, ME, json!({})).await;
    assert_eq!(status, 401, "iss (and aud) name another server");
    // Tokens it issues name it, and the first server refuses those.
    let theirs = Tokens::from_reply(&refresh(&other, &dev, &tokens.refresh).await);
    assert_refused(&world.app, &theirs.access, "a token of another issuer").await;
}
