//! Writes under concurrency, over real HTTP with real tokens: writers wait their turn instead
//! of failing (`INTERNAL`), check-then-write rules hold when two requests race (no team
//! cycle, caps, a team deleted while a rep is added), and every acknowledged write is there
//! afterwards. Runs on SQLite and, with `TEST_DATABASE_URL`, on PostgreSQL. Figures go to
//! stderr (`--nocapture`).

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Mutex,
    time::{Duration, Instant},
};

use entity::manager::ManagerKind;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::harness::TestApp;

const PASSWORD: &str = "Concurrency-Pass-2026";

fn database() -> &'static str {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => "PostgreSQL",
        _ => "SQLite",
    }
}

/// One GraphQL call: the `data` field, or the error code (`HTTP <status>` for a 5xx or a
/// body that is not GraphQL).
async fn call(
    app: &TestApp,
    token: &str,
    query: &str,
    field: &str,
    vars: Value,
) -> Result<Value, String> {
    let (status, body) = app.post_graphql_as(token, query, vars).await;
    if status >= 500 {
        return Err(format!("HTTP {status}"));
    }
    if let Some(code) = body["errors"][0]["extensions"]["code"].as_str() {
        return Err(code.to_owned());
    }
    if !body["errors"].is_null() || body["data"][field].is_null() {
        return Err(format!("HTTP {status}: {body}"));
    }
    Ok(body["data"][field].clone())
}

/// Counts outcomes by error code ("ok" for successes).
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, usize>>);

impl Tally {
    fn add<T>(&self, result: &Result<T, String>) {
        let key = match result {
            Ok(_) => "ok".to_owned(),
            Err(code) => code.clone(),
        };
        *self.0.lock().unwrap().entry(key).or_default() += 1;
    }

    fn snapshot(&self) -> BTreeMap<String, usize> {
        self.0.lock().unwrap().clone()
    }

    fn count(&self, key: &str) -> usize {
        self.snapshot().get(key).copied().unwrap_or(0)
    }

    fn total(&self) -> usize {
        self.snapshot().values().sum()
    }

    /// Anything a user would see as a server failure.
    fn failures(&self) -> Vec<(String, usize)> {
        self.snapshot()
            .into_iter()
            .filter(|(code, _)| code == "INTERNAL" || code.starts_with("HTTP"))
            .collect()
    }
}

/// `n` company managers of the owner's account, signed in at once over HTTP.
async fn signed_in_managers(app: &TestApp, account_id: uuid::Uuid, n: usize) -> Vec<String> {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let mut logins = Vec::new();
    for i in 0..n {
        let login = format!("writer-{tag}-{i}");
        app.insert_manager(account_id, ManagerKind::Company, &login, PASSWORD)
            .await;
        logins.push(login);
    }
    let signed_in = join_all(logins.iter().map(|l| app.login(l, PASSWORD))).await;
    signed_in
        .into_iter()
        .map(|body| {
            body["data"]["login"]["token"]
                .as_str()
                .unwrap_or_else(|| panic!("concurrent sign-in failed: {body}"))
                .to_owned()
        })
        .collect()
}

async fn create_team(app: &TestApp, token: &str, name: &str, parent: Option<&str>) -> String {
    call(
        app,
        token,
        "mutation($n: String!, $p: ID) { createTeam(input: { name: $n, parentId: $p }) { id } }",
        "createTeam",
        json!({ "n": name, "p": parent }),
    )
    .await
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

const CREATE_REP: &str = "mutation($t: ID!, $l: String!) {
    createRep(input: { login: $l, name: \"Conc Rep\", email: \"rep@example.com\", teamId: $t, password: \"Rep-Password-1\" }) { id } }";

async fn create_rep(
    app: &TestApp,
    token: &str,
    team: &str,
    login: String,
) -> Result<String, String> {
    call(
        app,
        token,
        CREATE_REP,
        "createRep",
        json!({ "t": team, "l": login }),
    )
    .await
    .map(|rep| rep["id"].as_str().unwrap().to_owned())
}

const RENAME_REP: &str =
    "mutation($r: ID!, $n: String!) { updateRep(id: $r, input: { name: $n }) { name } }";
const MOVE_TEAM: &str =
    "mutation($t: ID!, $p: ID) { updateTeam(id: $t, input: { parentId: $p }) { id } }";
const DELETE_TEAM: &str = "mutation($t: ID!) { deleteTeam(id: $t) }";

/// Every team of the account with its parent, read over the API.
async fn team_parents(app: &TestApp, token: &str) -> HashMap<String, Option<String>> {
    let mut parents = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = call(
            app,
            token,
            "query($a: String) { teams(first: 100, after: $a) { nodes { id parent { id } } pageInfo { hasNextPage endCursor } } }",
            "teams",
            json!({ "a": after }),
        )
        .await
        .unwrap();
        for node in page["nodes"].as_array().unwrap() {
            parents.insert(
                node["id"].as_str().unwrap().to_owned(),
                node["parent"]["id"].as_str().map(str::to_owned),
            );
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return parents;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

/// Panics when following parents from some team comes back to it.
fn assert_no_cycle(parents: &HashMap<String, Option<String>>) {
    for start in parents.keys() {
        let mut seen = HashSet::new();
        let mut current = Some(start.clone());
        while let Some(id) = current {
            assert!(seen.insert(id.clone()), "team cycle through {id}");
            current = parents.get(&id).cloned().flatten();
        }
    }
}

#[tokio::test]
async fn opposite_team_moves_at_once_leave_exactly_one_and_no_cycle() {
    let app = TestApp::new().await;
    let (created, owner) = app.signed_in_owner(PASSWORD).await;
    let other = signed_in_managers(&app, created.account.id, 1)
        .await
        .remove(0);
    let tally = Tally::default();
    for round in 0..12 {
        let x = create_team(&app, &owner, &format!("X{round}"), None).await;
        let y = create_team(&app, &owner, &format!("Y{round}"), None).await;
        let (a, b) = tokio::join!(
            call(
                &app,
                &owner,
                MOVE_TEAM,
                "updateTeam",
                json!({ "t": x, "p": y })
            ),
            call(
                &app,
                &other,
                MOVE_TEAM,
                "updateTeam",
                json!({ "t": y, "p": x })
            ),
        );
        tally.add(&a);
        tally.add(&b);
        let outcomes = [&a, &b];
        assert_eq!(
            outcomes.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: exactly one move succeeds: {a:?} / {b:?}"
        );
        assert!(
            outcomes
                .iter()
                .any(|r| r.as_ref().err().map(String::as_str) == Some("BAD_USER_INPUT")),
            "round {round}: the other is refused as a cycle: {a:?} / {b:?}"
        );
        let parents = team_parents(&app, &owner).await;
        assert_no_cycle(&parents);
        let moved_x = parents[&x].as_deref() == Some(y.as_str());
        let moved_y = parents[&y].as_deref() == Some(x.as_str());
        assert_eq!(
            moved_x,
            a.is_ok(),
            "round {round}: X's parent is what was answered"
        );
        assert_eq!(
            moved_y,
            b.is_ok(),
            "round {round}: Y's parent is what was answered"
        );
    }
    eprintln!(
        "[{}] opposite team moves, 12 rounds: {:?}",
        database(),
        tally.snapshot()
    );
}

#[tokio::test]
async fn clients_updating_their_own_reps_in_a_loop_never_fail() {
    let app = TestApp::new().await;
    let (created, owner) = app.signed_in_owner(PASSWORD).await;
    let tokens = signed_in_managers(&app, created.account.id, 4).await;
    let team = create_team(&app, &owner, "Loop", None).await;
    let mut reps = Vec::new();
    for i in 0..tokens.len() {
        reps.push(
            create_rep(&app, &owner, &team, format!("loop-rep-{i}"))
                .await
                .unwrap(),
        );
    }
    let tally = Tally::default();
    let started = Instant::now();
    let last_names = join_all(
        tokens
            .iter()
            .zip(&reps)
            .enumerate()
            .map(|(i, (token, rep))| {
                let (app, tally) = (&app, &tally);
                async move {
                    let mut last = None;
                    for k in 0..40 {
                        let name = format!("Rep {i} v{k}");
                        let result = call(
                            app,
                            token,
                            RENAME_REP,
                            "updateRep",
                            json!({ "r": rep, "n": name }),
                        )
                        .await;
                        tally.add(&result);
                        if result.is_ok() {
                            last = Some(name);
                        }
                    }
                    last
                }
            }),
    )
    .await;
    let elapsed = started.elapsed();
    eprintln!(
        "[{}] 4 clients x 40 updates of their own rep: {:?} in {:.2} s ({:.0} writes/s)",
        database(),
        tally.snapshot(),
        elapsed.as_secs_f64(),
        tally.count("ok") as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(
        tally.count("ok"),
        160,
        "every update succeeds: {:?}",
        tally.snapshot()
    );
    for (rep, last) in reps.iter().zip(last_names) {
        let stored = call(
            &app,
            &owner,
            "query($r: ID!) { rep(id: $r) { name } }",
            "rep",
            json!({ "r": rep }),
        )
        .await
        .unwrap();
        assert_eq!(
            stored["name"].as_str(),
            last.as_deref(),
            "the last update stuck"
        );
    }
}

#[tokio::test]
async fn a_team_cap_holds_when_reps_are_added_or_moved_in_at_once() {
    let app = TestApp::new().await;
    let (created, owner) = app.signed_in_owner(PASSWORD).await;
    let tokens = signed_in_managers(&app, created.account.id, 4).await;
    let capped = call(
        &app,
        &owner,
        "mutation { createTeam(input: { name: \"Capped\", availableLogins: 3 }) { id } }",
        "createTeam",
        json!({}),
    )
    .await
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = create_team(&app, &owner, "Elsewhere", None).await;
    let mut reps = Vec::new();
    for i in 0..tokens.len() {
        reps.push(
            create_rep(&app, &owner, &elsewhere, format!("mover-{i}"))
                .await
                .unwrap(),
        );
    }
    // Moves carry no password hashing, so they reach the database together.
    let moved = join_all(tokens.iter().zip(&reps).map(|(token, rep)| {
        call(
            &app,
            token,
            "mutation($r: ID!, $t: ID!) { updateRep(id: $r, input: { teamId: $t }) { id } }",
            "updateRep",
            json!({ "r": rep, "t": capped }),
        )
    }))
    .await;
    let created = join_all(
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| create_rep(&app, t, &capped, format!("capped-{i}"))),
    )
    .await;
    let codes: Vec<_> = moved
        .iter()
        .map(|r| r.as_ref().err().cloned())
        .chain(created.iter().map(|r| r.as_ref().err().cloned()))
        .collect();
    let ok = codes.iter().filter(|c| c.is_none()).count();
    assert_eq!(ok, 3, "three logins, three reps: {codes:?}");
    assert!(
        codes.iter().flatten().all(|c| c == "CONFLICT"),
        "the others get CONFLICT: {codes:?}"
    );
    let stored = call(
        &app,
        &owner,
        "query($t: ID!) { reps(teamId: $t) { totalCount } }",
        "reps",
        json!({ "t": capped }),
    )
    .await
    .unwrap();
    assert_eq!(stored["totalCount"], 3, "the cap holds");
}

#[tokio::test]
async fn a_rep_added_to_a_team_being_deleted_gets_not_found_or_keeps_the_team() {
    let app = TestApp::new().await;
    let (created, owner) = app.signed_in_owner(PASSWORD).await;
    let other = signed_in_managers(&app, created.account.id, 1)
        .await
        .remove(0);
    let tally = Tally::default();
    for round in 0..10 {
        let team = create_team(&app, &owner, &format!("Doomed {round}"), None).await;
        let (deleted, rep) = tokio::join!(
            call(
                &app,
                &owner,
                DELETE_TEAM,
                "deleteTeam",
                json!({ "t": team })
            ),
            create_rep(&app, &other, &team, format!("late-{round}")),
        );
        tally.add(&deleted);
        tally.add(&rep);
        match (&deleted, &rep) {
            (Ok(_), Err(code)) => assert_eq!(code, "NOT_FOUND", "round {round}"),
            (Err(code), Ok(_)) => assert_eq!(code, "CONFLICT", "round {round}"),
            _ => panic!("round {round}: exactly one wins: {deleted:?} / {rep:?}"),
        }
    }
    eprintln!(
        "[{}] deleteTeam racing createRep, 10 rounds: {:?}",
        database(),
        tally.snapshot()
    );
}

/// What one client of the mixed test saw acknowledged.
#[derive(Default)]
struct Acknowledged {
    /// The client's own rep and the last name it was given.
    own_rep: (String, Option<String>),
    /// Reps created (and not deleted) with their team.
    reps: Vec<(String, String)>,
    /// Reps deleted.
    deleted_reps: Vec<String>,
    /// Scratch teams deleted.
    deleted_teams: Vec<String>,
}

#[tokio::test]
async fn eight_clients_writing_at_once_get_no_server_error_and_keep_every_acknowledged_write() {
    const CLIENTS: usize = 8;
    const RUN_FOR: Duration = Duration::from_secs(3);
    let app = TestApp::new().await;
    let (created, owner) = app.signed_in_owner(PASSWORD).await;
    let tokens = signed_in_managers(&app, created.account.id, CLIENTS).await;
    // Each client: a home team with its own rep; pairs of clients move two shared teams
    // under each other; scratch teams are created by one client and deleted by the next
    // while reps are being added to them.
    let mut homes = Vec::new();
    let mut own_reps = Vec::new();
    for i in 0..CLIENTS {
        let home = create_team(&app, &owner, &format!("Home {i}"), None).await;
        own_reps.push(
            create_rep(&app, &owner, &home, format!("own-{i}"))
                .await
                .unwrap(),
        );
        homes.push(home);
    }
    let mut pairs = Vec::new();
    for p in 0..CLIENTS / 2 {
        pairs.push((
            create_team(&app, &owner, &format!("Left {p}"), None).await,
            create_team(&app, &owner, &format!("Right {p}"), None).await,
        ));
    }
    // The newest scratch team of each client, for the next client to delete.
    let scratch: Vec<Mutex<Option<String>>> = (0..CLIENTS).map(|_| Mutex::new(None)).collect();
    let tally = Tally::default();
    let by_op: Mutex<BTreeMap<&'static str, BTreeMap<String, usize>>> = Mutex::default();
    let record = |op: &'static str, result: &Result<Value, String>| {
        tally.add(result);
        let key = match result {
            Ok(_) => "ok".to_owned(),
            Err(code) => code.clone(),
        };
        *by_op
            .lock()
            .unwrap()
            .entry(op)
            .or_default()
            .entry(key)
            .or_default() += 1;
    };
    let started = Instant::now();
    let acknowledged = join_all((0..CLIENTS).map(|i| {
        let (app, tokens, homes, pairs, scratch, record) =
            (&app, &tokens, &homes, &pairs, &scratch, &record);
        let own_rep = own_reps[i].clone();
        async move {
            let token = &tokens[i];
            let mut ack = Acknowledged {
                own_rep: (own_rep.clone(), Some("Conc Rep".to_owned())),
                ..Acknowledged::default()
            };
            let (left, right) = &pairs[i / 2];
            let mut k = 0usize;
            // Every kind of write at least twice, however slow the machine.
            while k < 12 || (started.elapsed() < RUN_FOR && k < 400) {
                k += 1;
                match k % 6 {
                    // Update of its own rep.
                    0 | 3 => {
                        let name = format!("Own {i} v{k}");
                        let r = call(app, token, RENAME_REP, "updateRep", json!({ "r": own_rep, "n": name })).await;
                        record("updateRep", &r);
                        if r.is_ok() {
                            ack.own_rep.1 = Some(name);
                        }
                    }
                    // Team moves in both directions, then back to the top.
                    1 => {
                        let (team, parent) = if i % 2 == 0 { (left, right) } else { (right, left) };
                        let r = call(app, token, MOVE_TEAM, "updateTeam", json!({ "t": team, "p": parent })).await;
                        record("updateTeam", &r);
                        let r = call(app, token, MOVE_TEAM, "updateTeam", json!({ "t": team, "p": null })).await;
                        record("updateTeam", &r);
                    }
                    // A scratch team, and a rep into the previous client's scratch team
                    // (which that client's neighbour may be deleting).
                    2 => {
                        let r = call(
                            app,
                            token,
                            "mutation($n: String!, $p: ID) { createTeam(input: { name: $n, parentId: $p }) { id } }",
                            "createTeam",
                            json!({ "n": format!("Scratch {i} {k}"), "p": homes[i] }),
                        )
                        .await;
                        record("createTeam", &r);
                        if let Ok(team) = &r {
                            *scratch[i].lock().unwrap() = team["id"].as_str().map(str::to_owned);
                        }
                        let target = scratch[(i + CLIENTS - 1) % CLIENTS].lock().unwrap().clone();
                        if let Some(target) = target {
                            let r = create_rep(app, token, &target, format!("c-{i}-{k}")).await;
                            record("createRep", &r.clone().map(Value::from));
                            if let Ok(rep) = r {
                                ack.reps.push((rep, target));
                            }
                        }
                    }
                    // Delete the next client's newest scratch team (racing the rep above).
                    4 => {
                        let target = scratch[(i + 1) % CLIENTS].lock().unwrap().clone();
                        if let Some(target) = target {
                            let r = call(app, token, DELETE_TEAM, "deleteTeam", json!({ "t": target })).await;
                            record("deleteTeam", &r);
                            if r.is_ok() {
                                ack.deleted_teams.push(target);
                            }
                        }
                    }
                    // Delete a rep it created earlier.
                    _ => {
                        if ack.reps.len() > 2 {
                            let (rep, _) = ack.reps.remove(0);
                            let r = call(app, token, "mutation($r: ID!) { deleteRep(id: $r) }", "deleteRep", json!({ "r": rep })).await;
                            record("deleteRep", &r);
                            match r {
                                Ok(_) => ack.deleted_reps.push(rep),
                                Err(_) => ack.reps.insert(0, (rep, String::new())),
                            }
                        }
                    }
                }
            }
            ack
        }
    }))
    .await;
    let elapsed = started.elapsed();
    let writes = tally.total();
    eprintln!(
        "[{}] {CLIENTS} clients mixed writes: {writes} in {:.2} s = {:.0} writes/s; outcomes {:?}",
        database(),
        elapsed.as_secs_f64(),
        writes as f64 / elapsed.as_secs_f64(),
        tally.snapshot()
    );
    for (op, outcomes) in by_op.lock().unwrap().iter() {
        eprintln!("[{}]   {op}: {outcomes:?}", database());
    }
    assert_eq!(tally.failures(), vec![], "no server errors");
    assert!(
        tally.count("ok") > CLIENTS * 4,
        "work got done: {:?}",
        tally.snapshot()
    );

    // Every acknowledged write is there, read back over the API.
    let parents = team_parents(&app, &owner).await;
    assert_no_cycle(&parents);
    for ack in &acknowledged {
        let (rep, name) = &ack.own_rep;
        let stored = call(
            &app,
            &owner,
            "query($r: ID!) { rep(id: $r) { name } }",
            "rep",
            json!({ "r": rep }),
        )
        .await
        .unwrap();
        assert_eq!(
            stored["name"].as_str(),
            name.as_deref(),
            "last update of {rep}"
        );
        for (rep, team) in &ack.reps {
            let stored = call(
                &app,
                &owner,
                "query($r: ID!) { rep(id: $r) { team { id } } }",
                "rep",
                json!({ "r": rep }),
            )
            .await;
            let stored =
                stored.unwrap_or_else(|code| panic!("acknowledged rep {rep} is gone: {code}"));
            if !team.is_empty() {
                assert_eq!(stored["team"]["id"].as_str(), Some(team.as_str()));
            }
            assert!(parents.contains_key(stored["team"]["id"].as_str().unwrap()));
        }
        for rep in &ack.deleted_reps {
            let gone = call(
                &app,
                &owner,
                "query($r: ID!) { rep(id: $r) { id } }",
                "rep",
                json!({ "r": rep }),
            )
            .await;
            assert_eq!(gone, Err("NOT_FOUND".to_owned()), "deleted rep {rep}");
        }
        for team in &ack.deleted_teams {
            assert!(!parents.contains_key(team), "deleted team {team} is gone");
        }
    }
}

/// Each outcome of a create racing a delete of what it refers to: one of `allowed`.
fn assert_outcome(round: usize, what: &str, result: &Result<Value, String>, allowed: &[&str]) {
    if let Err(code) = result {
        assert!(
            allowed.contains(&code.as_str()),
            "round {round}: {what} answered {code}, expected ok or one of {allowed:?}"
        );
    }
}

#[tokio::test]
async fn creates_racing_deletes_of_what_they_refer_to_answer_not_found_or_conflict() {
    let app = TestApp::new().await;
    let (created, owner) = app.signed_in_owner(PASSWORD).await;
    let other = signed_in_managers(&app, created.account.id, 1)
        .await
        .remove(0);
    let lead = call(
        &app,
        &owner,
        "mutation { createTeamManager(input: { login: \"race.lead\", name: \"Race Lead\", email: \"lead@example.com\", password: \"Team-Lead-2026\" }) { id } }",
        "createTeamManager",
        json!({}),
    )
    .await
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let portal = call(
        &app,
        &owner,
        "mutation { createPortal(input: { name: \"EU\" }) { id subportals { id } } }",
        "createPortal",
        json!({}),
    )
    .await
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let home = create_team(&app, &owner, "Home", None).await;
    let rep = create_rep(&app, &owner, &home, "race-rep".into())
        .await
        .unwrap();
    let tally = Tally::default();
    for round in 0..8 {
        // A sub-team under a parent being deleted.
        let parent = create_team(&app, &owner, &format!("Parent {round}"), None).await;
        let (child, deleted) = tokio::join!(
            call(
                &app,
                &other,
                "mutation($p: ID) { createTeam(input: { name: \"Child\", parentId: $p }) { id } }",
                "createTeam",
                json!({ "p": parent }),
            ),
            call(
                &app,
                &owner,
                DELETE_TEAM,
                "deleteTeam",
                json!({ "t": parent })
            ),
        );
        assert_outcome(round, "createTeam", &child, &["NOT_FOUND"]);
        assert_outcome(round, "deleteTeam", &deleted, &["CONFLICT"]);
        assert_ne!(
            child.is_ok(),
            deleted.is_ok(),
            "round {round}: exactly one wins"
        );
        tally.add(&child);
        tally.add(&deleted);

        // A team manager assigned to a team being deleted.
        let team = create_team(&app, &owner, &format!("Assigned {round}"), None).await;
        let (assigned, deleted) = tokio::join!(
            call(
                &app,
                &other,
                "mutation($id: ID!, $t: [ID!]!) { setManagerTeams(id: $id, teamIds: $t) { id } }",
                "setManagerTeams",
                json!({ "id": lead, "t": [team] }),
            ),
            call(
                &app,
                &owner,
                DELETE_TEAM,
                "deleteTeam",
                json!({ "t": team })
            ),
        );
        assert_outcome(round, "setManagerTeams", &assigned, &["NOT_FOUND"]);
        assert_outcome(round, "deleteTeam", &deleted, &[]);
        tally.add(&assigned);
        tally.add(&deleted);
        let teams = call(
            &app,
            &owner,
            "query($id: ID!) { manager(id: $id) { teams { id } } }",
            "manager",
            json!({ "id": lead }),
        )
        .await
        .unwrap();
        assert_eq!(
            teams["teams"],
            json!([]),
            "round {round}: no assignment to a deleted team"
        );

        // A rep put into a sub-portal being deleted.
        let subportal = call(
            &app,
            &owner,
            "mutation($p: ID) { createPortal(input: { name: \"Sub\", parentId: $p }) { id } }",
            "createPortal",
            json!({ "p": portal }),
        )
        .await
        .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (used, deleted) = tokio::join!(
            call(
                &app,
                &other,
                "mutation($r: ID!, $p: [ID!]) { updateRep(id: $r, input: { portalIds: $p }) { id } }",
                "updateRep",
                json!({ "r": rep, "p": [subportal] }),
            ),
            call(
                &app,
                &owner,
                "mutation($p: ID!) { deletePortal(id: $p) }",
                "deletePortal",
                json!({ "p": subportal })
            ),
        );
        assert_outcome(round, "updateRep", &used, &["NOT_FOUND"]);
        assert_outcome(round, "deletePortal", &deleted, &["CONFLICT"]);
        assert_ne!(
            used.is_ok(),
            deleted.is_ok(),
            "round {round}: exactly one wins"
        );
        tally.add(&used);
        tally.add(&deleted);
        // Free the sub-portal again for the next round.
        call(
            &app,
            &owner,
            "mutation($r: ID!) { updateRep(id: $r, input: { portalIds: [] }) { id } }",
            "updateRep",
            json!({ "r": rep }),
        )
        .await
        .unwrap();
    }
    eprintln!(
        "[{}] creates racing deletes, 8 rounds x 3: {:?}",
        database(),
        tally.snapshot()
    );
}

#[tokio::test]
async fn sign_ins_and_wrong_guesses_at_once_never_fail_on_the_server() {
    let app = TestApp::new().await;
    let (created, _) = app.signed_in_owner(PASSWORD).await;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let mut logins = Vec::new();
    for i in 0..6 {
        let login = format!("signer-{tag}-{i}");
        app.insert_manager(created.account.id, ManagerKind::Company, &login, PASSWORD)
            .await;
        logins.push(login);
    }
    // Throttle counters, sessions and audit entries written by 24 sign-ins at once, a third
    // of them wrong guesses.
    let attempts = logins
        .iter()
        .cycle()
        .take(24)
        .enumerate()
        .map(|(k, login)| {
            let password = if k % 3 == 0 {
                "Wrong-Guess-2026"
            } else {
                PASSWORD
            };
            app.login(login, password)
        });
    let answers = join_all(attempts).await;
    let tally = Tally::default();
    for body in &answers {
        let result = match body["errors"][0]["extensions"]["code"].as_str() {
            Some(code) => Err(code.to_owned()),
            None if body["data"]["login"]["token"].is_string() => Ok(()),
            None => Err(format!("no token: {body}")),
        };
        tally.add(&result);
    }
    eprintln!(
        "[{}] 24 sign-ins at once: {:?}",
        database(),
        tally.snapshot()
    );
    let unexpected: Vec<_> = tally
        .snapshot()
        .into_iter()
        .filter(|(code, _)| !["ok", "UNAUTHENTICATED", "RATE_LIMITED"].contains(&code.as_str()))
        .collect();
    assert_eq!(unexpected, vec![], "{:?}", tally.snapshot());
    assert!(
        tally.count("UNAUTHENTICATED") + tally.count("RATE_LIMITED") >= 8,
        "every wrong guess is refused: {:?}",
        tally.snapshot()
    );
    assert!(tally.count("ok") > 0, "{:?}", tally.snapshot());
}
