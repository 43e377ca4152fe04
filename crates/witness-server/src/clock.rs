//! What time it is for the rules that depend on it (when a session ends). The system clock,
//! which a test can move forward instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

#[derive(Clone, Default)]
pub struct Clock {
    /// How far this clock is ahead of the system's, in microseconds (0 outside tests).
    ahead_micros: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::microseconds(self.ahead_micros.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every copy of it) forward: for tests of time-dependent rules.
    pub fn advance(&self, by: chrono::Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.ahead_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Clock(+{} µs)",
            self.ahead_micros.load(Ordering::Relaxed)
        )
    }
}
