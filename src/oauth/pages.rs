//! The HTML pages of the authorization endpoint: sign-in, consent, and messages. Rendered by
//! maud, which escapes every value; no JavaScript, no third-party resources, one inline
//! style sheet allowed by its hash in the CSP. Readable on a phone (viewport, fluid width).
//!
//! The form contract (SPEC 6): the sign-in form has `login` and `password`; the consent form
//! a submit named `decision` (`allow` or `deny`); every form carries a hidden `csrf_token`.

use std::sync::LazyLock;

use actix_web::{
    HttpResponse,
    http::{StatusCode, header},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

use crate::auth::scope::ScopeSet;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}\
main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:.5rem;box-shadow:0 1px 3px #0002}\
h1{font-size:1.3rem;margin:0 0 1rem}p{line-height:1.45}label{display:block;margin:.8rem 0 .3rem;font-weight:600}\
input[type=text],input[type=password]{box-sizing:border-box;width:100%;padding:.6rem;font-size:1rem;border:1px solid #9aa1ad;border-radius:.3rem}\
button{font-size:1rem;padding:.6rem 1.2rem;margin:1rem .5rem 0 0;border-radius:.3rem;border:1px solid #2457c5;background:#2457c5;color:#fff}\
button.secondary{background:#fff;color:#2457c5}ul{padding-left:1.2rem}li{margin:.4rem 0}\
.error{background:#fdecea;border:1px solid #e0a29b;padding:.6rem;border-radius:.3rem}.small{color:#566;font-size:.9rem}\
@media (max-width:30rem){main{margin:0;border-radius:0;box-shadow:none}}";

/// The Content-Security-Policy of every page: nothing loads, nothing runs, no page may frame
/// it; only the one inline style sheet, by hash. (`form-action` is left out on purpose:
/// browsers apply it to the redirect that follows the form, which goes to the app.)
static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; frame-ancestors 'none'"
    )
});

/// The hidden fields that carry the authorization request through the sign-in form.
pub struct RequestFields<'a> {
    pub fields: Vec<(&'static str, &'a str)>,
}

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · admin-center" }
                style { (PreEscaped(STYLE)) }
            }
            body { main { (body) } }
        }
    }
}

/// Any page, with the headers every page of the flow sends.
pub fn respond(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP.as_str()))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(markup.into_string())
}

/// A page that only says something (an error, or what to do first).
pub fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    respond(
        status,
        layout(
            title,
            html! {
                h1 { (title) }
                p { (text) }
            },
        ),
    )
}

/// The sign-in page for `app_name` (owned by `owner`).
pub fn sign_in(
    status: StatusCode,
    app_name: &str,
    owner: &str,
    request: &RequestFields<'_>,
    csrf_token: &str,
    error: Option<&str>,
) -> HttpResponse {
    respond(
        status,
        layout(
            "Sign in",
            html! {
                h1 { "Sign in to authorize " (app_name) }
                p.small { "An application by " (owner) " asks to act for an API manager of your company." }
                @if let Some(error) = error {
                    p.error role="alert" { (error) }
                }
                form method="post" action="/oauth/authorize" {
                    @for (name, value) in &request.fields {
                        input type="hidden" name=(name) value=(value);
                    }
                    input type="hidden" name="csrf_token" value=(csrf_token);
                    label for="login" { "Login" }
                    input #login type="text" name="login" autocomplete="username" autocapitalize="none" required;
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    button type="submit" { "Sign in" }
                }
                p.small { "Only API managers can authorize applications." }
            },
        ),
    )
}

/// The consent page: the app, its owner, and each scope in plain words.
pub fn consent(
    app_name: &str,
    owner: &str,
    manager_login: &str,
    scopes: ScopeSet,
    ticket: &str,
    csrf_token: &str,
) -> HttpResponse {
    respond(
        StatusCode::OK,
        layout(
            "Authorize",
            html! {
                h1 { "Authorize " (app_name) "?" }
                p { "This application, by " strong { (owner) } ", asks to act as "
                    strong { (manager_login) } ". It will be able to:" }
                ul {
                    @for scope in scopes.iter() {
                        li { (scope.description()) " " span.small { "(" (scope.name()) ")" } }
                    }
                }
                p.small { "It can never do more than you can. A company manager can revoke it at any time." }
                form method="post" action="/oauth/authorize" {
                    input type="hidden" name="consent" value=(ticket);
                    input type="hidden" name="csrf_token" value=(csrf_token);
                    button type="submit" name="decision" value="allow" { "Allow" }
                    button.secondary type="submit" name="decision" value="deny" { "Deny" }
                }
            },
        ),
    )
}
