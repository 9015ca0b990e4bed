//! The HTTP surface: GraphQL (POST and GET), GraphiQL, health and readiness, Prometheus
//! metrics, request logs.

mod graphiql;
mod graphql;
mod health;
mod request_log;

pub use graphql::client_info;

use actix_cors::Cors;
use std::net::SocketAddr;

use actix_web::{
    App, Error, HttpResponse, HttpServer,
    body::{EitherBody, MessageBody},
    dev::{Server, ServiceRequest, ServiceResponse},
    http::header::{self, HeaderName},
    middleware::{Condition, Next, from_fn},
    web::{self, Data, PayloadConfig},
};

use crate::{config::CorsOrigins, graphql::AppSchema, state::AppState};

/// CORS for what a browser app on another origin calls: the API, and the OAuth endpoints a
/// public client calls from the browser (token, revocation, metadata, keys). Only the
/// configured origins get `Access-Control-Allow-Origin`; no credentials are ever allowed (the
/// API takes bearer tokens, not cookies), so `*` is safe. A request from any other origin is
/// still answered — same-origin pages send `Origin` too — just without CORS headers, so the
/// browser keeps its answer from the foreign page. Off (no middleware) when no origin is set.
fn cors(origins: &CorsOrigins) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(600)
        .block_on_origin_mismatch(false);
    match origins {
        CorsOrigins::None => {}
        CorsOrigins::Any => cors = cors.allow_any_origin().send_wildcard(),
        CorsOrigins::List(list) => {
            for origin in list {
                cors = cors.allowed_origin(origin);
            }
        }
    }
    Condition::new(*origins != CorsOrigins::None, cors)
}

/// Registers every route. Used by `serve` and by the tests, so both run the same server.
pub fn configure(state: AppState, schema: AppSchema) -> impl Fn(&mut web::ServiceConfig) + Clone {
    let introspection = Data::new(crate::graphql::introspection_schema(state.clone()));
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(Data::new(state.clone()))
            .app_data(Data::new(schema.clone()))
            .app_data(introspection.clone())
            // Bodies past the limit are refused with 413 before anything is parsed.
            .app_data(PayloadConfig::new(state.config.max_body_bytes))
            .service(
                web::resource("/graphql")
                    .wrap(cors(&state.config.cors_origins))
                    .route(web::post().to(graphql::post))
                    .route(web::get().to(graphql::get)),
            )
            .route("/graphql/schema.graphql", web::get().to(graphql::sdl))
            .configure(graphiql::routes)
            .configure(crate::sso::routes::routes)
            .route("/healthz", web::get().to(health::healthz))
            .route("/readyz", web::get().to(health::readyz))
            .route("/metrics", web::get().to(metrics))
            .configure(|cfg| crate::oauth::routes(cfg, &|| cors(&state.config.cors_origins)));
    }
}

/// `GET /metrics`: the Prometheus text exposition (format 0.0.4). No authentication: it
/// holds counts, never identities or secrets; deployments that expose the main port keep it
/// private with `METRICS_BIND` (see the README, "Metrics").
async fn metrics(state: Data<AppState>) -> HttpResponse {
    match crate::metrics::render(&state.db, &state.hasher) {
        Some(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(text),
        None => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// The address of the metrics listener, when `/metrics` has its own.
#[derive(Clone, Copy)]
struct MetricsListener(SocketAddr);

/// With a metrics listener, it serves `/metrics` alone and the main listener everything but
/// `/metrics`; anything else is 404.
async fn split_listeners(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, Error> {
    if let Some(MetricsListener(addr)) = req.app_data::<MetricsListener>().copied() {
        let on_metrics_listener = req.app_config().local_addr() == addr;
        if on_metrics_listener != (req.path() == "/metrics") {
            return Ok(req
                .into_response(HttpResponse::NotFound().finish())
                .map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// An HTTP server on `listener` (and on `METRICS_BIND` for `/metrics`, when set). It does not
/// handle signals itself: `serve` stops it through its handle (see `cli::stop_on_signal`);
/// stopped, it stops accepting, lets requests in flight finish (up to 10 s), then returns.
pub fn server(
    state: AppState,
    schema: AppSchema,
    listener: std::net::TcpListener,
) -> std::io::Result<Server> {
    crate::metrics::install();
    let workers = state.config.workers;
    let metrics_listener = match state.config.metrics_bind {
        Some(addr) => Some(std::net::TcpListener::bind(addr).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on {addr} (METRICS_BIND): {e}"),
            )
        })?),
        None => None,
    };
    let split = metrics_listener
        .as_ref()
        .map(|l| l.local_addr().map(MetricsListener))
        .transpose()?;
    let routes = configure(state, schema);
    let mut server = HttpServer::new(move || {
        let app = App::new();
        let app = match split {
            Some(split) => app.app_data(split),
            None => app,
        };
        app.wrap(from_fn(split_listeners))
            .wrap(from_fn(request_log::log_request))
            .configure(routes.clone())
    })
    .disable_signals()
    .shutdown_timeout(10);
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    server = server.listen(listener)?;
    if let Some(metrics_listener) = metrics_listener {
        server = server.listen(metrics_listener)?;
    }
    Ok(server.run())
}
