//! The token endpoint's rules: grant types, PKCE, codes (single use, ten minutes, bound to
//! client, redirect URI and challenge), client authentication, `no-store`, and refresh-token
//! rotation, reuse, concurrency, scope and lifetime.

use chrono::Duration;
use oauth2::{
    RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername, basic::BasicErrorResponseType,
};
use serde_json::json;

use super::support::*;

fn code_form<'a>(
    grant: &'a Grant,
    redirect: &'a str,
    verifier: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", &grant.code),
        ("redirect_uri", redirect),
        ("code_verifier", verifier),
    ]
}

#[tokio::test]
async fn only_the_authorization_code_and_refresh_grants_are_accepted() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    for grant_type in [
        "password",
        "client_credentials",
        "implicit",
        "token",
        "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ] {
        let answer = post_form(
            &world.app,
            "/oauth/token",
            Auth::Basic(&dev),
            &[
                ("grant_type", grant_type),
                ("username", &world.api.login),
                ("password", API_PASSWORD),
                ("scope", "reps:read"),
            ],
        )
        .await;
        answer.assert_error(400, "unsupported_grant_type", grant_type);
        assert!(answer.body.get("access_token").is_none());
    }
    let answer = post_form(&world.app, "/oauth/token", Auth::Basic(&dev), &[]).await;
    assert_eq!(answer.status, 400, "no grant_type: {answer:?}");

    // As the `oauth2` crate asks for them.
    let client = oauth_client(&world.app, &dev);
    let http = no_redirects();
    let password = client
        .exchange_password(
            &ResourceOwnerUsername::new(world.api.login.clone()),
            &ResourceOwnerPassword::new(API_PASSWORD.into()),
        )
        .request_async(&http)
        .await;
    let credentials = client
        .exchange_client_credentials()
        .request_async(&http)
        .await;
    for (what, result) in [("password", password), ("client_credentials", credentials)] {
        match result {
            Err(RequestTokenError::ServerResponse(answer)) => assert_eq!(
                answer.error(),
                &BasicErrorResponseType::UnsupportedGrantType,
                "{what}"
            ),
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_code_needs_the_verifier_of_its_s256_challenge() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let grant = grant(&world, &dev, "reps:read").await;

    let no_verifier = post_form(
        &world.app,
        "/oauth/token",
        Auth::Basic(&dev),
        &[
            ("grant_type", "authorization_code"),
            ("code", &grant.code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(no_verifier.status, 400, "{no_verifier:?}");
    assert!(
        matches!(
            no_verifier.error(),
            Some("invalid_grant" | "invalid_request")
        ),
        "{no_verifier:?}"
    );
    let (_, other_verifier) = pkce();
    for (what, verifier) in [
        ("another verifier", other_verifier.as_str()),
        // The challenge itself, as a `plain` server would compare it.
        ("the challenge as verifier", grant.challenge.as_str()),
    ] {
        let answer = post_form(
            &world.app,
            "/oauth/token",
            Auth::Basic(&dev),
            &code_form(&grant, REDIRECT, verifier),
        )
        .await;
        answer.assert_error(400, "invalid_grant", what);
    }

    // A code granted to a request that carried no challenge does not exist: that request is
    // refused before any page (see pages.rs), so nothing can be redeemed with a verifier alone.
    let mut browser = Browser::new(&world.app);
    let (_, verifier) = pkce();
    let refused = browser
        .get(&authorize_url(
            &world.app,
            &[
                ("response_type", "code"),
                ("client_id", &dev.client_id),
                ("redirect_uri", REDIRECT),
                ("state", STATE),
            ],
        ))
        .await;
    let back = refused.redirect_params(REDIRECT);
    assert_eq!(
        back.get("error").map(String::as_str),
        Some("invalid_request")
    );
    let fake = Grant {
        code: "no-such-code".into(),
        verifier,
        challenge: String::new(),
    };
    exchange(&world.app, &dev, &fake).await.assert_error(
        400,
        "invalid_grant",
        "a verifier with no code behind it",
    );
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let fresh = grant(&world, &dev, "reps:read").await;
    world.app.clock.advance(Duration::minutes(9));
    let answer = exchange(&world.app, &dev, &fresh).await;
    assert_eq!(answer.status, 200, "nine minutes old: {answer:?}");

    let stale = grant(&world, &dev, "reps:read").await;
    world.app.clock.advance(Duration::minutes(11));
    exchange(&world.app, &dev, &stale).await.assert_error(
        400,
        "invalid_grant",
        "eleven minutes old",
    );
}

#[tokio::test]
async fn codes_are_bound_to_their_client_and_redirect_uri() {
    let world = world().await;
    let second_uri = "https://app.example.com/cb";
    let dev = register_with(
        &world.owner,
        "Two redirects",
        &[REDIRECT, second_uri],
        &["reps:read"],
        true,
    )
    .await;
    let other = register_with(
        &world.owner,
        "Other app",
        &[REDIRECT, second_uri],
        &["reps:read"],
        true,
    )
    .await;
    let grant = grant(&world, &dev, "reps:read").await;

    let another_client = post_form(
        &world.app,
        "/oauth/token",
        Auth::Basic(&other),
        &code_form(&grant, REDIRECT, &grant.verifier),
    )
    .await;
    another_client.assert_error(400, "invalid_grant", "another client");
    let another_uri = post_form(
        &world.app,
        "/oauth/token",
        Auth::Basic(&dev),
        &code_form(&grant, second_uri, &grant.verifier),
    )
    .await;
    another_uri.assert_error(400, "invalid_grant", "another registered redirect URI");
    let no_uri = post_form(
        &world.app,
        "/oauth/token",
        Auth::Basic(&dev),
        &[
            ("grant_type", "authorization_code"),
            ("code", &grant.code),
            ("code_verifier", &grant.verifier),
        ],
    )
    .await;
    assert_eq!(
        no_uri.status, 400,
        "redirect_uri left out (RFC 6749 4.1.3): {no_uri:?}"
    );
    assert!(matches!(
        no_uri.error(),
        Some("invalid_grant" | "invalid_request")
    ));
}

#[tokio::test]
async fn a_second_redemption_fails_and_revokes_what_the_first_issued() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let grant = grant(&world, &dev, "reps:read").await;
    let first = Tokens::from_reply(&exchange(&world.app, &dev, &grant).await);
    assert_works(&world, &first.access, "first redemption").await;

    exchange(&world.app, &dev, &grant).await.assert_error(
        400,
        "invalid_grant",
        "second redemption",
    );
    assert_refused(
        &world.app,
        &first.access,
        "the first redemption's access token",
    )
    .await;
    refresh(&world.app, &dev, &first.refresh)
        .await
        .assert_error(400, "invalid_grant", "the first redemption's refresh token");
}

#[tokio::test]
async fn two_concurrent_redemptions_of_one_code_yield_one_success_and_revoke_it() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let grant = grant(&world, &dev, "reps:read").await;
    let (a, b) = tokio::join!(
        exchange(&world.app, &dev, &grant),
        exchange(&world.app, &dev, &grant),
    );
    let (winner, loser) = match (a.status, b.status) {
        (200, _) => (a, b),
        (_, 200) => (b, a),
        _ => panic!("one redemption succeeds: {a:?} {b:?}"),
    };
    loser.assert_error(400, "invalid_grant", "the other redemption");
    // The code was presented twice: what it issued is revoked (RFC 6749 4.1.2).
    let tokens = Tokens::from_reply(&winner);
    assert_refused(&world.app, &tokens.access, "the winner's access token").await;
}

#[tokio::test]
async fn an_unknown_client_and_a_wrong_secret_look_alike() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let public = public_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    let secret = dev.secret.clone().unwrap();
    let wrong_secret = format!("{}x", &secret[..secret.len() - 1]);
    let bad_post = DevApp {
        secret: Some(wrong_secret.clone()),
        ..dev.clone()
    };
    let unknown_post = DevApp {
        client_id: "no-such-client".into(),
        ..dev.clone()
    };
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens.refresh.as_str()),
    ];
    for path in ["/oauth/token", "/oauth/revoke", "/oauth/introspect"] {
        let form: &[(&str, &str)] = if path == "/oauth/token" {
            &form
        } else {
            &[("token", tokens.access.as_str())]
        };
        let answers = [
            (
                "wrong secret",
                Auth::BasicWith(&dev.client_id, &wrong_secret),
            ),
            ("unknown client", Auth::BasicWith("no-such-client", &secret)),
            ("wrong secret, posted", Auth::Post(&bad_post)),
            ("unknown client, posted", Auth::Post(&unknown_post)),
            (
                "a made-up secret",
                Auth::BasicWith(&dev.client_id, "acs_made-up"),
            ),
            ("no secret for a confidential client", Auth::Public(&dev)),
            ("no client at all", Auth::Nothing),
        ];
        let mut first_body = None;
        for (what, auth) in answers {
            let answer = post_form(&world.app, path, auth, form).await;
            answer.assert_error(401, "invalid_client", &format!("{path}: {what}"));
            assert!(
                answer.header("www-authenticate").is_some(),
                "{path}: {what}: {answer:?}"
            );
            if what != "no client at all" && what != "no secret for a confidential client" {
                let body = answer.body.clone();
                match &first_body {
                    None => first_body = Some(body),
                    Some(first) => assert_eq!(&body, first, "{path}: {what} looks alike"),
                }
            }
        }
        // A public client cannot authenticate at revoke or introspect with a made-up secret.
        let answer = post_form(
            &world.app,
            path,
            Auth::BasicWith(&public.client_id, "acs_made-up"),
            form,
        )
        .await;
        assert_eq!(answer.status, 401, "{path}: public client with a secret");
    }
    // Nothing above touched the tokens.
    assert_works(&world, &tokens.access, "after the failed attempts").await;
    let answer = refresh(&world.app, &dev, &tokens.refresh).await;
    assert_eq!(answer.status, 200, "{answer:?}");
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    // Every byte percent-encoded: form-decoding gives back the same id and secret, so a server
    // that decodes (RFC 6749 2.3.1) accepts it and one that does not, refuses it.
    let every_byte = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let pair = format!(
        "{}:{}",
        every_byte(&dev.client_id),
        every_byte(dev.secret.as_deref().unwrap())
    );
    use base64::Engine;
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    );
    let response = no_redirects()
        .post(world.app.url("/oauth/introspect"))
        .header("authorization", header)
        .form(&[("token", tokens.access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["active"], json!(true), "{body}");
}

#[tokio::test]
async fn token_responses_are_never_cached() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let grant = grant(&world, &dev, "reps:read").await;
    let issued = exchange(&world.app, &dev, &grant).await;
    let tokens = Tokens::from_reply(&issued);
    let refreshed = refresh(&world.app, &dev, &tokens.refresh).await;
    let refused = refresh(&world.app, &dev, "acr_nothing").await;
    let unauthenticated = post_form(
        &world.app,
        "/oauth/token",
        Auth::BasicWith(&dev.client_id, "acs_wrong"),
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    for (what, answer) in [
        ("code exchange", &issued),
        ("refresh", &refreshed),
        ("invalid_grant", &refused),
        ("invalid_client", &unauthenticated),
    ] {
        assert_eq!(answer.header("cache-control"), Some("no-store"), "{what}");
        assert_eq!(answer.header("pragma"), Some("no-cache"), "{what}");
        assert!(
            answer
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{what}"
        );
    }
    assert_eq!(issued.body["token_type"], "Bearer");
    assert_eq!(issued.body["scope"], "reps:read");
    assert!(issued.body["expires_in"].as_i64().unwrap() <= 900);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reusing_an_old_one_revokes_the_authorization() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let first = tokens(&world, &dev, "reps:read").await;
    let second = Tokens::from_reply(&refresh(&world.app, &dev, &first.refresh).await);
    assert_ne!(second.refresh, first.refresh, "rotated");
    assert!(second.refresh.starts_with("acr_"));
    let third = Tokens::from_reply(&refresh(&world.app, &dev, &second.refresh).await);
    assert_works(&world, &third.access, "the newest access token").await;

    // The first one comes back: someone copied it.
    refresh(&world.app, &dev, &first.refresh)
        .await
        .assert_error(400, "invalid_grant", "reused refresh token");
    refresh(&world.app, &dev, &third.refresh)
        .await
        .assert_error(400, "invalid_grant", "the newest refresh token after reuse");
    for (what, token) in [("first", &first), ("second", &second), ("third", &third)] {
        assert_refused(&world.app, &token.access, what).await;
    }
    let listed = authorizations(&world.owner, world.api.id).await;
    assert_eq!(listed.len(), 1);
    assert!(!listed[0]["revokedAt"].is_null(), "{listed:?}");
    let events = audit(&world, "refreshTokenReuse").await;
    assert_eq!(events.len(), 1, "{events:?}");
    // A refresh token is never in the audit log.
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(&first.refresh) && !text.contains("acr_"));

    // A new authorization starts clean (consent again).
    let fresh = tokens(&world, &dev, "reps:read").await;
    assert_works(&world, &fresh.access, "a new authorization").await;
}

#[tokio::test]
async fn two_concurrent_refreshes_with_one_token_yield_exactly_one_success() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    let (a, b, c) = tokio::join!(
        refresh(&world.app, &dev, &tokens.refresh),
        refresh(&world.app, &dev, &tokens.refresh),
        refresh(&world.app, &dev, &tokens.refresh),
    );
    let statuses = [a.status, b.status, c.status];
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "exactly one success: {a:?} {b:?} {c:?}"
    );
    for answer in [&a, &b, &c].into_iter().filter(|r| r.status != 200) {
        answer.assert_error(400, "invalid_grant", "the losers");
    }
}

#[tokio::test]
async fn a_refresh_may_narrow_the_scope_but_never_widen_it() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read", "teams:read", "reps:write"]).await;
    let tokens = tokens(&world, &dev, "reps:read teams:read").await;

    for (what, scope) in [
        ("a registered scope never granted", "reps:read reps:write"),
        ("an unknown scope", "reps:read admin"),
    ] {
        let answer = post_form(
            &world.app,
            "/oauth/token",
            Auth::Basic(&dev),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &tokens.refresh),
                ("scope", scope),
            ],
        )
        .await;
        answer.assert_error(400, "invalid_scope", what);
    }
    // A refused widening does not consume the token.
    let narrowed = post_form(
        &world.app,
        "/oauth/token",
        Auth::Basic(&dev),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &tokens.refresh),
            ("scope", "reps:read"),
        ],
    )
    .await;
    let narrowed = Tokens::from_reply(&narrowed);
    assert_eq!(narrowed.scope, "reps:read");
    let (_, reps) = gql(
        &world.app,
        &narrowed.access,
        "{ reps { totalCount } }",
        json!({}),
    )
    .await;
    assert!(reps["errors"].is_null(), "{reps}");
    let (_, teams) = gql(
        &world.app,
        &narrowed.access,
        "{ teams { totalCount } }",
        json!({}),
    )
    .await;
    assert_lacks_scope(&teams, "teams:read", "narrowed token");

    // Without `scope`, a refresh asks for the scope originally granted (RFC 6749 section 6),
    // never more.
    let next = Tokens::from_reply(&refresh(&world.app, &dev, &narrowed.refresh).await);
    assert_eq!(next.scope, "reps:read teams:read");
    let answer = post_form(
        &world.app,
        "/oauth/token",
        Auth::Basic(&dev),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &next.refresh),
            ("scope", "reps:read reps:write"),
        ],
    )
    .await;
    answer.assert_error(400, "invalid_scope", "widening after narrowing");
}

#[tokio::test]
async fn a_refresh_family_ends_after_its_absolute_lifetime() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let first = tokens(&world, &dev, "reps:read").await;
    world.app.clock.advance(Duration::days(20));
    let second = Tokens::from_reply(&refresh(&world.app, &dev, &first.refresh).await);
    world.app.clock.advance(Duration::days(11));
    refresh(&world.app, &dev, &second.refresh)
        .await
        .assert_error(400, "invalid_grant", "31 days after the authorization");
}

#[tokio::test]
async fn a_disabled_app_cannot_get_or_use_tokens() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    let pending = grant(&world, &dev, "reps:read").await;
    let (_, disabled) = world
        .owner
        .post(
            "mutation($id: ID!) { disableDeveloperApp(id: $id) { id disabledAt } }",
            json!({ "id": dev.id }),
        )
        .await;
    assert!(
        !disabled["data"]["disableDeveloperApp"]["disabledAt"].is_null(),
        "{disabled}"
    );

    assert_refused(&world.app, &tokens.access, "access token of a disabled app").await;
    for (what, answer) in [
        ("refresh", refresh(&world.app, &dev, &tokens.refresh).await),
        ("pending code", exchange(&world.app, &dev, &pending).await),
    ] {
        assert!(
            matches!(
                (answer.status, answer.error()),
                (400, Some("invalid_grant")) | (401, Some("invalid_client"))
            ),
            "{what}: {answer:?}"
        );
    }
    let answer = introspect(&world.app, Auth::Basic(&dev), &tokens.access).await;
    assert!(
        answer.status == 401 || answer.body == json!({ "active": false }),
        "{answer:?}"
    );
    assert_eq!(audit(&world, "disableDeveloperApp").await.len(), 1);
}

#[tokio::test]
async fn a_code_granted_before_a_revocation_cannot_be_redeemed_after_it() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let grant = grant(&world, &dev, "reps:read").await;
    ok(
        &world.owner,
        REVOKE_APPS,
        json!({ "m": world.api.id, "apps": [dev.id] }),
    )
    .await;
    exchange(&world.app, &dev, &grant).await.assert_error(
        400,
        "invalid_grant",
        "code of a revoked authorization",
    );
}
