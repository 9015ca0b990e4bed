//! What a client sees when a request fails before anything runs: a code that says what to
//! fix, a message that says how, and never the request's own text.
//!
//! - `GRAPHQL_PARSE_FAILED`: the document does not parse (syntax, an operation or fragment
//!   defined twice, no operation at all).
//! - `GRAPHQL_VALIDATION_FAILED`: the document parses but does not fit the schema (an unknown
//!   field or argument, a missing required argument, a value of the wrong type written in the
//!   document, a fragment on the wrong type, an unused variable, an operation name the
//!   document does not hold), or it is past a limit. Limit errors carry `measure` (`depth`,
//!   `complexity`, `directives`), `limit` and `actual` in their extensions.
//! - `BAD_USER_INPUT`: the document is fine but a value is not. That covers a variable whose
//!   value does not fit its declared type, or a required one sent without a value: the client
//!   fixes the value, not the document, and the GraphQL spec coerces variables when it runs a
//!   request, not when it validates the document (Apollo Server 4 codes it the same way).
//!   async-graphql checks variables' values while validating, so [`Shaping`] tells them apart
//!   by whether the misfit sits under a variable.
//!
//! async-graphql's own depth and complexity errors carry no numbers ("Query is nested too
//! deep."), so the schemas are built without its limits and [`Shaping`] enforces them from
//! the depth and complexity that validation measures anyway.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
};

use async_graphql::{
    EmptySubscription, ErrorExtensionValues, Name, Pos, Positioned, Response, SchemaBuilder,
    ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation},
    parser::types::{
        Directive, DocumentOperations, ExecutableDocument, OperationDefinition, Selection,
        SelectionSet,
    },
};

use super::{MutationRoot, QueryRoot};
use crate::error::ErrorCode;

/// The most directives on one field or fragment.
const MAX_DIRECTIVES: usize = 16;
/// Deeper nesting of selections, fragments included, is refused before validation, which
/// follows fragments and must stay bounded. Above the depth limits, so that for any
/// reasonable query the depth limit speaks first and names the actual depth.
const MAX_NESTING: usize = 64;
/// What a variable is written as in the arguments [`ShapingRequest`] keeps.
const VARIABLE: &str = "$";

/// `builder` with the depth and complexity limits enforced by [`Shaping`].
pub(super) fn limited(
    builder: SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription>,
    max_depth: usize,
    max_complexity: usize,
) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    builder
        .limit_recursive_depth(MAX_NESTING.max(max_depth))
        .extension(Shaping {
            max_depth,
            max_complexity,
        })
}

/// `builder` for the fast path ([`prepare`]): no extension, so fields resolve without an
/// extension chain around each, and async-graphql's own limits, the same numbers as
/// [`limited`]'s. A request it refuses before running is answered by the [`limited`] schema
/// instead ([`failed_before_running`]), whose errors name the numbers.
pub(super) fn fast(
    builder: SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription>,
    max_depth: usize,
    max_complexity: usize,
) -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    builder
        .limit_recursive_depth(MAX_NESTING.max(max_depth))
        .limit_depth(max_depth)
        .limit_complexity(max_complexity)
}

/// The parse step of [`Shaping`] outside the extension, for the fast schema: the document
/// parsed, absent variables dropped and the directive limit checked. `None` when any of it
/// fails: the [`limited`] schema then answers the request, with the errors it shapes.
pub(super) fn prepare(query: &str, variables: &Variables) -> Option<ExecutableDocument> {
    let mut document = async_graphql::parser::parse_query(query).ok()?;
    drop_absent_variables(&mut document, variables);
    inspect(&document, false).ok()?;
    Some(document)
}

/// Whether the request stopped before anything ran: validation, a limit, the operation name
/// or a variable's value. Such errors have no path, while every error of a field that ran
/// has one, and no data came back. Nothing ran, so the request can be answered again.
pub(super) fn failed_before_running(response: &Response) -> bool {
    !response.errors.is_empty()
        && response.data == Value::Null
        && response.errors.iter().all(|error| error.path.is_empty())
}

/// Codes the errors of parsing and validation and enforces the limits, naming the numbers.
struct Shaping {
    max_depth: usize,
    max_complexity: usize,
}

impl ExtensionFactory for Shaping {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ShapingRequest {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            variable_arguments: Mutex::default(),
        })
    }
}

/// [`Shaping`] for one request.
struct ShapingRequest {
    max_depth: usize,
    max_complexity: usize,
    /// Arguments whose value holds a variable, by the position of the argument's name (where
    /// validation reports a value that does not fit), variables written as [`VARIABLE`].
    variable_arguments: Mutex<HashMap<Pos, Value>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for ShapingRequest {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let mut document = next
            .run(ctx, query, variables)
            .await
            .map_err(|error| self.parse_error(error))?;
        drop_absent_variables(&mut document, variables);
        let found = inspect(&document, true)?;
        *self.lock() = found;
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        match next.run(ctx).await {
            Ok(result) if result.depth > self.max_depth => Err(vec![limit_error(
                format!(
                    "The query's depth is {}; at most {} is allowed.",
                    result.depth, self.max_depth
                ),
                None,
                "depth",
                self.max_depth,
                Some(result.depth),
            )]),
            Ok(result) if result.complexity > self.max_complexity => Err(vec![limit_error(
                format!(
                    "The query's complexity is {}; at most {} is allowed. Each field counts \
                     once, and a list counts its page size (`first` or `last`, 20 by \
                     default) times what each item selects: ask for smaller pages or fewer \
                     fields.",
                    result.complexity, self.max_complexity
                ),
                None,
                "complexity",
                self.max_complexity,
                Some(result.complexity),
            )]),
            Ok(result) => Ok(result),
            Err(errors) => Err(classify(errors, &self.lock())),
        }
    }
}

impl ShapingRequest {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Pos, Value>> {
        self.variable_arguments
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// An error from the parse step: the parser's own, or async-graphql's nesting check that
    /// runs right after it. Both bound nesting (the parser at 64 levels of text).
    fn parse_error(&self, mut error: ServerError) -> ServerError {
        if error.message == "recursion limit exceeded."
            || error
                .message
                .starts_with("The recursion depth of the query cannot be greater than")
        {
            let limit = self.max_depth;
            return limit_error(
                format!(
                    "The query nests more than {} levels deep; at most {limit} is allowed.",
                    MAX_NESTING.max(limit)
                ),
                error.locations.first().copied(),
                "depth",
                limit,
                None,
            );
        }
        set_code(&mut error, ErrorCode::GraphqlParseFailed);
        error
    }
}

/// The checks of the parse step after parsing: no selection carries more than
/// [`MAX_DIRECTIVES`] directives. With `keep_variables`, also the arguments whose value holds
/// a variable, by position, which tell a misfit value apart from a misfit document.
fn inspect(
    document: &ExecutableDocument,
    keep_variables: bool,
) -> ServerResult<HashMap<Pos, Value>> {
    let mut found = HashMap::new();
    visit(document, &mut |selection| {
        let directives = selection.node.directives();
        if directives.len() > MAX_DIRECTIVES {
            let what = match &selection.node {
                Selection::Field(field) => format!("The field `{}`", field.node.name.node),
                _ => "A fragment".to_owned(),
            };
            return Err(limit_error(
                format!(
                    "{what} carries {} directives; at most {MAX_DIRECTIVES} are allowed.",
                    directives.len()
                ),
                Some(selection.pos),
                "directives",
                MAX_DIRECTIVES,
                Some(directives.len()),
            ));
        }
        if !keep_variables {
            return Ok(());
        }
        let field_arguments = match &selection.node {
            Selection::Field(field) => field.node.arguments.as_slice(),
            _ => &[],
        };
        let directive_arguments = directives.iter().flat_map(|d| &d.node.arguments);
        for (name, value) in field_arguments.iter().chain(directive_arguments) {
            // Each variable becomes the enum value `$`, which no document can write.
            let mut holds_variable = false;
            let marked = value.node.clone().into_const_with(|_| {
                holds_variable = true;
                Ok::<_, std::convert::Infallible>(Value::Enum(Name::new(VARIABLE)))
            });
            if let (true, Ok(marked)) = (holds_variable, marked) {
                found.insert(name.pos, marked);
            }
        }
        Ok(())
    })?;
    Ok(found)
}

/// A nullable variable the request gives no value (and its definition no default) is
/// *absent*, as the GraphQL spec coerces it, not `null`: async-graphql 7 reads it as `null`,
/// which in a patch means "clear" (`updateTeam(input: { name: $n, parentId: $p })` sent with
/// `$n` alone would move the team to the top). So every argument and input-object field whose
/// value is such a variable is taken out of the document, with the variable's definition,
/// before anything reads it. (A list item, or a directive's argument, becomes `null`, as the
/// spec has it.)
fn drop_absent_variables(document: &mut ExecutableDocument, variables: &Variables) {
    use async_graphql_value::Value as DocValue;
    let mut absent: HashSet<Name> = HashSet::new();
    let mut present: HashSet<Name> = HashSet::new();
    for (_, operation) in document.operations.iter() {
        for definition in &operation.node.variable_definitions {
            let definition = &definition.node;
            let name = &definition.name.node;
            if definition.var_type.node.nullable
                && definition.default_value.is_none()
                && !variables.contains_key(name)
            {
                absent.insert(name.clone());
            } else {
                present.insert(name.clone());
            }
        }
    }
    // A name another operation of the document defines with a value or default is left alone.
    absent.retain(|name| !present.contains(name));
    if absent.is_empty() {
        return;
    }
    // The absent variables the document uses: their definitions go with their uses. (One it
    // declares and never uses keeps its definition, which validation reports as unused.)
    let used = std::cell::RefCell::new(HashSet::new());
    let is_absent = |value: &DocValue| match value {
        DocValue::Variable(name) if absent.contains(name) => {
            used.borrow_mut().insert(name.clone());
            true
        }
        _ => false,
    };
    fn strip(value: &mut DocValue, is_absent: &impl Fn(&DocValue) -> bool) {
        match value {
            DocValue::Object(fields) => {
                fields.retain(|_, field| !is_absent(field));
                fields
                    .values_mut()
                    .for_each(|field| strip(field, is_absent));
            }
            DocValue::List(items) => items.iter_mut().for_each(|item| {
                if is_absent(item) {
                    *item = DocValue::Null;
                } else {
                    strip(item, is_absent);
                }
            }),
            _ => {}
        }
    }
    fn nulled(directives: &mut [Positioned<Directive>], is_absent: &impl Fn(&DocValue) -> bool) {
        for directive in directives {
            for (_, value) in &mut directive.node.arguments {
                if is_absent(&value.node) {
                    value.node = DocValue::Null;
                }
            }
        }
    }
    fn walk(set: &mut SelectionSet, is_absent: &impl Fn(&DocValue) -> bool) {
        for item in &mut set.items {
            match &mut item.node {
                Selection::Field(field) => {
                    let field = &mut field.node;
                    field.arguments.retain(|(_, value)| !is_absent(&value.node));
                    for (_, value) in &mut field.arguments {
                        strip(&mut value.node, is_absent);
                    }
                    nulled(&mut field.directives, is_absent);
                    walk(&mut field.selection_set.node, is_absent);
                }
                Selection::InlineFragment(inline) => {
                    nulled(&mut inline.node.directives, is_absent);
                    walk(&mut inline.node.selection_set.node, is_absent)
                }
                Selection::FragmentSpread(spread) => nulled(&mut spread.node.directives, is_absent),
            }
        }
    }
    let mut operations: Vec<&mut OperationDefinition> = match &mut document.operations {
        DocumentOperations::Single(operation) => vec![&mut operation.node],
        DocumentOperations::Multiple(named) => named.values_mut().map(|op| &mut op.node).collect(),
    };
    for operation in &mut operations {
        nulled(&mut operation.directives, &is_absent);
        walk(&mut operation.selection_set.node, &is_absent);
    }
    for fragment in document.fragments.values_mut() {
        nulled(&mut fragment.node.directives, &is_absent);
        walk(&mut fragment.node.selection_set.node, &is_absent);
    }
    let used = used.into_inner();
    for operation in operations {
        operation
            .variable_definitions
            .retain(|definition| !used.contains(&definition.node.name.node));
    }
}

/// Calls `f` on every selection of the document: each one once, wherever fragments spread.
fn visit(
    document: &ExecutableDocument,
    f: &mut impl FnMut(&Positioned<Selection>) -> ServerResult<()>,
) -> ServerResult<()> {
    fn walk(
        set: &SelectionSet,
        f: &mut impl FnMut(&Positioned<Selection>) -> ServerResult<()>,
    ) -> ServerResult<()> {
        for item in &set.items {
            f(item)?;
            match &item.node {
                Selection::Field(field) => walk(&field.node.selection_set.node, f)?,
                Selection::InlineFragment(inline) => walk(&inline.node.selection_set.node, f)?,
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }
    for (_, operation) in document.operations.iter() {
        walk(&operation.node.selection_set.node, f)?;
    }
    for fragment in document.fragments.values() {
        walk(&fragment.node.selection_set.node, f)?;
    }
    Ok(())
}

/// Codes the errors of validation. async-graphql's complexity count parses the arguments of
/// the fields it weighs, and reports what does not parse (a value, or a variable without
/// one) in its own words: when the rules found something, that repeats it and is dropped;
/// alone, it is a value that does not parse, `BAD_USER_INPUT` as when the field runs.
fn classify(errors: Vec<ServerError>, arguments: &HashMap<Pos, Value>) -> Vec<ServerError> {
    let from_complexity = |error: &ServerError| {
        let message = error.message.as_str();
        message.starts_with("Expected input type ")
            || message.starts_with("Failed to parse ")
            || (message.starts_with("Variable ")
                && message.ends_with(" is not defined.")
                && !message.contains('"'))
    };
    let rules_found = errors.iter().any(|error| !from_complexity(error));
    errors
        .into_iter()
        .filter(|error| !(rules_found && from_complexity(error)))
        .map(|mut error| {
            let code = if from_complexity(&error) || from_variable(&error, arguments) {
                ErrorCode::BadUserInput
            } else {
                ErrorCode::GraphqlValidationFailed
            };
            set_code(&mut error, code);
            error
        })
        .collect()
}

/// Whether a validation error is about a value that came in through a variable: "Invalid
/// value for argument "input.name", …" at an argument whose value, followed along that path,
/// reaches a variable.
fn from_variable(error: &ServerError, arguments: &HashMap<Pos, Value>) -> bool {
    let Some(path) = error
        .message
        .strip_prefix("Invalid value for argument \"")
        .and_then(|rest| rest.split('"').next())
    else {
        return false;
    };
    let Some(mut value) = error.locations.first().and_then(|at| arguments.get(at)) else {
        return false;
    };
    // The path starts with the argument's own name.
    for segment in path.split('.').skip(1) {
        value = match value {
            Value::Enum(name) if name.as_str() == VARIABLE => return true,
            Value::Object(fields) => match fields.get(segment) {
                Some(field) => field,
                None => return false,
            },
            Value::List(items) => match segment.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(item) => item,
                None => return false,
            },
            _ => return false,
        };
    }
    matches!(value, Value::Enum(name) if name.as_str() == VARIABLE)
}

fn set_code(error: &mut ServerError, code: ErrorCode) {
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code.as_str());
}

fn limit_error(
    message: String,
    at: Option<Pos>,
    measure: &str,
    limit: usize,
    actual: Option<usize>,
) -> ServerError {
    let mut error = ServerError::new(message, at);
    set_code(&mut error, ErrorCode::GraphqlValidationFailed);
    if let Some(ext) = error.extensions.as_mut() {
        ext.set("measure", measure);
        ext.set("limit", limit);
        if let Some(actual) = actual {
            ext.set("actual", actual);
        }
    }
    error
}

/// Gives every error of `response` a code and takes request text out of the messages.
/// Errors still without a code come from running the operation: a request naming no
/// operation the document holds (`GRAPHQL_VALIDATION_FAILED`), or a value a resolver, a
/// validator or a variable's coercion refused (`BAD_USER_INPUT`).
pub fn shape(response: &mut Response) {
    for error in &mut response.errors {
        scrub(error);
        if let Some(name) = error
            .message
            .strip_prefix("Variable ")
            .and_then(|rest| rest.strip_suffix(" is not defined."))
            .filter(|name| !name.contains(['"', ' ']))
        {
            error.message = format!("Variable ${name} has no value: send one in `variables`.");
        }
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some());
        if !has_code {
            let names_no_operation = error.message.starts_with("Unknown operation named")
                || error.message == "Operation name required in request.";
            set_code(
                error,
                if names_no_operation {
                    ErrorCode::GraphqlValidationFailed
                } else {
                    ErrorCode::BadUserInput
                },
            );
        }
    }
}

/// Takes request text out of async-graphql's own messages: a syntax error prints the
/// document's line, an invalid enum value is quoted ("does not contain the value \"…\"") and
/// a failed coercion shows what it found ("Expected input type \"…\", found …"); any of them
/// may hold a secret sent in the wrong place (the password of a `login` typed inline). The
/// message keeps what is wrong and where (`locations`), never the text.
fn scrub(error: &mut ServerError) {
    const ENUM_VALUE: &str = " does not contain the value ";
    const FOUND: &str = ", found ";
    const PARSER_NOTE: &str = "\n  = ";
    if error.message.starts_with(" --> ") {
        let reason = error
            .message
            .rfind(PARSER_NOTE)
            .map_or("the document does not parse", |at| {
                &error.message[at + PARSER_NOTE.len()..]
            });
        error.message = format!("syntax error: {reason}");
    } else if let Some(at) = error.message.find(ENUM_VALUE) {
        error.message = format!("{} does not contain that value", &error.message[..at]);
    } else if let Some(at) = error
        .message
        .find("Expected input type ")
        .and_then(|start| Some(start + error.message[start..].find(FOUND)?))
    {
        error.message = format!("{}.", &error.message[..at]);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::config::GraphqlLimits;

    /// The errors of `query` against the schema (no state: nothing may run).
    async fn errors(query: &str, variables: Value) -> Value {
        let limits = GraphqlLimits::default();
        let schema = super::limited(
            super::super::root(),
            limits.max_depth,
            limits.max_complexity,
        )
        .finish();
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        let mut response = schema.execute(request).await;
        super::shape(&mut response);
        serde_json::to_value(&response.errors).unwrap()
    }

    #[tokio::test]
    async fn an_undeclared_variable_is_one_validation_error() {
        let errors = errors("{ managers(first: $n) { totalCount } }", json!({})).await;
        assert_eq!(errors.as_array().map(Vec::len), Some(1), "{errors}");
        assert_eq!(errors[0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    }

    #[tokio::test]
    async fn a_declared_variable_without_a_value_is_bad_user_input_naming_it() {
        let errors = errors(
            "query($n: Int!) { managers(first: $n) { totalCount } }",
            json!({}),
        )
        .await;
        assert_eq!(errors.as_array().map(Vec::len), Some(1), "{errors}");
        assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(
            errors[0]["message"],
            "Variable $n has no value: send one in `variables`."
        );
    }

    #[tokio::test]
    async fn a_misfit_inside_a_literal_is_the_documents_and_under_a_variable_the_callers() {
        let query = "mutation($on: Boolean) { updateManagerRights(id: \"x\", input: { sessionReplay: $on, addDeleteReps: 3 }) { id } }";
        let literal = errors(query, json!({ "on": true })).await;
        assert_eq!(
            literal[0]["extensions"]["code"],
            "GRAPHQL_VALIDATION_FAILED"
        );
        let query = "mutation($on: Boolean) { updateManagerRights(id: \"x\", input: { sessionReplay: $on, addDeleteReps: true }) { id } }";
        let variable = errors(query, json!({ "on": 3 })).await;
        assert_eq!(variable[0]["extensions"]["code"], "BAD_USER_INPUT");
    }
}
