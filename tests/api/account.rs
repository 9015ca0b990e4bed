//! The `account` and `me` queries, account creation and the first-start bootstrap.

use admin_center::{
    auth::password,
    clock::Clock,
    error::AppError,
    service::account::{self, NewAccount},
};
use entity::{account as account_entity, audit_event, manager};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::harness::{TestApp, error_code};

#[tokio::test]
async fn anonymous_caller_gets_null_me_and_unauthenticated_account() {
    let app = TestApp::new().await;
    let (status, body) = app.post_graphql("{ me { id } }", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "data": { "me": null } }));

    let (status, body) = app.post_graphql("{ account { id name } }", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    assert_eq!(body["data"], json!(null));
}

#[tokio::test]
async fn company_manager_reads_its_account_and_itself() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    // A new manager must change its one-time password at first sign-in (SPEC 9 defaults)...
    assert!(created.owner.force_password_change);
    let body = owner
        .gql(
            "{ account { id name apiManagersAllowed }
               me { id kind login email emailValidated
                    loginSettings { forcePasswordChange userInitiatedPasswordReset forceValidationPrompt } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"], json!(null), "{body}");
    assert_eq!(
        body["data"]["account"]["id"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Account,
            created.account.id
        ))
    );
    assert_eq!(body["data"]["account"]["name"], json!(created.account.name));
    assert_eq!(body["data"]["account"]["apiManagersAllowed"], json!(false));
    let me = &body["data"]["me"];
    assert_eq!(
        me["id"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Manager,
            created.owner.id
        ))
    );
    assert_eq!(me["kind"], json!("COMPANY"));
    assert_eq!(me["login"], json!(created.owner.login));
    assert_eq!(me["emailValidated"], json!(false));
    // ...which the signed-in owner has done.
    assert_eq!(
        me["loginSettings"],
        json!({ "forcePasswordChange": false, "userInitiatedPasswordReset": true, "forceValidationPrompt": false })
    );
}

#[tokio::test]
async fn each_company_manager_sees_only_its_own_account() {
    let app = TestApp::new().await;
    let (first, first_owner) = app.company_owner().await;
    let (second, second_owner) = app.company_owner().await;
    let q = "{ account { id } me { id } }";
    let a = first_owner.gql(q, json!({})).await;
    let b = second_owner.gql(q, json!({})).await;
    assert_eq!(
        a["data"]["account"]["id"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Account,
            first.account.id
        ))
    );
    assert_eq!(
        b["data"]["account"]["id"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Account,
            second.account.id
        ))
    );
    assert_eq!(
        b["data"]["me"]["id"],
        json!(crate::harness::gid(
            crate::harness::IdKind::Manager,
            second.owner.id
        ))
    );
}

#[tokio::test]
async fn the_session_of_a_deleted_manager_is_unauthenticated_on_me() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    manager::Entity::delete_by_id(created.owner.id)
        .exec(&app.state.db)
        .await
        .unwrap();
    let body = owner.gql("{ me { id } }", json!({})).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert_eq!(body["data"], json!(null), "{body}");
}

#[tokio::test]
async fn created_owner_password_is_stored_only_as_an_argon2_hash() {
    let app = TestApp::new().await;
    let created = app.new_account().await;
    let stored = manager::Entity::find_by_id(created.owner.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.0.starts_with("$argon2id$"));
    assert!(!stored.password_hash.0.contains(&created.owner_password));
    assert!(
        password::verify(created.owner_password.clone(), stored.password_hash)
            .await
            .unwrap()
    );
    assert!(!format!("{created:?}").contains(&created.owner_password));
}

#[tokio::test]
async fn account_creation_refuses_a_taken_login_whatever_its_case_and_stores_nothing() {
    let app = TestApp::new().await;
    let created = app.new_account().await;
    let before = account_entity::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    let result = account::create(
        &app.state.db,
        app.clock.now(),
        NewAccount {
            name: "Copycat".into(),
            owner_login: created.owner.login.to_uppercase(),
            owner_name: "Copy".into(),
            owner_email: "copy@example.com".into(),
            allow_api_managers: false,
        },
    )
    .await;
    assert!(matches!(result, Err(AppError::Conflict(_))), "{result:?}");
    let after = account_entity::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(before, after, "a refused account must leave nothing behind");
}

#[tokio::test]
async fn account_creation_refuses_bad_input_with_the_field_named() {
    let app = TestApp::new().await;
    let result = account::create(
        &app.state.db,
        app.clock.now(),
        NewAccount {
            name: "Acme".into(),
            owner_login: "boss".into(),
            owner_name: "Boss".into(),
            owner_email: "not-an-address".into(),
            allow_api_managers: false,
        },
    )
    .await;
    match result {
        Err(AppError::BadUserInput(message)) => assert!(message.contains("email"), "{message}"),
        other => panic!("expected BAD_USER_INPUT, got {other:?}"),
    }
    assert_eq!(
        account_entity::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn account_creation_is_audited_without_the_password() {
    let app = TestApp::new().await;
    let created = app.new_account().await;
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::AccountId.eq(created.account.id))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.action, "createAccount");
    assert_eq!(event.actor_label, "operator");
    assert_eq!(event.target_id, Some(created.account.id));
    let after = event.after.clone().unwrap();
    assert_eq!(after["ownerLogin"], json!(created.owner.login));
    assert!(!after.to_string().contains(&created.owner_password));
}

#[tokio::test]
async fn bootstrap_creates_the_first_account_only_on_an_empty_database() {
    let app = TestApp::new().await;
    let setup = admin_center::db::begin_setup(&app.state.db).await.unwrap();
    let first = account::bootstrap_if_empty(&setup, app.clock.now())
        .await
        .unwrap()
        .expect("an empty database gets a first account");
    setup.commit().await.unwrap();
    assert_eq!(first.owner.login, account::BOOTSTRAP_LOGIN);
    assert!(first.owner.force_password_change);
    let setup = admin_center::db::begin_setup(&app.state.db).await.unwrap();
    let again = account::bootstrap_if_empty(&setup, app.clock.now())
        .await
        .unwrap();
    setup.commit().await.unwrap();
    assert!(
        again.is_none(),
        "the second start must not create or print anything"
    );
    assert_eq!(
        account_entity::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn operator_switches_api_managers_and_the_account_shows_it() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let now = app.clock.now();
    account::set_api_managers_allowed(&app.state.db, now, created.account.id, true)
        .await
        .unwrap();
    let body = owner
        .gql("{ account { apiManagersAllowed } }", json!({}))
        .await;
    assert_eq!(body["data"]["account"]["apiManagersAllowed"], json!(true));
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("allowApiManagers"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].before,
        Some(json!({ "apiManagersAllowed": false }))
    );
    assert_eq!(events[0].after, Some(json!({ "apiManagersAllowed": true })));
    let missing =
        account::set_api_managers_allowed(&app.state.db, now, uuid::Uuid::now_v7(), true).await;
    assert!(matches!(missing, Err(AppError::NotFound("account"))));
}
