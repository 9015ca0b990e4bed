//! Logging set-up, OpenTelemetry traces and the database pool's acquire-time histogram, as
//! layers of one `tracing` registry, each with a filter of its own:
//!
//! - the log: to stderr (stdout is kept for what a command prints for scripts), filtered by
//!   `RUST_LOG` (default `info`), text or JSON. Colour only on a terminal, and never with
//!   `NO_COLOR` set (<https://no-color.org>): a log written to a file or a pipe carries no
//!   escape codes. The spans and events made for the other layers never reach it.
//! - traces (`serve` only, and only when `OTEL_EXPORTER_OTLP_ENDPOINT` or
//!   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, see [`TraceSettings`]): the request spans of
//!   [`crate::http::request_log`] and sea-orm's statement spans, nothing else (no events, so no
//!   log line is exported), batched and sent over OTLP/HTTP.
//! - the pool's acquire time: sqlx reports each connection checkout as an event (target
//!   [`POOL_ACQUIRE_TARGET`]), recorded as a histogram by [`crate::metrics`].

use std::{
    io::IsTerminal,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing::{Level, Metadata, Subscriber, field::Field};
use tracing_subscriber::{
    EnvFilter, Layer,
    filter::{FilterExt, dynamic_filter_fn, filter_fn},
    fmt,
    layer::{Context, SubscriberExt},
    registry::LookupSpan,
    util::SubscriberInitExt,
};

use crate::config::LogFormat;

/// The target of the request spans made for traces only (see [`crate::http::request_log`]).
pub const TRACE_TARGET: &str = "admin_center::trace";
/// The target of sqlx's per-acquire events (`acquired_after_secs`).
pub const POOL_ACQUIRE_TARGET: &str = "sqlx::pool::acquire";
/// The service name when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES` gives one.
const SERVICE_NAME: &str = "admin-center";

static TRACES: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (OpenTelemetry is on): request handling only does the work
/// that only traces need (reading `traceparent`, the GraphQL operation type) when it is.
pub fn traces_enabled() -> bool {
    TRACES.load(Ordering::Relaxed)
}

/// OpenTelemetry settings that cannot work, said at start-up rather than discovered later.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error(
        "{0}=grpc is not supported: this build exports OTLP over HTTP only; set it to \
         http/protobuf (the default) or http/json, and point OTEL_EXPORTER_OTLP_ENDPOINT at the \
         collector's OTLP/HTTP port (4318 by convention)"
    )]
    Grpc(&'static str),
    #[error(
        "{var}={value:?} is not an OTLP protocol: use http/protobuf (the default) or http/json"
    )]
    Protocol { var: &'static str, value: String },
    #[error("OTEL_TRACES_EXPORTER={0:?} is not supported: use otlp (the default) or none")]
    Exporter(String),
    #[error("cannot set up the OTLP trace exporter: {0}")]
    Setup(String),
}

/// What the standard `OTEL_*` variables ask of traces; the exporter reads the rest itself
/// (endpoints, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
/// `OTEL_BSP_*`).
#[derive(Debug, PartialEq)]
pub struct TraceSettings {
    protocol: Protocol,
    timeout: Duration,
}

impl TraceSettings {
    /// `None`: traces are off (no endpoint, `OTEL_SDK_DISABLED=true` or
    /// `OTEL_TRACES_EXPORTER=none`).
    fn from_env(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<TraceSettings>, TelemetryError> {
        let var = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        match var("OTEL_TRACES_EXPORTER") {
            Some(v) if v.eq_ignore_ascii_case("none") => return Ok(None),
            Some(v) if !v.eq_ignore_ascii_case("otlp") => return Err(TelemetryError::Exporter(v)),
            _ => {}
        }
        if var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none()
            && var("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
        {
            return Ok(None);
        }
        let protocol = [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ]
        .into_iter()
        .find_map(|name| var(name).map(|value| (name, value)));
        let protocol = match protocol {
            None => Protocol::HttpBinary,
            Some((_, value)) if value == "http/protobuf" => Protocol::HttpBinary,
            Some((_, value)) if value == "http/json" => Protocol::HttpJson,
            Some((name, value)) if value == "grpc" => return Err(TelemetryError::Grpc(name)),
            Some((name, value)) => return Err(TelemetryError::Protocol { var: name, value }),
        };
        // Milliseconds, as the specification has it; 10 s by default.
        let timeout = [
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ]
        .into_iter()
        .find_map(|name| var(name)?.parse::<u64>().ok())
        .map_or(Duration::from_secs(10), Duration::from_millis);
        Ok(Some(TraceSettings { protocol, timeout }))
    }
}

/// What must outlive the server: the trace pipeline, flushed by [`Telemetry::shutdown`].
#[must_use]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still queued (waiting at most the export timeout), then stops.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            TRACES.store(false, Ordering::Relaxed);
            if let Err(err) = provider.shutdown() {
                tracing::warn!(error = %err, "OpenTelemetry: the last spans may be lost");
            }
        }
    }
}

/// Installs the log (and, with `traces`, OpenTelemetry when the environment asks for it).
/// A second call (tests) keeps the first subscriber.
pub fn init(format: LogFormat, traces: bool) -> Result<Telemetry, TelemetryError> {
    let settings = if traces {
        TraceSettings::from_env(|name| std::env::var(name).ok())?
    } else {
        None
    };
    let provider = settings.map(provider).transpose()?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR"),
    );
    let fmt = fmt::layer().with_writer(std::io::stderr).with_ansi(ansi);
    let fmt = match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
    };
    let fmt = fmt.with_filter(filter.and(filter_fn(|meta| !for_other_layers(meta))));
    let otel = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("admin-center"))
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            // A statement is exported within a request's trace only: start-up (migrations,
            // keys) would otherwise make a trace of each of its statements.
            .with_filter(
                dynamic_filter_fn(|meta, cx| {
                    exported(meta)
                        && (meta.target() == TRACE_TARGET || cx.lookup_current().is_some())
                })
                .with_max_level_hint(Level::INFO),
            )
    });
    // Without OpenTelemetry the absent layer must say so: an absent (`None`) layer tells the
    // registry it wants every span, which then records, enters and closes each statement's
    // and each query stream's span for nobody (~3 % of a request's time, issue 12).
    let exporting = otel.is_some();
    let otel = otel.with_filter(filter_fn(move |_| exporting));
    let pool = PoolAcquireLayer.with_filter(filter_fn(|meta| {
        meta.is_event() && meta.target() == POOL_ACQUIRE_TARGET
    }));
    let installed = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .with(pool)
        .try_init()
        .is_ok();
    if installed && provider.is_some() {
        TRACES.store(true, Ordering::Relaxed);
    }
    Ok(Telemetry { provider })
}

fn provider(settings: TraceSettings) -> Result<SdkTracerProvider, TelemetryError> {
    // The batch processor exports from a thread of its own, outside any async runtime: the
    // client is a blocking one, built on a thread of its own too (reqwest's blocking client
    // must not be built inside a runtime).
    let timeout = settings.timeout;
    let client = std::thread::spawn(move || {
        reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()
    })
    .join()
    .map_err(|_| TelemetryError::Setup("the HTTP client could not be built".into()))?
    .map_err(|e| TelemetryError::Setup(e.to_string()))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(OtlpClient(client))
        .with_protocol(settings.protocol)
        .with_timeout(settings.timeout)
        .build()
        .map_err(|e| TelemetryError::Setup(e.to_string()))?;
    let resource = Resource::builder().build();
    let named = std::env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.trim().is_empty())
        || resource
            .get(&opentelemetry::Key::from_static_str("service.name"))
            .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    let resource = if named {
        resource
    } else {
        Resource::builder().with_service_name(SERVICE_NAME).build()
    };
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// What only the trace and pool layers are for, kept out of the log as it always was.
fn for_other_layers(meta: &Metadata<'_>) -> bool {
    (meta.is_span() && (meta.target() == TRACE_TARGET || meta.name().starts_with("sea_orm.")))
        || (meta.target() == POOL_ACQUIRE_TARGET && *meta.level() == Level::TRACE)
}

/// What traces carry: the request spans and sea-orm's statement spans (`sea_orm.execute`,
/// `sea_orm.query_one`, `sea_orm.begin`…) run for a request, no event.
fn exported(meta: &Metadata<'_>) -> bool {
    meta.is_span() && (meta.target() == TRACE_TARGET || meta.name().starts_with("sea_orm."))
}

/// The OTLP exporter's HTTP client: reqwest's blocking client (reqwest 0.12, rustls with
/// ring, the stack the rest of the server uses).
#[derive(Debug)]
struct OtlpClient(reqwest::blocking::Client);

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for OtlpClient {
    async fn send_bytes(
        &self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> Result<
        opentelemetry_http::Response<opentelemetry_http::Bytes>,
        opentelemetry_http::HttpError,
    > {
        let response = self.0.execute(request.try_into()?)?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut answer = opentelemetry_http::Response::new(response.bytes()?);
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}

/// Records each connection checkout's wait (`acquired_after_secs` of sqlx's acquire events).
struct PoolAcquireLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for PoolAcquireLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Wait(Option<f64>);
        impl tracing::field::Visit for Wait {
            fn record_f64(&mut self, field: &Field, value: f64) {
                if field.name() == "acquired_after_secs" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut wait = Wait(None);
        event.record(&mut wait);
        if let Some(seconds) = wait.0 {
            crate::metrics::db_pool_acquire(seconds);
        }
    }
}

/// Whether log lines may carry colour codes.
fn colour(terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    terminal && no_color.is_none_or(|value| value.is_empty())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("".into())));
        assert!(!colour(true, Some("1".into())));
        assert!(!colour(false, None));
    }

    fn settings(vars: &[(&str, &str)]) -> Result<Option<TraceSettings>, TelemetryError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TraceSettings::from_env(|name| vars.get(name).cloned())
    }

    #[test]
    fn traces_are_off_unless_an_endpoint_is_set() {
        assert!(matches!(settings(&[]), Ok(None)));
        assert!(matches!(
            settings(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]),
            Ok(None)
        ));
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        assert!(matches!(
            settings(&[endpoint, ("OTEL_SDK_DISABLED", "true")]),
            Ok(None)
        ));
        assert!(matches!(
            settings(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")]),
            Ok(None)
        ));
        let on = settings(&[endpoint]).ok().flatten();
        assert_eq!(
            on,
            Some(TraceSettings {
                protocol: Protocol::HttpBinary,
                timeout: Duration::from_secs(10)
            })
        );
        let traces_only = settings(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:4318/v1/traces",
        )]);
        assert!(matches!(traces_only, Ok(Some(_))));
    }

    #[test]
    fn protocols_http_only_and_grpc_refused_with_advice() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        let json = settings(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]);
        assert!(matches!(
            json,
            Ok(Some(TraceSettings {
                protocol: Protocol::HttpJson,
                ..
            }))
        ));
        let specific = settings(&[
            endpoint,
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
        ]);
        assert!(matches!(
            specific,
            Ok(Some(TraceSettings {
                protocol: Protocol::HttpBinary,
                ..
            }))
        ));
        let grpc = settings(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            grpc.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported"),
            "{grpc}"
        );
        assert!(grpc.contains("http/protobuf"), "{grpc}");
        assert!(settings(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "udp")]).is_err());
        assert!(settings(&[endpoint, ("OTEL_TRACES_EXPORTER", "zipkin")]).is_err());
        let timeout = settings(&[endpoint, ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")]);
        assert!(matches!(
            timeout,
            Ok(Some(TraceSettings { timeout, .. })) if timeout == Duration::from_millis(2500)
        ));
    }
}
