//! The GraphiQL explorer at `/graphiql`, served entirely by this binary: the page, the
//! vendored graphiql and React bundles and our own sign-in panel (`assets/graphiql/`), embedded
//! at build time. Nothing is fetched from another origin, and the page's CSP forbids it.

use std::sync::LazyLock;

use actix_web::{
    HttpResponse,
    http::header,
    web::{self, Path},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use maud::{DOCTYPE, html};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// One file the page loads.
struct Asset {
    /// The last segment of its URL.
    file: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// What the page loads, in the order it loads it: React and ReactDOM first (graphiql's UMD
/// bundle reads the globals they define), then graphiql, then our page script, which starts
/// GraphiQL with the sign-in panel. The vendored files are byte for byte what npm ships
/// (`scripts/vendor-graphiql.sh`; versions and sums in `assets/graphiql/README.md`).
static ASSETS: [Asset; 6] = [
    Asset {
        file: "graphiql.min.css",
        content_type: CSS,
        body: include_bytes!("../../assets/graphiql/vendor/graphiql/graphiql.min.css"),
    },
    Asset {
        file: "explorer.css",
        content_type: CSS,
        body: include_bytes!("../../assets/graphiql/explorer.css"),
    },
    Asset {
        file: "react.production.min.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../../assets/graphiql/vendor/react/react.production.min.js"),
    },
    Asset {
        file: "react-dom.production.min.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../../assets/graphiql/vendor/react-dom/react-dom.production.min.js"),
    },
    Asset {
        file: "graphiql.min.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../../assets/graphiql/vendor/graphiql/graphiql.min.js"),
    },
    Asset {
        file: "explorer.js",
        content_type: JAVASCRIPT,
        body: include_bytes!("../../assets/graphiql/explorer.js"),
    },
];

/// Each asset's URL: `/graphiql/static/<the first 16 hex digits of its SHA-256>/<file>`. A
/// build whose file changed serves it under a new URL, so browsers may keep every URL for good
/// (`immutable`) and never run a stale script against a newer page.
static URLS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| format!("/graphiql/static/{}/{}", version(asset), asset.file))
        .collect()
});

fn version(asset: &Asset) -> String {
    hex::encode(&Sha256::digest(asset.body)[..8])
}

fn url(file: &str) -> &'static str {
    ASSETS
        .iter()
        .zip(URLS.iter())
        .find(|(asset, _)| asset.file == file)
        .map_or("", |(_, url)| url.as_str())
}

/// The page's Content-Security-Policy. GraphiQL needs, and gets, only this:
/// - `script-src 'self'`: the four scripts above, no inline script, no `eval`.
/// - `style-src 'self' 'nonce-…'`: the two style sheets, plus the `<style>` element that
///   react-remove-scroll (in GraphiQL's dialogs: settings, shortcuts) adds while one is open.
///   It reads its nonce from the `__webpack_nonce__` global, which explorer.js sets from the
///   page; the nonce is new for each response. (Styles React and CodeMirror set on elements
///   go through the CSSOM, which CSP does not restrict.)
/// - `font-src data:`: graphiql's style sheet embeds its fonts (Roboto, Fira Code) as
///   `data:` URLs; `img-src data:` for the few `data:` images in it and the empty favicon.
/// - `connect-src 'self'`: GraphQL requests go to `/graphql` on this origin only.
///
/// Everything else is refused (`default-src 'none'`), so neither the page nor anything
/// injected into it can load or send anything to another origin; no page may frame it.
fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; \
         font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

/// Scripts and style sheets are not documents: opened directly, nothing in them may run or
/// load anything.
const ASSET_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// `GET /graphiql`: the page. Small and never cached (its nonce is new each time); the
/// large files it loads are cached for good.
pub async fn page() -> HttpResponse {
    let mut nonce = [0u8; 18];
    rand::rng().fill_bytes(&mut nonce);
    let nonce = STANDARD.encode(nonce);
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                // Read by explorer.js (see `page_policy`).
                meta name="style-nonce" content=(nonce);
                title { "admin-center GraphiQL" }
                // No favicon request (it would be a 404 in the console).
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(url("graphiql.min.css"));
                link rel="stylesheet" href=(url("explorer.css"));
            }
            body {
                div #graphiql data-endpoint="/graphql" {
                    p .explorer-loading { "Loading GraphiQL…" }
                    noscript { "GraphiQL needs JavaScript." }
                }
                script src=(url("react.production.min.js")) {}
                script src=(url("react-dom.production.min.js")) {}
                script src=(url("graphiql.min.js")) {}
                script src=(url("explorer.js")) {}
            }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, page_policy(&nonce)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(markup.into_string())
}

/// `GET /graphiql/static/{version}/{file}`: an embedded file, when both the version and the
/// name are the current ones; anything else is 404.
pub async fn asset(path: Path<(String, String)>) -> HttpResponse {
    let (version, file) = path.into_inner();
    let wanted = format!("/graphiql/static/{version}/{file}");
    let Some((asset, _)) = ASSETS
        .iter()
        .zip(URLS.iter())
        .find(|(_, url)| **url == wanted)
    else {
        return HttpResponse::NotFound().finish();
    };
    HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::CONTENT_SECURITY_POLICY, ASSET_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(("cross-origin-resource-policy", "same-origin"))
        .body(asset.body)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/graphiql", web::get().to(page))
        .route("/graphiql/static/{version}/{file}", web::get().to(asset));
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::ASSETS;

    /// The embedded vendored files are the ones `scripts/vendor-graphiql.sh` recorded: a
    /// hand edit (or a half-finished refresh) fails here.
    #[test]
    fn vendored_files_match_their_recorded_sums() {
        let sums = include_str!("../../assets/graphiql/vendor/SHA256SUMS");
        let vendored: Vec<_> = ASSETS
            .iter()
            .filter(|asset| !asset.file.starts_with("explorer."))
            .collect();
        assert_eq!(vendored.len(), 4);
        for asset in vendored {
            let sum = hex::encode(Sha256::digest(asset.body));
            let line = sums
                .lines()
                .find(|line| line.ends_with(&format!("/{}", asset.file)))
                .unwrap_or_else(|| panic!("{} is not in SHA256SUMS", asset.file));
            assert!(line.starts_with(&sum), "{}: {sum} != {line}", asset.file);
        }
    }
}
