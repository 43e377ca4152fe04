//! Seq-compatible ingestion: CLEF and the classic JSON body, mapped onto audit events.
//!
//! This is the pure parsing layer: bytes in, [`NewEvent`]s or one [`IngestProblem`] out. A batch
//! is all or nothing: the first bad line or event rejects the whole body, and the problem names
//! where it is (`line 3` for CLEF, counting from 1 and including blank lines; `Events[3]` for the
//! classic body, counting from 0) and what is wrong.
//!
//! - [`clef`]: newline-delimited compact log event format (`@t`, `@mt`, …).
//! - [`classic`]: `{"Events":[{"Timestamp", "Level", "MessageTemplate", "Properties", …}]}`.
//! - [`mapping`]: Seq properties onto audit fields, shared by both.

pub mod classic;
pub mod clef;
pub mod mapping;

use std::fmt;

use chrono::{DateTime, Utc};

use crate::model::NewEvent;

/// Size limits on what ingestion accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestLimits {
    /// The whole request body; over it the answer is 413. Default 10 MiB.
    pub max_payload_bytes: usize,
    /// One event (a CLEF line, or one element of the classic `Events` array); over it the
    /// batch is refused with 400. Default 256 KiB.
    pub max_event_bytes: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            max_payload_bytes: 10 * 1024 * 1024,
            max_event_bytes: 256 * 1024,
        }
    }
}

/// Why a body was refused; the message says where and what, for the sender to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestProblem {
    /// 400: something in the body is malformed or out of shape.
    BadRequest(String),
    /// 413: the body is over the payload limit.
    PayloadTooLarge(String),
}

impl IngestProblem {
    pub fn message(&self) -> &str {
        match self {
            IngestProblem::BadRequest(message) | IngestProblem::PayloadTooLarge(message) => message,
        }
    }
}

impl fmt::Display for IngestProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for IngestProblem {}

/// Which wire format a body is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// Newline-delimited CLEF (`?clef`, `application/vnd.serilog.clef`, `/ingest/clef`).
    Clef,
    /// `{"Events":[…]}`.
    Classic,
}

/// The message for a body with no events in it.
pub const EMPTY_BODY: &str = "the body is empty; send at least one event";

/// Parses a whole request body into events, or refuses it whole.
///
/// Checks the payload limit first (over it: [`IngestProblem::PayloadTooLarge`]), then that the
/// body is UTF-8 (a leading byte-order mark is skipped) and not blank, then parses it as
/// `format` says. An empty `Events` array in a classic body is accepted and gives no events.
pub fn parse_body(
    format: BodyFormat,
    body: &[u8],
    limits: &IngestLimits,
) -> Result<Vec<NewEvent>, IngestProblem> {
    if body.len() > limits.max_payload_bytes {
        return Err(IngestProblem::PayloadTooLarge(format!(
            "the body is {} bytes, over the limit of {} bytes; send smaller batches",
            body.len(),
            limits.max_payload_bytes
        )));
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|error| {
        let valid = &body[..error.valid_up_to()];
        let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
        let line_start = valid
            .iter()
            .rposition(|&byte| byte == b'\n')
            .map_or(0, |newline| newline + 1);
        let column = valid.len() - line_start + 1;
        IngestProblem::BadRequest(match format {
            BodyFormat::Clef => {
                format!("line {line}: not valid UTF-8 (at byte {column} of the line)")
            }
            BodyFormat::Classic => {
                format!("the body is not valid UTF-8 (at line {line}, byte {column} of the line)")
            }
        })
    })?;
    if text.trim().is_empty() {
        return Err(IngestProblem::BadRequest(EMPTY_BODY.to_owned()));
    }
    match format {
        BodyFormat::Clef => clef::parse(text, limits),
        BodyFormat::Classic => classic::parse(text, limits),
    }
}

/// Parses an RFC 3339 time into UTC.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// The tail of a "not an RFC 3339 time" message, with an example to copy.
const TIME_HINT: &str = "is not an RFC 3339 time (for example 2024-05-01T12:00:00Z)";

/// A serde_json error without its " at line L column C" suffix.
fn json_error_text(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&suffix) {
        Some(bare) => bare.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_to_10_mib_and_256_kib() {
        let limits = IngestLimits::default();
        assert_eq!(limits.max_payload_bytes, 10 * 1024 * 1024);
        assert_eq!(limits.max_event_bytes, 256 * 1024);
    }

    #[test]
    fn a_body_over_the_payload_limit_is_too_large() {
        let limits = IngestLimits {
            max_payload_bytes: 100,
            max_event_bytes: 1000,
        };
        let line = "{\"@t\":\"2024-05-01T12:00:00Z\",\"@mt\":\"hello\"}\n";
        let body = line.repeat(5);
        for format in [BodyFormat::Clef, BodyFormat::Classic] {
            let problem = parse_body(format, body.as_bytes(), &limits).unwrap_err();
            let IngestProblem::PayloadTooLarge(message) = &problem else {
                panic!("expected PayloadTooLarge, got {problem:?}");
            };
            assert!(message.contains("over the limit of 100 bytes"), "{message}");
            assert_eq!(problem.to_string(), *message);
        }
    }

    #[test]
    fn an_empty_or_blank_body_is_refused() {
        let limits = IngestLimits::default();
        for body in ["", "\n", "  \r\n\r\n \t\n"] {
            for format in [BodyFormat::Clef, BodyFormat::Classic] {
                let problem = parse_body(format, body.as_bytes(), &limits).unwrap_err();
                assert_eq!(problem, IngestProblem::BadRequest(EMPTY_BODY.to_owned()));
            }
        }
    }

    #[test]
    fn non_utf8_names_the_line() {
        let body = b"{\"@t\":\"2024-05-01T12:00:00Z\"}\n{\"@t\":\"2024-05-01T12:00:00Z\",\"x\":\"\xff\"}\n";
        let problem = parse_body(BodyFormat::Clef, body, &IngestLimits::default()).unwrap_err();
        assert_eq!(
            problem.to_string(),
            "line 2: not valid UTF-8 (at byte 35 of the line)"
        );
        let problem = parse_body(BodyFormat::Classic, body, &IngestLimits::default()).unwrap_err();
        assert!(
            problem.to_string().contains("not valid UTF-8 (at line 2"),
            "{problem}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let body = "\u{feff}{\"@t\":\"2024-05-01T12:00:00Z\",\"@mt\":\"hi\"}";
        let events = parse_body(BodyFormat::Clef, body.as_bytes(), &IngestLimits::default())
            .expect("parses");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].message, "hi");
    }

    #[test]
    fn the_problem_is_an_error() {
        let problem: Box<dyn std::error::Error> =
            Box::new(IngestProblem::BadRequest("line 1: x".to_owned()));
        assert_eq!(problem.to_string(), "line 1: x");
    }
}
