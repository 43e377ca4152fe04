//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`); and the last
//! warnings and errors kept in memory for the diagnostic report.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// How many warnings and errors the report shows at most.
pub const RECENT_PROBLEMS: usize = 50;

static RECENT: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
static CAPTURING: AtomicBool = AtomicBool::new(false);

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests starting several servers in one process) is harmless: keep the first.
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(RecentProblemsLayer)
        .try_init();
    if installed.is_ok() {
        CAPTURING.store(true, Ordering::SeqCst);
    }
}

/// Only the in-memory warnings and errors, nothing printed (tests of the report use this).
pub fn init_capture_only() {
    let installed = tracing_subscriber::registry()
        .with(EnvFilter::new("warn"))
        .with(RecentProblemsLayer)
        .try_init();
    if installed.is_ok() {
        CAPTURING.store(true, Ordering::SeqCst);
    }
}

/// Whether warnings and errors are being kept (the process installed this module's logging).
pub fn capturing() -> bool {
    CAPTURING.load(Ordering::SeqCst)
}

/// The last warnings and errors, oldest first.
pub fn recent_problems() -> Vec<String> {
    RECENT
        .lock()
        .map(|lines| lines.iter().cloned().collect())
        .unwrap_or_default()
}

/// Keeps the last [`RECENT_PROBLEMS`] WARN and ERROR events as one line each: time, level,
/// target, message and fields. Fields whose names suggest a secret are not kept, and API keys
/// in query strings are masked, so that the report can be shared.
pub struct RecentProblemsLayer;

impl<S: Subscriber> tracing_subscriber::Layer<S> for RecentProblemsLayer {
    fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
        let metadata = event.metadata();
        // More verbose levels compare greater: WARN and ERROR are the ones <= WARN.
        if *metadata.level() > Level::WARN {
            return;
        }
        let mut visitor = LineVisitor::default();
        event.record(&mut visitor);
        let line = format!(
            "{} {:<5} {}: {}{}",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            metadata.level(),
            metadata.target(),
            visitor.message,
            visitor.fields
        );
        let line = mask_query_keys(&line);
        if let Ok(mut lines) = RECENT.lock() {
            if lines.len() >= RECENT_PROBLEMS {
                lines.pop_front();
            }
            lines.push_back(line);
        }
    }
}

#[derive(Default)]
struct LineVisitor {
    message: String,
    fields: String,
}

const SECRET_FIELD_WORDS: [&str; 7] = [
    "password",
    "token",
    "secret",
    "apikey",
    "api_key",
    "authorization",
    "cookie",
];

fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_FIELD_WORDS.iter().any(|word| name.contains(word))
}

impl Visit for LineVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else if looks_secret(field.name()) {
            let _ = write!(self.fields, " {}=[hidden]", field.name());
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else if looks_secret(field.name()) {
            let _ = write!(self.fields, " {}=[hidden]", field.name());
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

/// `apiKey=TOKEN` (any case) becomes `apiKey=[hidden]`.
pub fn mask_query_keys(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let mut out = String::with_capacity(line.len());
    let mut rest = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find("apikey=") {
        let start = search + found + "apikey=".len();
        let end = line[start..]
            .find(['&', ' ', '"', '\'', '\n', ')', ','])
            .map_or(line.len(), |offset| start + offset);
        out.push_str(&line[rest..start]);
        out.push_str("[hidden]");
        rest = end;
        search = end;
    }
    out.push_str(&line[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_api_keys_in_query_strings() {
        assert_eq!(
            mask_query_keys("GET /api/events/raw?apiKey=abc123&clef failed"),
            "GET /api/events/raw?apiKey=[hidden]&clef failed"
        );
        assert_eq!(mask_query_keys("x APIKEY=zz"), "x APIKEY=[hidden]");
        assert_eq!(mask_query_keys("nothing here"), "nothing here");
    }

    #[test]
    fn secret_looking_fields_are_hidden() {
        assert!(looks_secret("password"));
        assert!(looks_secret("session_token"));
        assert!(looks_secret("X-Seq-ApiKey"));
        assert!(!looks_secret("error"));
    }
}
