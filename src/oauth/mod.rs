//! The OAuth 2 authorization server of SPEC 6: the RFC endpoints and their pages. The rules
//! live in `service::grant` and `service::authorization`; these are thin HTTP adapters (the
//! split of kanidm's `oauth2.rs` and its views).

mod authorize;
mod error;
mod metadata;
pub(crate) mod pages;
pub mod ticket;
mod token;

use actix_cors::Cors;
use actix_web::{middleware::Condition, web};

/// Registers the OAuth routes. `cors` is the CORS policy for what a browser app calls
/// (everything but the authorization endpoint, which the browser navigates to).
pub fn routes(cfg: &mut web::ServiceConfig, cors: &dyn Fn() -> Condition<Cors>) {
    cfg.service(
        web::resource("/oauth/authorize")
            .route(web::get().to(authorize::get))
            .route(web::post().to(authorize::post)),
    )
    .service(
        web::resource("/oauth/token")
            .wrap(cors())
            .route(web::post().to(token::token)),
    )
    .service(
        web::resource("/oauth/revoke")
            .wrap(cors())
            .route(web::post().to(token::revoke)),
    )
    .service(
        web::resource("/oauth/introspect")
            .wrap(cors())
            .route(web::post().to(token::introspect)),
    )
    .service(
        web::resource("/.well-known/oauth-authorization-server")
            .wrap(cors())
            .route(web::get().to(metadata::metadata)),
    )
    .service(
        web::resource("/.well-known/jwks.json")
            .wrap(cors())
            .route(web::get().to(metadata::jwks)),
    );
}
