//! GraphiQL at `/graphiql`: the page and everything it loads come from this server (nothing
//! from another origin, and the CSP forbids it), with the right types and caching.
//! (tests/browser drives it in a real Chromium.)

use reqwest::{Response, header::HeaderMap};

use crate::harness::TestApp;

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    value(response.headers(), name)
}

fn value<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The values of every `name="…"` attribute in `html`.
fn attributes<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let marker = format!(" {name}=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// The page's CSP as directive → sources.
fn directives(policy: &str) -> Vec<(String, Vec<String>)> {
    policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            let mut words = d.split_whitespace().map(str::to_owned);
            (words.next().unwrap(), words.collect())
        })
        .collect()
}

/// `GET /graphiql`: status, headers, HTML.
async fn page(app: &TestApp) -> (u16, HeaderMap, String) {
    let response = app.client.get(app.url("/graphiql")).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn graphiql_page_loads_nothing_from_another_origin_and_its_csp_forbids_it() {
    let app = TestApp::new().await;
    let (status, headers, html) = page(&app).await;
    assert_eq!(status, 200);
    assert_eq!(value(&headers, "content-type"), "text/html; charset=utf-8");
    assert_eq!(value(&headers, "cache-control"), "no-store");
    assert_eq!(value(&headers, "x-content-type-options"), "nosniff");

    // No address of another origin anywhere in the page, and no inline script.
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(!html.contains("//unpkg") && !html.contains("cdn"), "{html}");
    assert_eq!(
        html.matches("<script").count(),
        attributes(&html, "src").len(),
        "every script is a file of this server: {html}"
    );

    let policy = value(&headers, "content-security-policy");
    let directives = directives(policy);
    let sources = |name: &str| -> Vec<String> {
        directives
            .iter()
            .find(|(d, _)| d == name)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| panic!("no {name} in {policy}"))
    };
    assert_eq!(sources("default-src"), ["'none'"]);
    assert_eq!(sources("script-src"), ["'self'"]);
    assert_eq!(sources("connect-src"), ["'self'"]);
    assert_eq!(sources("frame-ancestors"), ["'none'"]);
    assert_eq!(sources("base-uri"), ["'none'"]);
    // Nothing in any directive names another origin or a scheme that reaches one, and nothing
    // lets inline code or eval run.
    for (name, sources) in &directives {
        for source in sources {
            let allowed = ["'self'", "'none'", "data:"].contains(&source.as_str())
                || source.starts_with("'nonce-");
            assert!(allowed, "{name} allows {source}: {policy}");
        }
    }
    // The style nonce is the one the page hands to explorer.js, and new each time.
    let nonce = sources("style-src")
        .iter()
        .find_map(|s| {
            s.strip_prefix("'nonce-")?
                .strip_suffix('\'')
                .map(str::to_owned)
        })
        .unwrap();
    assert!(html.contains(&format!("content=\"{nonce}\"")), "{html}");
    let (_, again, again_html) = page(&app).await;
    assert!(!value(&again, "content-security-policy").contains(&nonce));
    assert!(!again_html.contains(&nonce));
}

#[tokio::test]
async fn graphiql_assets_are_served_with_their_types_and_cached_for_good() {
    let app = TestApp::new().await;
    let (_, _, html) = page(&app).await;
    let scripts = attributes(&html, "src");
    let sheets: Vec<_> = attributes(&html, "href")
        .into_iter()
        .filter(|href| href.ends_with(".css"))
        .collect();
    assert_eq!(
        scripts.len(),
        4,
        "react, react-dom, graphiql, explorer: {html}"
    );
    assert_eq!(sheets.len(), 2, "graphiql's and ours: {html}");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/graphiql");
    for (url, content_type) in scripts
        .iter()
        .map(|u| (u, "text/javascript; charset=utf-8"))
        .chain(sheets.iter().map(|u| (u, "text/css; charset=utf-8")))
    {
        assert!(url.starts_with("/graphiql/static/"), "{url}");
        let response = app.client.get(app.url(url)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(header(&response, "content-type"), content_type, "{url}");
        assert_eq!(
            header(&response, "cache-control"),
            "public, max-age=31536000, immutable",
            "{url}"
        );
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert!(header(&response, "content-security-policy").starts_with("default-src 'none'"));
        // What is served is the file in the repository, byte for byte.
        let file = url.rsplit('/').next().unwrap();
        let on_disk = ["", "vendor/graphiql", "vendor/react", "vendor/react-dom"]
            .iter()
            .map(|dir| root.join(dir).join(file))
            .find(|path| path.exists())
            .unwrap_or_else(|| panic!("{file} is not under assets/graphiql"));
        let body = response.bytes().await.unwrap();
        assert_eq!(body.as_ref(), std::fs::read(on_disk).unwrap(), "{url}");
    }
}

#[tokio::test]
async fn unknown_graphiql_assets_are_not_found() {
    let app = TestApp::new().await;
    let (_, _, html) = page(&app).await;
    let explorer = attributes(&html, "src")
        .into_iter()
        .find(|src| src.ends_with("/explorer.js"))
        .unwrap()
        .to_owned();
    let version = explorer.split('/').nth(3).unwrap();
    for path in [
        // An old build's version of a file, a file that is not there, a file under another
        // file's version, and paths that try to leave the embedded set.
        "/graphiql/static/0000000000000000/explorer.js".to_owned(),
        format!("/graphiql/static/{version}/nothing.js"),
        format!("/graphiql/static/{version}/explorer.css"),
        format!("/graphiql/static/{version}/..%2F..%2FCargo.toml"),
        "/graphiql/static/explorer.js".to_owned(),
        "/graphiql/graphiql.min.js".to_owned(),
    ] {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}
