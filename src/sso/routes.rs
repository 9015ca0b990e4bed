//! The browser's side of single sign-on: `GET /sso/{account}/start?return_to=…&code_challenge=…`
//! sends the browser to the account's identity provider, `GET /sso/callback` takes it back and
//! sends it on to `return_to` with a one-time code (`sso_code`) that the front end exchanges
//! with `completeSsoLogin(code, codeVerifier)`: no session token ever travels in a URL, and
//! the code is worth nothing without the verifier the front end kept. Failures answer a plain
//! page (never a redirect) that names the reason word the operator finds in the log
//! (`sso_login_failed reason=…`) and the audit log (`ssoLoginFailed`).

use actix_web::{
    HttpRequest, HttpResponse,
    cookie::{Cookie, SameSite, time::Duration as CookieDuration},
    http::{StatusCode, header},
    web::{self, Data},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    flow::{self, Callback},
    oidc::Reason,
};
use crate::{
    error::AppError,
    graphql::{IdKind, decode_global_id},
    http::client_info,
    oauth::pages,
    state::AppState,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sso/callback", web::get().to(callback))
        .route("/sso/{account}/start", web::get().to(start));
}

#[derive(Deserialize)]
struct StartQuery {
    return_to: Option<String>,
    /// A ticket of `startSsoLink`: link the identity instead of signing in.
    link: Option<String>,
    /// base64url(SHA-256(verifier)) of a verifier the front end keeps for `completeSsoLogin`.
    code_challenge: Option<String>,
}

/// The browser-binding cookie of one sign-in ([`flow::binding_cookie_name`]): ties the
/// callback to the browser that started the sign-in (a callback URL sent to someone else's
/// browser fails). With `value: None`, the cookie that removes it.
fn binding_cookie(state: &AppState, name: String, value: Option<String>) -> Cookie<'static> {
    let secure = state.config.issuer().starts_with("https://");
    let age = match value {
        Some(_) => CookieDuration::minutes(flow::PENDING_TTL.num_minutes()),
        None => CookieDuration::ZERO,
    };
    Cookie::build(name, value.unwrap_or_default())
        // `__Host-` cookies must have `Path=/`; over plain http the cookie stays on `/sso`.
        .path(if secure { "/" } else { "/sso" })
        .http_only(true)
        // The provider's redirect back is a cross-site top-level GET: Lax lets the cookie
        // through there and nowhere else.
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(age)
        .finish()
}

async fn start(
    req: HttpRequest,
    state: Data<AppState>,
    account: web::Path<String>,
    query: web::Query<StartQuery>,
) -> HttpResponse {
    let account = account.into_inner();
    let account_id = match decode_global_id(&account) {
        Some((IdKind::Account, id)) => Some(id),
        _ => Uuid::try_parse(&account).ok(),
    };
    let Some(account_id) = account_id else {
        return failure_page(Ok(Reason::NotEnabled));
    };
    let client = client_info(&req, &state);
    let request = flow::StartRequest {
        return_to: query.return_to.as_deref(),
        link: query.link.as_deref(),
        code_challenge: query.code_challenge.as_deref(),
    };
    match flow::start(&state, account_id, request, &client).await {
        Ok(answer) => {
            let cookie = binding_cookie(&state, answer.cookie_name, Some(answer.binding));
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, answer.location))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::REFERRER_POLICY, "no-referrer"))
                .cookie(cookie)
                .finish()
        }
        Err(reason) => failure_page(reason),
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

async fn callback(
    req: HttpRequest,
    state: Data<AppState>,
    query: web::Query<CallbackQuery>,
) -> HttpResponse {
    let client = client_info(&req, &state);
    let query = query.into_inner();
    let secure = state.config.issuer().starts_with("https://");
    let cookie_name = query
        .state
        .as_deref()
        .map(|value| flow::binding_cookie_name(value, secure));
    let binding = cookie_name
        .as_deref()
        .and_then(|name| req.cookie(name))
        .map(|c| c.value().to_owned());
    let params = Callback {
        state: query.state,
        code: query.code,
        iss: query.iss,
        error: query.error,
    };
    let mut answer = match flow::callback(&state, params, binding.as_deref(), &client).await {
        Ok(location) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            // The code is in the URL for one hop: no Referer carries it further.
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .finish(),
        Err(reason) => failure_page(reason),
    };
    // The flow is over either way (its pending sign-in is spent): its cookie goes.
    if binding.is_some()
        && let Some(name) = cookie_name
        && let Err(e) = answer.add_cookie(&binding_cookie(&state, name, None))
    {
        tracing::warn!(error = %e, "could not remove the sso binding cookie");
    }
    answer
}

/// The page for a failed start or callback.
fn failure_page(reason: Result<Reason, AppError>) -> HttpResponse {
    let reason = match reason {
        Ok(reason) => reason,
        Err(AppError::RateLimited { retry_after_secs }) => {
            let mut page = pages::message(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                "Wait a moment, then start signing in again.",
            );
            if let Ok(value) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                page.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return page;
        }
        Err(err) => {
            err.log("single sign-on");
            return pages::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Single sign-on failed on our side. Try again in a moment.",
            );
        }
    };
    let (status, title, text) = match reason {
        Reason::NotEnabled => (
            StatusCode::NOT_FOUND,
            "Single sign-on is not available",
            "This account does not sign in through an identity provider. Sign in with your \
             password, or ask a company manager.",
        ),
        Reason::Challenge => (
            StatusCode::BAD_REQUEST,
            "This sign-in link is incomplete",
            "Start signing in from the management center: the link it opens carries a \
             one-time challenge that this one lacks.",
        ),
        Reason::ReturnTo => (
            StatusCode::BAD_REQUEST,
            "This sign-in link is not allowed",
            "The address to return to after signing in is not one this account allows.",
        ),
        Reason::Link => (
            StatusCode::BAD_REQUEST,
            "This link request has expired or was already used",
            "Start linking your identity again from the management center.",
        ),
        Reason::State | Reason::Binding => (
            StatusCode::BAD_REQUEST,
            "This sign-in has expired or was already used",
            "Start signing in again from the management center, in this browser.",
        ),
        Reason::ProviderError => (
            StatusCode::UNAUTHORIZED,
            "Your identity provider did not sign you in",
            "The sign-in was cancelled or refused at your identity provider. Start again, or \
             ask your company's IT.",
        ),
        Reason::UnverifiedEmail => (
            StatusCode::FORBIDDEN,
            "Your e-mail address is not verified",
            "Your identity provider did not confirm your e-mail address, so it cannot be \
             matched to a manager. Ask your company's IT to verify it.",
        ),
        Reason::NoManager | Reason::Ambiguous => (
            StatusCode::FORBIDDEN,
            "No manager matches your identity",
            "You are signed in at your identity provider, but no single manager of this \
             account matches you. Ask a company manager to add you: single sign-on never \
             creates managers.",
        ),
        Reason::Address => (
            StatusCode::BAD_GATEWAY,
            "Your identity provider could not be used",
            "The identity provider's address is not public (or not https), and this server \
             only calls public https addresses. If the provider is on your own network, the \
             server's operator can set SSO_ALLOW_PRIVATE_NETWORKS; otherwise tell a company \
             manager.",
        ),
        Reason::Unreachable | Reason::Discovery | Reason::TokenEndpoint | Reason::Secret => (
            StatusCode::BAD_GATEWAY,
            "Your identity provider could not be used",
            "The identity provider could not be reached, or its settings here are wrong. Try \
             again later; if it keeps failing, tell a company manager.",
        ),
        Reason::NoIdToken
        | Reason::Signature
        | Reason::Issuer
        | Reason::Audience
        | Reason::Expired
        | Reason::Nonce
        | Reason::Claims => (
            StatusCode::UNAUTHORIZED,
            "The answer of your identity provider could not be verified",
            "Start signing in again. If it keeps failing, tell a company manager.",
        ),
    };
    pages::message(
        status,
        title,
        &format!("{text} (Reference: {}.)", reason.as_str()),
    )
}
