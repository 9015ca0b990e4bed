//! TLS to PostgreSQL (rustls). CI runs the PostgreSQL suite against a cluster that accepts
//! TLS connections only, with `TEST_DATABASE_URL` asking for `sslmode=verify-full` and the
//! test CA in `sslrootcert`: every PostgreSQL test then goes over TLS. These check what an
//! operator sees. Against SQLite, or a PostgreSQL URL without `sslmode=verify-full`, there is
//! no TLS server to check and they say so.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::harness::TestApp;

fn tls_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL").ok()?;
    if url.starts_with("postgres") && url.contains("sslmode=verify-full") {
        Some(url)
    } else {
        eprintln!(
            "TEST_DATABASE_URL names no PostgreSQL with sslmode=verify-full: nothing to check"
        );
        None
    }
}

/// `url` with its `sslmode`/`sslrootcert` parameters replaced by `params`.
fn with_params(url: &str, params: &str) -> String {
    let base = url.split_once('?').map_or(url, |(base, _)| base);
    format!("{base}{params}")
}

#[tokio::test]
async fn the_server_reaches_a_postgresql_that_requires_tls_over_verified_tls() {
    let Some(url) = tls_url() else { return };
    let app = TestApp::new().await;
    let row = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.try_get::<bool>("", "ssl").unwrap(),
        "the app's connection is not encrypted"
    );
    let version: String = row.try_get("", "version").unwrap();
    assert!(version.starts_with("TLSv1."), "{version}");

    // Without TLS the server refuses, and the error says why.
    let plain = admin_center::db::connect(&with_params(&url, "?sslmode=disable"))
        .await
        .expect_err("a plain connection was accepted");
    assert!(plain.to_string().contains("no encryption"), "{plain}");
    // Verifying against the public roots only, the test CA's certificate is refused.
    let unknown = admin_center::db::connect(&with_params(&url, "?sslmode=verify-full"))
        .await
        .expect_err("a certificate of an unknown CA was accepted");
    assert!(
        unknown.to_string().to_lowercase().contains("certificate"),
        "{unknown}"
    );
}
