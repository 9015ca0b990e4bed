//! The two accounts and every caller of the authorization table, and how each run is
//! prepared and judged.

use super::*;

/// Two accounts and the callers above, with their rights, rep controls and assignments set by
/// A's company manager through the API.
pub(super) struct Fixture {
    pub(super) app: TestApp,
    /// A's company manager, signed in, who prepares every run.
    pub(super) owner: User,
    /// Each caller, signed in through the real `login` mutation (none when anonymous; for an
    /// app token, the API manager with the app's access token), and its manager id, in
    /// `CALLERS` order.
    pub(super) people: Vec<(Option<User>, Uuid)>,
    /// The developer apps of A, one per app-token caller, each authorized by A's API manager.
    pub(super) apps_of_a: Vec<Uuid>,
    pub(super) account_a: Uuid,
    /// Every manager of A.
    pub(super) managers_of_a: Vec<Uuid>,
    pub(super) bystander: Uuid,
    pub(super) t: Uuid,
    pub(super) t2: Uuid,
    pub(super) u: Uuid,
    pub(super) team_b: Uuid,
    pub(super) rep_t: Uuid,
    pub(super) rep_t2: Uuid,
    pub(super) rep_u: Uuid,
    pub(super) rep_b: Uuid,
    pub(super) p: Uuid,
    pub(super) p2: Uuid,
    pub(super) portal_b: Uuid,
    /// A real password hash, reused for seeded rows (see `seed_rep`).
    pub(super) password_hash: SecretHash,
    pub(super) runs: AtomicUsize,
}

pub(super) const SEED_PASSWORD: &str = "Seed-Pass-2026x";

/// The rights the tests turn on for team managers, and T2 switches off.
pub(super) fn rights(on: bool) -> Value {
    json!({
        "addDeleteSubteams": on,
        "addDeleteReps": on,
        "changeRepNameLogin": on,
        "changeRepPassword": on,
    })
}

pub(super) const SET_RIGHTS: &str = "mutation($id: ID!, $p: ManagerRightSetPatch!) {
    updateManagerRights(id: $id, input: $p) { id } }";
pub(super) const SET_REP_CONTROLS: &str = "mutation($id: ID!) {
    updateManagerRepControls(id: $id, input: { multiSession: true }) { id } }";
pub(super) const SET_TEAM_FEATURES: &str = "mutation($id: ID!, $p: ManagerRightSetPatch!) {
    updateTeamManagerFeatures(id: $id, input: $p) { id } }";
pub(super) const SET_TEAMS: &str =
    "mutation($id: ID!, $ids: [ID!]!) { setManagerTeams(id: $id, teamIds: $ids) { id } }";
pub(super) const SET_PORTALS: &str =
    "mutation($id: ID!, $ids: [ID!]!) { setManagerPortals(id: $id, portalIds: $ids) { id } }";

/// Runs a setup request that must succeed; returns its `data`.
pub(super) async fn setup(who: &User, query: &str, variables: Value) -> Value {
    let body = who.gql(query, variables).await;
    assert!(body["errors"].is_null(), "setup failed: {query}\n{body}");
    body["data"].clone()
}

/// The storage id of an id the API answered (a global id) or the world holds (a uuid).
pub(super) fn uuid_of(id: &Value) -> Uuid {
    let text = id.as_str().unwrap_or_default();
    Uuid::try_parse(text).unwrap_or_else(|_| crate::harness::uuid_of_gid(text))
}

pub(super) async fn create_team(who: &User, name: &str, parent: Option<Uuid>) -> Uuid {
    let data = setup(
        who,
        "mutation($n: String!, $p: ID) { createTeam(input: { name: $n, parentId: $p }) { id } }",
        json!({ "n": name, "p": parent }),
    )
    .await;
    uuid_of(&data["createTeam"]["id"])
}

pub(super) async fn create_portal(who: &User, name: &str) -> Uuid {
    let data = setup(
        who,
        "mutation($n: String!) { createPortal(input: { name: $n }) { id } }",
        json!({ "n": name }),
    )
    .await;
    uuid_of(&data["createPortal"]["id"])
}

/// A rep inserted straight into the database. `createRep` hashes a password per rep; reusing
/// one stored hash keeps the hundreds of runs fast. Only permission is under test here.
pub(super) async fn seed_rep(
    app: &TestApp,
    hash: &SecretHash,
    account: Uuid,
    team: Uuid,
    login: &str,
) -> Uuid {
    let now = app.clock.now();
    let model = rep::Model {
        id: Uuid::now_v7(),
        account_id: account,
        team_id: team,
        login: login.to_owned(),
        login_key: manager::login_key(login),
        name: format!("{login} name"),
        email: format!("{login}@example.com"),
        screen_name: format!("{login} name"),
        password_hash: hash.clone(),
        feature_override_mask: 0,
        feature_override_values: 0,
        created_at: now,
        updated_at: now,
    };
    rep::Entity::insert(rep::ActiveModel::from(model.clone()))
        .exec_without_returning(&app.state.db)
        .await
        .expect("insert rep");
    logins::claim(&app.state.db, login, logins::Owner::Rep, model.id)
        .await
        .expect("claim rep login");
    crate::harness::gid(crate::harness::IdKind::Rep, model.id);
    model.id
}

pub(super) async fn fixture() -> Fixture {
    fixture_with(|_| {}).await
}

/// The fixture on a server whose configuration the test adjusts first.
pub(super) async fn fixture_with(
    adjust: impl FnOnce(&mut admin_center::config::Config),
) -> Fixture {
    let app = TestApp::with_config(adjust).await;
    let (a, owner) = app.company_owner().await;
    let (b, other_owner) = app.company_owner().await;
    account::set_api_managers_allowed(&app.state.db, app.clock.now(), a.account.id, true)
        .await
        .expect("allow API managers on A");

    let t = create_team(&owner, "T", None).await;
    let t2 = create_team(&owner, "T2", None).await;
    let u = create_team(&owner, "U", None).await;
    let team_b = create_team(&other_owner, "B team", None).await;
    let p = create_portal(&owner, "P").await;
    let p2 = create_portal(&owner, "P2").await;
    let portal_b = create_portal(&other_owner, "B portal").await;
    setup(
        &owner,
        SET_TEAM_FEATURES,
        json!({ "id": t2, "p": rights(false) }),
    )
    .await;

    let seed =
        |kind, login: &'static str| app.insert_manager(a.account.id, kind, login, SEED_PASSWORD);
    let with_right = seed(ManagerKind::Team, "tm.with-right").await;
    let without_right = seed(ManagerKind::Team, "tm.without-right").await;
    let on_t2 = seed(ManagerKind::Team, "tm.on-t2").await;
    let elsewhere = seed(ManagerKind::Team, "tm.elsewhere").await;
    let api = seed(ManagerKind::Api, "api.manager").await;
    let bystander = seed(ManagerKind::Team, "tm.bystander").await;

    for (manager, team, portal) in [
        (&with_right, t, p),
        (&without_right, t, p),
        (&on_t2, t2, p),
        (&elsewhere, u, p2),
    ] {
        let id = manager.id;
        if manager.id != without_right.id {
            setup(&owner, SET_RIGHTS, json!({ "id": id, "p": rights(true) })).await;
            setup(&owner, SET_REP_CONTROLS, json!({ "id": id })).await;
        }
        setup(&owner, SET_TEAMS, json!({ "id": id, "ids": [team] })).await;
        setup(&owner, SET_PORTALS, json!({ "id": id, "ids": [portal] })).await;
    }

    let hash = bystander.password_hash.clone();
    let rep_t = seed_rep(&app, &hash, a.account.id, t, "rep.t").await;
    let rep_t2 = seed_rep(&app, &hash, a.account.id, t2, "rep.t2").await;
    let rep_u = seed_rep(&app, &hash, a.account.id, u, "rep.u").await;
    let rep_b = seed_rep(&app, &hash, b.account.id, team_b, "rep.b").await;

    // Each caller signs in once, through the real `login` mutation over HTTP.
    let mut people = vec![
        (None, a.owner.id),
        (Some(owner.clone()), a.owner.id),
        (Some(other_owner), b.owner.id),
    ];
    for manager in [&with_right, &without_right, &on_t2, &elsewhere, &api] {
        let user = app.sign_in(manager, SEED_PASSWORD).await;
        people.push((Some(user), manager.id));
    }
    // Each app token through the real pages: A's company manager registers an app with every
    // scope, the API manager signs in and allows the caller's scopes, the app exchanges the
    // code. One app per token, so that no authorization widens or narrows another.
    let api_user = people[Caller::Api as usize]
        .0
        .clone()
        .expect("the API manager is signed in");
    let mut apps_of_a = Vec::new();
    for caller in CALLERS {
        let Some(scopes) = caller.scopes() else {
            continue;
        };
        let all = [
            "REPS_READ",
            "REPS_WRITE",
            "TEAMS_READ",
            "TEAMS_WRITE",
            "PORTALS_READ",
        ];
        let client = app.register_app(&owner, &all).await;
        let tokens = app
            .authorize_app(&client, &api.login, SEED_PASSWORD, &scopes.join(" "))
            .await;
        let mut user = api_user.clone();
        user.token = tokens.access_token;
        people.push((Some(user), api.id));
        apps_of_a.push(uuid_of(&json!(client.id)));
    }
    assert_eq!(people.len(), CALLERS.len());
    let managers_of_a = vec![
        a.owner.id,
        with_right.id,
        without_right.id,
        on_t2.id,
        elsewhere.id,
        api.id,
        bystander.id,
    ];
    Fixture {
        owner,
        people,
        apps_of_a,
        account_a: a.account.id,
        managers_of_a,
        bystander: bystander.id,
        t,
        t2,
        u,
        team_b,
        rep_t,
        rep_t2,
        rep_u,
        rep_b,
        p,
        p2,
        portal_b,
        password_hash: hash,
        runs: AtomicUsize::new(0),
        app,
    }
}

/// What `caller` reaches of one kind of row, given the row of each place.
pub(super) fn reach(
    caller: Caller,
    all_of_a: &[Uuid],
    of_b: Uuid,
    of_t: Uuid,
    of_t2: Uuid,
    of_u: Uuid,
) -> Vec<Uuid> {
    match caller {
        Caller::Anonymous => Vec::new(),
        Caller::Company
        | Caller::Api
        | Caller::AppAll
        | Caller::AppReadOnly
        | Caller::AppRepsOnly
        | Caller::AppNoPortals
        | Caller::AppWriteOnly => all_of_a.to_vec(),
        Caller::OtherCompany => vec![of_b],
        Caller::TeamWithRight | Caller::TeamWithoutRight => vec![of_t],
        Caller::TeamOnT2 => vec![of_t2],
        Caller::TeamElsewhere => vec![of_u],
    }
}

impl Fixture {
    /// The caller's signed-in user; `None` for the anonymous caller.
    pub(super) fn user(&self, caller: Caller) -> Option<&User> {
        self.people[caller as usize].0.as_ref()
    }

    /// Sends `query` as `caller` over HTTP: with its bearer token, or none when anonymous.
    pub(super) async fn send(&self, caller: Caller, query: &str, variables: Value) -> Value {
        match self.user(caller) {
            Some(user) => user.gql(query, variables).await,
            None => self.app.post_graphql(query, variables).await.1,
        }
    }

    pub(super) fn id(&self, caller: Caller) -> Uuid {
        self.people[caller as usize].1
    }

    pub(super) fn visible_managers(&self, caller: Caller) -> Vec<Uuid> {
        match caller {
            Caller::Company => self.managers_of_a.clone(),
            _ => vec![self.id(caller)],
        }
    }

    /// The developer apps `developerApps` lists: a company manager's account's own.
    pub(super) fn visible_apps(&self, caller: Caller) -> Vec<Uuid> {
        match caller {
            Caller::Company => self.apps_of_a.clone(),
            _ => Vec::new(),
        }
    }

    pub(super) fn visible_teams(&self, caller: Caller) -> Vec<Uuid> {
        let all = [self.t, self.t2, self.u];
        reach(caller, &all, self.team_b, self.t, self.t2, self.u)
    }

    pub(super) fn visible_reps(&self, caller: Caller) -> Vec<Uuid> {
        let all = [self.rep_t, self.rep_t2, self.rep_u];
        reach(
            caller,
            &all,
            self.rep_b,
            self.rep_t,
            self.rep_t2,
            self.rep_u,
        )
    }

    pub(super) fn visible_portals(&self, caller: Caller) -> Vec<Uuid> {
        reach(
            caller,
            &[self.p, self.p2],
            self.portal_b,
            self.p,
            self.p,
            self.p2,
        )
    }

    /// A team manager of A inserted straight into the database, for the same reason as
    /// `seed_rep`.
    pub(super) async fn seed_manager(&self, login: &str) -> Uuid {
        let now = self.app.clock.now();
        let model = manager::Model {
            id: Uuid::now_v7(),
            account_id: self.account_a,
            kind: ManagerKind::Team,
            login: login.to_owned(),
            login_key: manager::login_key(login),
            name: format!("{login} name"),
            email: format!("{login}@example.com"),
            email_validated: false,
            password_hash: self.password_hash.clone(),
            force_password_change: false,
            user_initiated_password_reset: true,
            force_validation_prompt: false,
            sso_break_glass: false,
            rights: 0,
            rep_controls: 0,
            created_at: now,
            updated_at: now,
        };
        manager::Entity::insert(manager::ActiveModel::from(model.clone()))
            .exec_without_returning(&self.app.state.db)
            .await
            .expect("insert manager");
        logins::claim(&self.app.state.db, login, logins::Owner::Manager, model.id)
            .await
            .expect("claim manager login");
        crate::harness::gid(crate::harness::IdKind::Manager, model.id);
        model.id
    }

    /// The ids of one run of a row by `caller`, its fresh target made.
    pub(super) async fn prepare(&self, fresh: Fresh, caller: Caller) -> Run {
        let n = self.runs.fetch_add(1, Ordering::SeqCst);
        let (team, rep) = match caller {
            Caller::TeamOnT2 => (self.t2, self.rep_t2),
            _ => (self.t, self.rep_t),
        };
        let me = self.id(caller);
        let assigned = matches!(
            caller,
            Caller::TeamWithRight | Caller::TeamWithoutRight | Caller::TeamOnT2
        );
        let (app, owner) = (&self.app, &self.owner);
        let fresh = match fresh {
            Fresh::Nothing => Uuid::nil(),
            Fresh::TeamManager => self.seed_manager(&format!("row{n}.tm")).await,
            Fresh::Rep => {
                let login = format!("row{n}.rep");
                seed_rep(app, &self.password_hash, self.account_a, team, &login).await
            }
            Fresh::Team | Fresh::SubTeam => {
                let parent = (fresh == Fresh::SubTeam).then_some(team);
                let id = create_team(owner, &format!("Row {n} team"), parent).await;
                if caller == Caller::TeamOnT2 && fresh == Fresh::Team {
                    let vars = json!({ "id": id, "p": rights(false) });
                    setup(owner, SET_TEAM_FEATURES, vars).await;
                }
                if assigned {
                    setup(owner, SET_TEAMS, json!({ "id": me, "ids": [team, id] })).await;
                }
                id
            }
            Fresh::App => {
                let registered = app.register_app(owner, &["REPS_READ"]).await;
                uuid_of(&json!(registered.id))
            }
            Fresh::Portal => {
                let id = create_portal(owner, &format!("Row {n} portal")).await;
                if assigned {
                    let vars = json!({ "id": me, "ids": [self.p, id] });
                    setup(owner, SET_PORTALS, vars).await;
                }
                id
            }
        };
        Run {
            me,
            team,
            rep,
            portal: self.p,
            bystander: self.bystander,
            api: self.id(Caller::Api),
            app: self.apps_of_a[0],
            fresh,
            n,
        }
    }

    /// Whether `body` is what `row` promises `caller`.
    pub(super) fn judge(
        &self,
        row: &Row,
        caller: Caller,
        body: &Value,
        key: &str,
    ) -> Result<(), String> {
        let expected = row.expect.of(caller);
        let field = &body["data"][key];
        let as_expected = match expected {
            Outcome::Data => body["errors"].is_null() && !field.is_null(),
            Outcome::Null => {
                body["errors"].is_null() && body["data"].get(key).is_some_and(Value::is_null)
            }
            Outcome::Code(code) => {
                error_code(body) == Some(code)
                    && body["errors"][0]["extensions"].get("scope").is_none()
                    && field.is_null()
            }
            Outcome::Scope(scope) => {
                error_code(body) == Some("FORBIDDEN")
                    && body["errors"][0]["extensions"]["scope"] == scope
                    && body["errors"][0]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(scope))
                    && field.is_null()
            }
        };
        if !as_expected {
            return Err(format!("expected {expected:?}, got {body}"));
        }
        if let (Outcome::Data, Some(scope)) = (expected, row.scope) {
            let mut want: Vec<String> = scope(self, caller)
                .iter()
                .map(|id| crate::harness::gid_of(*id))
                .collect();
            want.sort();
            let mut got: Vec<String> = field["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|node| node["id"].as_str().map(str::to_owned))
                .collect();
            got.sort();
            if got != want || field["totalCount"] != json!(want.len()) {
                return Err(format!("expected exactly {want:?}, got {field}"));
            }
        }
        Ok(())
    }

    /// Runs every row as every caller in every form of `kind`, and reports every run that
    /// answered otherwise than its row says, together.
    pub(super) async fn check(&self, kind: Kind, rows: &[Row]) {
        let forms: &[Form] = match kind {
            Kind::Query => &[
                Form::Plain,
                Form::Alias,
                Form::NamedFragment,
                Form::InlineFragment,
            ],
            Kind::Mutation => &[Form::Plain, Form::Alias],
        };
        let mut failures = Vec::new();
        let mut runs = 0;
        for row in rows {
            for caller in CALLERS {
                for &form in forms {
                    let run = self.prepare(row.fresh, caller).await;
                    let (query, key) = document(kind, row, form);
                    let body = self.send(caller, &query, (row.vars)(&run)).await;
                    runs += 1;
                    if let Err(why) = self.judge(row, caller, &body, &key) {
                        failures.push(format!(
                            "{} as {caller:?} ({form:?}): {why}\n    {query}",
                            row.name
                        ));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {runs} runs differ from the rules:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
