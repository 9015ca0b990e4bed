//! What Relay and Apollo clients rely on (issue 9): global ids and `node`/`nodes`, `first: 0`
//! for a count, backward pages of nested lists, create inputs with required fields, patches
//! where `null` clears and absent leaves alone, top-level and searched lists, and an audit log
//! of objects with filters. All over HTTP with real sign-ins.

use admin_center::clock::Clock;
use entity::manager::ManagerKind;
use serde_json::{Value, json};

use crate::harness::{IdKind, TestApp, User, error_code, gid};

const PASSWORD: &str = "Relay-Pass-2026";

fn data<'a>(body: &'a Value, field: &str) -> &'a Value {
    assert!(body["errors"].is_null(), "unexpected errors: {body}");
    &body["data"][field]
}

fn id(body: &Value, field: &str) -> String {
    data(body, field)["id"].as_str().unwrap().to_owned()
}

async fn team(who: &User, name: &str, parent: Option<&str>) -> String {
    let body = who
        .gql(
            "mutation($n: String!, $p: ID) { createTeam(input: { name: $n, parentId: $p }) { id } }",
            json!({ "n": name, "p": parent }),
        )
        .await;
    id(&body, "createTeam")
}

async fn portal(who: &User, name: &str) -> String {
    let body = who
        .gql(
            "mutation($n: String!) { createPortal(input: { name: $n }) { id } }",
            json!({ "n": name }),
        )
        .await;
    id(&body, "createPortal")
}

async fn rep(who: &User, team: &str, login: &str) -> String {
    let body = who
        .gql(
            "mutation($t: ID!, $l: String!) { createRep(input: { login: $l, name: \"Rita Rep\",
                email: \"rita@example.com\", teamId: $t, password: \"Rep-Password-1\" }) { id } }",
            json!({ "t": team, "l": login }),
        )
        .await;
    id(&body, "createRep")
}

/// A team manager of the owner's account assigned to `teams`, signed in.
async fn team_manager(app: &TestApp, owner: &User, login: &str, teams: &[&str]) -> User {
    let manager = app
        .insert_manager(owner.manager.account_id, ManagerKind::Team, login, PASSWORD)
        .await;
    let body = owner
        .gql(
            "mutation($id: ID!, $t: [ID!]!) { setManagerTeams(id: $id, teamIds: $t) { id } }",
            json!({ "id": gid(IdKind::Manager, manager.id), "t": teams }),
        )
        .await;
    data(&body, "setManagerTeams");
    app.sign_in(&manager, PASSWORD).await
}

/// A new app of the owner's account, authorized by the API manager for `reps:read` through
/// the real pages: the app, its tokens, and the authorizations the owner then lists
/// (`{ id application { id } }`).
async fn authorized_app(
    app: &TestApp,
    owner: &User,
    api: &User,
    scopes: &[&str],
) -> (crate::harness::TestClient, crate::harness::AppTokens, Value) {
    let client = app.register_app(owner, scopes).await;
    let tokens = app
        .authorize_app(
            &client,
            &api.manager.login,
            crate::harness::USER_PASSWORD,
            "reps:read",
        )
        .await;
    let listed = owner
        .gql(
            "query($m: ID!) { manager(id: $m) { authorizedApplications { id application { id } } } }",
            json!({ "m": gid(IdKind::Manager, api.manager.id) }),
        )
        .await;
    let authorizations = data(&listed, "manager")["authorizedApplications"].clone();
    (client, tokens, authorizations)
}

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id
    ... on Team { name } ... on Portal { name } ... on Rep { login } ... on Manager { login }
    ... on Account { name } } }";

#[tokio::test]
async fn ids_are_opaque_global_ids_that_node_finds_again() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let support = team(&owner, "Support", None).await;
    let eu = portal(&owner, "EU").await;
    let rita = rep(&owner, &support, "rita.relay").await;
    let account = data(&owner.gql("{ account { id } }", json!({})).await, "account")["id"].clone();
    let me = data(&owner.gql("{ me { id } }", json!({})).await, "me")["id"].clone();
    for (id, typename, field, value) in [
        (json!(support), "Team", "name", json!("Support")),
        (json!(eu), "Portal", "name", json!("EU")),
        (json!(rita), "Rep", "login", json!("rita.relay")),
        (me, "Manager", "login", json!(created.owner.login)),
        (account, "Account", "name", json!(created.account.name)),
    ] {
        // Opaque: not the storage uuid, and no type name in clear.
        let text = id.as_str().unwrap();
        assert!(
            uuid::Uuid::try_parse(text).is_err() && !text.contains(typename),
            "{text}"
        );
        let body = owner.gql(NODE, json!({ "id": id })).await;
        let node = data(&body, "node");
        assert_eq!(node["__typename"], typename, "{body}");
        assert_eq!(node["id"], id);
        assert_eq!(node[field], value, "{body}");
    }
    // An id that is malformed, made up, or of another type in an argument names nothing.
    for nothing in [
        json!("not-an-id"),
        json!(uuid::Uuid::now_v7().to_string()),
        json!(gid(IdKind::Team, uuid::Uuid::now_v7())),
    ] {
        let body = owner.gql(NODE, json!({ "id": nothing })).await;
        assert_eq!(data(&body, "node"), &Value::Null, "{nothing}: {body}");
    }
    let wrong_kind = owner
        .gql(
            "query($id: ID!) { team(id: $id) { id } }",
            json!({ "id": eu }),
        )
        .await;
    assert_eq!(error_code(&wrong_kind), Some("NOT_FOUND"), "{wrong_kind}");
}

#[tokio::test]
async fn nodes_keep_order_answer_null_for_what_the_caller_cannot_see_and_are_bounded() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let (_, stranger) = app.company_owner().await;
    let mine = team(&owner, "Mine", None).await;
    let other = team(&owner, "Other", None).await;
    let theirs = team(&stranger, "Theirs", None).await;
    let lead = team_manager(&app, &owner, "relay.lead", &[&mine]).await;
    const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Team { name } } }";
    let ids = json!([other, "junk", mine, theirs]);
    let as_owner = owner.gql(NODES, json!({ "ids": ids })).await;
    assert_eq!(
        data(&as_owner, "nodes"),
        &json!([{ "id": other, "name": "Other" }, null, { "id": mine, "name": "Mine" }, null])
    );
    let as_lead = lead.gql(NODES, json!({ "ids": ids })).await;
    assert_eq!(
        data(&as_lead, "nodes"),
        &json!([null, null, { "id": mine, "name": "Mine" }, null])
    );
    // A hundred at most; the error says the limit and what was sent.
    let many: Vec<String> = (0..101).map(|_| mine.clone()).collect();
    let too_many = owner.gql(NODES, json!({ "ids": many })).await;
    assert_eq!(error_code(&too_many), Some("BAD_USER_INPUT"), "{too_many}");
    let message = too_many["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("101") && message.contains("100"),
        "{message}"
    );
    // Permission first: an anonymous caller learns nothing, not even the limit.
    let (_, anonymous) = app.post_graphql(NODES, json!({ "ids": many })).await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
    let (_, anonymous) = app.post_graphql(NODE, json!({ "id": mine })).await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
}

#[tokio::test]
async fn first_zero_counts_and_team_reps_page_backwards() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let support = team(&owner, "Support", None).await;
    let mut reps = Vec::new();
    for n in 0..5 {
        reps.push(rep(&owner, &support, &format!("back.{n}")).await);
    }
    let count = owner
        .gql(
            "{ teams(first: 0) { totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&count, "teams"),
        &json!({ "totalCount": 1, "nodes": [],
            "pageInfo": { "hasNextPage": true, "hasPreviousPage": false } })
    );
    const PAGE: &str = "query($t: ID!, $l: Int, $b: String) { team(id: $t) {
        reps(last: $l, before: $b) { nodes { id } pageInfo { hasPreviousPage hasNextPage startCursor } } } }";
    let last = owner.gql(PAGE, json!({ "t": support, "l": 2 })).await;
    let page = &data(&last, "team")["reps"];
    assert_eq!(page["nodes"], json!([{ "id": reps[3] }, { "id": reps[4] }]));
    assert_eq!(page["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
    let before = owner
        .gql(
            PAGE,
            json!({ "t": support, "l": 2, "b": page["pageInfo"]["startCursor"] }),
        )
        .await;
    let page = &data(&before, "team")["reps"];
    assert_eq!(page["nodes"], json!([{ "id": reps[1] }, { "id": reps[2] }]));
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn teams_list_top_level_only_and_portals_are_searched() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let support = team(&owner, "Support", None).await;
    let nights = team(&owner, "Nights", Some(&support)).await;
    let sales = team(&owner, "Sales", None).await;
    const TEAMS: &str = "query($p: ID) { teams(parentId: $p) { nodes { id } } }";
    let top = owner.gql(TEAMS, json!({ "p": null })).await;
    assert_eq!(
        data(&top, "teams")["nodes"],
        json!([{ "id": support }, { "id": sales }])
    );
    let all = owner.gql("{ teams { nodes { id } } }", json!({})).await;
    assert_eq!(data(&all, "teams")["nodes"].as_array().unwrap().len(), 3);
    let under = owner.gql(TEAMS, json!({ "p": support })).await;
    assert_eq!(data(&under, "teams")["nodes"], json!([{ "id": nights }]));

    portal(&owner, "Europe West").await;
    let east = portal(&owner, "Europe East").await;
    portal(&owner, "Americas").await;
    let found = owner
        .gql(
            "query($s: String) { portals(search: $s) { totalCount nodes { id name } } }",
            json!({ "s": "EAST" }),
        )
        .await;
    assert_eq!(
        data(&found, "portals"),
        &json!({ "totalCount": 1, "nodes": [{ "id": east, "name": "Europe East" }] })
    );
}

#[tokio::test]
async fn create_inputs_require_their_fields_and_patches_clear_with_null_only() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let eu = portal(&owner, "EU").await;
    // Required fields are non-null in the schema: the document itself is refused.
    for missing in [
        "mutation { createTeam(input: {}) { id } }",
        "mutation { createRep(input: { login: \"x\", name: \"X\", email: \"x@example.com\", password: \"Rep-Password-1\" }) { id } }",
        "mutation { createPortal(input: { parentId: null }) { id } }",
    ] {
        let body = owner.gql(missing, json!({})).await;
        assert!(
            body["data"].is_null() && !body["errors"].is_null(),
            "{missing}: {body}"
        );
    }
    let body = owner
        .gql(
            "mutation($p: ID!) { createTeam(input: { name: \"Support\", portalId: $p, availableLogins: 5 }) {
                id portal { id } availableLogins } }",
            json!({ "p": eu }),
        )
        .await;
    let support = id(&body, "createTeam");
    const PATCH: &str = "mutation($id: ID!, $i: TeamPatch!) { updateTeam(id: $id, input: $i) {
        name portal { id } availableLogins } }";
    // Absent: unchanged.
    let renamed = owner
        .gql(
            PATCH,
            json!({ "id": support, "i": { "name": "Help desk" } }),
        )
        .await;
    assert_eq!(
        data(&renamed, "updateTeam"),
        &json!({ "name": "Help desk", "portal": { "id": eu }, "availableLogins": 5 })
    );
    // `null`: cleared.
    let cleared = owner
        .gql(
            PATCH,
            json!({ "id": support, "i": { "portalId": null, "availableLogins": null } }),
        )
        .await;
    assert_eq!(
        data(&cleared, "updateTeam"),
        &json!({ "name": "Help desk", "portal": null, "availableLogins": null })
    );
}

#[tokio::test]
async fn a_rep_override_is_cleared_with_null_and_the_rep_follows_its_team_again() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let support = team(&owner, "Support", None).await;
    let rita = rep(&owner, &support, "rita.clear").await;
    const FEATURES: &str = "mutation($r: ID!, $p: RepFeatureOverridesPatch!) {
        updateRepFeatures(id: $r, input: $p) {
            features { multiSession fileTransferSend } featureOverrides { multiSession fileTransferSend } } }";
    let set = owner
        .gql(
            FEATURES,
            json!({ "r": rita, "p": { "multiSession": true, "fileTransferSend": true } }),
        )
        .await;
    assert_eq!(
        data(&set, "updateRepFeatures")["featureOverrides"],
        json!({ "multiSession": true, "fileTransferSend": true })
    );
    // The team's default changes; the rep keeps its overrides.
    let defaults = owner
        .gql(
            "mutation($t: ID!) { updateTeamRepDefaults(id: $t, input: { fileTransferSend: false }) { id } }",
            json!({ "t": support }),
        )
        .await;
    data(&defaults, "updateTeamRepDefaults");
    // `null` clears one override: that feature follows the team again; the other stays.
    let cleared = owner
        .gql(
            FEATURES,
            json!({ "r": rita, "p": { "fileTransferSend": null } }),
        )
        .await;
    assert_eq!(
        data(&cleared, "updateRepFeatures"),
        &json!({
            "features": { "multiSession": true, "fileTransferSend": false },
            "featureOverrides": { "multiSession": true, "fileTransferSend": null },
        })
    );
    let events = owner
        .gql(
            "query($r: ID!) { auditEvents(targetId: $r, action: UPDATE_REP_FEATURES) {
                nodes { before after } } }",
            json!({ "r": rita }),
        )
        .await;
    let nodes = &data(&events, "auditEvents")["nodes"];
    assert_eq!(nodes.as_array().unwrap().len(), 2, "{nodes}");
    assert_eq!(
        nodes[0],
        json!({ "before": { "fileTransferSend": true },
            "after": { "fileTransferSend": false, "followsTeam": ["fileTransferSend"] } })
    );
    // Clearing what is already clear, or setting what is already set, writes nothing.
    for again in [
        json!({ "fileTransferSend": null }),
        json!({ "multiSession": true }),
    ] {
        let body = owner.gql(FEATURES, json!({ "r": rita, "p": again })).await;
        data(&body, "updateRepFeatures");
    }
    let events = owner
        .gql(
            "query($r: ID!) { auditEvents(targetId: $r, action: UPDATE_REP_FEATURES) { totalCount } }",
            json!({ "r": rita }),
        )
        .await;
    assert_eq!(data(&events, "auditEvents")["totalCount"], 2);
}

#[tokio::test]
async fn audit_events_give_actor_and_target_objects_and_filter_by_actor_and_time() {
    let app = TestApp::new().await;
    let (created, owner) = app.company_owner().await;
    let lead = app
        .insert_manager(
            created.account.id,
            ManagerKind::Company,
            "second.owner",
            PASSWORD,
        )
        .await;
    let second = app.sign_in(&lead, PASSWORD).await;
    let start = app.clock.now();
    let support = team(&owner, "Support", None).await;
    app.clock.advance(chrono::Duration::hours(1));
    let middle = app.clock.now();
    let nights = team(&second, "Nights", Some(&support)).await;
    // A no-op patch writes no event.
    let same = owner
        .gql(
            "mutation($id: ID!) { updateTeam(id: $id, input: { name: \"Support\" }) { id } }",
            json!({ "id": support }),
        )
        .await;
    data(&same, "updateTeam");

    const EVENTS: &str = "query($actor: ID, $since: DateTime, $until: DateTime) {
        auditEvents(action: CREATE_TEAM, actorId: $actor, since: $since, until: $until) {
            nodes { action targetType actorLogin actor { id login } targetId
                target { __typename id ... on Team { name parent { id } } } after } } }";
    let by_second = owner
        .gql(EVENTS, json!({ "actor": gid(IdKind::Manager, lead.id) }))
        .await;
    assert_eq!(
        data(&by_second, "auditEvents")["nodes"],
        json!([{
            "action": "CREATE_TEAM", "targetType": "TEAM", "actorLogin": "second.owner",
            "actor": { "id": gid(IdKind::Manager, lead.id), "login": "second.owner" },
            "targetId": nights,
            "target": { "__typename": "Team", "id": nights, "name": "Nights", "parent": { "id": support } },
            // Ids in the recorded settings are the global ids clients know.
            "after": { "name": "Nights", "parentId": support, "portalId": null,
                "subportalIds": [], "availableLogins": null },
        }])
    );
    let when = |since: Option<chrono::DateTime<chrono::Utc>>,
                until: Option<chrono::DateTime<chrono::Utc>>| {
        json!({ "since": since.map(|t| t.to_rfc3339()), "until": until.map(|t| t.to_rfc3339()) })
    };
    let early = owner.gql(EVENTS, when(Some(start), Some(middle))).await;
    let early: Vec<&Value> = data(&early, "auditEvents")["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["targetId"])
        .collect();
    assert_eq!(early, [&json!(support)]);
    let late = owner.gql(EVENTS, when(Some(middle), None)).await;
    let late: Vec<&Value> = data(&late, "auditEvents")["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["targetId"])
        .collect();
    assert_eq!(late, [&json!(nights)]);
    // Only the two creations: the no-op rename is not there.
    let updates = owner
        .gql(
            "{ auditEvents(action: UPDATE_TEAM) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&updates, "auditEvents")["totalCount"], 0);
    // A deleted target stays named by id, with no object.
    let deleted = owner
        .gql(
            "mutation($id: ID!) { deleteTeam(id: $id) }",
            json!({ "id": nights }),
        )
        .await;
    assert_eq!(data(&deleted, "deleteTeam"), &json!(nights));
    let gone = owner
        .gql(
            "query($t: ID!) { auditEvents(targetId: $t, action: CREATE_TEAM) { nodes { targetId target { id } } } }",
            json!({ "t": nights }),
        )
        .await;
    assert_eq!(
        data(&gone, "auditEvents")["nodes"],
        json!([{ "targetId": nights, "target": null }])
    );
}

#[tokio::test]
async fn permission_is_checked_before_input_is_validated() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let support = team(&owner, "Support", None).await;
    let lead = team_manager(&app, &owner, "order.lead", &[&support]).await;
    // Out-of-range paging, malformed ids and invalid values: a caller who may not do the
    // operation hears that first.
    for (query, vars, code) in [
        (
            "{ auditEvents(first: 500) { totalCount } }",
            json!({}),
            "FORBIDDEN",
        ),
        (
            "{ developerApps(last: -3) { totalCount } }",
            json!({}),
            "FORBIDDEN",
        ),
        (
            "mutation { createApiManager(input: { login: \"\", name: \"\", email: \"nope\", password: \"x\" }) { id } }",
            json!({}),
            "FORBIDDEN",
        ),
        (
            "mutation { deleteManager(id: \"junk\") }",
            json!({}),
            "FORBIDDEN",
        ),
    ] {
        let body = lead.gql(query, vars.clone()).await;
        assert_eq!(error_code(&body), Some(code), "{query}: {body}");
        let (_, anonymous) = app.post_graphql(query, vars).await;
        assert_eq!(
            error_code(&anonymous),
            Some("UNAUTHENTICATED"),
            "{query}: {anonymous}"
        );
    }
}

#[tokio::test]
async fn the_largest_page_sizes_nested_are_refused_by_the_complexity_limit() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    // Each list's complexity counts its page size (capped at the 100 a page may hold), so
    // nesting the largest `first` a client can send adds up to a refusal, never an overflow.
    let big = i32::MAX;
    let query = format!(
        "{{ teams(first: {big}) {{ nodes {{ reps(first: {big}) {{ nodes {{ team {{
            reps(last: {big}) {{ nodes {{ team {{ reps(first: {big}) {{ nodes {{ id }} }} }} }} }} }} }} }} }} }} }}"
    );
    let (status, body) = app.post_graphql_as(&owner.token, &query, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["extensions"]["measure"], "complexity",
        "{body}"
    );
}

#[tokio::test]
async fn node_finds_accounts_and_app_authorizations_only_for_those_who_may_read_them() {
    let app = TestApp::new().await;
    let (owner, api) = crate::app_tokens::api_world(&app).await;
    let (_, stranger) = app.company_owner().await;
    let support = team(&owner, "Support", None).await;
    let lead = team_manager(&app, &owner, "node.lead", &[&support]).await;
    let (client, tokens, authorizations) =
        authorized_app(&app, &owner, &api, &["REPS_READ", "TEAMS_READ"]).await;
    let authorization = &authorizations[0];
    let authorization_id = authorization["id"].clone();
    assert_eq!(authorization["application"]["id"], json!(client.id));
    let account = data(&owner.gql("{ account { id } }", json!({})).await, "account")["id"].clone();
    const AUTHZ: &str = "query($id: ID!) { node(id: $id) { id ... on AppAuthorization { scopes application { clientId } } } }";
    let see = |body: &Value| data(body, "node")["id"].clone();
    // The account: every signed-in manager of it, no one else.
    for who in [&owner, &lead, &api] {
        let body = who.gql(NODE, json!({ "id": account })).await;
        assert_eq!(see(&body), account, "{body}");
    }
    let body = stranger.gql(NODE, json!({ "id": account })).await;
    assert_eq!(data(&body, "node"), &Value::Null, "{body}");
    let (_, body) = app
        .post_graphql_as(&tokens.access_token, NODE, json!({ "id": account }))
        .await;
    assert_eq!(
        see(&body),
        account,
        "an app token reads its manager's account: {body}"
    );
    // The authorization: the company manager and the API manager itself.
    for who in [&owner, &api] {
        let body = who.gql(AUTHZ, json!({ "id": authorization_id })).await;
        assert_eq!(
            data(&body, "node"),
            &json!({ "id": authorization_id, "scopes": ["REPS_READ"],
                "application": { "clientId": client.client_id } }),
            "{body}"
        );
    }
    let body = stranger.gql(AUTHZ, json!({ "id": authorization_id })).await;
    assert_eq!(data(&body, "node"), &Value::Null, "{body}");
    let body = lead.gql(AUTHZ, json!({ "id": authorization_id })).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .post_graphql_as(
            &tokens.access_token,
            AUTHZ,
            json!({ "id": authorization_id }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("FORBIDDEN"),
        "apps never see authorizations: {body}"
    );
}

#[tokio::test]
async fn a_variable_the_client_leaves_out_leaves_the_field_alone_rather_than_clearing_it() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let eu = portal(&owner, "EU").await;
    let support = team(&owner, "Support", None).await;
    let body = owner
        .gql(
            "mutation($p: ID!, $t: ID!) { createTeam(input: { name: \"Nights\", parentId: $t, portalId: $p, availableLogins: 3 }) { id } }",
            json!({ "p": eu, "t": support }),
        )
        .await;
    let nights = id(&body, "createTeam");
    // One document for every edit, the client sends only what changes: the others are absent,
    // not `null` (which would clear them).
    const EDIT: &str = "mutation($id: ID!, $n: String, $parent: ID, $portal: ID, $cap: Int) {
        updateTeam(id: $id, input: { name: $n, parentId: $parent, portalId: $portal, availableLogins: $cap }) {
            name parent { id } portal { id } availableLogins } }";
    let renamed = owner.gql(EDIT, json!({ "id": nights, "n": "Late" })).await;
    assert_eq!(
        data(&renamed, "updateTeam"),
        &json!({ "name": "Late", "parent": { "id": support }, "portal": { "id": eu }, "availableLogins": 3 })
    );
    // Sent as `null`, a variable clears.
    let cleared = owner
        .gql(EDIT, json!({ "id": nights, "cap": null, "parent": null }))
        .await;
    assert_eq!(
        data(&cleared, "updateTeam"),
        &json!({ "name": "Late", "parent": null, "portal": { "id": eu }, "availableLogins": null })
    );
    // A filter left out does not filter.
    let all = owner
        .gql(
            "query($p: ID) { teams(parentId: $p) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&all, "teams")["totalCount"], 2);
    // The same for overrides.
    let rita = rep(&owner, &support, "rita.vars").await;
    const FEATURES: &str = "mutation($r: ID!, $m: Boolean, $f: Boolean) {
        updateRepFeatures(id: $r, input: { multiSession: $m, fileTransferSend: $f }) {
            featureOverrides { multiSession fileTransferSend } } }";
    let set = owner
        .gql(FEATURES, json!({ "r": rita, "m": true, "f": true }))
        .await;
    data(&set, "updateRepFeatures");
    let one = owner.gql(FEATURES, json!({ "r": rita, "f": false })).await;
    assert_eq!(
        data(&one, "updateRepFeatures")["featureOverrides"],
        json!({ "multiSession": true, "fileTransferSend": false })
    );
}

#[tokio::test]
async fn wrong_ids_and_values_answer_after_permission_and_no_op_app_patches_write_nothing() {
    let app = TestApp::new().await;
    let (owner, api) = crate::app_tokens::api_world(&app).await;
    let support = team(&owner, "Support", None).await;
    let rita = rep(&owner, &support, "rita.order").await;
    // A team manager without rep controls: a patch that would also break a dependency rule
    // is refused for the controls first.
    let lead = team_manager(&app, &owner, "order2.lead", &[&support]).await;
    let body = lead
        .gql(
            "mutation($r: ID!) { updateRepFeatures(id: $r, input: { reports: true, managementCenterAccess: false }) { id } }",
            json!({ "r": rita }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // Revoking with an authorization's id (not the app's) is a mistake, not a silent no-op.
    let (client, _, authorizations) = authorized_app(&app, &owner, &api, &["REPS_READ"]).await;
    let authorization = authorizations[0]["id"].clone();
    const REVOKE: &str =
        "mutation($m: ID!, $a: [ID!]!) { revokeApiManagerApplications(managerId: $m, appIds: $a) {
        authorizedApplications { id } } }";
    let wrong = owner
        .gql(
            REVOKE,
            json!({ "m": gid(IdKind::Manager, api.manager.id), "a": [authorization] }),
        )
        .await;
    assert_eq!(error_code(&wrong), Some("NOT_FOUND"), "{wrong}");
    let still = owner
        .gql(
            "query($m: ID!) { manager(id: $m) { authorizedApplications { id } } }",
            json!({ "m": gid(IdKind::Manager, api.manager.id) }),
        )
        .await;
    assert_eq!(
        data(&still, "manager")["authorizedApplications"],
        json!([{ "id": authorization }])
    );
    // An app patch that changes nothing writes nothing.
    let same = owner
        .gql(
            "mutation($id: ID!) { updateDeveloperApp(id: $id, input: { name: \"Test app\" }) { updatedAt } }",
            json!({ "id": client.id }),
        )
        .await;
    data(&same, "updateDeveloperApp");
    let events = owner
        .gql(
            "{ auditEvents(action: UPDATE_DEVELOPER_APP) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&events, "auditEvents")["totalCount"], 0);
    // A value the caller may not set is refused for the app it cannot see first.
    let body = owner
        .gql(
            "mutation($id: ID!) { updateDeveloperApp(id: $id, input: { name: \"\" }) { id } }",
            json!({ "id": gid(IdKind::DeveloperApp, uuid::Uuid::now_v7()) }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
}

/// A page of reps nested in a list of teams is read for all the teams at once: each team
/// still gets its own rows, in order, with its own count and page info, forwards and
/// backwards (a team alone is read another way; `first_zero_counts_and_team_reps_page_backwards`).
#[tokio::test]
async fn reps_nested_in_a_team_list_page_per_team_both_ways() {
    let app = TestApp::new().await;
    let (_, owner) = app.company_owner().await;
    let support = team(&owner, "Support", None).await;
    let sales = team(&owner, "Sales", None).await;
    let empty = team(&owner, "Empty", None).await;
    let mut support_reps = Vec::new();
    let mut sales_reps = Vec::new();
    for n in 0..3 {
        support_reps.push(rep(&owner, &support, &format!("support.{n}")).await);
        sales_reps.push(rep(&owner, &sales, &format!("sales.{n}")).await);
    }
    const PAGE: &str = "query($f: Int, $l: Int) { teams { nodes { id
        reps(first: $f, last: $l) { totalCount nodes { id } pageInfo { hasPreviousPage hasNextPage } } } } }";
    let reps_of = |body: &Value, team: &str| {
        data(body, "teams")["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == team)
            .unwrap_or_else(|| panic!("{team} not in {body}"))["reps"]
            .clone()
    };
    let first = owner.gql(PAGE, json!({ "f": 2 })).await;
    assert_eq!(
        reps_of(&first, &support),
        json!({ "totalCount": 3, "nodes": [{ "id": support_reps[0] }, { "id": support_reps[1] }],
            "pageInfo": { "hasPreviousPage": false, "hasNextPage": true } })
    );
    assert_eq!(
        reps_of(&first, &sales),
        json!({ "totalCount": 3, "nodes": [{ "id": sales_reps[0] }, { "id": sales_reps[1] }],
            "pageInfo": { "hasPreviousPage": false, "hasNextPage": true } })
    );
    assert_eq!(
        reps_of(&first, &empty),
        json!({ "totalCount": 0, "nodes": [],
            "pageInfo": { "hasPreviousPage": false, "hasNextPage": false } })
    );
    let last = owner.gql(PAGE, json!({ "l": 2 })).await;
    assert_eq!(
        reps_of(&last, &support),
        json!({ "totalCount": 3, "nodes": [{ "id": support_reps[1] }, { "id": support_reps[2] }],
            "pageInfo": { "hasPreviousPage": true, "hasNextPage": false } })
    );
    assert_eq!(
        reps_of(&last, &sales),
        json!({ "totalCount": 3, "nodes": [{ "id": sales_reps[1] }, { "id": sales_reps[2] }],
            "pageInfo": { "hasPreviousPage": true, "hasNextPage": false } })
    );
    let all = owner.gql(PAGE, json!({ "l": 5 })).await;
    assert_eq!(
        reps_of(&all, &sales),
        json!({ "totalCount": 3, "nodes": [{ "id": sales_reps[0] }, { "id": sales_reps[1] }, { "id": sales_reps[2] }],
            "pageInfo": { "hasPreviousPage": false, "hasNextPage": false } })
    );
}
