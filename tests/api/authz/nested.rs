//! Nested paths, as every caller: every object field that returns other objects, reached from
//! every root that can return its parent (queries, mutations, the `login` payload, connections'
//! `nodes` and `edges.node`), two levels deep. Nested is scoped exactly like top level: what a
//! caller gets through any path is exactly what the top-level queries would show it. The
//! expected answers come from a model of the world below and the visibility rules of SPEC 2,
//! and for app tokens their scopes (SPEC 6): every nested team, rep or portal field needs its
//! read scope, whatever it holds, and a refused field is left out of its object with a
//! `FORBIDDEN` error naming the scope (async-graphql 7 drops a failed field rather than
//! nulling its parent).
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

    /// A list field of rows of `ty`: those `v` sees. An app token without the scope of `ty`
    /// is refused the field, whether the list would be empty or not.
    fn visible(
        &self,
        v: Viewer,
        ty: Ty,
        ids: impl IntoIterator<Item = Uuid>,
        depth: u8,
        out: &mut Refusals,
    ) -> Answer {
        refuse(v, ty, out)?;
        let mut ids: Vec<Uuid> = ids
            .into_iter()
            .filter(|id| self.sees(v.me, ty, *id))
            .collect();
        ids.sort();
        ids.dedup();
        Ok(Value::Array(
            ids.into_iter()
                .map(|id| self.view(v, ty, id, depth, out))
                .collect(),
        ))
    }

    /// A nullable field of a row of `ty`: refused to an app token without the scope of `ty`,
    /// whether there is a row or not; else the row if `v` sees it, or `null`.
    fn optional(
        &self,
        v: Viewer,
        ty: Ty,
        id: Option<Uuid>,
        depth: u8,
        out: &mut Refusals,
    ) -> Answer {
        refuse(v, ty, out)?;
        Ok(match id {
            Some(id) if self.sees(v.me, ty, id) => self.view(v, ty, id, depth, out),
            _ => Value::Null,
        })
    }

    /// What `sel(ty, depth)` on row `id` must answer to `v`. A refused field is left out of
    /// its object, with its error (async-graphql 7 does not null the parent of a failed
    /// non-null field, it drops the field).
    fn view(&self, v: Viewer, ty: Ty, id: Uuid, depth: u8, out: &mut Refusals) -> Value {
        let mut object = serde_json::Map::new();
        object.insert("id".into(), json!(crate::harness::gid_of(id)));
        if depth == 0 {
            return Value::Object(object);
        }
        let d = depth - 1;
        let fields: Vec<(&str, Answer)> = match ty {
            Ty::Manager => {
                let m = &self.managers[&id];
                vec![
                    ("teams", self.visible(v, Ty::Team, m.teams.clone(), d, out)),
                    (
                        "portals",
                        self.visible(v, Ty::Portal, m.portals.clone(), d, out),
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
                let of_team = self
                    .reps
                    .iter()
                    .filter(|(_, r)| r.team == id)
                    .map(|(r, _)| *r);
                let reps = refuse(v, Ty::Rep, out).map(|()| self.page(v, Ty::Rep, of_team, d, out));
                vec![
                    ("parent", self.optional(v, Ty::Team, t.parent, d, out)),
                    ("subteams", self.visible(v, Ty::Team, subteams, d, out)),
                    ("portal", self.optional(v, Ty::Portal, t.portal, d, out)),
                    (
                        "subportals",
                        self.visible(v, Ty::Portal, t.subportals.clone(), d, out),
                    ),
                    ("managers", self.visible(v, Ty::Manager, managers, d, out)),
                    ("reps", reps),
                ]
            }
            Ty::Rep => {
                let r = &self.reps[&id];
                // Non-null: a visible rep's team is always visible (given `teams:read`).
                let team =
                    refuse(v, Ty::Team, out).map(|()| self.view(v, Ty::Team, r.team, d, out));
                vec![
                    ("team", team),
                    (
                        "portals",
                        self.visible(v, Ty::Portal, r.portals.clone(), d, out),
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
                    ("parent", self.optional(v, Ty::Portal, p.parent, d, out)),
                    (
                        "subportals",
                        self.visible(v, Ty::Portal, subportals, d, out),
                    ),
                ]
            }
        };
        for (name, value) in fields {
            if let Ok(value) = value {
                object.insert(name.into(), value);
            }
        }
        Value::Object(object)
    }

    /// What a manager's own session sees of row `id` (it holds every scope).
    fn session_view(&self, me: Option<Uuid>, ty: Ty, id: Uuid, depth: u8) -> Value {
        self.view(Viewer::session(me), ty, id, depth, &mut Refusals::new())
    }

    /// A top-level list: what `teams`, `reps`, `portals` and `managers` show `v` (the root's
    /// own scope is the row's business).
    fn connection(&self, v: Viewer, ty: Ty, out: &mut Refusals) -> Value {
        let ids: Vec<Uuid> = match ty {
            Ty::Manager => self.managers.keys().copied().collect(),
            Ty::Team => self.teams.keys().copied().collect(),
            Ty::Rep => self.reps.keys().copied().collect(),
            // Company and API managers list top-level portals (sub-portals hang from them); a
            // team manager lists the portals and sub-portals it is assigned to.
            Ty::Portal => {
                let team_manager =
                    v.me.and_then(|me| self.managers.get(&me))
                        .is_some_and(|m| m.who == Who::Team);
                self.portals
                    .iter()
                    .filter(|(_, p)| team_manager || p.parent.is_none())
                    .map(|(id, _)| *id)
                    .collect()
            }
        };
        self.page(v, ty, ids, 2, out)
    }

    /// A connection of the rows of `ty` among `ids` that `v` sees: `nodes` and `edges.node`
    /// resolve (and are refused) each on their own.
    fn page(
        &self,
        v: Viewer,
        ty: Ty,
        ids: impl IntoIterator<Item = Uuid>,
        depth: u8,
        out: &mut Refusals,
    ) -> Value {
        let mut ids: Vec<Uuid> = ids
            .into_iter()
            .filter(|id| self.sees(v.me, ty, *id))
            .collect();
        ids.sort();
        let nodes: Vec<Value> = ids
            .iter()
            .map(|id| self.view(v, ty, *id, depth, out))
            .collect();
        let edges: Vec<Value> = ids
            .iter()
            .map(|id| json!({ "node": self.view(v, ty, *id, depth, out) }))
            .collect();
        json!({
            "totalCount": nodes.len(),
            "nodes": nodes,
            "edges": edges,
        })
    }

    /// What a document whose one root field `x` answers `x` must give: the data, or with
    /// refusals, the data as they leave it and exactly those errors.
    fn want(x: Value, out: Refusals) -> Want {
        let data = json!({ "x": x });
        if out.is_empty() {
            Want::Data(data)
        } else {
            Want::Partial(data, out)
        }
    }
}

/// Refuses a field of rows of `ty` to an app token without their scope, counting the error.
fn refuse(v: Viewer, ty: Ty, out: &mut Refusals) -> Result<(), ()> {
    match read_scope(ty).filter(|s| v.lacks(s)) {
        Some(scope) => {
            *out.entry(scope).or_default() += 1;
            Err(())
        }
        None => Ok(()),
    }
}

/// Who reads: a manager (none: anonymous) and, for an app token, the scopes it holds.
#[derive(Clone, Copy, Debug)]
struct Viewer {
    me: Option<Uuid>,
    scopes: Option<&'static [&'static str]>,
}

impl Viewer {
    /// A manager's own session: its permissions alone decide.
    fn session(me: Option<Uuid>) -> Viewer {
        Viewer { me, scopes: None }
    }

    fn of(caller: Caller, me: Option<Uuid>) -> Viewer {
        Viewer {
            me,
            scopes: caller.scopes(),
        }
    }

    fn lacks(self, scope: &str) -> bool {
        self.scopes.is_some_and(|held| !held.contains(&scope))
    }
}

/// The scope an app token needs to read rows of `ty`, at top level or nested (SPEC 6).
/// Managers need none here: `me` is open to app tokens, and a team's managers are those the
/// API manager sees among them (itself at most); `managers` and `manager` refuse app tokens
/// at the root.
fn read_scope(ty: Ty) -> Option<&'static str> {
    match ty {
        Ty::Manager => None,
        Ty::Team => Some(TEAMS_READ),
        Ty::Rep => Some(REPS_READ),
        Ty::Portal => Some(PORTALS_READ),
    }
}

/// What a field answers: its value, or a refusal (the field is left out, with its error).
type Answer = Result<Value, ()>;

/// The errors one answer must carry: how many name each scope.
type Refusals = BTreeMap<&'static str, usize>;

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
                let path = format!("{path}.{key}");
                match (w.get(key), g.get(key)) {
                    (Some(w), Some(g)) => differences(&path, w, g, out),
                    // A refused field is left out of its object.
                    (None, Some(g)) => out.push(format!("{path}: expected refused, got {g}")),
                    (Some(w), None) => out.push(format!("{path}: expected {w}, got refused")),
                    (None, None) => {}
                }
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

    /// Why `body` is not `want`: the differing paths and the errors, or the whole answer.
    fn explain(&self, want: &Value, body: &Value) -> String {
        let mut out = Vec::new();
        let mut errors: BTreeMap<String, usize> = BTreeMap::new();
        for e in body["errors"].as_array().into_iter().flatten() {
            *errors.entry(e["extensions"].to_string()).or_default() += 1;
        }
        if !errors.is_empty() {
            out.push(format!("got errors {errors:?}"));
        }
        let before = out.len();
        differences("data", &sorted(want), &sorted(&body["data"]), &mut out);
        if out.len() == before {
            out.push(if errors.is_empty() {
                format!("expected {want}, got {body}")
            } else {
                "data as expected".to_owned()
            });
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
    .map(|(id, label)| (crate::harness::gid_of(id), label.to_owned()))
    .collect();
    for caller in CALLERS.into_iter().skip(1) {
        labels.push((crate::harness::gid_of(f.id(caller)), format!("{caller:?}")));
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
    /// `errors[0].extensions.code` is this, naming no scope, and the root field holds nothing.
    Code(&'static str),
    /// The root field refused for this missing scope: `FORBIDDEN` naming it, and nothing in
    /// the root field.
    Scope(&'static str),
    /// Nested fields refused for missing scopes: `data` is exactly this (the refused fields
    /// left out), and the errors are exactly these: `FORBIDDEN`, so many naming each scope.
    Partial(Value, Refusals),
}

impl Want {
    fn met_by(&self, body: &Value) -> bool {
        let errors = body["errors"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let scope = |e: &Value| e["extensions"]["scope"].as_str().map(str::to_owned);
        match self {
            Want::Data(data) => errors.is_empty() && sorted(&body["data"]) == sorted(data),
            Want::Code(code) => {
                error_code(body) == Some(code)
                    && errors.first().and_then(scope).is_none()
                    && body["data"]["x"].is_null()
            }
            Want::Scope(name) => {
                error_code(body) == Some("FORBIDDEN")
                    && errors.first().and_then(scope).as_deref() == Some(name)
                    && body["data"]["x"].is_null()
            }
            Want::Partial(data, scopes) => {
                let mut named = BTreeMap::new();
                for e in errors {
                    let key = match (e["extensions"]["code"].as_str(), scope(e)) {
                        (Some("FORBIDDEN"), Some(s)) => s,
                        _ => format!("{e}"),
                    };
                    *named.entry(key).or_insert(0) += 1;
                }
                let want: BTreeMap<String, usize> =
                    scopes.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect();
                named == want && sorted(&body["data"]) == sorted(data)
            }
        }
    }
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

    /// A query of a row of `ty` by id: UNAUTHENTICATED when anonymous, FORBIDDEN for an app
    /// token on a manager or without the scope of `ty` (which comes first), NOT_FOUND out of
    /// reach, else its view.
    fn by_id(&self, root: &str, ty: Ty, id: Uuid) -> NestedRow {
        NestedRow {
            name: format!("{root}({id})"),
            document: format!(
                "query($id: ID!) {{ x: {root}(id: $id) {{ {} }} }}",
                sel(ty, 2)
            ),
            vars: json!({ "id": id }),
            want: Box::new(move |model, caller, me| {
                let v = Viewer::of(caller, me);
                match root_refusal(caller, ty) {
                    Some(refused) => refused,
                    None if !model.sees(me, ty, id) => Want::Code("NOT_FOUND"),
                    None => {
                        let mut out = Refusals::new();
                        Model::want(model.view(v, ty, id, 2, &mut out), out)
                    }
                }
            }),
            stored: None,
        }
    }

    fn connection(&self, root: &str, ty: Ty) -> NestedRow {
        NestedRow {
            name: root.to_owned(),
            document: format!("{{ x: {root}(first: 100) {{ {} }} }}", list(ty)),
            vars: json!({}),
            want: Box::new(move |model, caller, me| match root_refusal(caller, ty) {
                Some(refused) => refused,
                None => {
                    let mut out = Refusals::new();
                    let answer = model.connection(Viewer::of(caller, me), ty, &mut out);
                    Model::want(answer, out)
                }
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
                let creates = row_creates(&row.document);
                // What the mutation stored, even when the payload was refused past its id.
                let done = match creates {
                    Some(ty) => self
                        .created(ty, &unique)
                        .await
                        .map(|id| json!({ "id": id })),
                    None => (body["errors"].is_null() && !body["data"]["x"].is_null())
                        .then(|| body["data"]["x"].clone()),
                };
                if let (Some(stored), Some(done)) = (row.stored, &done) {
                    let mut model = self.model.lock().unwrap();
                    stored(&mut model, me, &vars, done);
                }
                let model = self.model.lock().unwrap();
                let mut want = (row.want)(&model, caller, me);
                if let (Want::Data(Value::Null), Some(ty), Some(done)) = (&want, creates, &done) {
                    // A created row: its view now that the model holds it.
                    let mut out = Refusals::new();
                    let view = model.view(
                        Viewer::of(caller, me),
                        ty,
                        uuid_of(&done["id"]),
                        2,
                        &mut out,
                    );
                    want = Model::want(view, out);
                }
                if !want.met_by(&body) {
                    let why = match &want {
                        Want::Data(data) | Want::Partial(data, _) => self.explain(data, &body),
                        Want::Code(code) => self.named(&format!("expected {code}, got {body}")),
                        Want::Scope(scope) => {
                            self.named(&format!("expected FORBIDDEN naming {scope}, got {body}"))
                        }
                    };
                    let scopes = match &want {
                        Want::Partial(_, scopes) => format!(" (expected errors naming {scopes:?})"),
                        _ => String::new(),
                    };
                    failures.push(format!(
                        "{} as {caller:?}{scopes}:\n      {why}",
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

    /// The row of `ty` a create mutation stored under the unique login or name `unique`.
    async fn created(&self, ty: Ty, unique: &str) -> Option<Uuid> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let db = &self.fixture.app.state.db;
        match ty {
            Ty::Rep => rep::Entity::find()
                .filter(rep::Column::LoginKey.eq(manager::login_key(unique)))
                .one(db)
                .await
                .unwrap()
                .map(|r| crate::harness::met(crate::harness::IdKind::Rep, r.id)),
            Ty::Team => entity::team::Entity::find()
                .filter(entity::team::Column::Name.eq(unique))
                .one(db)
                .await
                .unwrap()
                .map(|t| crate::harness::met(crate::harness::IdKind::Team, t.id)),
            Ty::Portal => entity::portal::Entity::find()
                .filter(entity::portal::Column::Name.eq(unique))
                .one(db)
                .await
                .unwrap()
                .map(|p| crate::harness::met(crate::harness::IdKind::Portal, p.id)),
            Ty::Manager => None,
        }
    }
}

/// How the root of a query of rows of `ty` refuses `caller`, if it does: anonymous callers,
/// app tokens on managers (people only), and app tokens without the scope of `ty`.
fn root_refusal(caller: Caller, ty: Ty) -> Option<Want> {
    match caller {
        Caller::Anonymous => Some(Want::Code("UNAUTHENTICATED")),
        _ if caller.is_app() && ty == Ty::Manager => Some(Want::Code("FORBIDDEN")),
        _ => read_scope(ty).filter(|s| caller.lacks(s)).map(Want::Scope),
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
                Outcome::Scope(scope) => Want::Scope(scope),
                Outcome::Null => Want::Data(json!({ "x": null })),
                Outcome::Data => match target {
                    Some(id) => {
                        let mut out = Refusals::new();
                        let view = model.view(Viewer::of(caller, me), ty, id, 2, &mut out);
                        Model::want(view, out)
                    }
                    // Judged once the created row is in the model (see `check`).
                    None => Want::Data(Value::Null),
                },
            }),
            stored,
        }
    }
}

/// The type of the row a create mutation row makes, from its document; `None` for the others.
fn row_creates(document: &str) -> Option<Ty> {
    if document.contains("createRep") {
        Some(Ty::Rep)
    } else if document.contains("createPortal") {
        Some(Ty::Portal)
    } else if document.contains("createTeam") {
        Some(Ty::Team)
    } else {
        None
    }
}

/// `me`: `null` when anonymous, else the caller's manager as the caller sees it (open to app
/// tokens, whose nested fields need their scopes).
fn me_want(model: &Model, caller: Caller, me: Option<Uuid>) -> Want {
    match me {
        None => Want::Data(json!({ "x": null })),
        Some(id) => {
            let mut out = Refusals::new();
            let view = model.view(Viewer::of(caller, me), Ty::Manager, id, 2, &mut out);
            Model::want(view, out)
        }
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
            want: Box::new(me_want),
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
            want: Box::new(me_want),
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
    // An app token needs the write scope for the change; its payload's nested fields then
    // need their read scopes like any other path.
    let reps_on_t = on_t.needs(&[REPS_WRITE]);
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
            }
            .needs(&[TEAMS_WRITE]),
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
            }
            .needs(&[TEAMS_WRITE]),
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
            }
            .needs(&[TEAMS_WRITE]),
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
            expect: reps_on_t,
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
            expect: reps_on_t,
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
            expect: reps_on_t,
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
            expect: reps_on_t,
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
            expect: on_t.needs(&[TEAMS_WRITE]),
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
            expect: PROVISIONING_IN_A.refused(),
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
            expect: PROVISIONING_IN_A.refused(),
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
            json!({ "restriction": "NONE", "manager": model.session_view(me, Ty::Manager, user.id(), 2) })
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
            for (document, through_manager) in [
                (
                    "query($t: ID!) { x: me { effectiveRights(teamId: $t) { addDeleteReps } } }",
                    false,
                ),
                (
                    "query($t: ID!, $m: ID!) { x: manager(id: $m) { effectiveRights(teamId: $t) { addDeleteReps } } }",
                    true,
                ),
                (
                    "query($t: ID!) { x: managers(first: 100) { nodes { effectiveRights(teamId: $t) { addDeleteReps } } } }",
                    true,
                ),
            ] {
                let body = f
                    .send(caller, document, json!({ "t": team, "m": me }))
                    .await;
                let (ok, want) = if caller.is_app() && through_manager {
                    // `manager` and `managers` are for people.
                    (
                        error_code(&body) == Some("FORBIDDEN") && body["data"].is_null(),
                        "FORBIDDEN".to_owned(),
                    )
                } else if caller.lacks(TEAMS_READ) {
                    // Naming a team reads it, whether in reach or not.
                    let refused = error_code(&body) == Some("FORBIDDEN")
                        && body["errors"][0]["extensions"]["scope"] == TEAMS_READ
                        && !body["data"].to_string().contains("addDeleteReps");
                    (refused, format!("FORBIDDEN naming {TEAMS_READ}"))
                } else if visible {
                    (
                        body["errors"].is_null() && !body["data"]["x"].is_null(),
                        "data".to_owned(),
                    )
                } else {
                    // In a list the error nulls the manager, not the list.
                    let not_found = error_code(&body) == Some("NOT_FOUND")
                        && !body["data"].to_string().contains("addDeleteReps");
                    (not_found, "NOT_FOUND".to_owned())
                };
                if !ok {
                    failures.push(n.named(&format!(
                        "{caller:?} on team {team} ({document}): expected {want}, got {body}"
                    )));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
