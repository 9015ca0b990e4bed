//! `POST /graphql`, `GET /graphql` (queries only) and the GraphiQL page.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web::{self, Data},
};
use async_graphql::{
    BatchRequest, BatchResponse, Request,
    http::GraphiQLSource,
    parser::{parse_query, types::OperationType},
};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use crate::{
    auth::Principal,
    error::ErrorCode,
    graphql::{self, AppSchema},
    state::AppState,
};

/// A GraphQL-shaped error body for requests refused before execution.
fn refuse(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "errors": [{ "message": message, "extensions": { "code": ErrorCode::BadUserInput.as_str() } }]
    }))
}

/// Reads the body up to the configured limit. The limit holds whether or not the client sent a
/// Content-Length, and nothing past it is buffered.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, HttpResponse> {
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body is larger than {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| refuse(StatusCode::BAD_REQUEST, "could not read body"))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: Data<AppState>,
    schema: Data<AppSchema>,
) -> HttpResponse {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send GraphQL requests as application/json",
        );
    }
    let body = match read_body(&req, payload, state.config.max_body_bytes).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    // The parser's message could quote the body (and so a password in it): only its position
    // is reported.
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(err) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!(
                    "body is not a GraphQL request (JSON error at line {}, column {})",
                    err.line(),
                    err.column()
                ),
            );
        }
    };
    // Sign-in and its auth plugin chain come with the next issue; until then every caller
    // over HTTP is anonymous.
    let principal = Principal::Anonymous;
    match batch {
        BatchRequest::Single(request) => {
            HttpResponse::Ok().json(graphql::execute(&schema, request, principal).await)
        }
        BatchRequest::Batch(requests) => {
            let max = state.config.graphql.max_batch_size;
            if requests.len() > max {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    &format!("a batch may hold at most {max} operations"),
                );
            }
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                responses.push(graphql::execute(&schema, request, principal.clone()).await);
            }
            HttpResponse::Ok().json(BatchResponse::Batch(responses))
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: String,
    operation_name: Option<String>,
    variables: Option<String>,
}

/// GraphQL over GET, for queries only: a GET must not change anything (it can be prefetched,
/// cached, or triggered by a link), so a mutation answers 405.
pub async fn get(req: HttpRequest, schema: Data<AppSchema>) -> HttpResponse {
    let params = match web::Query::<GetParams>::from_query(req.query_string()) {
        Ok(params) => params.into_inner(),
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "GET /graphql needs a `query` parameter (and optionally `variables`, `operationName`)",
            );
        }
    };
    if is_mutation(&params.query, params.operation_name.as_deref()) {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "POST"))
            .json(json!({
                "errors": [{
                    "message": "mutations must be sent with POST",
                    "extensions": { "code": ErrorCode::BadUserInput.as_str() }
                }]
            }));
    }
    let mut request = Request::new(params.query);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables {
        match serde_json::from_str(&variables) {
            Ok(variables) => request = request.variables(variables),
            Err(_) => return refuse(StatusCode::BAD_REQUEST, "`variables` is not a JSON object"),
        }
    }
    HttpResponse::Ok().json(graphql::execute(&schema, request, Principal::Anonymous).await)
}

/// Whether the operation that would run is a mutation. A document that does not parse is left
/// to the executor, which reports the syntax error.
fn is_mutation(query: &str, operation_name: Option<&str>) -> bool {
    let Ok(document) = parse_query(query) else {
        return false;
    };
    document.operations.iter().any(|(name, op)| {
        let selected = match operation_name {
            Some(wanted) => name.is_some_and(|n| n.as_str() == wanted),
            None => true,
        };
        selected && op.node.ty == OperationType::Mutation
    })
}

pub async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("admin-center GraphiQL")
                .finish(),
        )
}
