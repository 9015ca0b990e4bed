//! CORS: browser apps on the configured origins may call the API (and the OAuth endpoints a
//! public client calls); other origins get no CORS headers; nothing by default.

use admin_center::config::CorsOrigins;
use reqwest::{Method, Response};

use crate::harness::TestApp;

const FRONT_END: &str = "http://localhost:3000";

async fn preflight(app: &TestApp, path: &str, origin: &str) -> Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

async fn post_from(app: &TestApp, origin: &str) -> Response {
    app.client
        .post(app.url("/graphql"))
        .header("origin", origin)
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn no_origin_is_allowed_by_default() {
    let app = TestApp::new().await;
    let answer = preflight(&app, "/graphql", FRONT_END).await;
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
    let answer = post_from(&app, FRONT_END).await;
    assert_eq!(answer.status(), 200, "the request itself is served");
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_configured_origin_passes_preflight_and_reads_answers_and_others_do_not() {
    let app = TestApp::with_config(|c| {
        c.cors_origins = CorsOrigins::List(vec![FRONT_END.into()]);
    })
    .await;
    for path in ["/graphql", "/oauth/token", "/oauth/revoke"] {
        let answer = preflight(&app, path, FRONT_END).await;
        assert_eq!(answer.status(), 200, "{path}");
        assert_eq!(
            header(&answer, "access-control-allow-origin"),
            Some(FRONT_END),
            "{path}"
        );
        let methods = header(&answer, "access-control-allow-methods").unwrap_or_default();
        assert!(methods.contains("POST"), "{path}: {methods}");
        let headers = header(&answer, "access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(headers.contains("authorization"), "{path}: {headers}");
        assert!(headers.contains("content-type"), "{path}: {headers}");
        // Bearer tokens, never cookies: credentials are not allowed.
        assert_eq!(header(&answer, "access-control-allow-credentials"), None);
    }
    let answer = post_from(&app, FRONT_END).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        header(&answer, "access-control-allow-origin"),
        Some(FRONT_END)
    );
    let exposed = header(&answer, "access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-request-id"), "{exposed}");

    let evil = "https://evil.example";
    let answer = preflight(&app, "/graphql", evil).await;
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
    let answer = post_from(&app, evil).await;
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
    // Same-origin pages (GraphiQL) send `Origin` too: still served.
    assert_eq!(answer.status(), 200);
    // The authorization endpoint is navigated to, never called across origins.
    let answer = preflight(&app, "/oauth/authorize", FRONT_END).await;
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_star_allows_any_origin_without_credentials() {
    let app = TestApp::with_config(|c| c.cors_origins = CorsOrigins::Any).await;
    let answer = preflight(&app, "/graphql", "https://anywhere.example").await;
    assert_eq!(answer.status(), 200);
    assert_eq!(header(&answer, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&answer, "access-control-allow-credentials"), None);
    let answer = post_from(&app, "https://anywhere.example").await;
    assert_eq!(header(&answer, "access-control-allow-origin"), Some("*"));
}
