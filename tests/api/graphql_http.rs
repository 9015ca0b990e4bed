//! The GraphQL HTTP contract: methods, content types, limits, and error codes on the wire.

use serde_json::{Value, json};

use crate::harness::{TestApp, error_code};

#[tokio::test]
async fn get_runs_queries_with_variables_and_operation_name() {
    let app = TestApp::new().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query A { me { id } } query B($x: Boolean!) { me @include(if: $x) { id } }",
            ),
            ("operationName", "B"),
            ("variables", r#"{"x": true}"#),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "data": { "me": null } }));
}

#[tokio::test]
async fn get_refuses_mutations_with_405() {
    let app = TestApp::new().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            ("query", "query Q { me { id } } mutation M { x }"),
            ("operationName", "M"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn post_needs_json() {
    let app = TestApp::new().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ me { id } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
}

#[tokio::test]
async fn malformed_json_is_refused_without_echoing_the_body() {
    let app = TestApp::new().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(r#"{"query": "mutation { login(password: \"S3cret-Pass\") }", "#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap();
    assert!(!text.contains("S3cret-Pass"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn oversized_body_is_refused_with_413_before_parsing() {
    let app = TestApp::with_config(|c| c.max_body_bytes = 2048).await;
    let padding = " ".repeat(4096);
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"query": "{{ me {{ id }} }}{padding}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));

    // Just under the limit is fine.
    let (status, body) = app.post_graphql("{ me { id } }", json!({})).await;
    assert_eq!((status, body), (200, json!({ "data": { "me": null } })));
}

#[tokio::test]
async fn batches_are_answered_in_order_up_to_the_limit() {
    let app = TestApp::with_config(|c| c.graphql.max_batch_size = 2).await;
    let post = |n: usize| {
        let batch: Vec<Value> = (0..n)
            .map(|_| json!({ "query": "{ me { id } }" }))
            .collect();
        app.client.post(app.url("/graphql")).json(&batch).send()
    };
    let response = post(2).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!([{ "data": { "me": null } }, { "data": { "me": null } }])
    );

    let response = post(3).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn documents_that_do_not_parse_or_do_not_fit_the_schema_have_their_own_codes() {
    let app = TestApp::new().await;
    for (query, code) in [
        ("{ me { id }", "GRAPHQL_PARSE_FAILED"),
        (
            "query A { me { id } } query A { me { id } }",
            "GRAPHQL_PARSE_FAILED",
        ),
        ("{ me { password } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ nothingHere }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "{ managers(first: \"ten\") { totalCount } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ team { name } }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "{ me { ...F } } fragment F on Team { name }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query { managers(first: $n) { totalCount } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("query($n: Int) { me { id } }", "GRAPHQL_VALIDATION_FAILED"),
        // A literal that does not fit, beside a variable that does.
        (
            "mutation($on: Boolean) { updateManagerRights(id: \"x\", input: { sessionReplay: $on, nope: true }) { id } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ] {
        let (status, body) = app.post_graphql(query, json!({ "on": true })).await;
        assert_eq!(status, 200);
        assert_eq!(error_code(&body), Some(code), "{query}: {body}");
        assert_eq!(body["data"], json!(null), "{query}: nothing runs");
    }
    // An operation name the document does not hold.
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "query A { me { id } }", "operationName": "B" }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
}

/// The document is fine, the value is not: the client fixes the value, as with a value a
/// resolver refuses (and as Apollo Server codes variable coercion).
#[tokio::test]
async fn a_variable_of_the_wrong_type_is_bad_user_input() {
    let app = TestApp::new().await;
    for (query, variables) in [
        (
            "query($n: Int) { managers(first: $n) { totalCount } }",
            json!({ "n": "ten" }),
        ),
        (
            "mutation($on: Boolean) { updateManagerRights(id: \"x\", input: { sessionReplay: $on }) { id } }",
            json!({ "on": "yes" }),
        ),
        (
            "mutation($p: ManagerRightSetPatch!) { updateManagerRights(id: \"x\", input: $p) { id } }",
            json!({ "p": { "sessionReplay": true, "nope": true } }),
        ),
        (
            "query($id: ID!) { me { id } team(id: $id) { name } }",
            json!({ "id": null }),
        ),
    ] {
        let (status, body) = app.post_graphql(query, variables).await;
        assert_eq!(status, 200);
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{query}: {body}");
        assert_eq!(body["data"], json!(null), "{query}: nothing runs");
    }
}

#[tokio::test]
async fn too_deep_or_too_complex_queries_are_refused_before_execution() {
    let app = TestApp::with_config(|c| {
        c.graphql.max_depth = 3;
        c.graphql.max_complexity = 4;
    })
    .await;
    let (_, ok) = app
        .post_graphql(
            "{ me { loginSettings { forcePasswordChange } } }",
            json!({}),
        )
        .await;
    assert_eq!(ok, json!({ "data": { "me": null } }));

    // (Introspection-shaped documents have their own limits: see introspection.rs.)
    let (_, deep) = app
        .post_graphql("{ me { teams { parent { name } } } }", json!({}))
        .await;
    assert_eq!(
        deep["errors"][0],
        json!({
            "message": "The query's depth is 4; at most 3 is allowed.",
            "extensions": {
                "code": "GRAPHQL_VALIDATION_FAILED",
                "measure": "depth",
                "limit": 3,
                "actual": 4
            }
        }),
        "{deep}"
    );
    assert_eq!(deep["data"], json!(null));

    let (_, complex) = app
        .post_graphql("{ a: me { id } b: me { id } c: me { id } }", json!({}))
        .await;
    let error = &complex["errors"][0];
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("The query's complexity is 6; at most 4 is allowed."),
        "{complex}"
    );
    assert_eq!(
        error["extensions"],
        json!({
            "code": "GRAPHQL_VALIDATION_FAILED",
            "measure": "complexity",
            "limit": 4,
            "actual": 6
        }),
        "{complex}"
    );
    assert_eq!(complex["data"], json!(null));

    let directives = " @include(if: true)".repeat(17);
    let (_, decorated) = app
        .post_graphql(&format!("{{ me{directives} {{ id }} }}"), json!({}))
        .await;
    assert_eq!(
        decorated["errors"][0]["message"],
        "The field `me` carries 17 directives; at most 16 are allowed.",
        "{decorated}"
    );
    assert_eq!(
        decorated["errors"][0]["extensions"],
        json!({
            "code": "GRAPHQL_VALIDATION_FAILED",
            "measure": "directives",
            "limit": 16,
            "actual": 17
        }),
        "{decorated}"
    );
}

#[tokio::test]
async fn responses_carry_a_request_id_and_keep_a_sane_client_one() {
    let app = TestApp::new().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!generated.is_empty());

    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-abc_123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-abc_123");

    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id\twith junk")
        .send()
        .await
        .unwrap();
    assert_ne!(response.headers()["x-request-id"], "bad id\twith junk");
}

#[tokio::test]
async fn graphiql_page_points_at_the_graphql_endpoint() {
    let app = TestApp::new().await;
    let response = app.client.get(app.url("/graphiql")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("/graphql"));
    assert!(html.to_lowercase().contains("graphiql"));
}

/// `me` answers from the row the session check read, but not once a mutation of the same
/// request changed it: a batch renaming the caller, then asking `me`, sees the new name.
#[tokio::test]
async fn me_after_a_mutation_in_the_same_batch_sees_the_change() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let id = crate::harness::gid(crate::harness::IdKind::Manager, owner.id());
    let batch = json!([
        { "query": "{ me { name } }" },
        {
            "query": "mutation($id: ID!) { updateManager(id: $id, input: { name: \"Renamed Owner\" }) { name } }",
            "variables": { "id": id }
        },
        { "query": "{ me { name } }" },
    ]);
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&owner.token)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body[0]["data"]["me"]["name"],
        json!(owner.manager.name),
        "{body}"
    );
    assert_eq!(
        body[1]["data"]["updateManager"]["name"], "Renamed Owner",
        "{body}"
    );
    assert_eq!(body[2]["data"]["me"]["name"], "Renamed Owner", "{body}");
}
