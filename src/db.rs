//! Connecting to the database (SQLite or PostgreSQL) and running migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};
use uuid::Uuid;

/// Opens a pool. SQLite gets WAL, foreign keys and a busy timeout on every connection, so
/// readers never block the writer and a second writer waits instead of failing (write
/// transactions must begin with [`begin_write`] for that).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        // /readyz must answer promptly while the database is down.
        .acquire_timeout(Duration::from_secs(3))
        .idle_timeout(Duration::from_secs(300))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    if url.starts_with("sqlite:") {
        options.min_connections(1).max_connections(8);
    } else {
        options.min_connections(0).max_connections(16);
    }
    Database::connect(options).await
}

/// Begins a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
/// taken up front, so a second writer waits (busy timeout) for the first to commit. A deferred
/// `BEGIN` that reads and then writes cannot upgrade once another writer has committed
/// meanwhile (`SQLITE_BUSY_SNAPSHOT`) and would fail however long it waited. On PostgreSQL it
/// is a plain `BEGIN` (read committed).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Begins a write transaction on one account's organization (teams, reps, portals,
/// managers): [`begin_write`], then, on PostgreSQL, the account row is locked
/// (`FOR NO KEY UPDATE`) before anything is read. Such writes of one account run one at a
/// time, so a check and the write it guards (no team cycle, a team's free logins, the last
/// company manager, a team or portal still in use…) cannot interleave with another. SQLite
/// needs nothing more: its `BEGIN IMMEDIATE` already admits one writer at a time. The lock
/// does not block inserts that merely reference the account (`FOR KEY SHARE`), so sign-ins
/// and audit entries go on meanwhile.
pub async fn begin_account_write(
    db: &DatabaseConnection,
    account_id: Uuid,
) -> Result<DatabaseTransaction, DbErr> {
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM accounts WHERE id = $1 FOR NO KEY UPDATE",
            [account_id.into()],
        ))
        .await?;
    }
    Ok(txn)
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// One round trip: the readiness check.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    let backend: DbBackend = db.get_database_backend();
    db.execute_raw(Statement::from_string(backend, "SELECT 1"))
        .await
        .map(|_| ())
}
