//! Pure formatting helpers, tested natively.

/// A duration in whole seconds as a person reads it: `42 s`, `5 min 3 s`, `2 h 5 min`, `3 d 4 h`.
pub fn duration(seconds: u64) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    match seconds {
        s if s < MINUTE => format!("{s} s"),
        s if s < HOUR => format!("{} min {} s", s / MINUTE, s % MINUTE),
        s if s < DAY => format!("{} h {} min", s / HOUR, (s % HOUR) / MINUTE),
        s => format!("{} d {} h", s / DAY, (s % DAY) / HOUR),
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_use_the_two_largest_units() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(60), "1 min 0 s");
        assert_eq!(duration(303), "5 min 3 s");
        assert_eq!(duration(2 * 3600 + 5 * 60 + 7), "2 h 5 min");
        assert_eq!(duration(3 * 86400 + 4 * 3600 + 59), "3 d 4 h");
    }
}
