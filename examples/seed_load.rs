//! Seeds one account for the load benchmark (bench/load.sh): 1,000 teams (100 top-level, 900
//! sub-teams), 10,000 reps (100 in the first team, whose page the benchmark reads; 9 or 10 in
//! the others), 500 team managers (each assigned to 2 teams, with
//! rights). Rows go in by bulk insert with one precomputed password hash, so seeding takes
//! seconds, not the hours 10,000 argon2 hashes would.
//!
//!     cargo run --release --example seed_load -- DATABASE_URL
//!
//! Prints one JSON object: {"ownerLogin", "ownerPassword", "teamId"}.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use admin_center::{
    auth::password,
    clock::{Clock, SystemClock},
    db,
    service::account::{self, NewAccount},
};
use entity::{login, manager, manager_team, rep, team};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use uuid::Uuid;

const OWNER_PASSWORD: &str = "Bench-Owner-2026";
const CHUNK: usize = 500;

async fn insert_chunks<A: ActiveModelTrait + Send>(db: &sea_orm::DatabaseConnection, rows: Vec<A>)
where
    <A as ActiveModelTrait>::Entity: EntityTrait<ActiveModel = A>,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await
            .expect("insert");
    }
}

#[tokio::main]
async fn main() {
    let url = std::env::args()
        .nth(1)
        .expect("usage: seed_load DATABASE_URL");
    let db = db::connect(&url).await.expect("connect");
    db::migrate(&db).await.expect("migrate");
    let now = SystemClock.now();
    let suffix = &Uuid::new_v4().simple().to_string()[..6];
    let created = account::create(
        &db,
        now,
        NewAccount {
            name: "Load test".into(),
            owner_login: format!("load-owner-{suffix}"),
            owner_name: "Load Owner".into(),
            owner_email: "owner@example.com".into(),
            allow_api_managers: false,
        },
    )
    .await
    .expect("account");
    let hash = password::hash(OWNER_PASSWORD.into()).await.expect("hash");
    let mut owner = created.owner.clone().into_active_model();
    owner.password_hash = Set(hash.clone());
    owner.force_password_change = Set(false);
    owner.update(&db).await.expect("owner");
    let account_id = created.account.id;

    let team_row = |id: Uuid, parent: Option<Uuid>, n: usize| team::ActiveModel {
        id: Set(id),
        account_id: Set(account_id),
        parent_id: Set(parent),
        name: Set(format!("Team {n:04}")),
        portal_id: Set(None),
        available_logins: Set(None),
        manager_features: Set(0xFFFF),
        rep_defaults: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let top: Vec<Uuid> = (0..100).map(|_| Uuid::now_v7()).collect();
    let subs: Vec<Uuid> = (0..900).map(|_| Uuid::now_v7()).collect();
    insert_chunks(
        &db,
        top.iter()
            .enumerate()
            .map(|(i, id)| team_row(*id, None, i))
            .collect(),
    )
    .await;
    insert_chunks(
        &db,
        subs.iter()
            .enumerate()
            .map(|(i, id)| team_row(*id, Some(top[i % 100]), 100 + i))
            .collect(),
    )
    .await;
    let teams: Vec<Uuid> = top.iter().chain(subs.iter()).copied().collect();

    let mut reps = Vec::new();
    let mut logins = Vec::new();
    for (t, team_id) in teams.iter().enumerate() {
        let count = match t {
            0 => 100,
            1..=90 => 9,
            _ => 10,
        };
        for r in 0..count {
            let id = Uuid::now_v7();
            let login = format!("rep-{suffix}-{t:04}-{r:03}");
            logins.push(login::ActiveModel {
                login_key: Set(login.clone()),
                owner_kind: Set("REP".into()),
                owner_id: Set(id),
            });
            reps.push(rep::ActiveModel {
                id: Set(id),
                account_id: Set(account_id),
                team_id: Set(*team_id),
                login_key: Set(login.clone()),
                login: Set(login),
                name: Set(format!("Rep {t}-{r}")),
                email: Set(format!("rep{t}.{r}@example.com")),
                screen_name: Set(format!("Rep {t}-{r}")),
                password_hash: Set(hash.clone()),
                feature_override_mask: Set(0),
                feature_override_values: Set(0),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
    }
    insert_chunks(&db, reps).await;

    let mut managers = Vec::new();
    let mut assignments = Vec::new();
    for m in 0..500 {
        let id = Uuid::now_v7();
        let login = format!("lead-{suffix}-{m:03}");
        logins.push(login::ActiveModel {
            login_key: Set(login.clone()),
            owner_kind: Set("MANAGER".into()),
            owner_id: Set(id),
        });
        managers.push(manager::ActiveModel {
            id: Set(id),
            account_id: Set(account_id),
            kind: Set(manager::ManagerKind::Team),
            login_key: Set(login.clone()),
            login: Set(login),
            name: Set(format!("Lead {m}")),
            email: Set(format!("lead{m}@example.com")),
            email_validated: Set(true),
            password_hash: Set(hash.clone()),
            force_password_change: Set(false),
            user_initiated_password_reset: Set(true),
            force_validation_prompt: Set(false),
            sso_break_glass: Set(false),
            rights: Set((m as i64 * 2654435761) & 0xFFFF & !0x80),
            rep_controls: Set(0x3),
            created_at: Set(now),
            updated_at: Set(now),
        });
        for k in 0..2 {
            assignments.push(manager_team::ActiveModel {
                manager_id: Set(id),
                team_id: Set(teams[(m * 2 + k) % teams.len()]),
            });
        }
    }
    insert_chunks(&db, logins).await;
    insert_chunks(&db, managers).await;
    insert_chunks(&db, assignments).await;

    println!(
        "{}",
        serde_json::json!({
            "ownerLogin": created.owner.login,
            "ownerPassword": OWNER_PASSWORD,
            "teamId": teams[0],
        })
    );
}
