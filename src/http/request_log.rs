//! One structured log line per request: request id, method, path, status, latency. The query
//! string is left out on purpose: GET /graphql carries variables there, and OAuth redirects
//! carry codes. Headers are never logged. The same place counts the request in the metrics, by
//! the route pattern it matched (never the raw path).

use std::time::Instant;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
};
use tracing::Instrument;
use uuid::Uuid;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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
            tracing::info!(%method, %path, status, latency_ms, "request");
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
