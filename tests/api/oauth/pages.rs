//! The authorization endpoint and its pages: which requests never redirect, which redirect back
//! with an error, the framing and caching headers, CSRF, the sign-in rules (throttling,
//! restrictions, who may authorize at all) and the consent page's contents.

use admin_center::clock::Clock;
use entity::manager::ManagerKind;
use serde_json::json;

use super::support::*;
use crate::harness::TestApp;

/// `GET /oauth/authorize` with `params` in a fresh browser.
async fn open(app: &TestApp, params: &[(&str, &str)]) -> Page {
    Browser::new(app).get(&authorize_url(app, params)).await
}

fn with(base: &[(&'static str, &str)], key: &str, value: &str) -> Vec<(String, String)> {
    base.iter()
        .map(|&(k, v)| (k.to_owned(), if k == key { value } else { v }.to_owned()))
        .collect()
}

fn without(base: &[(&'static str, &str)], keys: &[&str]) -> Vec<(String, String)> {
    base.iter()
        .filter(|(k, _)| !keys.contains(k))
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// An authorization request's query parameters.
type Params = Vec<(String, String)>;

async fn open_owned(app: &TestApp, params: &[(String, String)]) -> Page {
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    open(app, &borrowed).await
}

#[tokio::test]
async fn a_bad_client_or_redirect_uri_shows_an_error_page_and_never_redirects() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let two = register_with(
        &world.owner,
        "Two redirects",
        &[REDIRECT, "https://app.example.com/cb"],
        &["reps:read"],
        true,
    )
    .await;
    let (challenge, _) = pkce();
    let good = request_params(&dev, "reps:read", &challenge);
    assert_eq!(
        open(&world.app, &good).await.status,
        200,
        "the good request"
    );

    let cases: Vec<(&str, Params)> = vec![
        ("unknown client", with(&good, "client_id", "no-such-client")),
        ("no client", without(&good, &["client_id"])),
        (
            "trailing slash",
            with(&good, "redirect_uri", "http://127.0.0.1:9/callback/"),
        ),
        (
            "longer path",
            with(&good, "redirect_uri", "http://127.0.0.1:9/callback/evil"),
        ),
        (
            "added query",
            with(&good, "redirect_uri", "http://127.0.0.1:9/callback?x=1"),
        ),
        (
            "other port",
            with(&good, "redirect_uri", "http://127.0.0.1:10/callback"),
        ),
        (
            "other host",
            with(&good, "redirect_uri", "http://localhost:9/callback"),
        ),
        (
            "other case",
            with(&good, "redirect_uri", "http://127.0.0.1:9/Callback"),
        ),
        (
            "another app's URI",
            with(&good, "redirect_uri", "https://app.example.com/cb"),
        ),
        (
            "attacker",
            with(&good, "redirect_uri", "https://evil.example/cb"),
        ),
    ];
    for (what, params) in cases {
        open_owned(&world.app, &params)
            .await
            .assert_error_page(400, what);
    }

    // An app with two redirect URIs must be told which one.
    let two_params = request_params(&two, "reps:read", &challenge);
    open_owned(&world.app, &without(&two_params, &["redirect_uri"]))
        .await
        .assert_error_page(400, "no redirect_uri, two registered");
    let second = with(&two_params, "redirect_uri", "https://app.example.com/cb");
    assert_eq!(open_owned(&world.app, &second).await.status, 200);

    // An app with one may leave it out.
    let page = open_owned(&world.app, &without(&good, &["redirect_uri"])).await;
    assert_eq!(page.status, 200, "one registered redirect: {page:?}");

    // A disabled app is a bad client.
    ok(
        &world.owner,
        "mutation($id: ID!) { disableDeveloperApp(id: $id) { id } }",
        json!({ "id": dev.id }),
    )
    .await;
    open(&world.app, &good)
        .await
        .assert_error_page(400, "disabled app");
}

#[tokio::test]
async fn the_posted_form_cannot_move_the_redirect_uri() {
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
    let evil = "https://evil.example/cb";
    let mut form: Vec<(String, String)> = page
        .hidden_inputs()
        .into_iter()
        .map(|(k, v)| {
            let v = if k == "redirect_uri" || v == REDIRECT {
                evil.to_owned()
            } else {
                v
            };
            (k, v)
        })
        .collect();
    form.push(("login".into(), world.api.login.clone()));
    form.push(("password".into(), API_PASSWORD.into()));
    let mut answer = browser.post(&form).await;
    if answer.status == 200 {
        answer = browser.decide(&answer, "allow").await;
    }
    let location = answer.location().unwrap_or_default();
    assert!(
        !location.starts_with(evil),
        "a tampered form redirected to {location}"
    );
}

#[tokio::test]
async fn request_errors_redirect_back_with_the_error_state_and_iss() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read", "teams:read"]).await;
    let (challenge, _) = pkce();
    let good = request_params(&dev, "reps:read", &challenge);
    let cases: Vec<(&str, Params, &str)> = vec![
        (
            "implicit grant",
            with(&good, "response_type", "token"),
            "unsupported_response_type",
        ),
        (
            "unknown scope",
            with(&good, "scope", "reps:read admin"),
            "invalid_scope",
        ),
        (
            "scope the app was not registered for",
            with(&good, "scope", "reps:read teams:write"),
            "invalid_scope",
        ),
        (
            "no code challenge",
            without(&good, &["code_challenge", "code_challenge_method"]),
            "invalid_request",
        ),
        (
            "plain method",
            with(&good, "code_challenge_method", "plain"),
            "invalid_request",
        ),
        (
            "no method (plain by default, RFC 7636 4.3)",
            without(&good, &["code_challenge_method"]),
            "invalid_request",
        ),
        (
            "a method but no challenge",
            without(&good, &["code_challenge"]),
            "invalid_request",
        ),
    ];
    for (what, params, error) in cases {
        let page = open_owned(&world.app, &params).await;
        let back = page.redirect_params(REDIRECT);
        assert_eq!(back.get("error").map(String::as_str), Some(error), "{what}");
        assert_eq!(back.get("state").map(String::as_str), Some(STATE), "{what}");
        assert_eq!(back.get("iss"), Some(&issuer(&world.app)), "{what}");
        assert!(!back.contains_key("code"), "{what}");
    }

    // Without `scope`, the app's registered scopes are asked for.
    let page = open_owned(&world.app, &without(&good, &["scope"])).await;
    assert_eq!(page.status, 200, "{page:?}");
}

#[tokio::test]
async fn the_pages_forbid_framing_and_caching_and_run_no_script() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let (challenge, _) = pkce();
    let mut browser = Browser::new(&world.app);
    let sign_in = browser
        .get(&authorize_url(
            &world.app,
            &request_params(&dev, "reps:read", &challenge),
        ))
        .await;
    let wrong = browser
        .sign_in(&sign_in, &world.api.login, "Wrong-Password-1")
        .await;
    // The form shown again is the one to use next.
    let consent = browser
        .sign_in(&wrong, &world.api.login, API_PASSWORD)
        .await;
    assert_eq!(consent.status, 200, "{consent:?}");
    let error = open(&world.app, &[("client_id", "nobody")]).await;
    for (what, page) in [
        ("sign-in", &sign_in),
        ("wrong password", &wrong),
        ("consent", &consent),
        ("error", &error),
    ] {
        assert_eq!(page.header("x-frame-options"), Some("DENY"), "{what}");
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert_eq!(page.header("cache-control"), Some("no-store"), "{what}");
        assert!(
            !page.body.to_lowercase().contains("<script"),
            "{what}: no JavaScript"
        );
        assert!(
            !page.body.contains("src=\"http") && !page.body.contains("href=\"http"),
            "{what}: no third-party resources"
        );
    }
}

#[tokio::test]
async fn a_post_with_a_wrong_csrf_token_or_no_cookie_changes_nothing() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let (challenge, _) = pkce();
    let url = authorize_url(&world.app, &request_params(&dev, "reps:read", &challenge));
    let mut browser = Browser::new(&world.app);
    let sign_in = browser.get(&url).await;
    assert!(browser.cookie.is_some(), "the page sets ac_oauth_csrf");
    let mut login = vec![
        ("login".to_owned(), world.api.login.clone()),
        ("password".to_owned(), API_PASSWORD.to_owned()),
    ];

    let forged = |page: &Page| -> Vec<(String, String)> {
        page.hidden_inputs()
            .into_iter()
            .map(|(k, v)| {
                if k == "csrf_token" {
                    (k, "forged-token".to_owned())
                } else {
                    (k, v)
                }
            })
            .collect()
    };
    // Sign-in: a wrong csrf_token, then the right one without the cookie.
    let mut form = forged(&sign_in);
    form.append(&mut login.clone());
    browser
        .post(&form)
        .await
        .assert_error_page(400, "wrong csrf_token");
    let mut cookieless = Browser::new(&world.app);
    let mut form = sign_in.hidden_inputs();
    form.append(&mut login);
    cookieless
        .post(&form)
        .await
        .assert_error_page(400, "no cookie");
    // Another browser's cookie with this page's token.
    let mut other = Browser::new(&world.app);
    other.get(&url).await;
    other
        .post(&form)
        .await
        .assert_error_page(400, "another browser's cookie");

    // Consent: a forged token grants nothing.
    let consent = browser
        .sign_in(&sign_in, &world.api.login, API_PASSWORD)
        .await;
    assert_eq!(consent.status, 200, "{consent:?}");
    let mut form = forged(&consent);
    form.push(("decision".into(), "allow".into()));
    browser
        .post(&form)
        .await
        .assert_error_page(400, "forged consent");
    let mut form = consent.hidden_inputs();
    form.push(("decision".into(), "allow".into()));
    cookieless
        .post(&form)
        .await
        .assert_error_page(400, "consent without the cookie");
    assert!(authorizations(&world.owner, world.api.id).await.is_empty());
    assert!(audit(&world, "authorizeApplication").await.is_empty());

    // The genuine form still works afterwards.
    let params = browser
        .decide(&consent, "allow")
        .await
        .redirect_params(REDIRECT);
    assert!(params.contains_key("code"));
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_guessing_is_throttled() {
    let world = world_with(|c| c.trust_proxy = true).await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let (challenge, _) = pkce();
    let mut browser = Browser::new(&world.app);
    browser.address = Some("203.0.113.40".into());
    let page = browser
        .get(&authorize_url(
            &world.app,
            &request_params(&dev, "reps:read", &challenge),
        ))
        .await;
    let again = browser
        .sign_in(&page, &world.api.login, "Wrong-Password-1")
        .await;
    again.assert_error_page(401, "wrong password");
    let fields: Vec<_> = inputs(&again.body)
        .into_iter()
        .filter_map(|a| a.get("name").cloned())
        .collect();
    assert!(
        fields.iter().any(|f| f == "password") && fields.iter().any(|f| f == "csrf_token"),
        "the form again: {fields:?}"
    );
    // An unknown login looks the same.
    let unknown = browser
        .sign_in(&again, "nobody-at-all", "Wrong-Password-1")
        .await;
    unknown.assert_error_page(401, "unknown login");

    let mut form = unknown;
    let mut throttled = None;
    for i in 0..10 {
        let answer = browser
            .sign_in(&form, &world.api.login, &format!("Wrong-Password-{i}"))
            .await;
        if answer.status == 429 {
            throttled = Some(answer);
            break;
        }
        answer.assert_error_page(401, "another wrong password");
        form = answer;
    }
    let throttled = throttled.expect("guessing is throttled");
    throttled.assert_error_page(429, "throttled");
    assert!(throttled.header("retry-after").is_some(), "{throttled:?}");
    // Even the right password waits now.
    let blocked = browser.sign_in(&form, &world.api.login, API_PASSWORD).await;
    blocked.assert_error_page(429, "the right password while throttled");
    assert!(authorizations(&world.owner, world.api.id).await.is_empty());
}

#[tokio::test]
async fn a_restricted_api_manager_is_told_what_to_do_and_gets_no_code() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let login = format!("api-new-{}", short_id());
    let first_password = "First-Pass-2026!";
    ok(
        &world.owner,
        "mutation($i: CreateManagerInput!) { createApiManager(input: $i) { id } }",
        json!({ "i": { "login": login, "name": "New API", "email": format!("{login}@example.com"), "password": first_password } }),
    )
    .await;
    let (challenge, _) = pkce();
    let mut browser = Browser::new(&world.app);
    let page = browser
        .get(&authorize_url(
            &world.app,
            &request_params(&dev, "reps:read", &challenge),
        ))
        .await;
    let answer = browser.sign_in(&page, &login, first_password).await;
    answer.assert_error_page(403, "password change pending");
    assert!(
        answer.body.to_lowercase().contains("password"),
        "tells what to do first: {}",
        answer.body
    );
    assert!(!answer.body.contains(r#"value="allow""#), "no consent form");
}

#[tokio::test]
async fn an_api_manager_that_must_validate_its_email_gets_no_code() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    ok(
        &world.owner,
        "mutation($id: ID!) { updateManagerLoginSettings(id: $id, input: { forceValidationPrompt: true }) { id } }",
        json!({ "id": world.api.id }),
    )
    .await;
    let (challenge, _) = pkce();
    let mut browser = Browser::new(&world.app);
    let page = browser
        .get(&authorize_url(
            &world.app,
            &request_params(&dev, "reps:read", &challenge),
        ))
        .await;
    let answer = browser.sign_in(&page, &world.api.login, API_PASSWORD).await;
    answer.assert_error_page(403, "e-mail validation pending");
    assert!(
        answer.body.to_lowercase().contains("e-mail"),
        "tells what to do first: {}",
        answer.body
    );
    assert!(authorizations(&world.owner, world.api.id).await.is_empty());
}

#[tokio::test]
async fn only_api_managers_of_accounts_that_allow_them_can_authorize() {
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
    let second_company = world
        .app
        .insert_manager(
            world.account_id,
            ManagerKind::Company,
            &format!("cm-{}", short_id()),
            API_PASSWORD,
        )
        .await;
    let try_sign_in = |login: String| {
        let (world, dev) = (&world, &dev);
        async move {
            let (challenge, _) = pkce();
            let mut browser = Browser::new(&world.app);
            let page = browser
                .get(&authorize_url(
                    &world.app,
                    &request_params(dev, "reps:read", &challenge),
                ))
                .await;
            browser.sign_in(&page, &login, API_PASSWORD).await
        }
    };
    for (what, login) in [
        ("team manager", team_manager.login.clone()),
        ("company manager", second_company.login.clone()),
    ] {
        try_sign_in(login).await.assert_error_page(403, what);
    }

    // The account stops allowing API managers: its API manager cannot authorize any more,
    // and the tokens it authorized before stop at once.
    let earlier = tokens(&world, &dev, "reps:read").await;
    admin_center::service::account::set_api_managers_allowed(
        &world.app.state.db,
        world.app.clock.now(),
        world.account_id,
        false,
    )
    .await
    .unwrap();
    try_sign_in(world.api.login.clone())
        .await
        .assert_error_page(403, "API manager of an account that no longer allows them");
    assert_refused(
        &world.app,
        &earlier.access,
        "a token of a no longer allowed API manager",
    )
    .await;
    refresh(&world.app, &dev, &earlier.refresh)
        .await
        .assert_error(400, "invalid_grant", "its refresh token");
}

#[tokio::test]
async fn unknown_request_parameters_are_ignored_and_repeated_ones_refused() {
    // RFC 6749 3.1: the server MUST ignore unrecognized parameters (OpenID Connect clients
    // send `nonce`, RFC 8707 clients `resource`), and parameters MUST NOT be repeated.
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let (challenge, _) = pkce();
    let mut params = request_params(&dev, "reps:read", &challenge);
    params.push(("nonce", "n-0S6_WzA2Mj"));
    params.push(("resource", "https://admin.example.com/graphql"));
    params.push(("ui_locales", "en"));
    let page = open(&world.app, &params).await;
    assert_eq!(page.status, 200, "extra parameters: {page:?}");

    let mut repeated = request_params(&dev, "reps:read", &challenge);
    repeated.push(("scope", "reps:read"));
    let page = open(&world.app, &repeated).await;
    let location = page.location().unwrap_or_default();
    assert!(
        page.status == 400 || location.contains("error=invalid_request"),
        "a repeated parameter: {page:?}"
    );
    assert!(!location.contains("code="));
}

#[tokio::test]
async fn an_api_manager_of_another_company_cannot_authorize_its_app() {
    let world = world().await;
    let dev = confidential_app(&world, &["reps:read"]).await;
    let other = world.app.new_account().await;
    admin_center::service::account::set_api_managers_allowed(
        &world.app.state.db,
        world.app.clock.now(),
        other.account.id,
        true,
    )
    .await
    .unwrap();
    let stranger = world
        .app
        .insert_manager(
            other.account.id,
            ManagerKind::Api,
            &format!("api-b-{}", short_id()),
            API_PASSWORD,
        )
        .await;
    let (challenge, _) = pkce();
    let mut browser = Browser::new(&world.app);
    let page = browser
        .get(&authorize_url(
            &world.app,
            &request_params(&dev, "reps:read", &challenge),
        ))
        .await;
    browser
        .sign_in(&page, &stranger.login, API_PASSWORD)
        .await
        .assert_error_page(403, "another company's API manager");
}

#[tokio::test]
async fn the_consent_page_names_the_app_its_owner_and_each_scope_escaped() {
    let world = world().await;
    let name = r#"<b>Evil</b> "App" & <script>alert(1)</script>"#;
    let dev = register_with(
        &world.owner,
        name,
        &[REDIRECT],
        &["reps:read", "teams:write", "portals:read"],
        true,
    )
    .await;
    let (challenge, _) = pkce();
    let mut browser = Browser::new(&world.app);
    let page = browser
        .get(&authorize_url(
            &world.app,
            &request_params(&dev, "reps:read teams:write portals:read", &challenge),
        ))
        .await;
    let consent = browser.sign_in(&page, &world.api.login, API_PASSWORD).await;
    assert_eq!(consent.status, 200, "{consent:?}");
    assert!(
        consent.body.contains("&lt;b&gt;Evil&lt;/b&gt;"),
        "the name, escaped: {}",
        consent.body
    );
    assert!(!consent.body.contains("<b>Evil"), "never raw HTML");
    assert!(!consent.body.to_lowercase().contains("<script"));
    assert!(consent.body.contains(&world.account_name), "its owner");
    let text = consent.body.to_lowercase();
    for word in ["representatives", "teams", "portals"] {
        assert!(text.contains(word), "scopes in plain words: {word}");
    }
    assert!(
        !text.contains("reps:read") || text.contains("representatives"),
        "plain words, not only scope names"
    );
}

#[tokio::test]
async fn a_consent_ticket_lasts_ten_minutes() {
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
    world.app.clock.advance(chrono::Duration::minutes(11));
    let late = browser.decide(&consent, "allow").await;
    let location = late.location().unwrap_or_default();
    assert!(
        !location.contains("code="),
        "a stale consent grants no code: {late:?}"
    );
    assert!(late.status >= 400 || late.status == 303, "{late:?}");
    assert!(authorizations(&world.owner, world.api.id).await.is_empty());
}
