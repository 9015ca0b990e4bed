//! One structured log line per request: request id, method, path, status, latency, and for
//! GraphQL the operation name(s) and the caller (the manager's id, and the app's `client_id`
//! for an app token; never a token). The query string is left out on purpose: GET /graphql
//! carries variables there, and OAuth redirects carry codes. Headers are never logged. The same place counts the request in the metrics, by
//! the route pattern it matched (never the raw path).
//!
//! When traces are on ([`crate::telemetry::traces_enabled`]), each request also gets a span of
//! its own for OpenTelemetry (kept out of the log): named `METHOD /route/pattern` (never the
//! raw path or the query string), with `http.request.method`, `http.route`,
//! `http.response.status_code`, the GraphQL `graphql.operation.name` and
//! `graphql.operation.type` (a batch: its operations' names and types joined with `,`, in
//! order), the caller and the request id; error status on a 5xx. Never a token, a password, a
//! variable or a header. A W3C `traceparent` (with its `tracestate`) the request carries makes
//! the span part of that trace; a malformed one is ignored (a new trace). The database
//! statements run for the request are its child spans.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use opentelemetry::{propagation::TextMapPropagator, trace::TraceContextExt};
use tracing::{Instrument, Span, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What a handler adds to its request's log line (kept in the request's extensions).
#[derive(Clone, Debug, Default)]
struct LogFields {
    operations: Vec<String>,
    /// `query`, `mutation` or `subscription`, per operation (only while traces are on).
    operation_types: Vec<&'static str>,
    caller: Option<String>,
}

/// Records who made the request, for its log line: `manager:<id>`, with `app:<client_id>` for
/// an app token, or `anonymous`.
pub fn note_caller(req: &actix_web::HttpRequest, principal: &crate::auth::Principal) {
    let caller = match principal {
        crate::auth::Principal::Anonymous => "anonymous".to_owned(),
        crate::auth::Principal::Manager(actor) => match &actor.app {
            Some(grant) => format!("manager:{} app:{}", actor.manager_id, grant.client_id),
            None => format!("manager:{}", actor.manager_id),
        },
    };
    let mut extensions = req.extensions_mut();
    extensions.get_or_insert_with(LogFields::default).caller = Some(caller);
}

/// Records a GraphQL operation of the request, for its log line: its name as the request
/// gives it (`-` for none), or `invalid` for what is no GraphQL name (so a log line cannot be
/// forged through it).
pub fn note_operation(req: &actix_web::HttpRequest, name: Option<&str>) {
    let name = match name {
        None => "-".to_owned(),
        Some(name)
            if !name.is_empty()
                && name.len() <= 128
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            name.to_owned()
        }
        Some(_) => "invalid".to_owned(),
    };
    let mut extensions = req.extensions_mut();
    extensions
        .get_or_insert_with(LogFields::default)
        .operations
        .push(name);
}

/// Records the type of a GraphQL operation of the request, for its trace span.
pub fn note_operation_type(req: &actix_web::HttpRequest, operation_type: &'static str) {
    let mut extensions = req.extensions_mut();
    extensions
        .get_or_insert_with(LogFields::default)
        .operation_types
        .push(operation_type);
}

/// The request headers, as OpenTelemetry's propagator reads them.
struct Headers<'a>(&'a actix_web::http::header::HeaderMap);

impl opentelemetry::propagation::Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The request's trace span (a disabled one while traces are off), in the caller's trace when
/// a valid `traceparent` names one.
fn trace_span(req: &ServiceRequest, method: &str, id: &str) -> Span {
    if !crate::telemetry::traces_enabled() {
        return Span::none();
    }
    // The pattern of the route that will answer (actix resolves it from the path); the name
    // must be known before the span starts.
    let route = req.match_pattern();
    let name = match &route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let span = tracing::info_span!(
        target: crate::telemetry::TRACE_TARGET,
        "HTTP request",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        http.route = route.as_deref(),
        http.response.status_code = Empty,
        graphql.operation.name = Empty,
        graphql.operation.type = Empty,
        admin_center.caller = Empty,
        admin_center.request_id = %id,
    );
    let remote = opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .extract(&Headers(req.headers()));
    if remote.span().span_context().is_valid() {
        let _ = span.set_parent(remote);
    }
    span
}

/// The response's part of the trace span.
fn finish_trace_span(span: &Span, status: u16, fields: Option<&LogFields>) {
    if span.is_disabled() {
        return;
    }
    // As an integer attribute (the OpenTelemetry layer exports unsigned values as text).
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "error");
    }
    let Some(fields) = fields else {
        return;
    };
    if fields.operations.iter().any(|name| name != "-") {
        span.record("graphql.operation.name", fields.operations.join(","));
    }
    if !fields.operation_types.is_empty() {
        span.record("graphql.operation.type", fields.operation_types.join(","));
    }
    if let Some(caller) = &fields.caller {
        span.record("admin_center.caller", caller.as_str());
    }
}

/// A request id the client sent is kept when it looks like one (so traces join up across
/// services); anything else is replaced.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::new_v4().to_string())
}

pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let trace = trace_span(&req, &method, &id);
    let result = next
        .call(req)
        .instrument(span.clone())
        .instrument(trace.clone())
        .await;
    let elapsed = started.elapsed();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let _entered = span.enter();
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            let route = res.request().match_pattern();
            crate::metrics::http_request(route.as_deref(), &method, status, elapsed);
            if let Ok(value) = HeaderValue::from_str(&id) {
                res.headers_mut().insert(REQUEST_ID.clone(), value);
            }
            let fields = res
                .request()
                .extensions()
                .get::<LogFields>()
                .cloned()
                .unwrap_or_default();
            finish_trace_span(&trace, status, Some(&fields));
            match (fields.operations.is_empty(), fields.caller) {
                (true, None) => tracing::info!(%method, %path, status, latency_ms, "request"),
                (_, caller) => {
                    let operation = fields.operations.join(",");
                    let caller = caller.unwrap_or_else(|| "-".to_owned());
                    tracing::info!(
                        %method, %path, status, latency_ms, %operation, %caller, "request"
                    )
                }
            }
            Ok(res)
        }
        Err(err) => {
            let status = err.as_response_error().status_code().as_u16();
            crate::metrics::http_request(None, &method, status, elapsed);
            finish_trace_span(&trace, status, None);
            tracing::info!(%method, %path, status, latency_ms, "request");
            Err(err)
        }
    }
}
