//! The standard introspection query, as schema tools send it, is answered in full, while the
//! data limits still refuse deep data queries and deep, exploding introspection.

use std::collections::BTreeSet;

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

/// What the full introspection answer describes is what `schema.graphql` describes: the
/// answer is turned back into SDL, and both are parsed and compared definition by definition
/// (types, fields, arguments and their types, enum values, descriptions, default values,
/// deprecations, directives).
#[tokio::test]
async fn the_introspection_answer_rebuilds_the_schema_file() {
    let app = TestApp::new().await;
    let (_, body) = app.post_graphql(FULL_INTROSPECTION, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    let rebuilt = sdl_from_introspection(&body["data"]["__schema"]);
    let kept =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    let (mut served, mut file) = (facts(&rebuilt), facts(&kept));
    // Directives the GraphQL spec defines are the spec's, not this schema's: SDL printers
    // (graphql-js's `printSchema`, async-graphql's) leave them out or shorten them.
    for facts in [&mut served, &mut file] {
        facts.retain(|fact| {
            !["@include", "@skip", "@deprecated", "@specifiedBy", "@oneOf"]
                .iter()
                .any(|name| {
                    fact.starts_with(&format!("{name}(")) || fact.starts_with(&format!("{name} "))
                })
        });
    }
    let only_served: Vec<_> = served.difference(&file).collect();
    let only_file: Vec<_> = file.difference(&served).collect();
    assert!(
        only_served.is_empty() && only_file.is_empty(),
        "served but not in schema.graphql: {only_served:#?}\nin schema.graphql but not served: {only_file:#?}"
    );
    assert!(
        file.len() > 500,
        "{} facts: the comparison compares",
        file.len()
    );
}

/// SDL from an introspection answer (`__schema`), as graphql-js's `buildClientSchema` and
/// `printSchema` would give it, for what a schema can hold. Descriptions are written as
/// JSON strings, which are GraphQL strings too.
fn sdl_from_introspection(schema: &Value) -> String {
    use std::fmt::Write;
    const BUILT_IN: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let description = |v: &Value| match v["description"].as_str() {
        Some(text) => format!("{}\n", Value::from(text)),
        None => String::new(),
    };
    let deprecated =
        |v: &Value| match (v["isDeprecated"].as_bool(), v["deprecationReason"].as_str()) {
            (Some(true), Some(reason)) => format!(" @deprecated(reason: {})", Value::from(reason)),
            (Some(true), None) => " @deprecated".to_owned(),
            _ => String::new(),
        };
    let input_value = |v: &Value| {
        let default = match v["defaultValue"].as_str() {
            Some(literal) => format!(" = {literal}"),
            None => String::new(),
        };
        format!(
            "{}{}: {}{default}{}",
            description(v),
            v["name"].as_str().unwrap(),
            type_ref(&v["type"]),
            deprecated(v)
        )
    };
    let arguments = |v: &Value| {
        let args: Vec<String> = list(&v["args"]).iter().map(input_value).collect();
        if args.is_empty() {
            String::new()
        } else {
            format!("(\n{}\n)", args.join("\n"))
        }
    };
    let mut sdl = String::new();
    for ty in list(&schema["types"]) {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || BUILT_IN.contains(&name) {
            continue;
        }
        sdl.push_str(&description(&ty));
        let interfaces: Vec<&str> = ty["interfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["name"].as_str())
            .collect();
        let implements = if interfaces.is_empty() {
            String::new()
        } else {
            format!(" implements {}", interfaces.join(" & "))
        };
        let body = match ty["kind"].as_str().unwrap() {
            "SCALAR" => match ty["specifiedByURL"].as_str() {
                Some(url) => format!("scalar {name} @specifiedBy(url: {})", Value::from(url)),
                None => format!("scalar {name}"),
            },
            kind @ ("OBJECT" | "INTERFACE") => {
                let fields: Vec<String> = list(&ty["fields"])
                    .iter()
                    .map(|f| {
                        format!(
                            "{}{}{}: {}{}",
                            description(f),
                            f["name"].as_str().unwrap(),
                            arguments(f),
                            type_ref(&f["type"]),
                            deprecated(f)
                        )
                    })
                    .collect();
                let keyword = if kind == "OBJECT" {
                    "type"
                } else {
                    "interface"
                };
                format!("{keyword} {name}{implements} {{\n{}\n}}", fields.join("\n"))
            }
            "UNION" => {
                let members: Vec<String> =
                    list(&ty["possibleTypes"]).iter().map(type_ref).collect();
                format!("union {name} = {}", members.join(" | "))
            }
            "ENUM" => {
                let values: Vec<String> = list(&ty["enumValues"])
                    .iter()
                    .map(|v| {
                        format!(
                            "{}{}{}",
                            description(v),
                            v["name"].as_str().unwrap(),
                            deprecated(v)
                        )
                    })
                    .collect();
                format!("enum {name} {{\n{}\n}}", values.join("\n"))
            }
            "INPUT_OBJECT" => {
                let fields: Vec<String> =
                    list(&ty["inputFields"]).iter().map(input_value).collect();
                format!("input {name} {{\n{}\n}}", fields.join("\n"))
            }
            other => panic!("type {name} of kind {other}"),
        };
        writeln!(sdl, "{body}\n").unwrap();
    }
    for directive in list(&schema["directives"]) {
        let locations: Vec<&str> = directive["locations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let repeatable = if directive["isRepeatable"] == true {
            " repeatable"
        } else {
            ""
        };
        writeln!(
            sdl,
            "{}directive @{}{}{repeatable} on {}\n",
            description(&directive),
            directive["name"].as_str().unwrap(),
            arguments(&directive),
            locations.join(" | ")
        )
        .unwrap();
    }
    let roots: String = [
        ("query", "queryType"),
        ("mutation", "mutationType"),
        ("subscription", "subscriptionType"),
    ]
    .iter()
    .filter_map(|(root, key)| Some(format!("{root}: {}\n", schema[key]["name"].as_str()?)))
    .collect();
    writeln!(sdl, "schema {{\n{roots}}}").unwrap();
    sdl
}

/// A type reference as SDL writes it: `[Team!]!`.
fn type_ref(ty: &Value) -> String {
    match ty["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_ref(&ty["ofType"])),
        Some("LIST") => format!("[{}]", type_ref(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap().to_owned(),
    }
}

/// Everything an SDL document says, one fact a line ("Team.reps(first): Int", "Team.reps
/// description …"), so two documents compare whatever their order and layout.
fn facts(sdl: &str) -> BTreeSet<String> {
    use async_graphql::parser::types::{
        ConstDirective, InputValueDefinition, InterfaceType, ObjectType, TypeKind,
        TypeSystemDefinition,
    };
    let document = async_graphql::parser::parse_schema(sdl)
        .unwrap_or_else(|e| panic!("{e}\n--- in ---\n{sdl}"));
    let mut facts = BTreeSet::new();
    let mut add = |fact: String| {
        facts.insert(fact);
    };
    let described = |path: &str, text: &Option<async_graphql::Positioned<String>>| {
        text.as_ref()
            .map(|t| format!("{path} description {:?}", t.node))
    };
    let directives =
        |path: &str, list: &[async_graphql::Positioned<ConstDirective>]| -> Vec<String> {
            list.iter()
                .map(|d| {
                    let args: Vec<String> = d
                        .node
                        .arguments
                        .iter()
                        .map(|(n, v)| format!("{}: {}", n.node, v.node))
                        .collect();
                    format!("{path} @{}({})", d.node.name.node, args.join(", "))
                })
                .collect()
        };
    let input = |path: String, v: &InputValueDefinition| {
        let mut out = vec![format!("{path}: {}", v.ty.node)];
        out.extend(described(&path, &v.description));
        out.extend(
            v.default_value
                .as_ref()
                .map(|d| format!("{path} = {}", d.node)),
        );
        out.extend(directives(&path, &v.directives));
        out
    };
    for definition in &document.definitions {
        match definition {
            TypeSystemDefinition::Schema(schema) => {
                let s = &schema.node;
                for (root, name) in [
                    ("query", &s.query),
                    ("mutation", &s.mutation),
                    ("subscription", &s.subscription),
                ] {
                    if let Some(name) = name {
                        add(format!("schema {root}: {}", name.node));
                    }
                }
            }
            TypeSystemDefinition::Type(ty) => {
                let ty = &ty.node;
                let name = ty.name.node.to_string();
                described(&name, &ty.description)
                    .into_iter()
                    .for_each(&mut add);
                directives(&name, &ty.directives)
                    .into_iter()
                    .for_each(&mut add);
                match &ty.kind {
                    TypeKind::Scalar => add(format!("{name} scalar")),
                    TypeKind::Object(ObjectType { implements, fields })
                    | TypeKind::Interface(InterfaceType { implements, fields }) => {
                        let kind = if matches!(ty.kind, TypeKind::Object(_)) {
                            "type"
                        } else {
                            "interface"
                        };
                        add(format!("{name} {kind}"));
                        for i in implements {
                            add(format!("{name} implements {}", i.node));
                        }
                        for field in fields {
                            let f = &field.node;
                            let path = format!("{name}.{}", f.name.node);
                            add(format!("{path}: {}", f.ty.node));
                            described(&path, &f.description)
                                .into_iter()
                                .for_each(&mut add);
                            directives(&path, &f.directives)
                                .into_iter()
                                .for_each(&mut add);
                            for arg in &f.arguments {
                                input(format!("{path}({})", arg.node.name.node), &arg.node)
                                    .into_iter()
                                    .for_each(&mut add);
                            }
                        }
                    }
                    TypeKind::Union(u) => {
                        for member in &u.members {
                            add(format!("{name} union member {}", member.node));
                        }
                    }
                    TypeKind::Enum(e) => {
                        for value in &e.values {
                            let path = format!("{name}.{}", value.node.value.node);
                            add(format!("{path} enum value"));
                            described(&path, &value.node.description)
                                .into_iter()
                                .for_each(&mut add);
                            directives(&path, &value.node.directives)
                                .into_iter()
                                .for_each(&mut add);
                        }
                    }
                    TypeKind::InputObject(o) => {
                        add(format!("{name} input"));
                        for field in &o.fields {
                            input(format!("{name}.{}", field.node.name.node), &field.node)
                                .into_iter()
                                .for_each(&mut add);
                        }
                    }
                }
            }
            TypeSystemDefinition::Directive(d) => {
                let d = &d.node;
                let path = format!("@{}", d.name.node);
                described(&path, &d.description)
                    .into_iter()
                    .for_each(&mut add);
                let locations: Vec<String> = d
                    .locations
                    .iter()
                    .map(|l| format!("{:?}", l.node))
                    .collect();
                add(format!(
                    "{path} on {}{}",
                    locations.join(" | "),
                    if d.is_repeatable { " repeatable" } else { "" }
                ));
                for arg in &d.arguments {
                    input(format!("{path}({})", arg.node.name.node), &arg.node)
                        .into_iter()
                        .for_each(&mut add);
                }
            }
        }
    }
    facts
}
