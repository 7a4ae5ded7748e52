//! Logging setup: `tracing` to stderr, text or JSON, filtered by `RUST_LOG` (default `info`).
//!
//! JSON lines are written by [`JsonLines`]: one object per line with `timestamp`, `level`, `message`,
//! the run's `run_id` and `job`, and the event's fields at the top level. A field holding JSON text
//! (label counts, for instance) is embedded as JSON, not as a string.

use std::sync::Mutex;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;
use crate::exit::Failure;

/// The run every line belongs to (one run per process): run id, job, output directory; `None` until known.
type Context = (Option<String>, Option<String>, Option<String>);
static CONTEXT: Mutex<Context> = Mutex::new((None, None, None));
static FORMAT: Mutex<Option<LogFormat>> = Mutex::new(None);

/// Names the run and job that every later JSON line carries.
pub fn set_run(run_id: Option<&str>, job: Option<&str>) {
    let mut c = CONTEXT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = run_id {
        c.0 = Some(r.to_string());
    }
    if let Some(j) = job {
        c.1 = Some(j.to_string());
    }
}

/// Names the output directory, which the fatal line of a failed run then reports.
pub fn set_output(dir: &std::path::Path) {
    CONTEXT.lock().unwrap_or_else(|e| e.into_inner()).2 = Some(dir.display().to_string());
}

/// Installs the global subscriber. `quiet` lowers the default level to `warn`.
pub fn init(format: LogFormat, quiet: bool) {
    *FORMAT.lock().unwrap_or_else(|e| e.into_inner()) = Some(format);
    let default = if quiet { "warn" } else { "info" };
    let user = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_string());
    // HTTP internals stay at warn even under RUST_LOG=trace: their traces could carry headers.
    let filter = EnvFilter::try_new(format!(
        "{user},hyper=warn,hyper_util=warn,reqwest=warn,h2=warn,rustls=warn,object_store=warn"
    ))
    .unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| BarSafeStderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.event_format(JsonLines).try_init(),
    };
}

/// The line that ends a failed command: `error: …` for people, a JSON `error` line for machines.
pub fn fatal(failure: &Failure) {
    let json = *FORMAT.lock().unwrap_or_else(|e| e.into_inner()) == Some(LogFormat::Json);
    if json {
        let mut line = Map::new();
        line.insert("timestamp".into(), now().into());
        line.insert("level".into(), "ERROR".into());
        line.insert("message".into(), failure.message.clone().into());
        line.insert("status".into(), failure.status.as_str().into());
        line.insert("exit_code".into(), failure.status.code().into());
        add_context(&mut line);
        if let Some(dir) = CONTEXT.lock().unwrap_or_else(|e| e.into_inner()).2.clone() {
            line.insert("output_dir".into(), dir.into());
        }
        // Written directly: a fatal line must appear whatever RUST_LOG filters.
        eprintln!("{}", Value::Object(line));
    } else {
        eprintln!("error: {}", failure.message);
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn add_context(line: &mut Map<String, Value>) {
    let c = CONTEXT.lock().unwrap_or_else(|e| e.into_inner());
    line.insert(
        "run_id".into(),
        c.0.clone().map_or(Value::Null, Value::from),
    );
    line.insert("job".into(), c.1.clone().map_or(Value::Null, Value::from));
}

/// One JSON object per event, fields at the top level.
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut line = Map::new();
        event.record(&mut Fields(&mut line));
        line.insert("timestamp".into(), now().into());
        line.insert("level".into(), event.metadata().level().as_str().into());
        line.entry("message").or_insert(Value::from(""));
        add_context(&mut line);
        writeln!(writer, "{}", Value::Object(line))
    }
}

struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        // JSON text (a `%serde_json` field) stays structured.
        let v = match text.as_bytes().first() {
            Some(b'{' | b'[') if field.name() != "message" => {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            }
            _ => Value::String(text),
        };
        self.0.insert(field.name().to_string(), v);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_string(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), value.into());
    }
}

/// stderr that hides the progress bars while a log line is written.
struct BarSafeStderr;

impl std::io::Write for BarSafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        crate::progress::suspend(|| std::io::stderr().write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
