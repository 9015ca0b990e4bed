//! Relay paging of every root list: forwards with `first`/`after`, backwards with
//! `last`/`before`, the full `pageInfo`, and the limits of the arguments.

use serde_json::{Value, json};

use crate::harness::{TestApp, error_code};

const PAGE: &str = "query($f: Int, $a: String, $l: Int, $b: String) {
    teams(first: $f, after: $a, last: $l, before: $b) {
        totalCount
        nodes { name }
        edges { cursor node { name } }
        pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }";

fn names(body: &Value) -> Vec<String> {
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["teams"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect()
}

fn info(body: &Value, field: &str) -> Value {
    body["data"]["teams"]["pageInfo"][field].clone()
}

#[tokio::test]
async fn teams_page_forwards_and_backwards_with_full_page_info() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    for n in 1..=5 {
        let body = owner
            .gql(
                "mutation($n: String!) { createTeam(input: { name: $n }) { id } }",
                json!({ "n": format!("team {n}") }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }

    let first = owner.gql(PAGE, json!({ "f": 2 })).await;
    assert_eq!(names(&first), ["team 1", "team 2"]);
    assert_eq!(first["data"]["teams"]["totalCount"], 5);
    assert_eq!(info(&first, "hasPreviousPage"), false);
    assert_eq!(info(&first, "hasNextPage"), true);
    assert_eq!(
        info(&first, "startCursor"),
        first["data"]["teams"]["edges"][0]["cursor"]
    );

    let second = owner
        .gql(PAGE, json!({ "f": 2, "a": info(&first, "endCursor") }))
        .await;
    assert_eq!(names(&second), ["team 3", "team 4"]);
    assert_eq!(info(&second, "hasPreviousPage"), true);
    assert_eq!(info(&second, "hasNextPage"), true);

    let last = owner
        .gql(PAGE, json!({ "f": 2, "a": info(&second, "endCursor") }))
        .await;
    assert_eq!(names(&last), ["team 5"]);
    assert_eq!(info(&last, "hasNextPage"), false);

    // Backwards from the end, then before the first row of that page.
    let tail = owner.gql(PAGE, json!({ "l": 2 })).await;
    assert_eq!(names(&tail), ["team 4", "team 5"]);
    assert_eq!(info(&tail, "hasPreviousPage"), true);
    assert_eq!(info(&tail, "hasNextPage"), false);
    let earlier = owner
        .gql(PAGE, json!({ "l": 2, "b": info(&tail, "startCursor") }))
        .await;
    assert_eq!(names(&earlier), ["team 2", "team 3"]);
    assert_eq!(info(&earlier, "hasPreviousPage"), true);
    assert_eq!(info(&earlier, "hasNextPage"), true);
    let head = owner
        .gql(PAGE, json!({ "l": 5, "b": info(&earlier, "startCursor") }))
        .await;
    assert_eq!(names(&head), ["team 1"]);
    assert_eq!(info(&head, "hasPreviousPage"), false);

    // Between two cursors.
    let between = owner
        .gql(
            PAGE,
            json!({ "f": 10, "a": info(&first, "startCursor"), "b": info(&tail, "endCursor") }),
        )
        .await;
    assert_eq!(names(&between), ["team 2", "team 3", "team 4"]);
}

#[tokio::test]
async fn paging_arguments_out_of_range_are_refused_by_name() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    for (vars, named) in [
        (json!({ "f": -1 }), "first"),
        (json!({ "f": 101 }), "first"),
        (json!({ "l": 101 }), "last"),
        (json!({ "l": -1 }), "last"),
        (json!({ "f": 1, "l": 1 }), "first or last"),
        (json!({ "a": "not-a-cursor" }), "after"),
        (json!({ "l": 1, "b": "AAAA" }), "before"),
    ] {
        let body = owner.gql(PAGE, vars.clone()).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{vars}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(named), "{vars}: {message}");
        assert!(body["data"].is_null(), "{vars}: {body}");
    }
    // At the limit.
    let body = owner.gql(PAGE, json!({ "l": 100 })).await;
    assert!(body["errors"].is_null(), "{body}");
}

#[tokio::test]
async fn a_teams_reps_say_whether_rows_come_before_the_cursor() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let team = owner
        .gql(
            "mutation { createTeam(input: { name: \"Support\" }) { id } }",
            json!({}),
        )
        .await;
    let team = team["data"]["createTeam"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for n in 1..=3 {
        let body = owner
            .gql(
                "mutation($t: ID!, $l: String!) { createRep(input: { login: $l, name: \"Rep\", email: \"r@example.com\", teamId: $t, password: \"Rep-Password-1\" }) { id } }",
                json!({ "t": team, "l": format!("paging-rep-{n}") }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let query = "query($t: ID!, $a: String) { team(id: $t) { reps(first: 1, after: $a) {
        nodes { login } pageInfo { hasPreviousPage hasNextPage endCursor } } } }";
    let first = owner.gql(query, json!({ "t": team })).await;
    let reps = &first["data"]["team"]["reps"];
    assert_eq!(reps["nodes"][0]["login"], "paging-rep-1", "{first}");
    assert_eq!(reps["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(reps["pageInfo"]["hasNextPage"], true);
    let second = owner
        .gql(
            query,
            json!({ "t": team, "a": reps["pageInfo"]["endCursor"] }),
        )
        .await;
    let reps = &second["data"]["team"]["reps"];
    assert_eq!(reps["nodes"][0]["login"], "paging-rep-2", "{second}");
    assert_eq!(reps["pageInfo"]["hasPreviousPage"], true);
}
