//! The HTTP surface: GraphQL (POST and GET), GraphiQL, health and readiness, request logs.

mod graphiql;
mod graphql;
mod health;
mod request_log;

pub use graphql::client_info;

use actix_cors::Cors;
use actix_web::{
    App, HttpServer,
    dev::Server,
    http::header::{self, HeaderName},
    middleware::{Condition, from_fn},
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
            .route("/healthz", web::get().to(health::healthz))
            .route("/readyz", web::get().to(health::readyz))
            .configure(|cfg| crate::oauth::routes(cfg, &|| cors(&state.config.cors_origins)));
    }
}

/// An HTTP server on `listener`. actix stops it gracefully on SIGTERM and Ctrl-C: it stops
/// accepting, lets requests in flight finish (up to 10 s), then returns.
pub fn server(
    state: AppState,
    schema: AppSchema,
    listener: std::net::TcpListener,
) -> std::io::Result<Server> {
    let workers = state.config.workers;
    let routes = configure(state, schema);
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(request_log::log_request))
            .configure(routes.clone())
    })
    .shutdown_timeout(10);
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    Ok(server.listen(listener)?.run())
}
