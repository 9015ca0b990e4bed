//! One typed `Config`, loaded once and passed down (no globals).
//!
//! Precedence, highest first: command-line flags, environment variables, the config file
//! (`--config`/`ADMIN_CENTER_CONFIG`, else `admin-center.toml` in the working directory if it
//! exists), then the defaults below. clap reads flags and environment in one go; the file fills
//! only what neither gave.

use std::{net::SocketAddr, path::PathBuf};

use clap::Args;
use serde::Deserialize;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://admin-center.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_CONFIG_FILE: &str = "admin-center.toml";

/// Settings shared by every subcommand. Each flag has an environment variable and a config
/// file key of the same name (snake case in the file). Its `Debug` hides the secrets.
#[derive(Args, Clone, Default)]
pub struct ConfigArgs {
    /// Config file (TOML). Default: admin-center.toml in the working directory, if present.
    #[arg(long, env = "ADMIN_CENTER_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Database: sqlite://FILE?mode=rwc (default: admin-center.db here) or postgres://…
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "BIND", global = true)]
    pub bind: Option<String>,
    /// Where mail goes: `log`, `file:DIR` or `smtp://…`.
    #[arg(long, env = "MAIL_TRANSPORT", global = true, hide_env_values = true)]
    pub mail_transport: Option<String>,
    /// Log format: `text` or `json`. The level comes from RUST_LOG (default `info`).
    #[arg(long, env = "LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WORKERS", global = true)]
    pub workers: Option<usize>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", global = true)]
    pub max_body_bytes: Option<usize>,
    /// Key that signs session tokens (at least 32 bytes). Default: generated once and kept in
    /// the database, shared by every replica.
    #[arg(
        long,
        env = "SESSION_SIGNING_KEY",
        global = true,
        hide_env_values = true
    )]
    pub session_signing_key: Option<String>,
    /// Keys that encrypt SSO client secrets at rest, comma-separated (each at least 32
    /// bytes): the first encrypts, every one decrypts (rotation). Default: the session
    /// signing key. Set it before rotating SESSION_SIGNING_KEY (to the old one) so stored
    /// secrets stay usable.
    #[arg(long, env = "SSO_SECRET_KEYS", global = true, hide_env_values = true)]
    pub sso_secret_keys: Option<String>,
    /// How long a sign-in session lasts, in minutes.
    #[arg(long, env = "SESSION_TTL_MINUTES", global = true)]
    pub session_ttl_minutes: Option<u32>,
    /// Sender of outgoing mail.
    #[arg(long, env = "MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// Take the client address from X-Forwarded-For (only behind a proxy you run).
    #[arg(long, env = "TRUST_PROXY", global = true)]
    pub trust_proxy: Option<bool>,
    /// Password hashes computed at once (default: cores - 1, at least 1).
    #[arg(long, env = "PASSWORD_HASH_CONCURRENCY", global = true)]
    pub password_hash_concurrency: Option<usize>,
    /// The address clients reach this server at (e.g. https://admin.example.com): the OAuth
    /// issuer, in tokens and metadata. Default: http://BIND.
    #[arg(long, env = "PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// How long an OAuth access token lasts, in minutes (1–60, default 15).
    #[arg(long, env = "ACCESS_TOKEN_TTL_MINUTES", global = true)]
    pub access_token_ttl_minutes: Option<u32>,
    /// The absolute lifetime of a chain of refresh tokens, in days (default 30).
    #[arg(long, env = "REFRESH_TOKEN_TTL_DAYS", global = true)]
    pub refresh_token_ttl_days: Option<u32>,
    /// Web origins allowed to call the API from a browser (CORS), comma-separated, e.g.
    /// `https://admin.example.com,http://localhost:3000`, or `*` for any. Default: none.
    #[arg(long, env = "CORS_ORIGINS", global = true)]
    pub cors_origins: Option<String>,
    /// Whether callers without a token may read the schema (introspection and
    /// `/graphql/schema.graphql`). Default true; set false to hide it from strangers.
    #[arg(long, env = "ANONYMOUS_INTROSPECTION", global = true)]
    pub anonymous_introspection: Option<bool>,
    /// Serve `/metrics` (Prometheus) on this address instead of the main one, e.g. an
    /// internal `10.0.0.5:9100`. Default: unset, `/metrics` is on the main address.
    #[arg(long, env = "METRICS_BIND", global = true)]
    pub metrics_bind: Option<String>,
    /// On SIGTERM, how long to keep serving while `/readyz` answers 503, so a load balancer
    /// stops sending requests before the listener closes (seconds, 0–300, default 0; set it
    /// above the balancer's health-check interval × its fall count). Ctrl-C stops at once.
    #[arg(long, env = "SHUTDOWN_DRAIN_SECONDS", global = true)]
    pub shutdown_drain_seconds: Option<u64>,
    /// Let single sign-on reach identity providers on private, loopback or link-local
    /// addresses, and over plain `http` to those (a provider on the same private network, or
    /// under development). Default false: public `https` addresses only.
    #[arg(long, env = "SSO_ALLOW_PRIVATE_NETWORKS", global = true)]
    pub sso_allow_private_networks: Option<bool>,
}

impl std::fmt::Debug for ConfigArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |set: bool| if set { "<redacted>" } else { "<unset>" };
        f.debug_struct("ConfigArgs")
            .field("config", &self.config)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("bind", &self.bind)
            .field("mail_transport", &redacted(self.mail_transport.is_some()))
            .field(
                "session_signing_key",
                &redacted(self.session_signing_key.is_some()),
            )
            .field("sso_secret_keys", &redacted(self.sso_secret_keys.is_some()))
            .finish_non_exhaustive()
    }
}

/// No `Debug`: it holds secrets.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    bind: Option<String>,
    mail_transport: Option<String>,
    log_format: Option<String>,
    workers: Option<usize>,
    max_body_bytes: Option<usize>,
    session_signing_key: Option<String>,
    sso_secret_keys: Option<String>,
    session_ttl_minutes: Option<u32>,
    mail_from: Option<String>,
    trust_proxy: Option<bool>,
    password_hash_concurrency: Option<usize>,
    public_url: Option<String>,
    access_token_ttl_minutes: Option<u32>,
    refresh_token_ttl_days: Option<u32>,
    cors_origins: Option<String>,
    anonymous_introspection: Option<bool>,
    metrics_bind: Option<String>,
    shutdown_drain_seconds: Option<u64>,
    sso_allow_private_networks: Option<bool>,
    max_query_depth: Option<usize>,
    max_query_complexity: Option<usize>,
    max_batch_size: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where outgoing mail goes.
#[derive(Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// Written to the server log (the default: nothing to set up).
    Log,
    /// One .eml file per message in this directory.
    File(PathBuf),
    /// A real SMTP server; the URL may carry credentials, so it is never printed.
    Smtp(String),
}

impl std::fmt::Debug for MailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailTransport::Log => f.write_str("Log"),
            MailTransport::File(dir) => f.debug_tuple("File").field(dir).finish(),
            MailTransport::Smtp(_) => f.write_str("Smtp(<redacted>)"),
        }
    }
}

/// GraphQL request limits: anything larger is refused before execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GraphqlLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_batch_size: usize,
}

impl Default for GraphqlLimits {
    fn default() -> Self {
        GraphqlLimits {
            max_depth: 12,
            max_complexity: 5_000,
            max_batch_size: 10,
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub mail_transport: MailTransport,
    pub log_format: LogFormat,
    pub workers: Option<usize>,
    pub max_body_bytes: usize,
    pub graphql: GraphqlLimits,
    /// `None`: generated once and stored in the database.
    pub session_signing_key: Option<Vec<u8>>,
    /// Keys for SSO client secrets at rest: the first seals, all open. Empty: the session
    /// signing key.
    pub sso_secret_keys: Vec<Vec<u8>>,
    pub session_ttl: chrono::Duration,
    pub mail_from: String,
    pub trust_proxy: bool,
    pub password_hash_concurrency: Option<usize>,
    /// The OAuth issuer and the base of every absolute URL (no trailing slash). `None`:
    /// `http://` + the bound address.
    pub public_url: Option<String>,
    pub access_token_ttl: chrono::Duration,
    pub refresh_token_ttl: chrono::Duration,
    pub cors_origins: CorsOrigins,
    /// Whether anonymous callers may read the schema.
    pub anonymous_introspection: bool,
    /// `/metrics` on its own listener; `None`: on the main one.
    pub metrics_bind: Option<SocketAddr>,
    /// How long SIGTERM keeps the server serving, not ready, before it stops accepting.
    pub shutdown_drain: std::time::Duration,
    /// Whether single sign-on may call providers on non-public addresses and over plain http.
    pub sso_allow_private_networks: bool,
}

/// Which web origins may call the API from a browser.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// None (the default): browsers allow only same-origin calls.
    #[default]
    None,
    /// Any origin. Safe here because no credentials ride along: the API takes bearer
    /// tokens, never cookies, so `Access-Control-Allow-Credentials` is never sent.
    Any,
    /// These origins (`scheme://host[:port]`), compared exactly.
    List(Vec<String>),
}

impl CorsOrigins {
    fn parse(value: &str) -> Result<Self, ConfigError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(CorsOrigins::None);
        }
        if value == "*" {
            return Ok(CorsOrigins::Any);
        }
        let mut origins = Vec::new();
        for origin in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let parsed = url::Url::parse(origin).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.fragment().is_none()
                    && u.username().is_empty()
            });
            match parsed {
                // The origin as browsers send it: no trailing slash, default port left out.
                Some(url) => origins.push(url.origin().ascii_serialization()),
                None => {
                    return Err(ConfigError::Invalid {
                        key: "cors_origins",
                        message: format!(
                            "`{origin}` is not an origin such as https://admin.example.com \
                             (or use `*` alone for any)"
                        ),
                    });
                }
            }
        }
        Ok(CorsOrigins::List(origins))
    }
}

impl Config {
    /// The OAuth issuer: the public URL, else the bound address over plain HTTP.
    pub fn issuer(&self) -> String {
        match &self.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", self.bind),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("mail_transport", &self.mail_transport)
            .field("log_format", &self.log_format)
            .field("workers", &self.workers)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("graphql", &self.graphql)
            .field(
                "session_signing_key",
                &self.session_signing_key.as_ref().map(|_| "<redacted>"),
            )
            .field("sso_secret_keys", &self.sso_secret_keys.len())
            .field("session_ttl", &self.session_ttl)
            .field("mail_from", &self.mail_from)
            .field("trust_proxy", &self.trust_proxy)
            .field("password_hash_concurrency", &self.password_hash_concurrency)
            .field("public_url", &self.public_url)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("cors_origins", &self.cors_origins)
            .field("anonymous_introspection", &self.anonymous_introspection)
            .field("metrics_bind", &self.metrics_bind)
            .field("shutdown_drain", &self.shutdown_drain)
            .field(
                "sso_allow_private_networks",
                &self.sso_allow_private_networks,
            )
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            mail_transport: MailTransport::Log,
            log_format: LogFormat::Text,
            workers: None,
            max_body_bytes: 256 * 1024,
            graphql: GraphqlLimits::default(),
            session_signing_key: None,
            sso_secret_keys: Vec::new(),
            session_ttl: chrono::Duration::hours(12),
            mail_from: "admin-center <no-reply@admin-center.invalid>".to_owned(),
            trust_proxy: false,
            password_hash_concurrency: None,
            public_url: None,
            access_token_ttl: chrono::Duration::minutes(15),
            refresh_token_ttl: chrono::Duration::days(30),
            cors_origins: CorsOrigins::None,
            anonymous_introspection: true,
            metrics_bind: None,
            shutdown_drain: std::time::Duration::ZERO,
            sso_allow_private_networks: false,
        }
    }
}

/// `host:port`, where the host is an address or a name (`localhost:8080`). A name that
/// resolves to several addresses binds the first IPv4 one (else the first): one listener, as
/// Go's `net.Listen` does, and `localhost` keeps meaning 127.0.0.1 like the default.
fn resolve_bind(bind: &str) -> Result<SocketAddr, ConfigError> {
    resolve_address("bind", bind)
}

/// [`resolve_bind`] for the setting `key`.
fn resolve_address(key: &'static str, bind: &str) -> Result<SocketAddr, ConfigError> {
    if let Ok(addr) = bind.parse() {
        return Ok(addr);
    }
    let invalid = |why: String| ConfigError::Invalid {
        key,
        message: format!(
            "`{bind}` {why}; give host:port, such as 127.0.0.1:8080, localhost:8080 or 0.0.0.0:8080"
        ),
    };
    if bind
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.parse::<u16>().is_err())
    {
        return Err(invalid("has no port".into()));
    }
    let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(bind)
        .map_err(|e| invalid(format!("does not resolve ({e})")))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| invalid("resolves to no address".into()))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Builds the configuration from flags/environment (already in `args`) and the file.
    pub fn load(args: &ConfigArgs) -> Result<Config, ConfigError> {
        let file = read_file(args.config.as_ref())?;
        let defaults = Config::default();
        let bind = args
            .bind
            .clone()
            .or(file.bind)
            .unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind = resolve_bind(&bind)?;
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or(defaults.database_url);
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(ConfigError::Invalid {
                key: "database_url",
                message: "only sqlite:… and postgres://… URLs are supported".into(),
            });
        }
        let mail_transport = parse_mail_transport(
            &args
                .mail_transport
                .clone()
                .or(file.mail_transport)
                .unwrap_or_else(|| "log".into()),
        )?;
        let log_format = match args
            .log_format
            .clone()
            .or(file.log_format)
            .as_deref()
            .unwrap_or("text")
        {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::Invalid {
                    key: "log_format",
                    message: format!("`{other}` is neither `text` nor `json`"),
                });
            }
        };
        let max_body_bytes = args
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(defaults.max_body_bytes);
        if max_body_bytes < 1024 {
            return Err(ConfigError::Invalid {
                key: "max_body_bytes",
                message: "must be at least 1024".into(),
            });
        }
        let limits = GraphqlLimits {
            max_depth: file.max_query_depth.unwrap_or(defaults.graphql.max_depth),
            max_complexity: file
                .max_query_complexity
                .unwrap_or(defaults.graphql.max_complexity),
            max_batch_size: file
                .max_batch_size
                .unwrap_or(defaults.graphql.max_batch_size),
        };
        let session_signing_key = args
            .session_signing_key
            .clone()
            .or(file.session_signing_key)
            .map(String::into_bytes);
        if session_signing_key
            .as_ref()
            .is_some_and(|k| k.len() < crate::auth::keys::MIN_SECRET_BYTES)
        {
            return Err(ConfigError::Invalid {
                key: "session_signing_key",
                message: format!(
                    "must be at least {} bytes",
                    crate::auth::keys::MIN_SECRET_BYTES
                ),
            });
        }
        let sso_secret_keys: Vec<Vec<u8>> = args
            .sso_secret_keys
            .clone()
            .or(file.sso_secret_keys)
            .map(|keys| {
                keys.split(',')
                    .map(|k| k.trim().as_bytes().to_vec())
                    .filter(|k| !k.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if sso_secret_keys
            .iter()
            .any(|k| k.len() < crate::auth::keys::MIN_SECRET_BYTES)
        {
            return Err(ConfigError::Invalid {
                key: "sso_secret_keys",
                message: format!(
                    "each key must be at least {} bytes",
                    crate::auth::keys::MIN_SECRET_BYTES
                ),
            });
        }
        let session_ttl_minutes = args.session_ttl_minutes.or(file.session_ttl_minutes);
        if session_ttl_minutes == Some(0) {
            return Err(ConfigError::Invalid {
                key: "session_ttl_minutes",
                message: "must be at least 1".into(),
            });
        }
        let public_url = args
            .public_url
            .clone()
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url {
            let parsed = url::Url::parse(url).ok();
            if !parsed.as_ref().is_some_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.query().is_none()
                    && u.fragment().is_none()
                    && u.path() == "/"
            }) {
                return Err(ConfigError::Invalid {
                    key: "public_url",
                    message: "must be an http(s) origin such as https://admin.example.com \
                              (no path: the OAuth endpoints and metadata live at the root)"
                        .into(),
                });
            }
        }
        let access_token_ttl_minutes = args
            .access_token_ttl_minutes
            .or(file.access_token_ttl_minutes)
            .unwrap_or(15);
        if !(1..=60).contains(&access_token_ttl_minutes) {
            return Err(ConfigError::Invalid {
                key: "access_token_ttl_minutes",
                message: "must be between 1 and 60".into(),
            });
        }
        let refresh_token_ttl_days = args
            .refresh_token_ttl_days
            .or(file.refresh_token_ttl_days)
            .unwrap_or(30);
        if !(1..=365).contains(&refresh_token_ttl_days) {
            return Err(ConfigError::Invalid {
                key: "refresh_token_ttl_days",
                message: "must be between 1 and 365".into(),
            });
        }
        let cors_origins = CorsOrigins::parse(
            args.cors_origins
                .as_deref()
                .or(file.cors_origins.as_deref())
                .unwrap_or(""),
        )?;
        let metrics_bind = args
            .metrics_bind
            .clone()
            .or(file.metrics_bind)
            .filter(|b| !b.trim().is_empty())
            .map(|b| resolve_address("metrics_bind", b.trim()))
            .transpose()?;
        let shutdown_drain_seconds = args
            .shutdown_drain_seconds
            .or(file.shutdown_drain_seconds)
            .unwrap_or(0);
        if shutdown_drain_seconds > 300 {
            return Err(ConfigError::Invalid {
                key: "shutdown_drain_seconds",
                message: "must be between 0 and 300".into(),
            });
        }
        Ok(Config {
            sso_allow_private_networks: args
                .sso_allow_private_networks
                .or(file.sso_allow_private_networks)
                .unwrap_or(false),
            metrics_bind,
            shutdown_drain: std::time::Duration::from_secs(shutdown_drain_seconds),
            anonymous_introspection: args
                .anonymous_introspection
                .or(file.anonymous_introspection)
                .unwrap_or(true),
            cors_origins,
            public_url,
            access_token_ttl: chrono::Duration::minutes(i64::from(access_token_ttl_minutes)),
            refresh_token_ttl: chrono::Duration::days(i64::from(refresh_token_ttl_days)),
            session_signing_key,
            sso_secret_keys,
            session_ttl: session_ttl_minutes
                .map(|m| chrono::Duration::minutes(i64::from(m)))
                .unwrap_or(defaults.session_ttl),
            mail_from: args
                .mail_from
                .clone()
                .or(file.mail_from)
                .unwrap_or(defaults.mail_from),
            trust_proxy: args.trust_proxy.or(file.trust_proxy).unwrap_or(false),
            password_hash_concurrency: args
                .password_hash_concurrency
                .or(file.password_hash_concurrency)
                .filter(|n| *n > 0),
            database_url,
            bind,
            mail_transport,
            log_format,
            workers: args.workers.or(file.workers).filter(|w| *w > 0),
            max_body_bytes,
            graphql: limits,
        })
    }
}

fn read_file(explicit: Option<&PathBuf>) -> Result<FileConfig, ConfigError> {
    let path = match explicit {
        Some(path) => path.clone(),
        None => {
            let default = PathBuf::from(DEFAULT_CONFIG_FILE);
            if !default.exists() {
                return Ok(FileConfig::default());
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path,
        source: Box::new(source),
    })
}

fn parse_mail_transport(value: &str) -> Result<MailTransport, ConfigError> {
    if value == "log" {
        Ok(MailTransport::Log)
    } else if let Some(dir) = value.strip_prefix("file:") {
        if dir.is_empty() {
            return Err(ConfigError::Invalid {
                key: "mail_transport",
                message: "file: needs a directory, e.g. file:./mail-out".into(),
            });
        }
        Ok(MailTransport::File(PathBuf::from(dir)))
    } else if value.starts_with("smtp://") || value.starts_with("smtps://") {
        Ok(MailTransport::Smtp(value.to_owned()))
    } else {
        Err(ConfigError::Invalid {
            key: "mail_transport",
            message: "expected `log`, `file:DIR` or `smtp://…`".into(),
        })
    }
}

/// A database URL fit for logs: the password, if any, is replaced.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_sqlite_here_and_loopback() {
        let config = Config::load(&ConfigArgs {
            config: Some(PathBuf::from("/nonexistent/on/purpose.toml")),
            ..Default::default()
        });
        assert!(matches!(config, Err(ConfigError::Read { .. })));
        let config = Config::default();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.bind.to_string(), DEFAULT_BIND);
    }

    #[test]
    fn flags_win_over_file_and_file_over_defaults() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\nmax_body_bytes = 4096\nmail_transport = \"file:/tmp/m\"\n",
        )?;
        let config = Config::load(&ConfigArgs {
            config: Some(path),
            bind: Some("127.0.0.1:9100".into()),
            ..Default::default()
        })?;
        assert_eq!(config.bind.to_string(), "127.0.0.1:9100");
        assert_eq!(config.max_body_bytes, 4096);
        assert_eq!(config.mail_transport, MailTransport::File("/tmp/m".into()));
        Ok(())
    }

    #[test]
    fn public_url_is_an_origin_and_token_lifetimes_are_bounded() {
        let load = |args: ConfigArgs| {
            Config::load(&ConfigArgs {
                config: Some(PathBuf::from("/dev/null")),
                ..args
            })
        };
        let ok = load(ConfigArgs {
            public_url: Some("https://admin.example.com/".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.issuer(), "https://admin.example.com");
        for bad in [
            "https://admin.example.com/center",
            "https://admin.example.com/?x=1",
            "ftp://admin.example.com",
            "admin.example.com",
        ] {
            let refused = load(ConfigArgs {
                public_url: Some(bad.into()),
                ..Default::default()
            });
            assert!(
                matches!(
                    refused,
                    Err(ConfigError::Invalid {
                        key: "public_url",
                        ..
                    })
                ),
                "{bad}"
            );
        }
        let refused = load(ConfigArgs {
            access_token_ttl_minutes: Some(61),
            ..Default::default()
        });
        assert!(matches!(
            refused,
            Err(ConfigError::Invalid {
                key: "access_token_ttl_minutes",
                ..
            })
        ));
    }

    #[test]
    fn cors_origins_are_origins_or_a_lone_star() {
        assert_eq!(CorsOrigins::parse("").unwrap(), CorsOrigins::None);
        assert_eq!(CorsOrigins::parse(" * ").unwrap(), CorsOrigins::Any);
        assert_eq!(
            CorsOrigins::parse("https://Admin.Example.com/, http://localhost:3000").unwrap(),
            CorsOrigins::List(vec![
                "https://admin.example.com".into(),
                "http://localhost:3000".into()
            ])
        );
        for bad in [
            "*,https://a.example",
            "https://a.example/app",
            "a.example",
            "file:///x",
        ] {
            assert!(CorsOrigins::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_file_keys_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "bnid = \"127.0.0.1:9000\"\n")?;
        let result = Config::load(&ConfigArgs {
            config: Some(path),
            ..Default::default()
        });
        assert!(matches!(result, Err(ConfigError::Parse { .. })));
        Ok(())
    }

    #[test]
    fn debug_hides_database_password_and_smtp_url() {
        let config = Config {
            database_url: "postgres://app:hunter2@db/admin".into(),
            mail_transport: MailTransport::Smtp("smtp://u:pw@mail".into()),
            session_signing_key: Some(b"0123456789abcdef0123456789abcdef-key".to_vec()),
            ..Config::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("pw@mail"), "{printed}");
        assert!(!printed.contains("abcdef-key"), "{printed}");
        assert!(printed.contains("postgres://app:***@db/admin"), "{printed}");
    }

    #[test]
    fn metrics_bind_is_an_address_or_unset() {
        let load = |metrics_bind: Option<&str>| {
            Config::load(&ConfigArgs {
                config: Some(PathBuf::from("/dev/null")),
                metrics_bind: metrics_bind.map(str::to_owned),
                ..Default::default()
            })
        };
        assert_eq!(load(None).unwrap().metrics_bind, None);
        assert_eq!(load(Some("")).unwrap().metrics_bind, None);
        assert_eq!(
            load(Some("10.0.0.5:9100")).unwrap().metrics_bind,
            Some(SocketAddr::from(([10, 0, 0, 5], 9100)))
        );
        assert_eq!(
            load(Some("localhost:9100")).unwrap().metrics_bind,
            Some(SocketAddr::from(([127, 0, 0, 1], 9100)))
        );
        assert!(matches!(
            load(Some("9100")),
            Err(ConfigError::Invalid {
                key: "metrics_bind",
                ..
            })
        ));
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = Config::load(&ConfigArgs {
            config: Some(PathBuf::from("/dev/null")),
            mail_transport: Some("pigeon".into()),
            ..Default::default()
        });
        assert!(
            matches!(
                err,
                Err(ConfigError::Invalid {
                    key: "mail_transport",
                    ..
                })
            ),
            "{err:?}"
        );
    }
}
