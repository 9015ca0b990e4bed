//! The sign-in and consent pages as a browser drives them: no cookie jar, the one cookie
//! (`ac_oauth_csrf`) kept by hand, the hidden inputs posted back, redirects never followed.

use std::collections::HashMap;

use oauth2::{PkceCodeChallenge, url::Url};
use reqwest::header::HeaderMap;

use super::support::{API_PASSWORD, DevApp, STATE, World, issuer};
use crate::harness::TestApp;

/// One HTTP answer of the pages (or of any endpoint), body as text.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// Every `<input type="hidden" name=… value=…>` of the page, values unescaped.
    pub fn hidden_inputs(&self) -> Vec<(String, String)> {
        hidden_inputs(&self.body)
    }

    /// The query parameters of the redirect back to the app; panics unless this is a 303 to
    /// `redirect` (exactly, then `?`).
    pub fn redirect_params(&self, redirect: &str) -> HashMap<String, String> {
        assert_eq!(self.status, 303, "expected a redirect back: {self:?}");
        let location = self.location().expect("Location");
        assert!(
            location.starts_with(&format!("{redirect}?")),
            "redirected to {location}, not {redirect}"
        );
        Url::parse(location)
            .expect("absolute Location")
            .query_pairs()
            .into_owned()
            .collect()
    }

    /// Asserts an HTML error page that sends the browser nowhere.
    pub fn assert_error_page(&self, status: u16, what: &str) {
        assert_eq!(self.status, status, "{what}: {self:?}");
        assert!(
            self.location().is_none(),
            "{what}: an error page never redirects: {self:?}"
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("text/html")),
            "{what}: an HTML page: {self:?}"
        );
    }
}

/// The attributes of every `<input …>` tag of `html`, in order.
pub fn inputs(html: &str) -> Vec<HashMap<String, String>> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<input") {
        let tag = &rest[start + "<input".len()..];
        let end = tag.find('>').unwrap_or(tag.len());
        found.push(attributes(&tag[..end]));
        rest = &tag[end..];
    }
    found
}

fn attributes(tag: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = tag;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq]
            .trim()
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let after = rest[eq + 1..].trim_start();
        let (value, tail) = match after.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let body = &after[1..];
                let close = body.find(quote).unwrap_or(body.len());
                (&body[..close], &body[(close + 1).min(body.len())..])
            }
            _ => {
                let close = after
                    .find(|c: char| c.is_whitespace() || c == '/')
                    .unwrap_or(after.len());
                (&after[..close], &after[close..])
            }
        };
        out.insert(name, unescape(value));
        rest = tail;
    }
    out
}

pub fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    inputs(html)
        .into_iter()
        .filter(|a| {
            a.get("type")
                .is_some_and(|t| t.eq_ignore_ascii_case("hidden"))
        })
        .filter_map(|a| {
            Some((
                a.get("name")?.clone(),
                a.get("value").cloned().unwrap_or_default(),
            ))
        })
        .collect()
}

/// A browser without a cookie jar: it keeps the one cookie of the pages, `ac_oauth_csrf`, by
/// hand, and never follows redirects.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    pub cookie: Option<String>,
    /// Sent as `X-Forwarded-For` (servers that trust a proxy throttle by it).
    pub address: Option<String>,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            client: no_redirects(),
            base: app.url(""),
            cookie: None,
            address: None,
        }
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set in headers.get_all("set-cookie") {
            let set = set.to_str().unwrap_or_default();
            if let Some(pair) = set.split(';').next()
                && pair.trim_start().starts_with("ac_oauth_csrf=")
            {
                self.cookie = Some(pair.trim().to_owned());
            }
        }
        let body = response.text().await.expect("body");
        Page {
            status,
            headers,
            body,
        }
    }

    /// `GET url` (absolute, or a path of the server).
    pub async fn get(&mut self, url: &str) -> Page {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            format!("{}{url}", self.base)
        };
        let mut request = self.client.get(url);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(address) = &self.address {
            request = request.header("x-forwarded-for", address);
        }
        let response = request.send().await.expect("GET");
        self.read(response).await
    }

    /// `POST /oauth/authorize` with `form` (and the cookie, if any).
    pub async fn post(&mut self, form: &[(String, String)]) -> Page {
        let mut request = self
            .client
            .post(format!("{}/oauth/authorize", self.base))
            .form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(address) = &self.address {
            request = request.header("x-forwarded-for", address);
        }
        let response = request.send().await.expect("POST");
        self.read(response).await
    }

    /// Fills the sign-in form of `page`: its hidden inputs, `login` and `password`.
    pub async fn sign_in(&mut self, page: &Page, login: &str, password: &str) -> Page {
        let mut form = page.hidden_inputs();
        form.push(("login".into(), login.into()));
        form.push(("password".into(), password.into()));
        self.post(&form).await
    }

    /// Answers the consent form of `page` with `decision` (`allow` or `deny`).
    pub async fn decide(&mut self, page: &Page, decision: &str) -> Page {
        let mut form = page.hidden_inputs();
        form.push(("decision".into(), decision.into()));
        self.post(&form).await
    }
}

/// A reqwest client that never follows redirects (as the `oauth2` crate asks of its client).
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The authorization endpoint with exactly these query parameters.
pub fn authorize_url(app: &TestApp, params: &[(&str, &str)]) -> String {
    Url::parse_with_params(&app.url("/oauth/authorize"), params)
        .expect("url")
        .to_string()
}

/// A PKCE pair: (challenge, verifier).
pub fn pkce() -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    (challenge.as_str().to_owned(), verifier.secret().clone())
}

/// The parameters of a good authorization request of `dev` for `scope` with `challenge`.
pub fn request_params<'a>(
    dev: &'a DevApp,
    scope: &'a str,
    challenge: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", &dev.client_id),
        ("redirect_uri", &dev.redirect),
        ("scope", scope),
        ("state", STATE),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// A code granted through the pages, with the PKCE verifier that redeems it.
#[derive(Clone, Debug)]
pub struct Grant {
    pub code: String,
    pub verifier: String,
    pub challenge: String,
}

/// The world's API manager authorizes `dev` for `scope` through the real pages (consent when
/// asked); the code of the redirect back, whose `state` and `iss` are checked.
pub async fn grant(world: &World, dev: &DevApp, scope: &str) -> Grant {
    grant_as(&world.app, dev, scope, &world.api.login, API_PASSWORD).await
}

pub async fn grant_as(
    app: &TestApp,
    dev: &DevApp,
    scope: &str,
    login: &str,
    password: &str,
) -> Grant {
    let (challenge, verifier) = pkce();
    let mut browser = Browser::new(app);
    let page = browser
        .get(&authorize_url(app, &request_params(dev, scope, &challenge)))
        .await;
    assert_eq!(page.status, 200, "sign-in page: {page:?}");
    let mut answer = browser.sign_in(&page, login, password).await;
    if answer.status == 200 {
        answer = browser.decide(&answer, "allow").await;
    }
    let params = answer.redirect_params(&dev.redirect);
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
    assert_eq!(params.get("iss"), Some(&issuer(app)));
    Grant {
        code: params.get("code").expect("code").clone(),
        verifier,
        challenge,
    }
}
