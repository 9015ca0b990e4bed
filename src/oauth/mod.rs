//! The OAuth 2 authorization server of SPEC 6: the RFC endpoints and their pages. The rules
//! live in `service::grant` and `service::authorization`; these are thin HTTP adapters (the
//! split of kanidm's `oauth2.rs` and its views).

mod authorize;
mod error;
mod metadata;
mod pages;
pub mod ticket;
mod token;

use actix_web::web;

/// Registers the OAuth routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/oauth/authorize")
            .route(web::get().to(authorize::get))
            .route(web::post().to(authorize::post)),
    )
    .route("/oauth/token", web::post().to(token::token))
    .route("/oauth/revoke", web::post().to(token::revoke))
    .route("/oauth/introspect", web::post().to(token::introspect))
    .route(
        "/.well-known/oauth-authorization-server",
        web::get().to(metadata::metadata),
    )
    .route("/.well-known/jwks.json", web::get().to(metadata::jwks));
}
