//! Classic bodies (`POST /api/events/raw`, `{"Events":[…]}`): every input is either events or a 400/413 message that
//! names what was wrong; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use witness_server::ingest::{BodyFormat, IngestLimits, IngestProblem, parse_body};

fuzz_target!(|data: &[u8]| {
    let limits = IngestLimits {
        max_payload_bytes: 64 * 1024,
        max_event_bytes: 4 * 1024,
    };
    match parse_body(BodyFormat::Classic, data, &limits) {
        Ok(_) => {}
        Err(IngestProblem::BadRequest(message) | IngestProblem::PayloadTooLarge(message)) => {
            assert!(!message.is_empty())
        }
    }
});
