//! Input at the edges, the same on SQLite and PostgreSQL: length limits after case folding,
//! `_` and `%` in `search`, error messages that never quote a value, exact content types.

use serde_json::{Value, json};

use crate::harness::{TestApp, error_code};

const PASSWORD: &str = "Blue-Harbor-42";

const CREATE_REP: &str = "mutation($t: ID!, $l: String!, $n: String!, $e: String!) {
    createRep(input: { login: $l, name: $n, email: $e, teamId: $t, password: \"Rep-Password-1\" }) { id login } }";

async fn new_team(app: &TestApp, token: &str, name: &str) -> Value {
    app.post_graphql_as(
        token,
        "mutation($n: String!) { createTeam(input: { name: $n }) { id name } }",
        json!({ "n": name }),
    )
    .await
    .1
}

async fn create_rep(
    app: &TestApp,
    token: &str,
    team: &str,
    login: &str,
    name: &str,
    email: &str,
) -> Value {
    app.post_graphql_as(
        token,
        CREATE_REP,
        json!({ "t": team, "l": login, "n": name, "e": email }),
    )
    .await
    .1
}

fn refused_naming(body: &Value, field: &str) {
    assert_eq!(error_code(body), Some("BAD_USER_INPUT"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with(field), "{message}");
}

#[tokio::test]
async fn length_limits_hold_after_case_folding() {
    let app = TestApp::new().await;
    let (_, token) = app.signed_in_owner(PASSWORD).await;
    let team = new_team(&app, &token, "Support").await["data"]["createTeam"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // `İ` lower-cases to two characters: 64 of them make a 128-character login key.
    let at_limit = "İ".repeat(64);
    let body = create_rep(&app, &token, &team, &at_limit, "Rita", "rita@example.com").await;
    assert_eq!(
        body["data"]["createRep"]["login"],
        json!(at_limit),
        "{body}"
    );
    let body = create_rep(
        &app,
        &token,
        &team,
        &at_limit.to_lowercase(),
        "Rita",
        "rita@example.com",
    )
    .await;
    assert_eq!(
        error_code(&body),
        Some("BAD_USER_INPUT"),
        "the lower-cased form is no login: {body}"
    );
    let body = create_rep(
        &app,
        &token,
        &team,
        &"i".repeat(64),
        "Rita",
        "rita@example.com",
    )
    .await;
    assert!(body["errors"].is_null(), "a different login: {body}");
    for past in ["İ".repeat(65), "İ".repeat(128), "a".repeat(129)] {
        let body = create_rep(&app, &token, &team, &past, "Rita", "rita@example.com").await;
        refused_naming(&body, "login");
        let (_, body) = app
            .post_graphql_as(
                &token,
                "mutation($l: String!) { createTeamManager(input: { login: $l, name: \"Tom\", email: \"tom@example.com\", password: \"Team-Password-1\" }) { id } }",
                json!({ "l": past }),
            )
            .await;
        refused_naming(&body, "login");
    }
    let body = create_rep(
        &app,
        &token,
        &team,
        &"a".repeat(128),
        "Rita",
        "rita@example.com",
    )
    .await;
    assert!(body["errors"].is_null(), "128 ASCII characters: {body}");

    // Names and e-mail addresses count characters, not bytes.
    let name = "İ".repeat(200);
    let body = create_rep(&app, &token, &team, "rita-200", &name, "rita@example.com").await;
    assert!(body["errors"].is_null(), "200 characters: {body}");
    let body = new_team(&app, &token, &name).await;
    assert_eq!(body["data"]["createTeam"]["name"], json!(name), "{body}");
    let body = new_team(&app, &token, &format!("{name}x")).await;
    refused_naming(&body, "name");
    let email = format!(
        "{}@{}.example",
        "é".repeat(64),
        "d".repeat(320 - 64 - 1 - 8)
    );
    let body = create_rep(&app, &token, &team, "rita-320", "Rita", &email).await;
    assert!(body["errors"].is_null(), "a 320-character address: {body}");
    let body = create_rep(
        &app,
        &token,
        &team,
        "rita-321",
        "Rita",
        &format!("x{email}"),
    )
    .await;
    refused_naming(&body, "email");
}

#[tokio::test]
async fn search_takes_underscore_and_percent_literally() {
    let app = TestApp::new().await;
    let (_, token) = app.signed_in_owner(PASSWORD).await;
    let team = new_team(&app, &token, "a_b").await["data"]["createTeam"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    new_team(&app, &token, "axb").await;
    for (i, name) in ["a_b", "axb", "50%off", "50off"].iter().enumerate() {
        let body = create_rep(
            &app,
            &token,
            &team,
            &format!("rep-{i}"),
            name,
            &format!("rep{i}@example.com"),
        )
        .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let reps = |term: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            let (_, body) = app
                .post_graphql_as(
                    token,
                    "query($s: String!) { reps(search: $s) { nodes { name } } }",
                    json!({ "s": term }),
                )
                .await;
            body["data"]["reps"]["nodes"].clone()
        }
    };
    assert_eq!(reps("a_b").await, json!([{ "name": "a_b" }]));
    assert_eq!(reps("50%").await, json!([{ "name": "50%off" }]));
    assert_eq!(reps("50").await.as_array().map(Vec::len), Some(2));
    let (_, teams) = app
        .post_graphql_as(
            &token,
            "{ teams(search: \"A_B\") { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(teams["data"]["teams"]["nodes"], json!([{ "name": "a_b" }]));
}

#[tokio::test]
async fn error_messages_do_not_quote_what_may_be_a_secret() {
    let app = TestApp::new().await;
    let (_, token) = app.signed_in_owner(PASSWORD).await;
    let team = new_team(&app, &token, "Support").await["data"]["createTeam"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A password pasted into the wrong field, as a login and as an e-mail address.
    let secret = "Sup3rSecretPassw0rd";
    let first = create_rep(&app, &token, &team, secret, "Rita", "rita@example.com").await;
    assert!(first["errors"].is_null(), "{first}");
    let mut answers = vec![
        create_rep(&app, &token, &team, secret, "Rita", "rita@example.com").await,
        create_rep(&app, &token, &team, "rita", "Rita", secret).await,
    ];
    assert_eq!(error_code(&answers[0]), Some("CONFLICT"));
    assert_eq!(error_code(&answers[1]), Some("BAD_USER_INPUT"));
    // The same value where the schema expects an enum, inline and as a variable, and where it
    // expects a String (an object) or an Int.
    for (query, variables) in [
        (
            "query($k: ManagerKind) { managers(kind: $k) { totalCount } }",
            json!({ "k": secret }),
        ),
        (
            &*format!("{{ managers(kind: {secret}) {{ totalCount }} }}"),
            json!({}),
        ),
        (
            "mutation($p: String!) { login(login: \"x\", password: $p) { token } }",
            json!({ "p": { "pasted": secret } }),
        ),
        (
            "query($n: Int) { managers(first: $n) { totalCount } }",
            json!({ "n": secret }),
        ),
        (
            &*format!("{{ managers(first: \"{secret}\") {{ totalCount }} }}"),
            json!({}),
        ),
        (
            &*format!("mutation {{ login(login: \"x\", password: \"{secret}\") {{ token }}"),
            json!({}),
        ),
    ] {
        let (_, body) = app.post_graphql_as(&token, query, variables).await;
        assert!(body["errors"].is_array(), "{query}: {body}");
        answers.push(body);
    }
    let message = |i: usize| {
        answers[i]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(message(1).starts_with("email"), "names the field");
    assert!(
        message(2).contains("\"kind\""),
        "names the argument: {}",
        message(2)
    );
    assert!(message(7).starts_with("syntax error"), "{}", message(7));
    // Values sent as variables are the caller's input; values written in the document make
    // the document invalid.
    let codes: Vec<Option<&str>> = answers.iter().map(error_code).collect();
    assert_eq!(
        codes[2..],
        [
            Some("BAD_USER_INPUT"),
            Some("GRAPHQL_VALIDATION_FAILED"),
            Some("BAD_USER_INPUT"),
            Some("BAD_USER_INPUT"),
            Some("GRAPHQL_VALIDATION_FAILED"),
            Some("GRAPHQL_PARSE_FAILED"),
        ]
    );
    let quoting: Vec<String> = answers
        .iter()
        .map(Value::to_string)
        .filter(|body| body.contains(secret))
        .collect();
    assert!(quoting.is_empty(), "answers quote the secret: {quoting:#?}");
}

#[tokio::test]
async fn content_types_are_matched_exactly() {
    let app = TestApp::new().await;
    let post = |content_type: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/graphql"))
                .header("content-type", content_type)
                .body(r#"{"query":"{ __typename }"}"#)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for refused in [
        "application/jsonx",
        "application/jsonp",
        "application/json-patch+json",
        "text/plain",
    ] {
        assert_eq!(post(refused).await, 415, "{refused}");
    }
    for accepted in ["application/json", "Application/JSON; charset=utf-8"] {
        assert_eq!(post(accepted).await, 200, "{accepted}");
    }
}
