//! `GET /.well-known/oauth-authorization-server` (RFC 8414) and `GET /.well-known/jwks.json`.

use actix_web::{HttpResponse, http::header, web::Data};
use serde_json::json;

use crate::{auth::scope::ApiScope, state::AppState};

pub async fn metadata(state: Data<AppState>) -> HttpResponse {
    let issuer = &state.audience.issuer;
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "scopes_supported": ApiScope::ALL.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "none"],
            "revocation_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "none"],
            "introspection_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post"],
            "authorization_response_iss_parameter_supported": true,
        }))
}

pub async fn jwks(state: Data<AppState>) -> HttpResponse {
    match state.oauth_keys.jwks().await {
        Ok(keys) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
            .json(keys),
        Err(err) => {
            err.log("could not read the signing keys");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}
