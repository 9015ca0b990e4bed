//! `POST /graphql`, `GET /graphql` (queries only) and the SDL.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web::{self, Data},
};
use async_graphql::{
    BatchRequest, BatchResponse, Request,
    parser::{parse_query, types::OperationType},
};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::request_log;
use crate::{
    auth::{ClientInfo, Principal, plugin::AuthRequest},
    error::ErrorCode,
    graphql::{self, AppSchema, IntrospectionSchema, RequestCaller},
    state::AppState,
};

/// The client address: the TCP peer, or, when configured to trust a proxy in front, the
/// address that proxy saw: the *last* `X-Forwarded-For` entry (the proxy appends it; entries
/// to its left come from the client and prove nothing). An IPv4 client seen through a
/// dual-stack socket (`::ffff:a.b.c.d`) is its plain IPv4 address, for throttling and for the
/// audit log alike.
pub fn client_info(req: &HttpRequest, state: &AppState) -> ClientInfo {
    let forwarded = state
        .config
        .trust_proxy
        .then(|| {
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
        })
        .flatten();
    ClientInfo {
        address: forwarded
            .or_else(|| req.peer_addr().map(|a| a.ip()))
            .map(|ip| ip.to_canonical().to_string()),
    }
}

/// Whether a `Content-Type` is `application/json`: the media type compared exactly (ignoring
/// case), then optional `; name=value` parameters (e.g. `charset=utf-8`).
fn is_json_media_type(value: &str) -> bool {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        && parts.all(|param| {
            let param = param.trim();
            param.is_empty()
                || param.split_once('=').is_some_and(|(name, _)| {
                    let name = name.trim();
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
                })
        })
}

/// Runs the auth plugin chain. Bad credentials answer 401 with `WWW-Authenticate` (RFC 6750)
/// before any GraphQL runs; no credentials at all is anonymous.
async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
    client: &ClientInfo,
) -> Result<Principal, HttpResponse> {
    let request = AuthRequest {
        headers: req.headers(),
        client_address: client.address.as_deref(),
    };
    match state.auth.authenticate(&request).await {
        Ok(Ok(principal)) => Ok(principal),
        Ok(Err(_)) => Err(HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#))
            .json(json!({
                "errors": [{
                    "message": "the access token is invalid, expired or revoked",
                    "extensions": { "code": ErrorCode::Unauthenticated.as_str() }
                }]
            }))),
        Err(err) => {
            tracing::error!(error = %err, "authentication failed");
            Err(HttpResponse::InternalServerError().json(json!({
                "errors": [{
                    "message": "internal error",
                    "extensions": { "code": ErrorCode::Internal.as_str() }
                }]
            })))
        }
    }
}

/// A single response that only says `RATE_LIMITED` (no data, every error rate-limited) also
/// answers 429 with `Retry-After`, so plain HTTP clients and proxies understand it too. A
/// response with any data stays 200, and so do batches (each entry has its own errors).
fn respond(response: async_graphql::Response) -> HttpResponse {
    let only_rate_limited = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions.as_ref().and_then(|x| x.get("code"))
                == Some(&async_graphql::Value::from(ErrorCode::RateLimited.as_str()))
        });
    let retry_after = response
        .errors
        .iter()
        .filter(|_| only_rate_limited)
        .find_map(|e| {
            let ext = e.extensions.as_ref()?;
            match (ext.get("code"), ext.get("retryAfter")) {
                (
                    Some(async_graphql::Value::String(code)),
                    Some(async_graphql::Value::Number(secs)),
                ) if code == ErrorCode::RateLimited.as_str() => secs.as_u64(),
                _ => None,
            }
        });
    match retry_after {
        Some(secs) => HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, secs.to_string()))
            .json(response),
        None => HttpResponse::Ok().json(response),
    }
}

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

/// Whether the schema is hidden from this caller (`ANONYMOUS_INTROSPECTION=false` and no
/// token).
fn hides_schema(state: &AppState, principal: &Principal) -> bool {
    !state.config.anonymous_introspection && *principal == Principal::Anonymous
}

fn hidden(request: Request, hide: bool) -> Request {
    if hide {
        request.disable_introspection()
    } else {
        request
    }
}

static SDL: std::sync::LazyLock<String> = std::sync::LazyLock::new(graphql::sdl);

/// `GET /graphql/schema.graphql`: the SDL, for tools that read a file rather than
/// introspect. Hidden (404) when anonymous introspection is off.
pub async fn sdl(state: Data<AppState>) -> HttpResponse {
    if !state.config.anonymous_introspection {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(SDL.as_str())
}

pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: Data<AppState>,
    schema: Data<AppSchema>,
    introspection: Data<IntrospectionSchema>,
) -> HttpResponse {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_media_type);
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
    let client = client_info(&req, &state);
    let principal = match authenticate(&req, &state, &client).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    request_log::note_caller(&req, &principal);
    let hide_schema = hides_schema(&state, &principal);
    // One caller for the whole batch: what an operation does to the session (logout) holds
    // for the operations after it.
    let caller = RequestCaller::new(state.db.clone(), principal, client);
    match batch {
        BatchRequest::Single(request) => {
            let request = hidden(request, hide_schema);
            request_log::note_operation(&req, request.operation_name.as_deref());
            note_operation_type(&req, &request);
            let schema = graphql::pick(&schema, &introspection, &request);
            respond(run(schema, request, &caller).await)
        }
        BatchRequest::Batch(requests) => {
            let max = state.config.graphql.max_batch_size;
            if requests.len() > max {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    &format!("a batch may hold at most {max} operations"),
                );
            }
            // In order, one after the other, as a client sending them would expect.
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                let request = hidden(request, hide_schema);
                request_log::note_operation(&req, request.operation_name.as_deref());
                note_operation_type(&req, &request);
                let schema = graphql::pick(&schema, &introspection, &request);
                responses.push(run(schema, request, &caller).await);
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
pub async fn get(
    req: HttpRequest,
    state: Data<AppState>,
    schema: Data<AppSchema>,
    introspection: Data<IntrospectionSchema>,
) -> HttpResponse {
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
    let client = client_info(&req, &state);
    let principal = match authenticate(&req, &state, &client).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    request_log::note_caller(&req, &principal);
    request_log::note_operation(&req, request.operation_name.as_deref());
    note_operation_type(&req, &request);
    let request = hidden(request, hides_schema(&state, &principal));
    let caller = RequestCaller::new(state.db.clone(), principal, client);
    let schema = graphql::pick(&schema, &introspection, &request);
    respond(run(schema, request, &caller).await)
}

/// Runs one operation and counts it in the metrics, under the `operationName` the request
/// carries (see [`crate::metrics::graphql_operation`]).
async fn run(
    schema: &AppSchema,
    request: Request,
    caller: &std::sync::Arc<RequestCaller>,
) -> async_graphql::Response {
    let started = std::time::Instant::now();
    let name = request.operation_name.clone();
    let response = graphql::execute(schema, request, caller).await;
    crate::metrics::graphql_operation(name.as_deref(), &response, started.elapsed());
    response
}

/// The type of the operation that would run, for the request's trace span (only while traces
/// are on: it parses the document once more). Nothing for a document that does not parse or
/// names no such operation (the executor reports that).
fn note_operation_type(req: &HttpRequest, request: &Request) {
    if !crate::telemetry::traces_enabled() {
        return;
    }
    let Ok(document) = parse_query(&request.query) else {
        return;
    };
    let mut operations = document.operations.iter();
    let selected = match request.operation_name.as_deref() {
        Some(wanted) => operations.find(|(name, _)| name.is_some_and(|n| n.as_str() == wanted)),
        None => match (operations.next(), operations.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        },
    };
    if let Some((_, operation)) = selected {
        request_log::note_operation_type(
            req,
            match operation.node.ty {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            },
        );
    }
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

#[cfg(test)]
mod tests {
    use super::is_json_media_type;

    #[test]
    fn only_application_json_with_optional_parameters_is_json() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            " application/json ;charset=UTF-8",
            "application/json;",
        ] {
            assert!(is_json_media_type(ok), "{ok}");
        }
        for refused in [
            "application/jsonx",
            "application/jsonp",
            "application/json-patch+json",
            "application/json5",
            "application/json charset=utf-8",
            "application/json; =x",
            "text/json",
            "",
        ] {
            assert!(!is_json_media_type(refused), "{refused}");
        }
    }
}
