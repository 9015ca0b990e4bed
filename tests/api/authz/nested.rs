//! Nested paths, as every caller: every object field that returns other objects, reached from
//! every root that can return its parent (queries, mutations, the `login` payload, connections'
//! `nodes` and `edges.node`), two levels deep. Nested is scoped exactly like top level: what a
//! caller gets through any path is exactly what the top-level queries would show it. The
//! expected answers come from a model of the world below and the visibility rules of SPEC 2.
//!
//! The world, on top of `fixture()`:
//! - T has sub-teams TA (assigned to the team managers on T and to the one elsewhere, whose
//!   parent T it cannot see) and TS (assigned to the bystander only).
//! - P has sub-portals P1 (its first) and PX; the team managers on T are assigned to P and P1,
//!   the one elsewhere to P2 and PX (whose parent P it cannot see).
//! - T serves P with P1 and PX, TA serves P2 with P2's first sub-portal P2a.
//! - rep.t works in P1 and PX, rep.ta (of TA) in P2a and PX.

use std::{collections::BTreeMap, sync::Mutex};

use super::*;

/// The object types whose fields return objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Manager,
    Team,
    Rep,
    Portal,
}

/// The selection on `ty`, `depth` levels of object fields deep (`id` at depth 0).
fn sel(ty: Ty, depth: u8) -> String {
    if depth == 0 {
        return "id".to_owned();
    }
    let (m, t, r, p) = (
        sel(Ty::Manager, depth - 1),
        sel(Ty::Team, depth - 1),
        sel(Ty::Rep, depth - 1),
        sel(Ty::Portal, depth - 1),
    );
    match ty {
        Ty::Manager => format!("id teams {{ {t} }} portals {{ {p} }}"),
        Ty::Team => format!(
            "id parent {{ {t} }} subteams {{ {t} }} portal {{ {p} }} subportals {{ {p} }} \
             managers {{ {m} }} reps(first: 100) {{ totalCount nodes {{ {r} }} \
             edges {{ node {{ {r} }} }} }}"
        ),
        Ty::Rep => format!("id team {{ {t} }} portals {{ {p} }}"),
        Ty::Portal => format!("id parent {{ {p} }} subportals {{ {p} }}"),
    }
}

/// A connection of `ty` with both `nodes` and `edges.node`.
fn list(ty: Ty) -> String {
    let s = sel(ty, 2);
    format!("totalCount nodes {{ {s} }} edges {{ node {{ {s} }} }}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Company,
    Team,
    Api,
}

struct ManagerRow {
    account: Uuid,
    who: Who,
    teams: Vec<Uuid>,
    portals: Vec<Uuid>,
}

struct TeamRow {
    account: Uuid,
    parent: Option<Uuid>,
    portal: Option<Uuid>,
    subportals: Vec<Uuid>,
}

struct RepRow {
    team: Uuid,
    portals: Vec<Uuid>,
}

struct PortalRow {
    account: Uuid,
    parent: Option<Uuid>,
}

/// What is stored, as the model the expectations are computed from. `BTreeMap`s keep every
/// list in id order; answers are compared with their lists sorted by id.
#[derive(Default)]
struct Model {
    managers: BTreeMap<Uuid, ManagerRow>,
    teams: BTreeMap<Uuid, TeamRow>,
    reps: BTreeMap<Uuid, RepRow>,
    portals: BTreeMap<Uuid, PortalRow>,
}

impl Model {
    fn account_of(&self, ty: Ty, id: Uuid) -> Option<Uuid> {
        match ty {
            Ty::Manager => self.managers.get(&id).map(|m| m.account),
            Ty::Team => self.teams.get(&id).map(|t| t.account),
            Ty::Rep => self
                .reps
                .get(&id)
                .and_then(|r| self.account_of(Ty::Team, r.team)),
            Ty::Portal => self.portals.get(&id).map(|p| p.account),
        }
    }

    /// Whether the manager `me` (none: anonymous) sees row `id` of `ty` (SPEC 2): company
    /// managers their whole account; API managers all teams, reps and portals of theirs and,
    /// among managers, themselves; team managers their assigned teams and portals, the reps of
    /// those teams and themselves.
    fn sees(&self, me: Option<Uuid>, ty: Ty, id: Uuid) -> bool {
        let Some(me) = me.and_then(|me| self.managers.get(&me).map(|m| (me, m))) else {
            return false;
        };
        let (my_id, mine) = me;
        if self.account_of(ty, id) != Some(mine.account) {
            return false;
        }
        match (ty, mine.who) {
            (Ty::Manager, Who::Company) => true,
            (Ty::Manager, _) => id == my_id,
            (_, Who::Company | Who::Api) => true,
            (Ty::Team, Who::Team) => mine.teams.contains(&id),
            (Ty::Rep, Who::Team) => self
                .reps
                .get(&id)
                .is_some_and(|r| mine.teams.contains(&r.team)),
            (Ty::Portal, Who::Team) => mine.portals.contains(&id),
        }
    }

    fn visible(
        &self,
        me: Option<Uuid>,
        ty: Ty,
        ids: impl IntoIterator<Item = Uuid>,
        depth: u8,
    ) -> Value {
        let mut ids: Vec<Uuid> = ids
            .into_iter()
            .filter(|id| self.sees(me, ty, *id))
            .collect();
        ids.sort();
        ids.dedup();
        Value::Array(
            ids.into_iter()
                .map(|id| self.view(me, ty, id, depth))
                .collect(),
        )
    }

    fn optional(&self, me: Option<Uuid>, ty: Ty, id: Option<Uuid>, depth: u8) -> Value {
        match id {
            Some(id) if self.sees(me, ty, id) => self.view(me, ty, id, depth),
            _ => Value::Null,
        }
    }

    /// What `sel(ty, depth)` on row `id` must answer to `me`.
    fn view(&self, me: Option<Uuid>, ty: Ty, id: Uuid, depth: u8) -> Value {
        let mut object = serde_json::Map::new();
        object.insert("id".into(), json!(id.to_string()));
        if depth == 0 {
            return Value::Object(object);
        }
        let d = depth - 1;
        let fields: Vec<(&str, Value)> = match ty {
            Ty::Manager => {
                let m = &self.managers[&id];
                vec![
                    ("teams", self.visible(me, Ty::Team, m.teams.clone(), d)),
                    (
                        "portals",
                        self.visible(me, Ty::Portal, m.portals.clone(), d),
                    ),
                ]
            }
            Ty::Team => {
                let t = &self.teams[&id];
                let subteams = self
                    .teams
                    .iter()
                    .filter(|(_, s)| s.parent == Some(id))
                    .map(|(s, _)| *s);
                let managers = self
                    .managers
                    .iter()
                    .filter(|(_, m)| m.teams.contains(&id))
                    .map(|(m, _)| *m);
                let reps = self.visible(
                    me,
                    Ty::Rep,
                    self.reps
                        .iter()
                        .filter(|(_, r)| r.team == id)
                        .map(|(r, _)| *r),
                    d,
                );
                let edges: Vec<Value> = reps
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|node| json!({ "node": node }))
                    .collect();
                vec![
                    ("parent", self.optional(me, Ty::Team, t.parent, d)),
                    ("subteams", self.visible(me, Ty::Team, subteams, d)),
                    ("portal", self.optional(me, Ty::Portal, t.portal, d)),
                    (
                        "subportals",
                        self.visible(me, Ty::Portal, t.subportals.clone(), d),
                    ),
                    ("managers", self.visible(me, Ty::Manager, managers, d)),
                    (
                        "reps",
                        json!({
                            "totalCount": reps.as_array().map_or(0, Vec::len),
                            "nodes": reps,
                            "edges": edges,
                        }),
                    ),
                ]
            }
            Ty::Rep => {
                let r = &self.reps[&id];
                vec![
                    // Non-null: a visible rep's team is always visible.
                    ("team", self.view(me, Ty::Team, r.team, d)),
                    (
                        "portals",
                        self.visible(me, Ty::Portal, r.portals.clone(), d),
                    ),
                ]
            }
            Ty::Portal => {
                let p = &self.portals[&id];
                let subportals = self
                    .portals
                    .iter()
                    .filter(|(_, s)| s.parent == Some(id))
                    .map(|(s, _)| *s);
                vec![
                    ("parent", self.optional(me, Ty::Portal, p.parent, d)),
                    ("subportals", self.visible(me, Ty::Portal, subportals, d)),
                ]
            }
        };
        for (name, value) in fields {
            object.insert(name.into(), value);
        }
        Value::Object(object)
    }

    /// A top-level list: what `teams`, `reps`, `portals` and `managers` show `me`.
    fn connection(&self, me: Option<Uuid>, ty: Ty) -> Value {
        let ids: Vec<Uuid> = match ty {
            Ty::Manager => self.managers.keys().copied().collect(),
            Ty::Team => self.teams.keys().copied().collect(),
            Ty::Rep => self.reps.keys().copied().collect(),
            // Company and API managers list top-level portals (sub-portals hang from them); a
            // team manager lists the portals and sub-portals it is assigned to.
            Ty::Portal => {
                let team_manager = me
                    .and_then(|me| self.managers.get(&me))
                    .is_some_and(|m| m.who == Who::Team);
                self.portals
                    .iter()
                    .filter(|(_, p)| team_manager || p.parent.is_none())
                    .map(|(id, _)| *id)
                    .collect()
            }
        };
        let nodes = self.visible(me, ty, ids, 2);
        let edges: Vec<Value> = nodes
            .as_array()
            .into_iter()
            .flatten()
            .map(|node| json!({ "node": node }))
            .collect();
        json!({
            "totalCount": nodes.as_array().map_or(0, Vec::len),
            "nodes": nodes,
            "edges": edges,
        })
    }
}

/// `value` with every list of objects sorted by `id` (or by `node.id` for edges), so that
/// answers compare whatever their order.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(sorted).collect();
            let key = |v: &Value| {
                v["id"]
                    .as_str()
                    .or_else(|| v["node"]["id"].as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            items.sort_by_key(key);
            Value::Array(items)
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
        }
        other => other.clone(),
    }
}

/// Where `got` differs from `want` (both sorted), one line per difference.
fn differences(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    if want == got {
        return;
    }
    let ids = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .map(|v| {
                v["id"]
                    .as_str()
                    .or_else(|| v["node"]["id"].as_str())
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect()
    };
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            let mut keys: Vec<&String> = w.keys().chain(g.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let (w, g) = (&w.get(key), &g.get(key));
                let (w, g) = (w.unwrap_or(&Value::Null), g.unwrap_or(&Value::Null));
                differences(&format!("{path}.{key}"), w, g, out);
            }
        }
        (Value::Array(w), Value::Array(g)) if ids(w) == ids(g) => {
            for (i, (w, g)) in w.iter().zip(g).enumerate() {
                differences(&format!("{path}[{i}]"), w, g, out);
            }
        }
        (Value::Array(w), Value::Array(g)) => out.push(format!(
            "{path}: expected [{}], got [{}]",
            ids(w).join(", "),
            ids(g).join(", ")
        )),
        _ => out.push(format!("{path}: expected {want}, got {got}")),
    }
}

impl NestedWorld {
    /// `text` with ids replaced by their names.
    fn named(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (id, label) in &self.labels {
            text = text.replace(id.as_str(), label);
        }
        text
    }

    /// Why `body` is not `want`: the differing paths, or the whole answer.
    fn explain(&self, want: &Value, body: &Value) -> String {
        let mut out = Vec::new();
        if body["errors"].is_null() {
            differences("data", &sorted(want), &sorted(&body["data"]), &mut out);
        }
        if out.is_empty() {
            out.push(format!("expected {want}, got {body}"));
        }
        self.named(&out.join("\n      "))
    }
}

/// The nested world: the fixture, the extra rows above, and the model of all of it.
pub(super) struct NestedWorld {
    pub(super) fixture: Fixture,
    model: Mutex<Model>,
    /// Names for ids, so that failures read `T`, `PX`, `rep.t` instead of UUIDs.
    labels: Vec<(String, String)>,
    pub(super) ta: Uuid,
    pub(super) ts: Uuid,
    pub(super) p1: Uuid,
    pub(super) px: Uuid,
    pub(super) p2a: Uuid,
    pub(super) rep_ta: Uuid,
}

async fn first_subportal(owner: &User, portal: Uuid) -> Uuid {
    let data = setup(
        owner,
        "query($id: ID!) { portal(id: $id) { subportals { id } } }",
        json!({ "id": portal }),
    )
    .await;
    uuid_of(&data["portal"]["subportals"][0]["id"])
}

pub(super) async fn nested_world() -> NestedWorld {
    nested_world_with(|_| {}).await
}

/// The nested world on a server whose configuration the test adjusts first.
pub(super) async fn nested_world_with(
    adjust: impl FnOnce(&mut admin_center::config::Config),
) -> NestedWorld {
    // Two levels of nested lists weigh far more than the production limit allows.
    let f = fixture_with(|config| {
        config.graphql.max_complexity = 10_000_000;
        adjust(config);
    })
    .await;
    let owner = &f.owner;
    let a = f.account_a;
    let b = f.user(Caller::OtherCompany).unwrap().manager.account_id;
    let ta = create_team(owner, "TA", Some(f.t)).await;
    let ts = create_team(owner, "TS", Some(f.t)).await;
    let p1 = first_subportal(owner, f.p).await;
    let p2a = first_subportal(owner, f.p2).await;
    let portal_b_sub =
        first_subportal(&f.user(Caller::OtherCompany).unwrap().clone(), f.portal_b).await;
    let px = uuid_of(
        &setup(
            owner,
            "mutation($p: ID!) { createPortal(input: { name: \"PX\", parentId: $p }) { id } }",
            json!({ "p": f.p }),
        )
        .await["createPortal"]["id"],
    );
    let with_right = f.id(Caller::TeamWithRight);
    let without_right = f.id(Caller::TeamWithoutRight);
    let elsewhere = f.id(Caller::TeamElsewhere);
    let assignments = [
        (with_right, vec![f.t, ta], vec![f.p, p1]),
        (without_right, vec![f.t, ta], vec![f.p, p1]),
        (elsewhere, vec![f.u, ta], vec![f.p2, px]),
        (f.bystander, vec![f.t, ts], vec![]),
    ];
    for (id, teams, portals) in &assignments {
        setup(owner, SET_TEAMS, json!({ "id": id, "ids": teams })).await;
        setup(owner, SET_PORTALS, json!({ "id": id, "ids": portals })).await;
    }
    let serve = "mutation($id: ID!, $p: ID!, $s: [ID!]) {
        updateTeam(id: $id, input: { portalId: $p, subportalIds: $s }) { id } }";
    setup(owner, serve, json!({ "id": f.t, "p": f.p, "s": [p1, px] })).await;
    setup(owner, serve, json!({ "id": ta, "p": f.p2, "s": [p2a] })).await;
    let rep_ta = seed_rep(&f.app, &f.password_hash, a, ta, "rep.ta").await;
    let rep_portals =
        "mutation($id: ID!, $p: [ID!]) { updateRep(id: $id, input: { portalIds: $p }) { id } }";
    setup(owner, rep_portals, json!({ "id": f.rep_t, "p": [p1, px] })).await;
    setup(owner, rep_portals, json!({ "id": rep_ta, "p": [p2a, px] })).await;

    let mut model = Model::default();
    let team_manager = |teams: &[Uuid], portals: &[Uuid]| ManagerRow {
        account: a,
        who: Who::Team,
        teams: teams.to_vec(),
        portals: portals.to_vec(),
    };
    let company = |account| ManagerRow {
        account,
        who: Who::Company,
        teams: vec![],
        portals: vec![],
    };
    model.managers.insert(f.id(Caller::Company), company(a));
    model
        .managers
        .insert(f.id(Caller::OtherCompany), company(b));
    model
        .managers
        .insert(with_right, team_manager(&[f.t, ta], &[f.p, p1]));
    model
        .managers
        .insert(without_right, team_manager(&[f.t, ta], &[f.p, p1]));
    model
        .managers
        .insert(f.id(Caller::TeamOnT2), team_manager(&[f.t2], &[f.p]));
    model
        .managers
        .insert(elsewhere, team_manager(&[f.u, ta], &[f.p2, px]));
    model
        .managers
        .insert(f.bystander, team_manager(&[f.t, ts], &[]));
    model.managers.insert(
        f.id(Caller::Api),
        ManagerRow {
            account: a,
            who: Who::Api,
            teams: vec![],
            portals: vec![],
        },
    );
    let team = |account, parent, portal, subportals: &[Uuid]| TeamRow {
        account,
        parent,
        portal,
        subportals: subportals.to_vec(),
    };
    model.teams.insert(f.t, team(a, None, Some(f.p), &[p1, px]));
    model.teams.insert(f.t2, team(a, None, None, &[]));
    model.teams.insert(f.u, team(a, None, None, &[]));
    model
        .teams
        .insert(ta, team(a, Some(f.t), Some(f.p2), &[p2a]));
    model.teams.insert(ts, team(a, Some(f.t), None, &[]));
    model.teams.insert(f.team_b, team(b, None, None, &[]));
    let rep = |team, portals: &[Uuid]| RepRow {
        team,
        portals: portals.to_vec(),
    };
    model.reps.insert(f.rep_t, rep(f.t, &[p1, px]));
    model.reps.insert(f.rep_t2, rep(f.t2, &[]));
    model.reps.insert(f.rep_u, rep(f.u, &[]));
    model.reps.insert(rep_ta, rep(ta, &[p2a, px]));
    model.reps.insert(f.rep_b, rep(f.team_b, &[]));
    let portal = |account, parent| PortalRow { account, parent };
    model.portals.insert(f.p, portal(a, None));
    model.portals.insert(p1, portal(a, Some(f.p)));
    model.portals.insert(px, portal(a, Some(f.p)));
    model.portals.insert(f.p2, portal(a, None));
    model.portals.insert(p2a, portal(a, Some(f.p2)));
    model.portals.insert(f.portal_b, portal(b, None));
    model
        .portals
        .insert(portal_b_sub, portal(b, Some(f.portal_b)));

    let mut labels: Vec<(String, String)> = [
        (f.t, "T"),
        (f.t2, "T2"),
        (f.u, "U"),
        (ta, "TA"),
        (ts, "TS"),
        (f.team_b, "B-team"),
        (f.p, "P"),
        (p1, "P1"),
        (px, "PX"),
        (f.p2, "P2"),
        (p2a, "P2a"),
        (f.portal_b, "B-portal"),
        (portal_b_sub, "B-subportal"),
        (f.rep_t, "rep.t"),
        (f.rep_t2, "rep.t2"),
        (f.rep_u, "rep.u"),
        (rep_ta, "rep.ta"),
        (f.rep_b, "rep.b"),
        (f.bystander, "tm.bystander"),
    ]
    .into_iter()
    .map(|(id, label)| (id.to_string(), label.to_owned()))
    .collect();
    for caller in CALLERS.into_iter().skip(1) {
        labels.push((f.id(caller).to_string(), format!("{caller:?}")));
    }
    NestedWorld {
        fixture: f,
        model: Mutex::new(model),
        labels,
        ta,
        ts,
        p1,
        px,
        p2a,
        rep_ta,
    }
}

/// What one run must answer.
#[derive(Debug)]
enum Want {
    /// No error, and `data` is exactly this (lists compared in id order).
    Data(Value),
    /// `errors[0].extensions.code` is this and the root field holds nothing.
    Code(&'static str),
}

/// One nested row: a document whose root field is `x`, its variables, and the answer for each
/// caller.
struct NestedRow {
    name: String,
    document: String,
    vars: Value,
    /// The expected answer for `caller` (whose manager id is `me`), given the model.
    want: WantFn,
    /// After a successful run: what the mutation stored, into the model.
    stored: Option<Stored>,
}

/// The expected answer for a caller (and its manager id), given the model.
type WantFn = Box<dyn Fn(&Model, Caller, Option<Uuid>) -> Want + Send + Sync>;

/// Puts what a create mutation stored into the model: the caller, its variables, its answer.
type Stored = fn(&mut Model, Option<Uuid>, &Value, &Value);

impl NestedWorld {
    fn me(&self, caller: Caller) -> Option<Uuid> {
        self.fixture.user(caller).map(User::id)
    }

    /// A query of a row of `ty` by id: UNAUTHENTICATED when anonymous, NOT_FOUND out of
    /// reach, else its view.
    fn by_id(&self, root: &str, ty: Ty, id: Uuid) -> NestedRow {
        NestedRow {
            name: format!("{root}({id})"),
            document: format!(
                "query($id: ID!) {{ x: {root}(id: $id) {{ {} }} }}",
                sel(ty, 2)
            ),
            vars: json!({ "id": id }),
            want: Box::new(move |model, caller, me| match caller {
                Caller::Anonymous => Want::Code("UNAUTHENTICATED"),
                _ if !model.sees(me, ty, id) => Want::Code("NOT_FOUND"),
                _ => Want::Data(json!({ "x": model.view(me, ty, id, 2) })),
            }),
            stored: None,
        }
    }

    fn connection(&self, root: &str, ty: Ty) -> NestedRow {
        NestedRow {
            name: root.to_owned(),
            document: format!("{{ x: {root}(first: 100) {{ {} }} }}", list(ty)),
            vars: json!({}),
            want: Box::new(move |model, caller, me| match caller {
                Caller::Anonymous => Want::Code("UNAUTHENTICATED"),
                _ => Want::Data(json!({ "x": model.connection(me, ty) })),
            }),
            stored: None,
        }
    }

    /// Runs every row as every caller and reports every run that answered otherwise.
    async fn check(&self, rows: &[NestedRow]) {
        let mut failures = Vec::new();
        let mut runs = 0;
        for row in rows {
            for caller in CALLERS {
                let me = self.me(caller);
                // Created logins and names are unique per run.
                let mut vars = row.vars.clone();
                let unique = format!("nested.{caller:?}").to_lowercase();
                for key in ["l", "n"] {
                    if vars.get(key).is_some() {
                        vars[key] = json!(unique);
                    }
                }
                let body = self.fixture.send(caller, &row.document, vars.clone()).await;
                runs += 1;
                let succeeded = body["errors"].is_null() && !body["data"]["x"].is_null();
                if let (Some(stored), true) = (row.stored, succeeded) {
                    let mut model = self.model.lock().unwrap();
                    stored(&mut model, me, &vars, &body["data"]["x"]);
                }
                let model = self.model.lock().unwrap();
                let mut want = (row.want)(&model, caller, me);
                if let (Want::Data(Value::Null), true) = (&want, succeeded) {
                    // A created row: its view now that the model holds it.
                    let id = uuid_of(&body["data"]["x"]["id"]);
                    let ty = row_type(&row.document);
                    want = Want::Data(json!({ "x": model.view(me, ty, id, 2) }));
                }
                let ok = match &want {
                    Want::Data(data) => {
                        body["errors"].is_null() && sorted(&body["data"]) == sorted(data)
                    }
                    Want::Code(code) => {
                        error_code(&body) == Some(code) && body["data"]["x"].is_null()
                    }
                };
                if !ok {
                    let why = match &want {
                        Want::Data(data) => self.explain(data, &body),
                        Want::Code(code) => self.named(&format!("expected {code}, got {body}")),
                    };
                    failures.push(format!(
                        "{} as {caller:?}:\n      {why}",
                        self.named(&row.name)
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {runs} nested runs differ from the rules:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// A mutation row: a mutation returning row `target` of `ty` (none: the row it creates),
/// allowed to the callers `expect` gives `DATA`.
struct Change {
    name: &'static str,
    /// Variable definitions, without the parentheses.
    params: &'static str,
    call: &'static str,
    ty: Ty,
    vars: Value,
    expect: Expect,
    target: Option<Uuid>,
    stored: Option<Stored>,
}

impl Change {
    fn row(self) -> NestedRow {
        let Change {
            name,
            params,
            call,
            ty,
            vars,
            expect,
            target,
            stored,
        } = self;
        NestedRow {
            name: name.to_owned(),
            document: format!("mutation({params}) {{ x: {call} {{ {} }} }}", sel(ty, 2)),
            vars,
            want: Box::new(move |model, caller, me| match expect.of(caller) {
                Outcome::Code(code) => Want::Code(code),
                Outcome::Null => Want::Data(json!({ "x": null })),
                Outcome::Data => match target {
                    Some(id) => Want::Data(json!({ "x": model.view(me, ty, id, 2) })),
                    // Judged once the created row is in the model (see `check`).
                    None => Want::Data(Value::Null),
                },
            }),
            stored,
        }
    }
}

/// The type a mutation row's selection is on, from its document.
fn row_type(document: &str) -> Ty {
    if document.contains("createRep") {
        Ty::Rep
    } else if document.contains("createPortal") {
        Ty::Portal
    } else {
        Ty::Team
    }
}

#[tokio::test]
async fn nested_fields_of_every_query_root_are_scoped_like_top_level() {
    let n = nested_world().await;
    let f = &n.fixture;
    let mut rows = vec![
        NestedRow {
            name: "me".into(),
            document: format!("{{ x: me {{ {} }} }}", sel(Ty::Manager, 2)),
            vars: json!({}),
            want: Box::new(|model, _, me| {
                Want::Data(json!({ "x": me.map(|me| model.view(Some(me), Ty::Manager, me, 2)) }))
            }),
            stored: None,
        },
        // The fragment forms: named (also on a connection) and inline.
        NestedRow {
            name: "me (named fragment)".into(),
            document: format!(
                "{{ x: me {{ ...M }} }} fragment M on Manager {{ {} }}",
                sel(Ty::Manager, 2)
            ),
            vars: json!({}),
            want: Box::new(|model, _, me| {
                Want::Data(json!({ "x": me.map(|me| model.view(Some(me), Ty::Manager, me, 2)) }))
            }),
            stored: None,
        },
        n.connection("managers", Ty::Manager),
        n.connection("teams", Ty::Team),
        n.connection("reps", Ty::Rep),
        n.connection("portals", Ty::Portal),
    ];
    for caller in [
        Caller::Company,
        Caller::TeamWithRight,
        Caller::TeamElsewhere,
        Caller::Api,
    ] {
        rows.push(n.by_id("manager", Ty::Manager, f.id(caller)));
    }
    for team in [f.t, f.t2, f.u, n.ta, n.ts, f.team_b] {
        rows.push(n.by_id("team", Ty::Team, team));
    }
    for rep in [f.rep_t, f.rep_u, n.rep_ta, f.rep_b] {
        rows.push(n.by_id("rep", Ty::Rep, rep));
    }
    for portal in [f.p, n.p1, n.px, f.p2, n.p2a, f.portal_b] {
        rows.push(n.by_id("portal", Ty::Portal, portal));
    }
    let mut fragment = n.by_id("team", Ty::Team, f.t);
    fragment.name = "team (named and inline fragments)".into();
    fragment.document = format!(
        "query($id: ID!) {{ ... on Query {{ x: team(id: $id) {{ ... on Team {{ ...T }} }} }} }} \
         fragment T on Team {{ {} }}",
        sel(Ty::Team, 2)
    );
    rows.push(fragment);
    let mut fragment = n.connection("teams", Ty::Team);
    fragment.name = "teams (named fragment)".into();
    fragment.document = format!(
        "{{ x: teams(first: 100) {{ ...C }} }} fragment C on TeamConnection {{ {} }}",
        list(Ty::Team)
    );
    rows.push(fragment);
    n.check(&rows).await;
}

#[tokio::test]
async fn nested_fields_of_every_mutation_payload_are_scoped_like_top_level() {
    let n = nested_world().await;
    let f = &n.fixture;
    let with_right = f.id(Caller::TeamWithRight);
    // The rights of SPEC 4.4 on T, which only the team managers on T are assigned to.
    let on_t = Expect {
        team_on_t2: NOT_FOUND,
        ..NEEDS_RIGHT
    };
    let rows = vec![
        Change {
            name: "updateTeam",
            params: "$id: ID!",
            call: "updateTeam(id: $id, input: { availableLogins: 50 })",
            ty: Ty::Team,
            vars: json!({ "id": f.t }),
            expect: Expect {
                team_on_t2: NOT_FOUND,
                ..TEAM_SETTINGS
            },
            target: Some(f.t),
            stored: None,
        }
        .row(),
        Change {
            name: "updateTeamRepDefaults",
            params: "$id: ID!",
            call: "updateTeamRepDefaults(id: $id, input: { multiSession: true })",
            ty: Ty::Team,
            vars: json!({ "id": n.ta }),
            expect: Expect {
                team_on_t2: NOT_FOUND,
                team_elsewhere: FORBIDDEN,
                ..TEAM_SETTINGS
            },
            target: Some(n.ta),
            stored: None,
        }
        .row(),
        Change {
            name: "updateTeamManagerFeatures",
            params: "$id: ID!",
            call: "updateTeamManagerFeatures(id: $id, input: { scheduleReports: false })",
            ty: Ty::Team,
            vars: json!({ "id": f.t }),
            expect: Expect {
                team_on_t2: NOT_FOUND,
                api: FORBIDDEN,
                ..TEAM_SETTINGS
            },
            target: Some(f.t),
            stored: None,
        }
        .row(),
        Change {
            name: "setRepPassword",
            params: "$id: ID!",
            call: "setRepPassword(id: $id, password: \"Row-Pass-2026x\")",
            ty: Ty::Rep,
            vars: json!({ "id": f.rep_t }),
            expect: on_t,
            target: Some(f.rep_t),
            stored: None,
        }
        .row(),
        Change {
            name: "updateRep",
            params: "$id: ID!",
            call: "updateRep(id: $id, input: { name: \"Renamed Rep\" })",
            ty: Ty::Rep,
            vars: json!({ "id": f.rep_t }),
            expect: on_t,
            target: Some(f.rep_t),
            stored: None,
        }
        .row(),
        Change {
            name: "updateRepFeatures",
            params: "$id: ID!",
            call: "updateRepFeatures(id: $id, input: { multiSession: true })",
            ty: Ty::Rep,
            vars: json!({ "id": f.rep_t }),
            expect: on_t,
            target: Some(f.rep_t),
            stored: None,
        }
        .row(),
        Change {
            name: "createRep",
            params: "$t: ID!, $p: [ID!], $l: String!",
            call: "createRep(input: { teamId: $t, portalIds: $p, login: $l, \
             name: \"New Rep\", email: \"new@example.com\", password: \"Row-Pass-2026x\" })",
            ty: Ty::Rep,
            vars: json!({ "t": f.t, "p": [n.p1], "l": "" }),
            expect: on_t,
            target: None,
            stored: Some(|model, _, vars, rep| {
                let portals = vars["p"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(uuid_of)
                    .collect();
                let team = uuid_of(&vars["t"]);
                model
                    .reps
                    .insert(uuid_of(&rep["id"]), RepRow { team, portals });
            }),
        }
        .row(),
        Change {
            name: "createTeam (sub-team of T)",
            params: "$t: ID!, $n: String!",
            call: "createTeam(input: { name: $n, parentId: $t })",
            ty: Ty::Team,
            vars: json!({ "t": f.t, "n": "" }),
            expect: on_t,
            target: None,
            stored: Some(|model, me, vars, team| {
                let id = uuid_of(&team["id"]);
                let parent = uuid_of(&vars["t"]);
                let account = model.teams[&parent].account;
                let row = TeamRow {
                    account,
                    parent: Some(parent),
                    portal: None,
                    subportals: vec![],
                };
                model.teams.insert(id, row);
                // A sub-team a team manager creates is assigned to it.
                if let Some(mine) = me.and_then(|me| model.managers.get_mut(&me))
                    && mine.who == Who::Team
                {
                    mine.teams.push(id);
                }
            }),
        }
        .row(),
        Change {
            name: "createPortal (sub-portal of P)",
            params: "$p: ID!, $n: String!",
            call: "createPortal(input: { name: $n, parentId: $p })",
            ty: Ty::Portal,
            vars: json!({ "p": f.p, "n": "" }),
            expect: PROVISIONING_IN_A,
            target: None,
            stored: Some(|model, _, vars, portal| {
                let parent = uuid_of(&vars["p"]);
                let account = model.portals[&parent].account;
                let row = PortalRow {
                    account,
                    parent: Some(parent),
                };
                model.portals.insert(uuid_of(&portal["id"]), row);
            }),
        }
        .row(),
        Change {
            name: "updatePortal",
            params: "$id: ID!",
            call: "updatePortal(id: $id, input: { name: \"P renamed\" })",
            ty: Ty::Portal,
            vars: json!({ "id": n.px }),
            expect: PROVISIONING_IN_A,
            target: Some(n.px),
            stored: None,
        }
        .row(),
        Change {
            name: "updateManager",
            params: "$id: ID!",
            call: "updateManager(id: $id, input: { name: \"Renamed Manager\" })",
            ty: Ty::Manager,
            vars: json!({ "id": with_right }),
            expect: MANAGER_ADMIN_IN_A,
            target: Some(with_right),
            stored: None,
        }
        .row(),
        Change {
            name: "updateManagerRights",
            params: "$id: ID!",
            call: "updateManagerRights(id: $id, input: { addDeleteReps: true })",
            ty: Ty::Manager,
            vars: json!({ "id": with_right }),
            expect: MANAGER_ADMIN_IN_A,
            target: Some(with_right),
            stored: None,
        }
        .row(),
        Change {
            name: "updateManagerRepControls",
            params: "$id: ID!",
            call: "updateManagerRepControls(id: $id, input: { multiSession: true })",
            ty: Ty::Manager,
            vars: json!({ "id": with_right }),
            expect: MANAGER_ADMIN_IN_A,
            target: Some(with_right),
            stored: None,
        }
        .row(),
        Change {
            name: "updateManagerLoginSettings",
            params: "$id: ID!",
            call: "updateManagerLoginSettings(id: $id, input: { userInitiatedPasswordReset: true })",
            ty: Ty::Manager,
            vars: json!({ "id": with_right }),
            expect: MANAGER_ADMIN_IN_A,
            target: Some(with_right),
            stored: None,
        }
        .row(),
        Change {
            name: "setManagerTeams",
            params: "$id: ID!, $t: [ID!]!",
            call: "setManagerTeams(id: $id, teamIds: $t)",
            ty: Ty::Manager,
            vars: json!({ "id": with_right, "t": [f.t, n.ta] }),
            expect: MANAGER_ADMIN_IN_A,
            target: Some(with_right),
            stored: // Drops the sub-team it created above.
            Some(|model, _, vars, _| {
                let teams = vars["t"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(uuid_of)
                    .collect();
                if let Some(m) = model.managers.get_mut(&uuid_of(&vars["id"])) {
                    m.teams = teams;
                }
            }),
        }
        .row(),
        Change {
            name: "setManagerPortals",
            params: "$id: ID!, $p: [ID!]!",
            call: "setManagerPortals(id: $id, portalIds: $p)",
            ty: Ty::Manager,
            vars: json!({ "id": with_right, "p": [f.p, n.p1] }),
            expect: MANAGER_ADMIN_IN_A,
            target: Some(with_right),
            stored: Some(|model, _, vars, _| {
                let portals = vars["p"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(uuid_of)
                    .collect();
                if let Some(m) = model.managers.get_mut(&uuid_of(&vars["id"])) {
                    m.portals = portals;
                }
            }),
        }
        .row(),
    ];
    n.check(&rows).await;
}

/// `login` sent by every caller with its own token (none when anonymous), signing in as itself
/// (the anonymous caller as the team manager on T) and as the team manager elsewhere (who sees
/// TA but not its parent T): the payload's manager is seen as the manager who just signed in,
/// whatever the token.
#[tokio::test]
async fn nested_fields_of_the_login_payload_are_scoped_to_the_signed_in_manager() {
    let n = nested_world().await;
    let f = &n.fixture;
    let document = format!(
        "mutation($l: String!, $p: String!) {{ x: login(login: $l, password: $p) {{ \
         restriction manager {{ {} }} }} }}",
        sel(Ty::Manager, 2)
    );
    let mut failures = Vec::new();
    let runs = CALLERS.into_iter().flat_map(|caller| {
        let itself = match caller {
            Caller::Anonymous => Caller::TeamWithRight,
            other => other,
        };
        let mut runs = vec![(caller, itself)];
        if itself != Caller::TeamElsewhere {
            runs.push((caller, Caller::TeamElsewhere));
        }
        runs
    });
    for (caller, signs_in) in runs {
        let user = f.user(signs_in).unwrap();
        let password = match signs_in {
            Caller::Company | Caller::OtherCompany => crate::harness::USER_PASSWORD,
            _ => SEED_PASSWORD,
        };
        let body = f
            .send(
                caller,
                &document,
                json!({ "l": user.manager.login, "p": password }),
            )
            .await;
        let me = Some(user.id());
        let want = {
            let model = n.model.lock().unwrap();
            json!({ "restriction": "NONE", "manager": model.view(me, Ty::Manager, user.id(), 2) })
        };
        if !body["errors"].is_null() || sorted(&body["data"]["x"]) != sorted(&want) {
            let why = n.explain(&json!({ "x": want }), &body);
            failures.push(format!(
                "login as {signs_in:?} with the token of {caller:?}:\n      {why}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn effective_rights_answer_not_found_on_a_team_out_of_reach_on_every_path() {
    let n = nested_world().await;
    let f = &n.fixture;
    let mut failures = Vec::new();
    for team in [f.t, f.t2, f.u, n.ta, n.ts, f.team_b] {
        for caller in CALLERS.into_iter().skip(1) {
            let me = n.me(caller);
            let visible = n.model.lock().unwrap().sees(me, Ty::Team, team);
            for document in [
                "query($t: ID!) { x: me { effectiveRights(teamId: $t) { addDeleteReps } } }",
                "query($t: ID!, $m: ID!) { x: manager(id: $m) { effectiveRights(teamId: $t) { addDeleteReps } } }",
                "query($t: ID!) { x: managers(first: 100) { nodes { effectiveRights(teamId: $t) { addDeleteReps } } } }",
            ] {
                let body = f
                    .send(caller, document, json!({ "t": team, "m": me }))
                    .await;
                let ok = if visible {
                    body["errors"].is_null() && !body["data"]["x"].is_null()
                } else {
                    // In a list the error nulls the manager, not the list.
                    error_code(&body) == Some("NOT_FOUND")
                        && !body["data"].to_string().contains("addDeleteReps")
                };
                if !ok {
                    let want = if visible { "data" } else { "NOT_FOUND" };
                    failures.push(n.named(&format!(
                        "{caller:?} on team {team} ({document}): expected {want}, got {body}"
                    )));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
