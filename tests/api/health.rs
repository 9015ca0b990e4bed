//! `/healthz` and `/readyz`.

use serde_json::{Value, json};

use crate::harness::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer_200_with_the_database_up() {
    let app = TestApp::new().await;
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body, json!({ "status": status }));
    }
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_is_gone_while_healthz_stays_200() {
    let app = TestApp::new().await;
    app.state.db.clone().close().await.unwrap();
    let response = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "status": "unavailable" }));
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn suite_runs_on_the_database_it_was_asked_for() {
    use sea_orm::DbBackend;
    let app = TestApp::new().await;
    let expected = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => DbBackend::Postgres,
        _ => DbBackend::Sqlite,
    };
    assert_eq!(app.state.db.get_database_backend(), expected);
}
