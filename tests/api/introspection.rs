//! The standard introspection query, as schema tools send it, is answered in full, while the
//! data limits still refuse deep data queries and deep, exploding introspection.

use serde_json::{Value, json};

use crate::harness::TestApp;

/// graphql-js 16's `getIntrospectionQuery` with every option on (descriptions,
/// `specifiedByURL`, directive repeatability, the schema's description, input-value
/// deprecation), as GraphiQL, graphql-codegen and the Apollo and Relay compilers send it.
const FULL_INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives {
      name
      description
      isRepeatable
      locations
      args(includeDeprecated: true) { ...InputValue }
    }
  }
}
fragment FullType on __Type {
  kind
  name
  description
  specifiedByURL
  fields(includeDeprecated: true) {
    name
    description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
  isDeprecated
  deprecationReason
}
fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType { kind name ofType { kind name } }
              }
            }
          }
        }
      }
    }
  }
}
"#;

#[tokio::test]
async fn the_full_standard_introspection_query_is_answered() {
    let app = TestApp::new().await;
    let (status, body) = app.post_graphql(FULL_INTROSPECTION, json!({})).await;
    assert_eq!(status, 200);
    assert!(body["errors"].is_null(), "{body}");
    let types = body["data"]["__schema"]["types"].as_array().unwrap();
    let names: Vec<&str> = types.iter().filter_map(|t| t["name"].as_str()).collect();
    for expected in [
        "Query",
        "Mutation",
        "Team",
        "Rep",
        "DeveloperApp",
        "ApiScope",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let team = types.iter().find(|t| t["name"] == "Team").unwrap();
    assert!(
        team["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "reps")
    );
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn deep_data_queries_and_exploding_introspection_still_meet_the_limits() {
    let app = TestApp::new().await;
    // Introspection that expands lists again and again grows with the schema at each level:
    // it gets the data limits, not the introspection ones (13 levels, past the data limit of
    // 12 that the standard query's `ofType` chain needs to exceed).
    let exploding = "{ __schema { types { fields { type { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } } } }";
    let (_, body) = app.post_graphql(exploding, json!({})).await;
    assert_refused_for_depth(&body);
    // A data query past the depth limit, even with introspection beside it.
    let deep = "{ __typename teams(first: 1) { nodes { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } } } } } }";
    let (_, body) = app.post_graphql(deep, json!({})).await;
    assert_refused_for_depth(&body);
}

fn assert_refused_for_depth(body: &Value) {
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("The query's depth is 1")
            && message.ends_with("at most 12 is allowed."),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["measure"], "depth",
        "{body}"
    );
    assert!(body["data"].is_null(), "{body}");
}

#[tokio::test]
async fn the_schema_file_is_served_as_the_repository_keeps_it() {
    let app = TestApp::new().await;
    let response = app
        .client
        .get(app.url("/graphql/schema.graphql"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let served = response.text().await.unwrap();
    let kept =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(served.trim_end(), kept.trim_end());
}

#[tokio::test]
async fn the_schema_can_be_hidden_from_anonymous_callers() {
    let app = TestApp::with_config(|c| c.anonymous_introspection = false).await;
    let (_, anonymous) = app
        .post_graphql("{ __schema { queryType { name } } }", json!({}))
        .await;
    // async-graphql answers a hidden schema with `null`, as if it were not there.
    assert!(anonymous["data"]["__schema"].is_null(), "{anonymous}");
    let (_, owner) = app.company_owner().await;
    let signed_in = owner
        .gql("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(
        signed_in["data"]["__schema"]["queryType"]["name"], "Query",
        "{signed_in}"
    );
    let file = app
        .client
        .get(app.url("/graphql/schema.graphql"))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 404);
}
