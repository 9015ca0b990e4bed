//! `POST /oauth/token` (RFC 6749 §3.2), `POST /oauth/revoke` (RFC 7009) and
//! `POST /oauth/introspect` (RFC 7662): thin adapters over `service::grant`.
//!
//! Clients authenticate with HTTP Basic (`client_secret_basic`: id and secret each
//! form-urlencoded first, RFC 6749 §2.3.1, as the `oauth2` crate sends them), with
//! `client_secret` in the form (`client_secret_post`), or, for public apps, with `client_id`
//! alone. Using two methods at once is refused (§2.3).

use actix_web::{
    HttpRequest, HttpResponse,
    http::header,
    web::{Data, Form},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::json;

use super::error::OAuthError;
use crate::{
    auth::scope::ScopeSet,
    service::grant::{self, ClientCredentials, GrantError},
    state::AppState,
};

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Deserialize)]
pub struct TokenOnlyForm {
    /// `token_type_hint` (RFC 7009 §2.1) is ignored: a token's prefix tells its kind.
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn form_decode(value: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("v={value}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// The client's credentials, from the Basic header or the form.
fn credentials(
    req: &HttpRequest,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<ClientCredentials, GrantError> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, value)| value.trim().to_owned());
    match basic {
        Some(encoded) => {
            let decoded = STANDARD
                .decode(encoded)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or(GrantError::InvalidClient)?;
            let (id, secret) = decoded.split_once(':').ok_or(GrantError::InvalidClient)?;
            let (id, secret) = (
                form_decode(id).ok_or(GrantError::InvalidClient)?,
                form_decode(secret).ok_or(GrantError::InvalidClient)?,
            );
            if client_secret.is_some() || client_id.as_deref().is_some_and(|c| c != id) {
                return Err(GrantError::InvalidRequest(
                    "use one client authentication method".into(),
                ));
            }
            Ok(ClientCredentials {
                client_id: id,
                secret: Some(secret),
            })
        }
        None => Ok(ClientCredentials {
            client_id: client_id.ok_or(GrantError::InvalidClient)?,
            secret: client_secret,
        }),
    }
}

fn malformed() -> HttpResponse {
    OAuthError(GrantError::InvalidRequest(
        "the body must be application/x-www-form-urlencoded, each parameter at most once".into(),
    ))
    .response()
}

/// `POST /oauth/token`.
pub async fn token(
    req: HttpRequest,
    state: Data<AppState>,
    form: Result<Form<TokenForm>, actix_web::Error>,
) -> HttpResponse {
    let Ok(Form(form)) = form else {
        return malformed();
    };
    let grant_type = crate::metrics::grant_type_label(form.grant_type.as_deref());
    let result = grant(&req, &state, form).await;
    crate::metrics::token_grant(grant_type, &result);
    match result {
        Ok(tokens) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(json!({
                "access_token": tokens.access_token,
                "token_type": "Bearer",
                "expires_in": tokens.expires_in,
                "refresh_token": tokens.refresh_token,
                "scope": tokens.scopes.to_string(),
            })),
        Err(err) => OAuthError(err).response(),
    }
}

async fn grant(
    req: &HttpRequest,
    state: &AppState,
    form: TokenForm,
) -> Result<grant::Tokens, GrantError> {
    let credentials = credentials(req, form.client_id, form.client_secret)?;
    let app = grant::authenticate_client(&state.db, &credentials).await?;
    match form.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = form
                .code
                .ok_or_else(|| GrantError::InvalidRequest("code is required".into()))?;
            grant::redeem_code(
                state,
                &app,
                &code,
                form.redirect_uri.as_deref(),
                form.code_verifier.as_deref(),
            )
            .await
        }
        Some("refresh_token") => {
            let token = form
                .refresh_token
                .ok_or_else(|| GrantError::InvalidRequest("refresh_token is required".into()))?;
            let scope = form
                .scope
                .as_deref()
                .map(ScopeSet::parse)
                .transpose()
                .map_err(|_| GrantError::InvalidScope("unknown scope".into()))?;
            grant::refresh(state, &app, &token, scope).await
        }
        Some(_) => Err(GrantError::UnsupportedGrantType),
        None => Err(GrantError::InvalidRequest("grant_type is required".into())),
    }
}

async fn client_and_token(
    req: &HttpRequest,
    state: &AppState,
    form: TokenOnlyForm,
) -> Result<(entity::developer_app::Model, String), GrantError> {
    let credentials = credentials(req, form.client_id, form.client_secret)?;
    let app = grant::authenticate_client(&state.db, &credentials).await?;
    let token = form
        .token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GrantError::InvalidRequest("token is required".into()))?;
    Ok((app, token))
}

/// `POST /oauth/revoke`: 200 whether or not the token was known (RFC 7009 §2.2).
pub async fn revoke(
    req: HttpRequest,
    state: Data<AppState>,
    form: Result<Form<TokenOnlyForm>, actix_web::Error>,
) -> HttpResponse {
    let Ok(Form(form)) = form else {
        return malformed();
    };
    let result = match client_and_token(&req, &state, form).await {
        Ok((app, token)) => grant::revoke(&state, &app, &token)
            .await
            .map_err(GrantError::Internal),
        Err(err) => Err(err),
    };
    if result.is_ok() {
        crate::metrics::revoked(crate::metrics::Revocation::OAuthToken, 1);
    }
    match result {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(err) => OAuthError(err).response(),
    }
}

/// `POST /oauth/introspect`: for confidential clients, about their own tokens.
pub async fn introspect(
    req: HttpRequest,
    state: Data<AppState>,
    form: Result<Form<TokenOnlyForm>, actix_web::Error>,
) -> HttpResponse {
    let Ok(Form(form)) = form else {
        return malformed();
    };
    let result = match client_and_token(&req, &state, form).await {
        // Introspection tells about tokens; only a client that proved its identity asks.
        Ok((app, _)) if !app.confidential => Err(GrantError::InvalidClient),
        Ok((app, token)) => grant::introspect(&state, &app, &token)
            .await
            .map_err(GrantError::Internal),
        Err(err) => Err(err),
    };
    match result {
        Ok(body) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(body),
        Err(err) => OAuthError(err).response(),
    }
}
