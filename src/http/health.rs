//! `/healthz` (the process answers) and `/readyz` (the database answers too).

use std::time::Duration;

use actix_web::{HttpResponse, web::Data};
use serde_json::json;

use crate::{db, state::AppState};

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// 200 while a `SELECT 1` succeeds within two seconds, 503 otherwise. The pool reconnects by
/// itself, so the answer turns back to 200 as soon as the database is back. 503 `draining`
/// while the server drains before it stops (SIGTERM with `SHUTDOWN_DRAIN_SECONDS`).
pub async fn readyz(state: Data<AppState>) -> HttpResponse {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return HttpResponse::ServiceUnavailable().json(json!({ "status": "draining" }));
    }
    match tokio::time::timeout(Duration::from_secs(2), db::ping(&state.db)).await {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            unavailable()
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            unavailable()
        }
    }
}

fn unavailable() -> HttpResponse {
    HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" }))
}
