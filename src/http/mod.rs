//! The HTTP surface: GraphQL (POST and GET), GraphiQL, health and readiness, request logs.

mod graphql;
mod health;
mod request_log;

pub use graphql::client_info;

use actix_web::{
    App, HttpServer,
    dev::Server,
    middleware::from_fn,
    web::{self, Data, PayloadConfig},
};

use crate::{graphql::AppSchema, state::AppState};

/// Registers every route. Used by `serve` and by the tests, so both run the same server.
pub fn configure(state: AppState, schema: AppSchema) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(Data::new(state.clone()))
            .app_data(Data::new(schema.clone()))
            // Bodies past the limit are refused with 413 before anything is parsed.
            .app_data(PayloadConfig::new(state.config.max_body_bytes))
            .service(
                web::resource("/graphql")
                    .route(web::post().to(graphql::post))
                    .route(web::get().to(graphql::get)),
            )
            .route("/graphiql", web::get().to(graphql::graphiql))
            .route("/healthz", web::get().to(health::healthz))
            .route("/readyz", web::get().to(health::readyz))
            .configure(crate::oauth::routes);
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
