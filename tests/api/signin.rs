//! Sign-in, sessions, restrictions, password change and reset, e-mail validation, login
//! settings and throttling, through real GraphQL requests.

use std::time::{Duration, Instant};

use admin_center::config::MailTransport;
use chrono::Duration as Span;
use entity::{audit_event, manager::ManagerKind};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};

use crate::harness::{TestApp, error_code, find_token, outbox};

const NEW_PASSWORD: &str = "Blue-Harbor-42";
const CHANGE: &str = "mutation($c: String!, $n: String!) {
    changePassword(currentPassword: $c, newPassword: $n) { token restriction } }";

fn token_of(body: &Value, field: &str) -> String {
    body["data"][field]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token in {body}"))
        .to_owned()
}

#[tokio::test]
async fn first_sign_in_of_a_new_owner_is_restricted_until_the_password_changes() {
    let app = TestApp::new().await;
    let created = app.new_account().await;
    let first = app
        .login(&created.owner.login, &created.owner_password)
        .await;
    assert_eq!(
        first["data"]["login"]["restriction"], "PASSWORD_CHANGE",
        "{first}"
    );
    assert_eq!(
        first["data"]["login"]["manager"]["login"],
        json!(created.owner.login)
    );
    let restricted = token_of(&first, "login");

    // A restricted session reads `me`, and nothing else.
    let (status, me) = app
        .post_graphql_as(&restricted, "{ me { login } }", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["data"]["me"]["login"], json!(created.owner.login));
    let (_, account) = app
        .post_graphql_as(&restricted, "{ account { id } }", json!({}))
        .await;
    assert_eq!(error_code(&account), Some("PASSWORD_CHANGE_REQUIRED"));
    // `me` itself, not what hangs from it.
    for beyond in ["{ me { teams { id } } }", "{ me { portals { id } } }"] {
        let (_, body) = app.post_graphql_as(&restricted, beyond, json!({})).await;
        assert_eq!(
            error_code(&body),
            Some("PASSWORD_CHANGE_REQUIRED"),
            "{beyond}"
        );
    }
    let (_, settings) = app
        .post_graphql_as(
            &restricted,
            "mutation($id: ID!) { updateManagerLoginSettings(id: $id, input: { forcePasswordChange: false }) { id } }",
            json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, created.owner.id) }),
        )
        .await;
    assert_eq!(error_code(&settings), Some("PASSWORD_CHANGE_REQUIRED"));
    // Nor can it take the other restriction's way out.
    let (_, validate) = app
        .post_graphql_as(
            &restricted,
            "mutation { validateEmail(code: \"X\") { token } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&validate), Some("PASSWORD_CHANGE_REQUIRED"));

    // Changing the password lifts the restriction and replaces the session.
    let (_, changed) = app
        .post_graphql_as(
            &restricted,
            CHANGE,
            json!({ "c": created.owner_password, "n": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(
        changed["data"]["changePassword"]["restriction"], "NONE",
        "{changed}"
    );
    let fresh = token_of(&changed, "changePassword");
    let (status, _) = app
        .post_graphql_as(&restricted, "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 401, "the restricted session ended with the change");
    let (_, account) = app
        .post_graphql_as(
            &fresh,
            "{ account { id } me { loginSettings { forcePasswordChange } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        account["data"]["account"]["id"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Account,
            created.account.id
        ))
    );
    assert_eq!(
        account["data"]["me"]["loginSettings"]["forcePasswordChange"],
        false
    );

    // The one-time password is gone; the new one signs in unrestricted.
    let old = app
        .login(&created.owner.login, &created.owner_password)
        .await;
    assert_eq!(error_code(&old), Some("UNAUTHENTICATED"));
    let again = app
        .login(&created.owner.login.to_uppercase(), NEW_PASSWORD)
        .await;
    assert_eq!(
        again["data"]["login"]["restriction"], "NONE",
        "logins are case-insensitive"
    );
}

#[tokio::test]
async fn unknown_login_and_wrong_password_answer_alike_and_take_as_long() {
    // Behind a trusted proxy, so that each round can come from its own address: the
    // per-(login, address) limit would otherwise stop the known login after five tries.
    let app = TestApp::with_config(|c| c.trust_proxy = true).await;
    let (created, _) = app.signed_in_owner(NEW_PASSWORD).await;
    let wrong = app.login(&created.owner.login, "Wrong-Password-1").await;
    let unknown = app.login("nobody-here", "Wrong-Password-1").await;
    assert_eq!(wrong, unknown, "same code, same message, same (null) data");
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"));
    assert_eq!(wrong["data"], json!(null));

    // Timing: the unknown login is checked against a dummy hash, so both cost one argon2
    // verification (~25 ms here; without the dummy an unknown login answers in ~1 ms). The
    // fastest of ten interleaved attempts is compared, which other tests running in
    // parallel (or a build) cannot slow down much.
    let mut known = Vec::new();
    let mut missing = Vec::new();
    for i in 0..10 {
        let address = format!("198.51.100.{}", 10 + i);
        let started = Instant::now();
        let (_, body) = app
            .login_from(&address, &created.owner.login, "Wrong-Password-1")
            .await;
        known.push(started.elapsed());
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
        let started = Instant::now();
        let (_, body) = app
            .login_from(&address, &format!("ghost-{i}"), "Wrong-Password-1")
            .await;
        missing.push(started.elapsed());
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    }
    let fastest = |v: &[Duration]| v.iter().min().copied().unwrap_or_default().as_secs_f64();
    let (k, m) = (fastest(&known), fastest(&missing));
    assert!(
        (0.5..2.0).contains(&(k / m)),
        "known login {k:.4}s vs unknown {m:.4}s: timing tells them apart"
    );
}

#[tokio::test]
async fn logout_ends_the_session_on_the_next_request() {
    let app = TestApp::new().await;
    let (_, token) = app.signed_in_owner(NEW_PASSWORD).await;
    let (_, out) = app
        .post_graphql_as(&token, "mutation { logout }", json!({}))
        .await;
    assert_eq!(out, json!({ "data": { "logout": true } }));
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn bad_expired_or_foreign_tokens_get_401_and_no_token_is_anonymous() {
    let app = TestApp::new().await;
    let (_, token) = app.signed_in_owner(NEW_PASSWORD).await;
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let other_key = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({ "iss": "admin-center", "sub": uuid::Uuid::nil(), "sid": uuid::Uuid::nil(),
                 "iat": 0, "exp": 4_000_000_000_i64, "token_use": "session" }),
        &jsonwebtoken::EncodingKey::from_secret(b"not-the-server-key-not-the-server-key"),
    )
    .unwrap();
    for bad in ["garbage", tampered.as_str(), other_key.as_str()] {
        let (status, body) = app.post_graphql_as(bad, "{ me { id } }", json!({})).await;
        assert_eq!(status, 401, "{bad}");
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    }
    // GET /graphql runs the same chain.
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ me { id } }")])
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let (status, body) = app
        .post_graphql_as(&token, "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    app.clock
        .advance(app.state.config.session_ttl + Span::seconds(1));
    let (status, _) = app
        .post_graphql_as(&token, "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 401, "an expired session is refused");

    let (status, body) = app.post_graphql("{ me { id } }", json!({})).await;
    assert_eq!((status, body), (200, json!({ "data": { "me": null } })));
}

#[tokio::test]
async fn password_change_enforces_the_policy_and_changes_nothing_when_refused() {
    let app = TestApp::new().await;
    let (created, token) = app.signed_in_owner(NEW_PASSWORD).await;
    let login = created.owner.login.clone();
    let cases = [
        ("Sh0rt!", "8 to 128"),
        ("alllowercase1", "three of"),
        (login.as_str(), "not be the login"),
        (NEW_PASSWORD, "differ"),
    ];
    for (candidate, rule) in cases {
        let (_, body) = app
            .post_graphql_as(&token, CHANGE, json!({ "c": NEW_PASSWORD, "n": candidate }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{candidate}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(rule), "{candidate}: {message}");
        assert!(
            !message.contains(candidate),
            "the password is not echoed: {message}"
        );
    }
    let (_, body) = app
        .post_graphql_as(
            &token,
            CHANGE,
            json!({ "c": "Not-The-Password-1", "n": "Another-Pass-9" }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["message"],
        "current password is incorrect"
    );
    // Nothing changed: the session and the password still work.
    let (status, _) = app
        .post_graphql_as(&token, "{ account { id } }", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.login(&login, NEW_PASSWORD).await["data"]["login"]["restriction"],
        "NONE"
    );
}

#[tokio::test]
async fn password_equal_to_login_or_name_is_refused() {
    let app = TestApp::new().await;
    let created = app.new_account().await;
    let manager = app
        .insert_manager(
            created.account.id,
            ManagerKind::Company,
            "Sunny-Day-77",
            "Start-Pass-1",
        )
        .await;
    let signed = app.login(&manager.login, "Start-Pass-1").await;
    let token = token_of(&signed, "login");
    for (candidate, rule) in [
        ("sunny-DAY-77", "the login"),
        ("Sunny-Day-77 name", "the name"),
    ] {
        let (_, body) = app
            .post_graphql_as(
                &token,
                CHANGE,
                json!({ "c": "Start-Pass-1", "n": candidate }),
            )
            .await;
        assert_eq!(
            body["errors"][0]["message"],
            format!("password must not be {rule}"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn password_change_ends_every_other_session() {
    let app = TestApp::new().await;
    let (created, first) = app.signed_in_owner(NEW_PASSWORD).await;
    let second = token_of(
        &app.login(&created.owner.login, NEW_PASSWORD).await,
        "login",
    );
    let (_, changed) = app
        .post_graphql_as(
            &first,
            CHANGE,
            json!({ "c": NEW_PASSWORD, "n": "Green-Valley-17" }),
        )
        .await;
    let fresh = token_of(&changed, "changePassword");
    for old in [&first, &second] {
        let (status, _) = app.post_graphql_as(old, "{ me { id } }", json!({})).await;
        assert_eq!(status, 401);
    }
    let (status, _) = app
        .post_graphql_as(&fresh, "{ account { id } }", json!({}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn reset_token_works_once_and_not_after_thirty_minutes() {
    let mail_dir = tempfile::tempdir().unwrap();
    let dir = mail_dir.path().to_owned();
    let app = TestApp::with_config(|c| c.mail_transport = MailTransport::File(dir.clone())).await;
    let (created, session) = app.signed_in_owner(NEW_PASSWORD).await;
    let request = "mutation($l: String!) { requestPasswordReset(login: $l) }";

    // Unknown logins get the same answer, and no mail.
    let (_, unknown) = app
        .post_graphql(request, json!({ "l": "no-such-login" }))
        .await;
    assert_eq!(unknown, json!({ "data": { "requestPasswordReset": true } }));
    let (_, known) = app
        .post_graphql(request, json!({ "l": created.owner.login }))
        .await;
    assert_eq!(known, unknown);
    let mails = outbox(&dir, 1).await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains(&created.owner.email),
        "mailed to the manager"
    );
    let token = find_token(&mails[0], "acpr_").expect("token in the mail");

    let reset = "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }";
    let (_, weak) = app
        .post_graphql(reset, json!({ "t": token, "p": "weak" }))
        .await;
    assert_eq!(
        error_code(&weak),
        Some("BAD_USER_INPUT"),
        "policy applies; token not spent"
    );
    let (_, done) = app
        .post_graphql(reset, json!({ "t": token, "p": "Fresh-Start-58" }))
        .await;
    assert_eq!(done, json!({ "data": { "resetPassword": true } }));
    let (status, _) = app
        .post_graphql_as(&session, "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 401, "a reset ends every session");
    assert_eq!(
        app.login(&created.owner.login, "Fresh-Start-58").await["data"]["login"]["restriction"],
        "NONE"
    );
    assert_eq!(
        error_code(&app.login(&created.owner.login, NEW_PASSWORD).await),
        Some("UNAUTHENTICATED")
    );

    let (_, again) = app
        .post_graphql(reset, json!({ "t": token, "p": "Second-Try-99" }))
        .await;
    assert_eq!(error_code(&again), Some("BAD_USER_INPUT"), "single use");
    assert_eq!(
        again["errors"][0]["message"],
        "reset token is invalid, used or expired"
    );

    // A new token expires after 30 minutes (the clock moves; nothing sleeps).
    app.post_graphql(request, json!({ "l": created.owner.login }))
        .await;
    let mails = outbox(&dir, 2).await;
    let late = find_token(mails.last().unwrap(), "acpr_").unwrap();
    assert_ne!(late, token);
    app.clock.advance(Span::minutes(30) + Span::seconds(1));
    let (_, expired) = app
        .post_graphql(reset, json!({ "t": late, "p": "Too-Late-123" }))
        .await;
    assert_eq!(error_code(&expired), Some("BAD_USER_INPUT"));
    assert_eq!(
        app.login(&created.owner.login, "Fresh-Start-58").await["data"]["login"]["restriction"],
        "NONE"
    );
}

#[tokio::test]
async fn no_reset_mail_when_user_initiated_reset_is_off() {
    let mail_dir = tempfile::tempdir().unwrap();
    let dir = mail_dir.path().to_owned();
    let app = TestApp::with_config(|c| c.mail_transport = MailTransport::File(dir.clone())).await;
    let (created, token) = app.signed_in_owner(NEW_PASSWORD).await;
    let (_, off) = app
        .post_graphql_as(
            &token,
            "mutation($id: ID!) { updateManagerLoginSettings(id: $id, input: { userInitiatedPasswordReset: false }) { loginSettings { userInitiatedPasswordReset } } }",
            json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, created.owner.id) }),
        )
        .await;
    assert_eq!(
        off["data"]["updateManagerLoginSettings"]["loginSettings"]["userInitiatedPasswordReset"],
        false
    );
    let (_, answer) = app
        .post_graphql(
            "mutation($l: String!) { requestPasswordReset(login: $l) }",
            json!({ "l": created.owner.login }),
        )
        .await;
    assert_eq!(answer, json!({ "data": { "requestPasswordReset": true } }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(outbox(&dir, 0).await.is_empty());
}

#[tokio::test]
async fn validation_prompt_restricts_until_the_mailed_code_is_entered_once() {
    let mail_dir = tempfile::tempdir().unwrap();
    let dir = mail_dir.path().to_owned();
    let app = TestApp::with_config(|c| c.mail_transport = MailTransport::File(dir.clone())).await;
    let (created, token) = app.signed_in_owner(NEW_PASSWORD).await;
    app.post_graphql_as(
        &token,
        "mutation($id: ID!) { updateManagerLoginSettings(id: $id, input: { forceValidationPrompt: true }) { id } }",
        json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, created.owner.id) }),
    )
    .await;
    let signed = app.login(&created.owner.login, NEW_PASSWORD).await;
    assert_eq!(signed["data"]["login"]["restriction"], "EMAIL_VALIDATION");
    let restricted = token_of(&signed, "login");
    let (_, blocked) = app
        .post_graphql_as(&restricted, "{ account { id } }", json!({}))
        .await;
    assert_eq!(error_code(&blocked), Some("EMAIL_VALIDATION_REQUIRED"));

    let mails = outbox(&dir, 1).await;
    let body = mails.last().unwrap();
    let marker = "validate this e-mail address is:";
    let code: String = body[body.find(marker).unwrap() + marker.len()..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    assert_eq!(code.len(), 10, "{body}");

    let validate = "mutation($c: String!) { validateEmail(code: $c) { token restriction manager { emailValidated } } }";
    let (_, wrong) = app
        .post_graphql_as(&restricted, validate, json!({ "c": "WRONGCODE0" }))
        .await;
    assert_eq!(error_code(&wrong), Some("BAD_USER_INPUT"));
    let (_, ok) = app
        .post_graphql_as(&restricted, validate, json!({ "c": code.to_lowercase() }))
        .await;
    assert_eq!(ok["data"]["validateEmail"]["restriction"], "NONE", "{ok}");
    assert_eq!(
        ok["data"]["validateEmail"]["manager"]["emailValidated"],
        true
    );
    let fresh = token_of(&ok, "validateEmail");
    let (_, reused) = app
        .post_graphql_as(&fresh, validate, json!({ "c": code }))
        .await;
    assert_eq!(error_code(&reused), Some("BAD_USER_INPUT"), "single use");
    let (status, _) = app
        .post_graphql_as(&fresh, "{ account { id } }", json!({}))
        .await;
    assert_eq!(status, 200);
    // Validated now: the next sign-in is not restricted and mails nothing.
    let next = app.login(&created.owner.login, NEW_PASSWORD).await;
    assert_eq!(next["data"]["login"]["restriction"], "NONE");
}

#[tokio::test]
async fn login_settings_belong_to_company_managers_of_the_same_account() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let (_, stranger) = app.company_owner().await;
    let team = app
        .insert_manager(
            created.account.id,
            ManagerKind::Team,
            "team-lead",
            "Team-Lead-11",
        )
        .await;
    let api = app
        .insert_manager(
            created.account.id,
            ManagerKind::Api,
            "robot",
            "Robot-Pass-22",
        )
        .await;
    let as_team = app.sign_in(&team, "Team-Lead-11").await;
    let as_api = app.sign_in(&api, "Robot-Pass-22").await;
    let update = "mutation($id: ID!) { updateManagerLoginSettings(id: $id, input: { forceValidationPrompt: true }) {
        id loginSettings { forcePasswordChange userInitiatedPasswordReset forceValidationPrompt } } }";
    let vars = json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, team.id) });
    for (who, caller, code) in [
        ("team manager", Some(&as_team), "FORBIDDEN"),
        ("API manager", Some(&as_api), "FORBIDDEN"),
        (
            "company manager of another account",
            Some(&stranger),
            "NOT_FOUND",
        ),
        ("anonymous", None, "UNAUTHENTICATED"),
    ] {
        let body = match caller {
            Some(user) => user.gql(update, vars.clone()).await,
            None => app.post_graphql(update, vars.clone()).await.1,
        };
        assert_eq!(error_code(&body), Some(code), "{who}: {body}");
    }
    let missing = owner
        .gql(
            update,
            json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, uuid::Uuid::now_v7()) }),
        )
        .await;
    assert_eq!(error_code(&missing), Some("NOT_FOUND"));
    // A malformed id, or the id of something else, names no manager: the same answer.
    for wrong in [
        json!("not-an-id"),
        json!(crate::harness::gid(
            crate::harness::IdKind::Team,
            created.account.id
        )),
    ] {
        let body = owner.gql(update, json!({ "id": wrong })).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    }

    let body = owner.gql(update, vars).await;
    assert_eq!(
        body["data"]["updateManagerLoginSettings"]["loginSettings"],
        json!({ "forcePasswordChange": false, "userInitiatedPasswordReset": true, "forceValidationPrompt": true })
    );
    let event = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.action, "updateManagerLoginSettings");
    assert_eq!(event.target_id, Some(team.id));
    assert_eq!(
        event.before,
        Some(json!({ "forceValidationPrompt": false }))
    );
    assert_eq!(event.after, Some(json!({ "forceValidationPrompt": true })));
}

#[tokio::test]
async fn repeated_failures_are_throttled_then_the_owner_gets_back_in() {
    let app = TestApp::new().await;
    let (created, _) = app.signed_in_owner(NEW_PASSWORD).await;
    let login = created.owner.login.clone();
    for _ in 0..5 {
        assert_eq!(
            error_code(&app.login(&login, "Wrong-Password-1").await),
            Some("UNAUTHENTICATED")
        );
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({
            "query": "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }",
            "variables": { "l": login, "p": NEW_PASSWORD }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        429,
        "even the right password waits out the cooldown"
    );
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("RATE_LIMITED"));
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], json!(retry));

    app.clock.advance(Span::seconds(61));
    assert_eq!(
        app.login(&login, NEW_PASSWORD).await["data"]["login"]["restriction"],
        "NONE"
    );
}

#[tokio::test]
async fn one_address_guessing_across_logins_is_throttled() {
    let app = TestApp::new().await;
    let (created, _) = app.signed_in_owner(NEW_PASSWORD).await;
    for i in 0..30 {
        app.login(&format!("guess-{i}"), "Wrong-Password-1").await;
    }
    let body = app.login(&created.owner.login, NEW_PASSWORD).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    app.clock.advance(Span::minutes(5) + Span::seconds(1));
    assert_eq!(
        app.login(&created.owner.login, NEW_PASSWORD).await["data"]["login"]["restriction"],
        "NONE"
    );
}

#[tokio::test]
async fn sign_in_events_are_audited_without_secrets() {
    let app = TestApp::new().await;
    let (created, token) = app.signed_in_owner(NEW_PASSWORD).await;
    app.login(&created.owner.login, "Wrong-Password-1").await;
    app.post_graphql_as(&token, "mutation { logout }", json!({}))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await; // failed sign-ins are audited off the response path
    let events = audit_event::Entity::find()
        .order_by_asc(audit_event::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "createAccount",
        "login",
        "changePassword",
        "loginFailed",
        "logout",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let login_event = events.iter().find(|e| e.action == "login").unwrap();
    assert_eq!(
        login_event.after,
        Some(json!({ "restriction": "PASSWORD_CHANGE" }))
    );
    assert!(
        login_event
            .client_address
            .as_deref()
            .is_some_and(|a| a.starts_with("127."))
    );
    let everything = format!("{events:?}");
    for secret in [
        created.owner_password.as_str(),
        NEW_PASSWORD,
        "Wrong-Password-1",
        token.as_str(),
    ] {
        assert!(!everything.contains(secret), "audit log holds a secret");
    }
}

#[tokio::test]
async fn replicas_sharing_a_database_accept_each_others_tokens() {
    let app = TestApp::new().await;
    let (_, token) = app.signed_in_owner(NEW_PASSWORD).await;
    // A second server over the same database loads the stored key instead of making one.
    let replica = admin_center::state::AppState::build(
        app.state.db.clone(),
        (*app.state.config).clone(),
        std::sync::Arc::new(app.clock.clone()),
    )
    .await
    .unwrap();
    let schema = admin_center::graphql::schema(replica.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = admin_center::http::server(replica, schema, listener).unwrap();
    let handle = server.handle();
    tokio::spawn(server);
    let response = app
        .client
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ me { login } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["data"]["me"]["login"].is_string(), "{body}");
    drop(handle.stop(false));
}

#[tokio::test]
async fn an_attacker_elsewhere_cannot_lock_the_owner_out_and_cannot_spoof_its_address() {
    let app = TestApp::with_config(|c| c.trust_proxy = true).await;
    let (created, _) = app.signed_in_owner(NEW_PASSWORD).await;
    let login = created.owner.login.as_str();
    let (owner, attacker) = ("198.51.100.2", "203.0.113.7");
    for _ in 0..5 {
        let (_, body) = app.login_from(attacker, login, "Wrong-Password-1").await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    }
    let (status, _) = app.login_from(attacker, login, NEW_PASSWORD).await;
    assert_eq!(
        status, 429,
        "the attacker's address is blocked for this login"
    );
    // Claiming the owner's address on the left of X-Forwarded-For changes nothing: the proxy's
    // own entry (the last one) is the address.
    let (status, _) = app
        .login_from(&format!("{owner}, {attacker}"), login, NEW_PASSWORD)
        .await;
    assert_eq!(status, 429);
    let (status, body) = app.login_from(owner, login, NEW_PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["login"]["restriction"], "NONE",
        "the owner signs in from its own address"
    );
}

#[tokio::test]
async fn parallel_guesses_cannot_get_past_the_limit() {
    let app = TestApp::new().await;
    let (created, _) = app.signed_in_owner(NEW_PASSWORD).await;
    let guesses = (0..16).map(|i| {
        let (app, login) = (&app, created.owner.login.clone());
        async move { app.login(&login, &format!("Wrong-Password-{i}")).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let codes: Vec<_> = answers
        .iter()
        .map(|a| error_code(a).unwrap_or("none").to_owned())
        .collect();
    let checked = codes.iter().filter(|c| *c == "UNAUTHENTICATED").count();
    let limited = codes.iter().filter(|c| *c == "RATE_LIMITED").count();
    assert_eq!(checked + limited, 16, "only those two answers: {codes:?}");
    assert!(checked <= 5, "{checked} passwords were checked: {codes:?}");
}

#[tokio::test]
async fn an_email_validation_session_cannot_change_the_password() {
    let app = TestApp::new().await;
    let (created, token) = app.signed_in_owner(NEW_PASSWORD).await;
    app.post_graphql_as(
        &token,
        "mutation($id: ID!) { updateManagerLoginSettings(id: $id, input: { forceValidationPrompt: true }) { id } }",
        json!({ "id": crate::harness::gid(crate::harness::IdKind::Manager, created.owner.id) }),
    )
    .await;
    let signed = app.login(&created.owner.login, NEW_PASSWORD).await;
    let restricted = token_of(&signed, "login");
    let (_, body) = app
        .post_graphql_as(
            &restricted,
            CHANGE,
            json!({ "c": NEW_PASSWORD, "n": "Other-Pass-77" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("EMAIL_VALIDATION_REQUIRED"));
    assert_eq!(
        app.login(&created.owner.login, NEW_PASSWORD).await["data"]["login"]["restriction"],
        "EMAIL_VALIDATION"
    );
}
