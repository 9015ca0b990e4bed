//! The error responses of the token, revocation and introspection endpoints (RFC 6749 §5.2):
//! a JSON body with `error` and `error_description`, 401 with `WWW-Authenticate` for a client
//! that failed to authenticate, never a cache.

use actix_web::{HttpResponse, http::header};
use serde_json::json;

use crate::service::grant::GrantError;

pub struct OAuthError(pub GrantError);

impl OAuthError {
    pub fn response(self) -> HttpResponse {
        let description = match &self.0 {
            GrantError::Internal(err) => {
                err.log("OAuth endpoint failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = match &self.0 {
            GrantError::InvalidClient => {
                let mut r = HttpResponse::Unauthorized();
                r.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="admin-center""#));
                r
            }
            GrantError::Internal(_) => HttpResponse::InternalServerError(),
            _ => HttpResponse::BadRequest(),
        };
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(json!({ "error": self.0.code(), "error_description": description }))
    }
}
