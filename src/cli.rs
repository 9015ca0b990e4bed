//! The operator's command line: `serve` (default), `migrate`, `schema`, `account …`,
//! `manager reset-password`, `app register`, `keys rotate`.

use std::{
    io::{ErrorKind, Write},
    net::{SocketAddr, TcpListener},
};

use clap::{Args, Parser, Subcommand};
use sea_orm::DatabaseConnection;
use serde_json::json;
use uuid::Uuid;

use crate::{
    clock::{Clock, SystemClock},
    config::{Config, ConfigArgs, redact_url},
    db,
    error::AppError,
    graphql, http,
    service::{self, account::NewAccount},
    state::AppState,
    telemetry,
};

#[derive(Parser, Debug)]
#[command(
    name = "admin-center",
    version,
    about = "Management center GraphQL API server"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default). Migrates first; on an empty database, creates a first
    /// account and company manager and prints its login and one-time password.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL). Needs no database.
    Schema,
    /// Manage accounts (customer companies).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Managers of every account.
    #[command(subcommand)]
    Manager(ManagerCommand),
    /// Developer apps (OAuth clients) for every account.
    #[command(subcommand)]
    App(AppCommand),
    /// The keys that sign OAuth access tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Subcommand, Debug)]
pub enum AppCommand {
    /// Register a platform-wide developer app, which API managers of every account that
    /// allows them can authorize; prints its client id and secret (shown once).
    Register(RegisterApp),
}

#[derive(Args, Debug)]
pub struct RegisterApp {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub description: Option<String>,
    /// A redirect URI (repeat for several): https, or http to a loopback address.
    #[arg(long = "redirect-uri", required = true)]
    pub redirect_uris: Vec<String>,
    /// A scope the app may ask for (repeat for several): reps:read, reps:write, teams:read,
    /// teams:write, portals:read.
    #[arg(long = "scope", required = true)]
    pub scopes: Vec<String>,
    /// A public client (no secret; PKCE only), such as a native app.
    #[arg(long)]
    pub public: bool,
    /// Print exactly one JSON object: {"appId", "clientId", "clientSecret"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Add a new signing key and retire the others. Retired keys keep verifying (and stay in
    /// the JWKS) until the tokens they signed have expired; every replica signs with the new
    /// key within a minute.
    Rotate {
        /// Print one JSON object: {"kid"}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Create an account and its first company manager; prints the one-time password.
    Create(CreateAccount),
    /// Let an account's company managers create API managers (or stop them with --off).
    AllowApiManagers {
        /// The account id.
        id: Uuid,
        /// Turn it off instead.
        #[arg(long)]
        off: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ManagerCommand {
    /// Give a manager a new one-time password, printed once: the way back in for a manager
    /// (the first start's `admin` too) whose password is lost. The manager must replace it at
    /// the next sign-in; every session of the manager ends now.
    ResetPassword {
        /// The manager's login (any case).
        login: String,
        /// Print exactly one JSON object: {"accountId", "login", "managerId", "password"}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct CreateAccount {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub owner_login: String,
    #[arg(long)]
    pub owner_email: String,
    /// The owner's display name (default: the login).
    #[arg(long)]
    pub owner_name: Option<String>,
    #[arg(long)]
    pub allow_api_managers: bool,
    /// Print exactly one JSON object: {"accountId", "ownerLogin", "ownerPassword"}.
    #[arg(long)]
    pub json: bool,
}

/// A failed command: what to tell the operator, already phrased.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(String);

impl CliError {
    fn new(context: &str, err: impl std::fmt::Display) -> Self {
        CliError(format!("{context}: {err}"))
    }
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Schema = command {
        // Exactly the bytes of `schema.graphql`, so `schema > schema.graphql` rewrites it.
        print_raw(&graphql::sdl());
        return Ok(());
    }
    let config = Config::load(&cli.config).map_err(|e| CliError::new("configuration", e))?;
    // Traces are for the server; a command's statements would be traces of nothing.
    let serving = matches!(command, Command::Serve);
    let telemetry = telemetry::init(config.log_format, serving)
        .map_err(|e| CliError::new("OpenTelemetry", e))?;
    if serving {
        let served = serve(config).await;
        // The spans still queued are sent before the process ends.
        telemetry.shutdown();
        return served;
    }
    telemetry.shutdown();
    let db = open(&config).await?;
    db::migrate(&db)
        .await
        .map_err(|e| CliError::new("migration failed", e))?;
    let now = SystemClock.now();
    match command {
        Command::Schema | Command::Serve => Ok(()),
        Command::Migrate => {
            tracing::info!("database is up to date");
            Ok(())
        }
        Command::Manager(ManagerCommand::ResetPassword { login, json }) => {
            let reset = service::session::reset_password_by_operator(&db, now, &login)
                .await
                .map_err(|e| match e {
                    AppError::NotFound(_) => CliError(format!(
                        "no manager has the login `{}` (logins are compared without regard \
                         to case; reps cannot be reset here)",
                        login.trim()
                    )),
                    e => CliError::new("cannot reset the password", e),
                })?;
            if json {
                print_out(
                    &json!({
                        "accountId": reset.manager.account_id,
                        "managerId": reset.manager.id,
                        "login": reset.manager.login,
                        "password": reset.password,
                    })
                    .to_string(),
                );
            } else {
                print_out(&format!(
                    "manager {} ({})\none-time password: {}\n\
                     (shown once; the next sign-in must replace it; every session of this \
                     manager has ended)",
                    reset.manager.login, reset.manager.id, reset.password
                ));
            }
            Ok(())
        }
        Command::Account(AccountCommand::Create(args)) => {
            let created = service::account::create(
                &db,
                now,
                NewAccount {
                    name: args.name,
                    owner_name: args.owner_name.unwrap_or_else(|| args.owner_login.clone()),
                    owner_login: args.owner_login,
                    owner_email: args.owner_email,
                    allow_api_managers: args.allow_api_managers,
                },
            )
            .await
            .map_err(|e| CliError::new("cannot create account", e))?;
            if args.json {
                print_out(
                    &json!({
                        "accountId": created.account.id,
                        "ownerLogin": created.owner.login,
                        "ownerPassword": created.owner_password,
                    })
                    .to_string(),
                );
            } else {
                print_out(&format!(
                    "account {} ({})\nowner login: {}\none-time password: {}\n\
                     (shown once; the first sign-in must replace it)",
                    created.account.name,
                    created.account.id,
                    created.owner.login,
                    created.owner_password
                ));
            }
            Ok(())
        }
        Command::Account(AccountCommand::AllowApiManagers { id, off, json }) => {
            let account = service::account::set_api_managers_allowed(&db, now, id, !off)
                .await
                .map_err(|e| CliError::new("cannot change account", e))?;
            if json {
                print_out(
                    &json!({
                        "accountId": account.id,
                        "apiManagersAllowed": account.api_managers_allowed,
                    })
                    .to_string(),
                );
            } else {
                print_out(&format!(
                    "account {}: API managers {}",
                    account.id,
                    if account.api_managers_allowed {
                        "allowed"
                    } else {
                        "not allowed"
                    }
                ));
            }
            Ok(())
        }
        Command::App(AppCommand::Register(args)) => {
            let mut scopes = Vec::new();
            for name in args.scopes.iter().flat_map(|s| s.split([' ', ','])) {
                if name.is_empty() {
                    continue;
                }
                scopes.push(crate::auth::scope::ApiScope::parse(name).ok_or_else(|| {
                    CliError(format!(
                        "unknown scope `{name}`: use reps:read, reps:write, teams:read, \
                         teams:write or portals:read"
                    ))
                })?);
            }
            let registered = service::developer_app::register_platform(
                &db,
                now,
                service::developer_app::NewApp {
                    name: args.name,
                    description: args.description,
                    redirect_uris: args.redirect_uris,
                    scopes: scopes.into_iter().collect(),
                    confidential: !args.public,
                },
            )
            .await
            .map_err(|e| CliError::new("cannot register app", e))?;
            if args.json {
                print_out(
                    &json!({
                        "appId": registered.app.id,
                        "clientId": registered.app.client_id,
                        "clientSecret": registered.client_secret,
                    })
                    .to_string(),
                );
            } else {
                print_out(&format!(
                    "app {} ({})\nclient id: {}\nclient secret: {}",
                    registered.app.name,
                    registered.app.id,
                    registered.app.client_id,
                    registered
                        .client_secret
                        .as_deref()
                        .unwrap_or("none (public client: use PKCE)"),
                ));
                if registered.client_secret.is_some() {
                    print_out("(the secret is shown once; only its hash is kept)");
                }
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate { json }) => {
            let kid = crate::auth::oauth_keys::rotate(&db, now)
                .await
                .map_err(|e| CliError::new("cannot rotate keys", e))?;
            if json {
                print_out(&json!({ "kid": kid }).to_string());
            } else {
                print_out(&format!(
                    "new signing key {kid}; the previous keys verify until their tokens expire"
                ));
            }
            Ok(())
        }
    }
}

/// Opens the configured database, saying what to do when it cannot.
async fn open(config: &Config) -> Result<DatabaseConnection, CliError> {
    db::connect(&config.database_url).await.map_err(|e| {
        CliError::new(
            &format!("cannot open database {}", redact_url(&config.database_url)),
            e,
        )
    })
}

/// `serve`: bind, then migrate and create the first account (one replica at a time), then
/// serve HTTP.
async fn serve(config: Config) -> Result<(), CliError> {
    // Bound before the database is touched: an address in use must not leave behind a first
    // account whose one-time password nobody saw.
    let bind = config.bind;
    let listener = listen(bind)?;
    let db = open(&config).await?;
    let setup = db::begin_setup(&db)
        .await
        .map_err(|e| CliError::new("migration failed", e))?;
    let first = service::account::bootstrap_if_empty(&setup, SystemClock.now())
        .await
        .map_err(|e| CliError::new("cannot create the first account", e))?;
    setup
        .commit()
        .await
        .map_err(|e| CliError::new("cannot create the first account", e))?;
    if let Some(created) = first {
        // Printed, not logged: the password must never reach the log stream.
        print_out(&format!(
            "\nFirst start on an empty database: created account \"{}\".\n\
             Company manager login: {}\n\
             One-time password:     {}\n\
             (shown once; the first sign-in must replace it; lost, it is replaced with \
             `admin-center manager reset-password {}`)\n",
            created.account.name, created.owner.login, created.owner_password, created.owner.login
        ));
    }
    let state = AppState::new(db, config)
        .await
        .map_err(|e| CliError::new("cannot start", e))?;
    if state.mailer.is_log() {
        tracing::warn!(
            "MAIL_TRANSPORT=log: mail, one-time codes included, is written to this log; \
             use file:DIR or smtp://… in production"
        );
    }
    tracing::info!(
        %bind,
        database = %redact_url(&state.config.database_url),
        "admin-center listening; GraphiQL at http://{bind}/graphiql"
    );
    let schema = graphql::schema(state.clone());
    let drain = (state.config.shutdown_drain, state.draining.clone());
    let server = http::server(state, schema, listener)
        .map_err(|e| CliError::new("cannot start server", e))?;
    tokio::spawn(stop_on_signal(server.handle(), drain.0, drain.1));
    server
        .await
        .map_err(|e| CliError::new("server stopped", e))?;
    tracing::info!("admin-center stopped");
    Ok(())
}

/// Stops the server on SIGTERM or Ctrl-C (SIGINT). SIGTERM with a drain time first marks the
/// server draining (`/readyz` answers 503) and keeps serving that long, so a load balancer
/// stops sending requests before the listener closes (a connection the balancer opened just
/// before would otherwise be reset). Then, or at once on Ctrl-C or a second signal: no new
/// connections, requests in flight finish (up to 10 s).
async fn stop_on_signal(
    server: actix_web::dev::ServerHandle,
    drain: std::time::Duration,
    draining: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot listen for SIGTERM/SIGINT: stop the server with SIGKILL");
        return;
    };
    let terminated = tokio::select! {
        _ = term.recv() => true,
        _ = interrupt.recv() => false,
    };
    if terminated && !drain.is_zero() {
        draining.store(true, std::sync::atomic::Ordering::Relaxed);
        tracing::info!(
            seconds = drain.as_secs(),
            "SIGTERM: draining (/readyz answers 503, requests are still served), then stopping"
        );
        tokio::select! {
            _ = tokio::time::sleep(drain) => {}
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    }
    tracing::info!("stopping: no new connections; requests in flight finish (up to 10 s)");
    server.stop(true).await;
}

/// Binds the listener, saying what to do when the address is taken or not allowed.
fn listen(bind: SocketAddr) -> Result<TcpListener, CliError> {
    TcpListener::bind(bind).map_err(|e| {
        let advice = match e.kind() {
            ErrorKind::AddrInUse => {
                "; another process (another admin-center?) listens there: stop it or choose \
                 another address with --bind / BIND"
            }
            ErrorKind::PermissionDenied => {
                "; ports below 1024 need privileges: use a higher port behind a proxy"
            }
            ErrorKind::AddrNotAvailable => {
                "; no network interface of this machine has that address: use one it has, \
                 127.0.0.1 or 0.0.0.0"
            }
            _ => "",
        };
        CliError(format!(
            "cannot listen on {bind}: {e}{advice}; nothing was written to the database"
        ))
    })
}

/// `text` as it is, with no newline added.
fn print_raw(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) is not worth a panic.
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}
