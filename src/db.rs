//! Connecting to the database (SQLite or PostgreSQL), running migrations under the setup lock,
//! and the transactions writes begin with.

use std::{path::Path, str::FromStr, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, RuntimeErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sqlx::{
        self, Connection,
        postgres::{PgConnectOptions, PgConnection},
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
    },
};
use uuid::Uuid;

/// How long the first connection may take before start-up gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The database could not be opened: what failed, and what to do about it, in one sentence
/// fit for an operator (no secret of the URL in it).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    message: String,
    #[source]
    source: DbErr,
}

/// Opens a pool. SQLite gets WAL, foreign keys and a busy timeout on every connection, so
/// readers never block the writer and a second writer waits instead of failing (write
/// transactions must begin with [`begin_write`] for that). Statements are traced (sea-orm's
/// spans, exported only when OpenTelemetry is on) with their SQL text, which holds placeholders
/// and never the values bound to them.
pub async fn connect(url: &str) -> Result<DatabaseConnection, ConnectError> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(CONNECT_TIMEOUT)
        // /readyz must answer promptly while the database is down.
        .acquire_timeout(Duration::from_secs(3))
        .idle_timeout(Duration::from_secs(300))
        // A pooled connection is pinged before use only after a second idle: a ping on every
        // checkout (sqlx's default) is one more round trip per statement, and a connection in
        // steady use has just proven itself. One the server dropped while it sat idle (a
        // restart, a proxy's idle timeout) is still found and replaced before a request gets it.
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        })
        // Each checkout's wait, as a TRACE event only the pool-wait histogram listens to (see
        // `telemetry`); a wait past 2 s stays a warning in the log, as sqlx has it.
        .map_sqlx_sqlite_pool_opts(|opts| opts.acquire_time_level(log::LevelFilter::Trace))
        .map_sqlx_postgres_pool_opts(|opts| {
            opts.acquire_time_level(log::LevelFilter::Trace)
                // Generic plans for the statements sqlx prepares once per connection. With
                // the default (`auto`), PostgreSQL plans every execution again for its
                // parameters as long as the generic plan looks dearer, which a `LIMIT $n`
                // always makes it: planning cost more than running (1.3 ms against 0.6 ms
                // for a manager page's teams). The statements are keyed by ids and page
                // sizes, where a plan for the values gains nothing. `SET` on each new
                // connection rather than a startup option, which poolers such as PgBouncer
                // refuse.
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::Executor::execute(conn, "SET plan_cache_mode = force_generic_plan")
                            .await
                            .map(|_| ())
                    })
                })
        });
    if url.starts_with("sqlite:") {
        options.min_connections(1).max_connections(8);
    } else {
        options.min_connections(0).max_connections(16);
    }
    match Database::connect(options).await {
        Ok(db) => Ok(db),
        Err(source) => Err(ConnectError {
            message: explain_connect_error(url, &source).await,
            source,
        }),
    }
}

/// What went wrong opening `url`, with the step that fixes it where one is known.
async fn explain_connect_error(url: &str, err: &DbErr) -> String {
    if url.starts_with("sqlite:") {
        if sqlx_error(err).is_some_and(is_sqlite_cant_open) {
            return explain_sqlite_cant_open(url, err);
        }
    } else if let Ok(options) = PgConnectOptions::from_str(url) {
        // The pool retries a refused connection until its acquire timeout and then reports
        // only "pool timed out"; one connection of our own says why.
        let at = match options.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => format!("{}:{}", options.get_host(), options.get_port()),
        };
        let probe = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options));
        return match probe.await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                format!("{err} (a single connection to {at} worked: retry)")
            }
            Ok(Err(cause)) => format!(
                "cannot connect to PostgreSQL at {at}: {cause}; check that the server runs, \
                 listens there and accepts this user and database"
            ),
            Err(_) => format!(
                "no answer from PostgreSQL at {at} within {}s; check the host, the port and \
                 any firewall in between",
                CONNECT_TIMEOUT.as_secs()
            ),
        };
    }
    err.to_string()
}

fn sqlx_error(err: &DbErr) -> Option<&sqlx::Error> {
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => {
            Some(e.as_ref())
        }
        _ => None,
    }
}

/// SQLITE_CANTOPEN (14): "unable to open database file".
fn is_sqlite_cant_open(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.code().as_deref() == Some("14"))
}

/// SQLite's "unable to open database file" names no file and no cause: name both.
fn explain_sqlite_cant_open(url: &str, err: &DbErr) -> String {
    let Ok(options) = SqliteConnectOptions::from_str(url) else {
        return err.to_string();
    };
    let file = options.get_filename();
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let creates = url::Url::parse(url).is_ok_and(|u| {
        u.query_pairs()
            .any(|(key, value)| key == "mode" && value == "rwc")
    });
    let advice = if !dir.is_dir() {
        format!(
            "the directory {} does not exist: create it, or point DATABASE_URL at a writable \
             directory",
            dir.display()
        )
    } else if !file.exists() && !creates {
        format!(
            "the file does not exist and the URL does not allow creating it: add `?mode=rwc` \
             (sqlite://{}?mode=rwc)",
            file.display()
        )
    } else {
        format!(
            "check that this user may read and write {} and its directory {} (SQLite writes \
             its journal next to the file)",
            file.display(),
            dir.display()
        )
    };
    format!("SQLite cannot open {} ({err}); {advice}", file.display())
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

/// The PostgreSQL advisory lock that setup holds: any fixed number, the same in every
/// version (a change would let an old and a new replica migrate at once).
const SETUP_LOCK: i64 = 0x6164_6d69_6e2d_6331; // "admin-c1"

/// Applies pending migrations. See [`begin_setup`].
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    begin_setup(db).await?.commit().await
}

/// Begins the setup transaction, one process at a time, and applies pending migrations in it;
/// the caller may do more first-start work in it (the first account) before committing.
///
/// Replicas started together on an empty database would otherwise run the same migrations at
/// once, and all but one die on a duplicate key or an existing table. On PostgreSQL the
/// transaction takes a transaction-scoped advisory lock (`pg_advisory_xact_lock`) first, so
/// the others wait, then find nothing pending; the lock goes with the commit, or with the
/// connection if the process dies. On SQLite the transaction is a [`begin_write`]
/// (`BEGIN IMMEDIATE`): the others wait on the write lock (busy timeout). Either way the
/// migrations commit together with what the caller adds, or not at all; PostgreSQL and SQLite
/// both run DDL inside transactions, and no migration here needs to run outside one.
pub async fn begin_setup(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [SETUP_LOCK.into()],
        ))
        .await?;
    }
    Migrator::up(&txn, None).await?;
    Ok(txn)
}

/// One round trip: the readiness check.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    let backend: DbBackend = db.get_database_backend();
    db.execute_raw(Statement::from_string(backend, "SELECT 1"))
        .await
        .map(|_| ())
}
