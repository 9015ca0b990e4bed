//! Introspection that schema tools can use. The standard introspection query (graphql-js's
//! `getIntrospectionQuery`, what GraphiQL, graphql-codegen, Apollo's and Relay's compilers,
//! Postman and Insomnia send) nests `ofType` eight or nine levels deep, past the depth limit
//! meant for data queries. So a document that reads only the schema (`__schema`, `__type`,
//! `__typename` at the top) and is *shaped* like introspection runs against the same schema
//! built with limits sized for introspection instead.
//!
//! "Shaped like introspection" is what keeps that door narrow: depth grows harmlessly along
//! `type`/`ofType` (one type reference each), but a path that expands lists again and again
//! (`types { fields { type { fields { type { fields … }}}}}`) grows exponentially with the
//! schema. Along any path at most [`MAX_EXPANSIONS`] list-expanding fields are allowed (the
//! standard query needs three: `types`, `fields`, `args`); anything else gets the data limits.

use std::collections::HashMap;

use async_graphql::{
    Positioned,
    parser::{
        parse_query,
        types::{
            DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
        },
    },
};

use super::AppSchema;

/// Introspection fields that return a list of further types, fields or values.
const EXPANDING: [&str; 8] = [
    "types",
    "fields",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "args",
    "directives",
];
/// The most list-expanding fields along one path of an introspection document.
pub const MAX_EXPANSIONS: usize = 3;
/// The deepest introspection document (the standard one is 13 to 15 levels deep).
pub const MAX_DEPTH: usize = 32;
/// Complexity of an introspection document (every field counts once).
pub const MAX_COMPLEXITY: usize = 20_000;

/// The schema with introspection-sized limits, for documents [`is_schema_query`] admits.
#[derive(Clone)]
pub struct IntrospectionSchema(pub AppSchema);

/// Whether `query` (for `operation`) only reads the schema, in the shape of an
/// introspection query. Cheap for data queries: they are recognised without parsing.
pub fn is_schema_query(query: &str, operation: Option<&str>) -> bool {
    if !query.contains("__schema") && !query.contains("__type") {
        return false;
    }
    let Ok(document) = parse_query(query) else {
        return false;
    };
    let selection = match (&document.operations, operation) {
        (DocumentOperations::Single(op), _) => &op.node.selection_set,
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => &op.node.selection_set,
            None => return false,
        },
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => match ops.values().next() {
            Some(op) => &op.node.selection_set,
            None => return false,
        },
        _ => return false,
    };
    let top_level_ok = selection.node.items.iter().all(|item| match &item.node {
        Selection::Field(field) => matches!(
            field.node.name.node.as_str(),
            "__schema" | "__type" | "__typename"
        ),
        _ => false,
    });
    top_level_ok && shaped(&document, &selection.node, 0, 0)
}

/// Whether every path below `set` stays within the depth and expansion bounds. Fragment
/// spreads are followed (a cycle runs into the depth bound).
fn shaped(
    document: &ExecutableDocument,
    set: &SelectionSet,
    depth: usize,
    expansions: usize,
) -> bool {
    if depth > MAX_DEPTH || expansions > MAX_EXPANSIONS {
        return false;
    }
    let fragments: &HashMap<_, Positioned<FragmentDefinition>> = &document.fragments;
    set.items.iter().all(|item| match &item.node {
        Selection::Field(field) => {
            let grows = EXPANDING.contains(&field.node.name.node.as_str());
            shaped(
                document,
                &field.node.selection_set.node,
                depth + 1,
                expansions + usize::from(grows),
            )
        }
        Selection::InlineFragment(inline) => shaped(
            document,
            &inline.node.selection_set.node,
            depth + 1,
            expansions,
        ),
        Selection::FragmentSpread(spread) => fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|f| shaped(document, &f.node.selection_set.node, depth + 1, expansions)),
    })
}

#[cfg(test)]
mod tests {
    use super::is_schema_query;

    #[test]
    fn only_schema_reads_shaped_like_introspection_qualify() {
        assert!(is_schema_query(
            "{ __schema { types { name fields { name args { name type { name ofType { name ofType { name } } } } } } } }",
            None
        ));
        assert!(is_schema_query(
            "query A { __type(name: \"Team\") { name } } query B { teams { totalCount } }",
            Some("A")
        ));
        assert!(!is_schema_query(
            "query A { __type(name: \"Team\") { name } } query B { teams { totalCount } }",
            Some("B")
        ));
        assert!(!is_schema_query(
            "{ __schema { types { name } } teams { totalCount } }",
            None
        ));
        assert!(!is_schema_query(
            "{ teams(first: 1) { nodes { name } } }",
            None
        ));
        assert!(!is_schema_query(
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
            None
        ));
        assert!(!is_schema_query(
            "{ __schema { ...A } } fragment A on __Schema { types { ...B } } fragment B on __Type { fields { type { ...C } } } fragment C on __Type { fields { type { ...C } } }",
            None
        ));
    }
}
