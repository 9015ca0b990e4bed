//! One structured log line per request: request id, method, path, status, latency, and for
//! GraphQL the operation name(s) and the caller (the manager's id, and the app's `client_id`
//! for an app token; never a token). The query string is left out on purpose: GET /graphql
//! carries variables there, and OAuth redirects carry codes. Headers are never logged. The same place counts the request in the metrics, by
//! the route pattern it matched (never the raw path).

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::Instrument;
use uuid::Uuid;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What a handler adds to its request's log line (kept in the request's extensions).
#[derive(Clone, Debug, Default)]
struct LogFields {
    operations: Vec<String>,
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
    let result = next.call(req).instrument(span.clone()).await;
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
            tracing::info!(%method, %path, status, latency_ms, "request");
            Err(err)
        }
    }
}
