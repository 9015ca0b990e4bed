//! The whole authorization-code flow, driven by the `oauth2` crate as a third-party app would
//! run it: PKCE S256, the real sign-in and consent pages, the code exchange, GraphQL with the
//! access token, refresh, and the company manager's revocation. Also the discovery documents
//! and what an access token carries.

use admin_center::clock::Clock;
use oauth2::{
    AuthType, AuthorizationCode, CsrfToken, PkceCodeChallenge, RequestTokenError, Scope,
    TokenIntrospectionResponse, TokenResponse,
    basic::{BasicErrorResponseType, BasicTokenType},
};
use serde_json::{Value, json};

use super::support::*;
use crate::harness::error_code;

fn invalid_grant<RE: std::error::Error + 'static>(
    result: Result<
        oauth2::basic::BasicTokenResponse,
        RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
    >,
    what: &str,
) {
    match result {
        Err(RequestTokenError::ServerResponse(answer)) => assert_eq!(
            answer.error(),
            &BasicErrorResponseType::InvalidGrant,
            "{what}: {answer:?}"
        ),
        Err(other) => panic!("{what}: expected invalid_grant, got {other:?}"),
        Ok(_) => panic!("{what}: expected invalid_grant, got tokens"),
    }
}

#[tokio::test]
async fn third_party_app_runs_the_whole_flow_until_the_company_manager_revokes_it() {
    let world = world().await;
    ok(
        &world.owner,
        "mutation { createTeam(input: { name: \"Support\" }) { id } }",
        json!({}),
    )
    .await;
    let dev = confidential_app(&world, &["reps:read", "teams:read"]).await;
    let client = oauth_client(&world.app, &dev);
    let http = no_redirects();

    // The app sends the API manager's browser to the authorization endpoint.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("reps:read".into()))
        .add_scope(Scope::new("teams:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut browser = Browser::new(&world.app);
    let sign_in = browser.get(auth_url.as_str()).await;
    assert_eq!(sign_in.status, 200, "{sign_in:?}");
    let names: Vec<_> = inputs(&sign_in.body)
        .into_iter()
        .filter_map(|a| a.get("name").cloned())
        .collect();
    for field in ["login", "password", "csrf_token"] {
        assert!(names.iter().any(|n| n == field), "{field} in {names:?}");
    }
    let cookie = sign_in.header("set-cookie").unwrap_or_default().to_owned();
    assert!(cookie.starts_with("ac_oauth_csrf="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");

    // It signs in, then consents.
    let consent = browser
        .sign_in(&sign_in, &world.api.login, API_PASSWORD)
        .await;
    assert_eq!(consent.status, 200, "consent page: {consent:?}");
    assert!(consent.body.contains(&dev.name), "names the app");
    assert!(
        consent.body.contains(&world.account_name),
        "names its owner"
    );
    assert!(consent.body.contains(r#"name="decision""#));
    assert!(consent.body.contains(r#"value="allow""#));
    assert!(consent.body.contains(r#"value="deny""#));
    let back = browser.decide(&consent, "allow").await;
    let params = back.redirect_params(REDIRECT);
    assert_eq!(
        params.get("state"),
        Some(state.secret()),
        "state comes back"
    );
    assert_eq!(params.get("iss"), Some(&issuer(&world.app)), "so does iss");

    // The app redeems the code (client_secret_basic, with the verifier).
    let token = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    assert_eq!(token.token_type(), &BasicTokenType::Bearer);
    let expires_in = token.expires_in().expect("expires_in").as_secs();
    assert!(
        (1..=15 * 60).contains(&expires_in),
        "at most 15 minutes: {expires_in}"
    );
    let mut scopes: Vec<String> = token
        .scopes()
        .expect("scope")
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    scopes.sort();
    assert_eq!(scopes, ["reps:read", "teams:read"]);
    let first_refresh = token.refresh_token().expect("refresh token").clone();
    assert!(first_refresh.secret().starts_with("acr_"));
    let first_access = token.access_token().secret().clone();

    // GraphQL with the access token: `me` and reads its scopes allow.
    let (status, me) = gql(&world.app, &first_access, ME, json!({})).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        me["data"]["me"],
        json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, world.api.id), "login": world.api.login })
    );
    let (_, read) = gql(
        &world.app,
        &first_access,
        "{ reps { totalCount } teams { nodes { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        read,
        json!({ "data": { "reps": { "totalCount": 0 }, "teams": { "nodes": [{ "name": "Support" }] } } })
    );

    // The company manager sees the authorization, used.
    let listed = authorizations(&world.owner, world.api.id).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["application"]["clientId"], json!(dev.client_id));
    assert_eq!(listed[0]["scopes"], json!(["REPS_READ", "TEAMS_READ"]));
    assert!(listed[0]["revokedAt"].is_null());
    last_used_since(&world, &dev.id, world.app.clock.now()).await;

    // Refresh: both tokens rotate, the new access token works.
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .request_async(&http)
        .await
        .expect("refresh");
    let second_refresh = refreshed.refresh_token().expect("rotated").clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    let second_access = refreshed.access_token().secret().clone();
    assert_ne!(second_access, first_access);
    assert_works(&world, &second_access, "refreshed access token").await;

    // The company manager revokes the app for this API manager.
    ok(
        &world.owner,
        REVOKE_APPS,
        json!({ "m": world.api.id, "apps": [dev.id] }),
    )
    .await;
    assert_refused(
        &world.app,
        &second_access,
        "the very next call after revocation",
    )
    .await;
    assert_refused(&world.app, &first_access, "older access token").await;
    invalid_grant(
        client
            .exchange_refresh_token(&second_refresh)
            .request_async(&http)
            .await,
        "refresh after revocation",
    );
    let listed = authorizations(&world.owner, world.api.id).await;
    assert!(!listed[0]["revokedAt"].is_null(), "{listed:?}");
    let (_, active) = world
        .owner
        .post(AUTHORIZED, json!({ "id": world.api.id, "all": false }))
        .await;
    assert_eq!(
        active["data"]["manager"]["authorizedApplications"],
        json!([]),
        "revoked authorizations are hidden by default"
    );

    assert_eq!(audit(&world, "authorizeApplication").await.len(), 1);
    let revoked = audit(&world, "revokeApiManagerApplications").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(
        revoked[0]["actorId"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Manager,
            world.owner.id()
        ))
    );
}

#[tokio::test]
async fn public_client_runs_the_flow_with_pkce_and_no_secret() {
    let world = world().await;
    let dev = public_app(&world, &["reps:read"]).await;
    assert!(dev.secret.is_none(), "a public app has no secret");
    let client = oauth_client(&world.app, &dev);
    let http = no_redirects();
    let grant = grant(&world, &dev, "reps:read").await;

    let token = client
        .exchange_code(AuthorizationCode::new(grant.code))
        .set_pkce_verifier(oauth2::PkceCodeVerifier::new(grant.verifier))
        .request_async(&http)
        .await
        .expect("public exchange");
    assert_works(
        &world,
        token.access_token().secret(),
        "public client's token",
    )
    .await;
    let refreshed = client
        .exchange_refresh_token(token.refresh_token().expect("refresh"))
        .request_async(&http)
        .await
        .expect("public refresh");
    assert_works(&world, refreshed.access_token().secret(), "refreshed").await;

    // A public client cannot introspect (that needs client authentication).
    let answer = introspect(
        &world.app,
        Auth::Public(&dev),
        refreshed.access_token().secret(),
    )
    .await;
    answer.assert_error(401, "invalid_client", "public client introspecting");
}

#[tokio::test]
async fn client_secret_post_authenticates_like_basic() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let http = no_redirects();
    let by_post = oauth_client(&world.app, &dev).set_auth_type(AuthType::RequestBody);
    let grant = grant(&world, &dev, "reps:read").await;
    let token = by_post
        .exchange_code(AuthorizationCode::new(grant.code))
        .set_pkce_verifier(oauth2::PkceCodeVerifier::new(grant.verifier))
        .request_async(&http)
        .await
        .expect("client_secret_post exchange");
    assert_works(
        &world,
        token.access_token().secret(),
        "client_secret_post token",
    )
    .await;

    // The same client introspects its token with Basic credentials through the crate.
    let basic = oauth_client(&world.app, &dev);
    let introspection = basic
        .introspect(token.access_token())
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(introspection.active());
    assert_eq!(
        introspection.client_id().map(|c| c.as_str().to_owned()),
        Some(dev.client_id.clone())
    );
    assert_eq!(introspection.sub(), Some(world.api.id.to_string().as_str()));
}

#[tokio::test]
async fn an_app_with_one_redirect_uri_may_leave_it_out_of_both_requests() {
    // RFC 6749 4.1.3: redirect_uri is required at the token endpoint only if the
    // authorization request included it. An `oauth2` client without a redirect URL sends it
    // in neither.
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let client = oauth2::basic::BasicClient::new(oauth2::ClientId::new(dev.client_id.clone()))
        .set_client_secret(oauth2::ClientSecret::new(dev.secret.clone().unwrap()))
        .set_auth_uri(oauth2::AuthUrl::new(world.app.url("/oauth/authorize")).unwrap())
        .set_token_uri(oauth2::TokenUrl::new(world.app.url("/oauth/token")).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("reps:read".into()))
        .set_pkce_challenge(challenge)
        .url();
    assert!(!auth_url.as_str().contains("redirect_uri"), "{auth_url}");
    let mut browser = Browser::new(&world.app);
    let page = browser.get(auth_url.as_str()).await;
    assert_eq!(page.status, 200, "{page:?}");
    let consent = browser.sign_in(&page, &world.api.login, API_PASSWORD).await;
    let params = browser
        .decide(&consent, "allow")
        .await
        .redirect_params(REDIRECT);
    let token = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&no_redirects())
        .await;
    match token {
        Ok(token) => assert_works(&world, token.access_token().secret(), "token").await,
        Err(RequestTokenError::ServerResponse(answer)) => {
            panic!("refused: {answer:?}")
        }
        Err(other) => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_active_authorization_that_covers_the_request_skips_consent() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read", "teams:read", "teams:write"]).await;
    tokens(&world, &dev, "reps:read teams:read").await;

    let sign_in_to = |scope: &'static str| {
        let (world, dev) = (&world, &dev);
        async move {
            let (challenge, _) = pkce();
            let mut browser = Browser::new(&world.app);
            let page = browser
                .get(&authorize_url(
                    &world.app,
                    &request_params(dev, scope, &challenge),
                ))
                .await;
            browser.sign_in(&page, &world.api.login, API_PASSWORD).await
        }
    };
    // The same scopes, or fewer: straight back with a code.
    for scope in ["reps:read teams:read", "reps:read"] {
        let answer = sign_in_to(scope).await;
        let params = answer.redirect_params(REDIRECT);
        assert!(params.contains_key("code"), "{scope}: {params:?}");
        assert_eq!(params.get("state").map(String::as_str), Some(STATE));
        assert_eq!(params.get("iss"), Some(&issuer(&world.app)));
    }
    // More than was granted: the consent page again.
    let answer = sign_in_to("reps:read teams:write").await;
    assert_eq!(answer.status, 200, "consent for a wider scope: {answer:?}");
    assert!(answer.location().is_none());

    // Once revoked, the old authorization covers nothing.
    ok(
        &world.owner,
        REVOKE_APPS,
        json!({ "m": world.api.id, "apps": [dev.id] }),
    )
    .await;
    let answer = sign_in_to("reps:read").await;
    assert_eq!(answer.status, 200, "consent after revocation: {answer:?}");
    assert!(answer.location().is_none());
}

#[tokio::test]
async fn denying_consent_redirects_with_access_denied_and_grants_nothing() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let (challenge, _) = pkce();
    let mut browser = Browser::new(&world.app);
    let page = browser
        .get(&authorize_url(
            &world.app,
            &request_params(&dev, "reps:read", &challenge),
        ))
        .await;
    let consent = browser.sign_in(&page, &world.api.login, API_PASSWORD).await;
    assert_eq!(consent.status, 200);
    let params = browser
        .decide(&consent, "deny")
        .await
        .redirect_params(REDIRECT);
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
    assert_eq!(params.get("iss"), Some(&issuer(&world.app)));
    assert!(!params.contains_key("code"), "{params:?}");
    assert!(authorizations(&world.owner, world.api.id).await.is_empty());
    assert!(audit(&world, "authorizeApplication").await.is_empty());
}

#[tokio::test]
async fn metadata_and_jwks_describe_the_server() {
    let world = world().await;
    let iss = issuer(&world.app);
    let client = reqwest::Client::new();
    let metadata: Value = client
        .get(world.app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["issuer"], json!(iss));
    for (field, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("introspection_endpoint", "/oauth/introspect"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(metadata[field], json!(format!("{iss}{path}")), "{field}");
    }
    let mut scopes: Vec<String> =
        serde_json::from_value(metadata["scopes_supported"].clone()).unwrap();
    scopes.sort();
    assert_eq!(
        scopes,
        [
            "portals:read",
            "reps:read",
            "reps:write",
            "teams:read",
            "teams:write"
        ]
    );
    assert_eq!(metadata["response_types_supported"], json!(["code"]));
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        metadata["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let mut methods: Vec<String> =
        serde_json::from_value(metadata["token_endpoint_auth_methods_supported"].clone()).unwrap();
    methods.sort();
    assert_eq!(
        methods,
        ["client_secret_basic", "client_secret_post", "none"]
    );
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        json!(true)
    );

    let jwks: Value = client
        .get(world.app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().expect("keys");
    assert!(!keys.is_empty(), "{jwks}");
    for key in keys {
        assert_eq!(key["kty"], "OKP", "{key}");
        assert_eq!(key["crv"], "Ed25519", "{key}");
        assert_eq!(key["alg"], "EdDSA", "{key}");
        assert_eq!(key["use"], "sig", "{key}");
        assert!(key["kid"].is_string() && key["x"].is_string(), "{key}");
        assert!(key.get("d").is_none(), "never the private key: {key}");
    }
}

/// Checks `token` as a resource server would with the JWKS alone; returns its claims.
pub async fn verify_with_jwks(app: &crate::harness::TestApp, token: &str) -> Value {
    let jwks: Value = reqwest::Client::new()
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).expect("JWT header");
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let kid = header.kid.expect("kid");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == json!(kid))
        .unwrap_or_else(|| panic!("kid {kid} not in the JWKS {jwks}"));
    let decoding = jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap())
        .expect("Ed25519 key");
    let iss = issuer(app);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_issuer(&[&iss]);
    validation.set_audience(&[format!("{iss}/graphql")]);
    jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .expect("verifies with the JWKS")
        .claims
}

#[tokio::test]
async fn access_tokens_are_eddsa_jwts_a_resource_server_verifies_with_the_jwks_alone() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read", "teams:read"]).await;
    let tokens = tokens(&world, &dev, "reps:read").await;
    let claims = verify_with_jwks(&world.app, &tokens.access).await;
    assert_eq!(claims["sub"], json!(world.api.id.to_string()));
    assert_eq!(claims["client_id"], json!(dev.client_id));
    assert_eq!(claims["scope"], json!("reps:read"));
    let authorization = &authorizations(&world.owner, world.api.id).await[0];
    // JWT claims carry storage ids; the API's global id decodes to the same row.
    let authz = crate::harness::uuid_of_gid(authorization["id"].as_str().unwrap());
    assert_eq!(claims["authz"], json!(authz.to_string()));
    for claim in ["fam", "jti", "iat", "nbf", "exp"] {
        assert!(!claims[claim].is_null(), "{claim} in {claims}");
    }
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        15 * 60,
        "access tokens live 15 minutes"
    );

    // Past its expiry the token is refused (and introspects as inactive).
    world.app.clock.advance(chrono::Duration::minutes(16));
    assert_refused(&world.app, &tokens.access, "expired access token").await;
    let answer = introspect(&world.app, Auth::Basic(&dev), &tokens.access).await;
    assert_eq!(
        (answer.status, answer.body),
        (200, json!({ "active": false }))
    );
    // The refresh token still gets a new one.
    let fresh = Tokens::from_reply(&refresh(&world.app, &dev, &tokens.refresh).await);
    assert_works(&world, &fresh.access, "access token after refresh").await;
    let (_, body) = gql(
        &world.app,
        &fresh.access,
        "{ teams { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        error_code(&body),
        Some("FORBIDDEN"),
        "the scope stays: {body}"
    );
}
