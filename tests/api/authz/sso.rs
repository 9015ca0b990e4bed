//! Single sign-on settings, as every caller: only company managers read (`account { sso }`)
//! or change (`updateAccountSso`) their own account's settings; team and API managers are
//! refused, and app tokens never reach them whatever their scopes (SPEC 6: account
//! administration is for people). The secret is never readable by anyone.

use super::*;

const SET_UP: &str = r#"updateAccountSso(input: {
    issuer: "https://idp.example.com/realms/acme", clientId: "admin-center",
    clientSecret: "row-secret-value", returnToAllowList: ["https://admin.example.com/"] })"#;

/// Account B's settings: another issuer, so reading the wrong account's row shows.
const SET_UP_B: &str = r#"updateAccountSso(input: {
    issuer: "https://login.b.example/tenant", clientId: "b-client",
    clientSecret: "b-secret-value", returnToAllowList: ["https://b.example/"] })"#;

#[tokio::test]
async fn sso_settings_are_read_by_company_managers_of_the_account_only() {
    let fixture = fixture().await;
    // Both accounts set up differently, so a company manager's answer is its own account's.
    for (owner, set_up) in [
        (&fixture.owner, SET_UP),
        (
            fixture.user(Caller::OtherCompany).expect("B's owner"),
            SET_UP_B,
        ),
    ] {
        let body = owner
            .gql(&format!("mutation {{ {set_up} {{ issuer }} }}"), json!({}))
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let query = "{ account { id sso { issuer clientId clientSecretSet enabled enforced \
                 identityClaim returnToAllowList redirectUri startUrl } } }";
    let mut failures = Vec::new();
    for caller in CALLERS {
        let body = fixture.send(caller, query, json!({})).await;
        let sso = &body["data"]["account"]["sso"];
        let ok = match COMPANY_ONLY.of(caller) {
            Outcome::Data => {
                let issuer = if caller == Caller::OtherCompany {
                    "https://login.b.example/tenant"
                } else {
                    "https://idp.example.com/realms/acme"
                };
                body["errors"].is_null()
                    && sso["issuer"] == issuer
                    && sso["clientSecretSet"] == true
                    && sso["redirectUri"] == fixture.app.url("/sso/callback")
                    && sso["startUrl"]
                        .as_str()
                        .is_some_and(|url| url.ends_with("/start"))
            }
            Outcome::Code(code) => error_code(&body) == Some(code) && sso.is_null(),
            other => unreachable!("no such expectation here: {other:?}"),
        };
        let text = body.to_string();
        if !ok || text.contains("row-secret-value") || text.contains("b-secret-value") {
            failures.push(format!("{caller:?}: {body}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn sso_settings_change_only_for_company_managers() {
    let fixture = fixture().await;
    let rows = [
        Row {
            name: "updateAccountSso (set up)",
            call: SET_UP,
            on: "AccountSso",
            select: "issuer clientSecretSet",
            expect: COMPANY_ONLY,
            ..Row::BASE
        },
        Row {
            name: "updateAccountSso (enforced, no break-glass company manager)",
            call: r#"updateAccountSso(input: {
                issuer: "https://idp.example.com/realms/acme", clientId: "admin-center",
                clientSecret: "row-secret-value", returnToAllowList: ["https://admin.example.com/"],
                enabled: true, enforced: true })"#,
            on: "AccountSso",
            select: "issuer",
            expect: Expect {
                company: CONFLICT,
                other_company: CONFLICT,
                ..COMPANY_ONLY
            },
            ..Row::BASE
        },
    ];
    fixture.check(Kind::Mutation, &rows).await;
}

/// Linking one's own identity at the provider: company and team managers, with their own
/// session, in an account with SSO enabled. API managers never sign in through SSO; app
/// tokens never reach it.
const OWN_LINK: Expect = Expect {
    api: FORBIDDEN,
    app: App::Refused,
    ..SIGNED_IN
};

#[tokio::test]
async fn sso_links_are_for_company_and_team_managers_themselves() {
    let fixture = fixture().await;
    for owner in [
        &fixture.owner,
        fixture.user(Caller::OtherCompany).expect("B's owner"),
    ] {
        let body = owner
            .gql(
                r#"mutation { updateAccountSso(input: {
                    issuer: "https://idp.example.com/realms/acme", clientId: "admin-center",
                    clientSecret: "row-secret-value",
                    returnToAllowList: ["https://admin.example.com/"], enabled: true }) { enabled } }"#,
                json!({}),
            )
            .await;
        assert_eq!(body["data"]["updateAccountSso"]["enabled"], true, "{body}");
    }
    let rows = [
        Row {
            name: "startSsoLink",
            call: "startSsoLink",
            on: "String",
            select: "",
            expect: OWN_LINK,
            ..Row::BASE
        },
        Row {
            name: "unlinkSsoIdentities (the caller's own)",
            params: "$id: ID!",
            call: "unlinkSsoIdentities(managerId: $id)",
            on: "Manager",
            select: "ssoIdentities { issuer }",
            vars: |r| json!({ "id": r.me }),
            expect: SIGNED_IN.refused(),
            ..Row::BASE
        },
        Row {
            name: "unlinkSsoIdentities (another team manager of A)",
            params: "$id: ID!",
            call: "unlinkSsoIdentities(managerId: $id)",
            on: "Manager",
            select: "id",
            vars: |r| json!({ "id": r.bystander }),
            expect: MANAGER_ADMIN_IN_A,
            ..Row::BASE
        },
        Row {
            name: "completeSsoLink (a code nobody was given)",
            call: r#"completeSsoLink(code: "acsc_0000")"#,
            on: "Manager",
            select: "id",
            expect: Expect {
                company: UNAUTHENTICATED,
                other_company: UNAUTHENTICATED,
                team_with_right: UNAUTHENTICATED,
                team_without_right: UNAUTHENTICATED,
                team_on_t2: UNAUTHENTICATED,
                team_elsewhere: UNAUTHENTICATED,
                ..OWN_LINK
            },
            ..Row::BASE
        },
    ];
    fixture.check(Kind::Mutation, &rows).await;
}

#[tokio::test]
async fn linked_identities_are_read_by_company_managers_and_the_manager_itself() {
    let fixture = fixture().await;
    let rows = [
        Row {
            name: "Manager.ssoIdentities (of the caller itself)",
            call: "me",
            on: "Manager",
            select: "ssoIdentities { issuer subject linkedAt }",
            expect: Expect {
                anonymous: NULL,
                ..SIGNED_IN.refused()
            },
            ..Row::BASE
        },
        Row {
            name: "Manager.ssoIdentities (of another team manager of A)",
            params: "$id: ID!",
            call: "manager(id: $id)",
            on: "Manager",
            select: "ssoIdentities { subject }",
            vars: |r| json!({ "id": r.bystander }),
            expect: ONLY_COMPANY_OF_A,
            ..Row::BASE
        },
    ];
    fixture.check(Kind::Query, &rows).await;
}
