//! `GET/POST /oauth/authorize` (RFC 6749 §4.1.1, RFC 7636, RFC 9207): the sign-in page, the
//! consent page, and the redirect back with a code.
//!
//! A request naming an unknown or disabled client, or a redirect URI that is not registered
//! exactly, gets an error page and is never redirected (RFC 6749 §4.1.2.1: the redirect URI
//! cannot be trusted). Every other error goes back to the app's redirect URI with `error`,
//! `state` and `iss`.

use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite},
    http::{StatusCode, header},
    web::{Data, Form, Query},
};
use entity::{developer_app, manager};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::{
    pages::{self, RequestFields},
    ticket::{self, CSRF_COOKIE, Ticket},
};
use crate::{
    auth::{Restriction, scope::ScopeSet},
    error::AppError,
    http::client_info,
    service::{authorization, developer_app::redirect_uris, grant, session},
    state::AppState,
};

/// How long the consent page may wait for an answer.
const CONSENT_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// The parameters of an authorization request, from the query (GET) or the sign-in form's
/// hidden fields (POST). Repeated parameters are refused by the parser (RFC 6749 §3.1).
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

/// What the POST forms send: the sign-in form (the request, `login`, `password`) or the
/// consent form (`consent`, `decision`). Both carry `csrf_token`.
#[derive(Deserialize)]
pub struct Posted {
    #[serde(flatten)]
    params: Params,
    login: Option<String>,
    password: Option<String>,
    csrf_token: Option<String>,
    consent: Option<String>,
    decision: Option<String>,
}

/// A request that passed every check.
struct Valid {
    app: developer_app::Model,
    owner: String,
    redirect_uri: String,
    /// Whether the request named it: the code is then bound to it (RFC 6749 §4.1.3).
    redirect_uri_given: bool,
    scopes: ScopeSet,
    /// `scopes` as the `scope` parameter.
    scope_text: String,
    state: Option<String>,
    challenge: String,
}

/// Why a request cannot go on.
enum Refusal {
    /// The client or redirect URI cannot be trusted: an error page, no redirect.
    Page(&'static str),
    /// An error for the app, sent to its (verified) redirect URI.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: &'static str,
        state: Option<String>,
    },
}

async fn validate(state: &AppState, params: &Params) -> Result<Result<Valid, Refusal>, AppError> {
    let Some(client_id) = params.client_id.as_deref() else {
        return Ok(Err(Refusal::Page(
            "The request names no application (client_id).",
        )));
    };
    let Some(app) = developer_app::Entity::find()
        .filter(developer_app::Column::ClientId.eq(client_id))
        .one(&state.db)
        .await?
        .filter(|a| a.disabled_at.is_none())
    else {
        return Ok(Err(Refusal::Page(
            "This application is unknown or disabled. Tell its developer.",
        )));
    };
    let registered = redirect_uris(&app);
    let redirect_uri = match params.redirect_uri.as_deref() {
        Some(uri) if registered.iter().any(|r| r == uri) => uri.to_owned(),
        None if registered.len() == 1 => registered[0].clone(),
        _ => {
            return Ok(Err(Refusal::Page(
                "The application asked to send you back to an address it has not registered. \
                 Nothing was sent. Tell its developer.",
            )));
        }
    };
    let back = |error, description| {
        Ok(Err(Refusal::Redirect {
            redirect_uri: redirect_uri.clone(),
            error,
            description,
            state: params.state.clone(),
        }))
    };
    if params.response_type.as_deref() != Some("code") {
        return back(
            "unsupported_response_type",
            "only the authorization code flow (response_type=code) is supported",
        );
    }
    if params.code_challenge_method.as_deref() != Some("S256") {
        return back(
            "invalid_request",
            "PKCE is required with code_challenge_method=S256",
        );
    }
    let Some(challenge) = params
        .code_challenge
        .as_deref()
        .filter(|c| grant::is_s256_challenge(c))
    else {
        return back(
            "invalid_request",
            "code_challenge is required: the base64url SHA-256 of the code verifier",
        );
    };
    let allowed = ScopeSet::from_bits(app.scopes);
    let scopes = match params.scope.as_deref() {
        None => allowed,
        Some(text) => match ScopeSet::parse(text) {
            Ok(asked) if !asked.is_empty() && allowed.contains(asked) => asked,
            _ => {
                return back(
                    "invalid_scope",
                    "the scope is unknown or not allowed for this application",
                );
            }
        },
    };
    let owner = match app.account_id {
        None => "the admin-center platform".to_owned(),
        Some(account) => entity::account::Entity::find_by_id(account)
            .one(&state.db)
            .await?
            .map(|a| a.name)
            .unwrap_or_else(|| "an unknown company".to_owned()),
    };
    Ok(Ok(Valid {
        owner,
        redirect_uri_given: params.redirect_uri.is_some(),
        redirect_uri,
        scopes,
        scope_text: scopes.to_string(),
        state: params.state.clone(),
        challenge: challenge.to_owned(),
        app,
    }))
}

/// The redirect back to the app (RFC 6749 §4.1.2, RFC 9207 `iss`).
fn redirect(state: &AppState, redirect_uri: &str, pairs: &[(&str, Option<&str>)]) -> HttpResponse {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "Cannot continue",
            "The redirect address is not valid.",
        );
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
        query.append_pair("iss", &state.audience.issuer);
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn refused(state: &AppState, refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Page(text) => {
            pages::message(StatusCode::BAD_REQUEST, "This request cannot be used", text)
        }
        Refusal::Redirect {
            redirect_uri,
            error,
            description,
            state: app_state,
        } => redirect(
            state,
            &redirect_uri,
            &[
                ("error", Some(error)),
                ("error_description", Some(description)),
                ("state", app_state.as_deref()),
            ],
        ),
    }
}

fn internal(err: AppError) -> HttpResponse {
    err.log("authorization endpoint failed");
    pages::message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The server could not finish this request. Try again in a moment.",
    )
}

fn csrf_cookie(req: &HttpRequest) -> Option<String> {
    req.cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| ticket::is_cookie_value(v))
}

fn with_cookie(state: &AppState, mut response: HttpResponse, value: &str) -> HttpResponse {
    let cookie = Cookie::build(CSRF_COOKIE, value.to_owned())
        .path("/oauth/authorize")
        .http_only(true)
        // Lax, not Strict: the app sends the browser here with a cross-site GET, which must
        // carry the cookie, or every request would mint a new one and two flows open in one
        // browser would break each other. Cross-site POSTs still go without it.
        .same_site(SameSite::Lax)
        .secure(state.audience.issuer.starts_with("https://"))
        .finish();
    if let Err(err) = response.add_cookie(&cookie) {
        tracing::error!(error = %err, "could not set the CSRF cookie");
    }
    response
}

fn request_fields(valid: &Valid) -> RequestFields<'_> {
    let mut fields = vec![
        ("response_type", "code"),
        ("client_id", valid.app.client_id.as_str()),
        ("scope", valid.scope_text.as_str()),
        ("code_challenge", valid.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if valid.redirect_uri_given {
        fields.push(("redirect_uri", valid.redirect_uri.as_str()));
    }
    if let Some(state) = &valid.state {
        fields.push(("state", state.as_str()));
    }
    RequestFields { fields }
}

/// `GET /oauth/authorize`: checks the request and shows the sign-in page.
pub async fn get(
    req: HttpRequest,
    state: Data<AppState>,
    query: Result<Query<Params>, actix_web::Error>,
) -> HttpResponse {
    let Ok(Query(params)) = query else {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "This request cannot be used",
            "The authorization request is malformed (a parameter is repeated or unknown).",
        );
    };
    let valid = match validate(&state, &params).await {
        Ok(Ok(valid)) => valid,
        Ok(Err(refusal)) => return refused(&state, refusal),
        Err(err) => return internal(err),
    };
    let cookie = csrf_cookie(&req).unwrap_or_else(ticket::new_cookie_value);
    let page = pages::sign_in(
        StatusCode::OK,
        &valid.app.name,
        &valid.owner,
        &request_fields(&valid),
        &state.page_key.csrf_token(&cookie),
        None,
    );
    with_cookie(&state, page, &cookie)
}

/// `POST /oauth/authorize`: the sign-in form, or the consent form.
pub async fn post(
    req: HttpRequest,
    state: Data<AppState>,
    form: Result<Form<Posted>, actix_web::Error>,
) -> HttpResponse {
    let Ok(Form(posted)) = form else {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "This request cannot be used",
            "The form is malformed.",
        );
    };
    let cookie = csrf_cookie(&req);
    if !state
        .page_key
        .csrf_matches(cookie.as_deref(), posted.csrf_token.as_deref())
    {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "This form has expired",
            "Go back to the application and start again. (The form's security token did not \
             match this browser; cookies must be enabled.)",
        );
    }
    let cookie = cookie.unwrap_or_default();
    let result = if posted.decision.is_some() || posted.consent.is_some() {
        decide(&req, &state, posted, &cookie).await
    } else {
        sign_in(&req, &state, posted, &cookie).await
    };
    result.unwrap_or_else(internal)
}

async fn sign_in(
    req: &HttpRequest,
    state: &AppState,
    posted: Posted,
    cookie: &str,
) -> Result<HttpResponse, AppError> {
    let params = posted.params;
    let valid = match validate(state, &params).await? {
        Ok(valid) => valid,
        Err(refusal) => return Ok(refused(state, refusal)),
    };
    let csrf_token = state.page_key.csrf_token(cookie);
    let again = |status, error: &str| {
        pages::sign_in(
            status,
            &valid.app.name,
            &valid.owner,
            &request_fields(&valid),
            &csrf_token,
            Some(error),
        )
    };
    let (Some(login), Some(password)) = (posted.login, posted.password) else {
        return Ok(again(
            StatusCode::BAD_REQUEST,
            "Enter your login and password.",
        ));
    };
    let client = client_info(req, state);
    let manager = match session::verify_password(state, &login, password, &client).await {
        Ok(manager) => manager,
        Err(AppError::BadCredentials) => {
            return Ok(again(
                StatusCode::UNAUTHORIZED,
                "Login or password is incorrect.",
            ));
        }
        Err(AppError::RateLimited { retry_after_secs }) => {
            let mut page = again(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts. Wait a moment, then try again.",
            );
            if let Ok(value) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Ok(page);
        }
        Err(err) => return Err(err),
    };
    match session::restriction_for(&manager) {
        Restriction::Unrestricted => {}
        Restriction::PasswordChange => {
            return Ok(pages::message(
                StatusCode::FORBIDDEN,
                "Change your password first",
                "Your password must be changed before you can authorize applications. Sign in \
                 to the management center, change it, then come back to the application.",
            ));
        }
        Restriction::EmailValidation => {
            return Ok(pages::message(
                StatusCode::FORBIDDEN,
                "Validate your e-mail address first",
                "Your e-mail address must be validated before you can authorize applications. \
                 Sign in to the management center and enter the code you receive, then come \
                 back to the application.",
            ));
        }
    }
    if let Some(refusal) = may_not_authorize(state, &manager, &valid.app).await? {
        return Ok(refusal);
    }
    let now = state.clock.now();
    if let Some(code) = authorization::reuse(
        state,
        &manager,
        &valid.app,
        valid.scopes,
        valid
            .redirect_uri_given
            .then_some(valid.redirect_uri.as_str()),
        &valid.challenge,
        now,
    )
    .await?
    {
        return Ok(redirect(
            state,
            &valid.redirect_uri,
            &[("code", Some(&code)), ("state", valid.state.as_deref())],
        ));
    }
    let ticket = state.page_key.seal(&Ticket {
        manager_id: manager.id,
        client_id: valid.app.client_id.clone(),
        redirect_uri: valid.redirect_uri.clone(),
        redirect_uri_given: valid.redirect_uri_given,
        scopes: valid.scopes.bits(),
        state: valid.state.clone(),
        code_challenge: valid.challenge.clone(),
        exp: (now + CONSENT_TTL).timestamp(),
        csrf: csrf_token.clone(),
    });
    Ok(pages::consent(
        &valid.app.name,
        &valid.owner,
        &manager.login,
        valid.scopes,
        &ticket,
        &csrf_token,
    ))
}

/// The page for a manager who may not authorize this app, if so.
async fn may_not_authorize(
    state: &AppState,
    manager: &manager::Model,
    app: &developer_app::Model,
) -> Result<Option<HttpResponse>, AppError> {
    if !authorization::may_authorize(&state.db, manager).await? {
        return Ok(Some(pages::message(
            StatusCode::FORBIDDEN,
            "Only API managers can authorize applications",
            "Sign in with an API manager's login. API managers are created by a company \
             manager, in companies where the platform allows them.",
        )));
    }
    if app.account_id.is_some_and(|a| a != manager.account_id) {
        return Ok(Some(pages::message(
            StatusCode::FORBIDDEN,
            "This application belongs to another company",
            "Only API managers of the company that registered it can authorize it.",
        )));
    }
    Ok(None)
}

async fn decide(
    req: &HttpRequest,
    state: &AppState,
    posted: Posted,
    cookie: &str,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let Some(ticket) = posted
        .consent
        .as_deref()
        .and_then(|sealed| state.page_key.open(sealed, cookie, now))
    else {
        return Ok(pages::message(
            StatusCode::BAD_REQUEST,
            "This page has expired",
            "Go back to the application and start again.",
        ));
    };
    // The app and its redirect URI are checked again: either may have changed meanwhile.
    let params = Params {
        response_type: Some("code".into()),
        client_id: Some(ticket.client_id.clone()),
        redirect_uri: ticket
            .redirect_uri_given
            .then(|| ticket.redirect_uri.clone()),
        scope: Some(ScopeSet::from_bits(ticket.scopes).to_string()),
        state: ticket.state.clone(),
        code_challenge: Some(ticket.code_challenge.clone()),
        code_challenge_method: Some("S256".into()),
    };
    let valid = match validate(state, &params).await? {
        Ok(valid) => valid,
        Err(refusal) => return Ok(refused(state, refusal)),
    };
    match posted.decision.as_deref() {
        Some("allow") => {}
        Some("deny") => {
            return Ok(redirect(
                state,
                &valid.redirect_uri,
                &[
                    ("error", Some("access_denied")),
                    (
                        "error_description",
                        Some("the API manager denied the request"),
                    ),
                    ("state", valid.state.as_deref()),
                ],
            ));
        }
        _ => {
            return Ok(pages::message(
                StatusCode::BAD_REQUEST,
                "Choose Allow or Deny",
                "Go back to the application and start again.",
            ));
        }
    }
    let Some(manager) = manager::Entity::find_by_id(ticket.manager_id)
        .one(&state.db)
        .await?
    else {
        return Ok(pages::message(
            StatusCode::FORBIDDEN,
            "This sign-in is no longer valid",
            "Go back to the application and start again.",
        ));
    };
    if session::restriction_for(&manager) != Restriction::Unrestricted {
        // Restricted since the sign-in page (a company manager forced a password change).
        return Ok(pages::message(
            StatusCode::FORBIDDEN,
            "This sign-in is no longer valid",
            "Sign in to the management center first, then come back to the application.",
        ));
    }
    if let Some(refusal) = may_not_authorize(state, &manager, &valid.app).await? {
        return Ok(refusal);
    }
    let client = client_info(req, state);
    let code = authorization::consent(
        state,
        &manager,
        &valid.app,
        valid.scopes,
        valid
            .redirect_uri_given
            .then_some(valid.redirect_uri.as_str()),
        &valid.challenge,
        &client,
    )
    .await?;
    Ok(redirect(
        state,
        &valid.redirect_uri,
        &[("code", Some(&code)), ("state", valid.state.as_deref())],
    ))
}
