//! Database migrations of admin-center. One file per change, named
//! `mYYYYMMDD_HHMMSS_<what>.rs`, each with a working `down`. The same files serve SQLite and
//! PostgreSQL, so they use only portable column types.

pub use sea_orm_migration::prelude::*;

/// A foreign key whose rows go with the row they refer to (`ON DELETE CASCADE`).
fn cascade(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

mod m20261124_000001_accounts;
mod m20261124_000002_managers;
mod m20261124_000003_sessions;
mod m20261124_000004_audit_events;
mod m20261124_000005_signing_keys;
mod m20261124_000006_one_time_tokens;
mod m20261124_000007_throttle_buckets;
mod m20261124_000008_organization;
mod m20261126_000009_oauth;
mod m20261126_000010_sso;
mod m20261126_000011_sso_hardening;
mod m20261126_000012_manager_page_index;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_accounts::Migration),
            Box::new(m20261124_000002_managers::Migration),
            Box::new(m20261124_000003_sessions::Migration),
            Box::new(m20261124_000004_audit_events::Migration),
            Box::new(m20261124_000005_signing_keys::Migration),
            Box::new(m20261124_000006_one_time_tokens::Migration),
            Box::new(m20261124_000007_throttle_buckets::Migration),
            Box::new(m20261124_000008_organization::Migration),
            Box::new(m20261126_000009_oauth::Migration),
            Box::new(m20261126_000010_sso::Migration),
            Box::new(m20261126_000011_sso_hardening::Migration),
            Box::new(m20261126_000012_manager_page_index::Migration),
        ]
    }
}
