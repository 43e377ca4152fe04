//! Pure formatting helpers, tested natively.

use chrono::{DateTime, Datelike, Local, NaiveDateTime, Timelike, Utc};

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

/// How much of a time the panel shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `2026-11-22 10:00`
    Minute,
    /// `2026-11-22 10:00:05`
    Second,
    /// `2026-11-22 10:00:05.123456`
    Micro,
}

/// A wall-clock time as the panel writes it, as chrono's `%Y-%m-%d %H:%M`, `…:%S` or
/// `…:%S%.6f` would. Written by hand: chrono's format strings would put their parser and
/// formatter into the panel's code for these few shapes.
pub fn wall(at: NaiveDateTime, precision: Precision) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(26);
    let year = at.year();
    // chrono's %Y: four digits, with a sign outside 0000–9999.
    let _ = if (0..=9999).contains(&year) {
        write!(out, "{year:04}")
    } else {
        write!(out, "{year:+05}")
    };
    let _ = write!(
        out,
        "-{:02}-{:02} {:02}:{:02}",
        at.month(),
        at.day(),
        at.hour(),
        at.minute()
    );
    if precision != Precision::Minute {
        // A leap second is kept in the nanoseconds (chrono shows it as second 60).
        let nanos = at.nanosecond();
        let _ = write!(out, ":{:02}", at.second() + nanos / 1_000_000_000);
        if precision == Precision::Micro {
            let _ = write!(out, ".{:06}", nanos % 1_000_000_000 / 1000);
        }
    }
    out
}

/// A time in UTC, said so: `2026-11-22 10:00 UTC`.
pub fn utc(at: DateTime<Utc>, precision: Precision) -> String {
    let mut out = wall(at.naive_utc(), precision);
    out.push_str(" UTC");
    out
}

/// An event time in UTC or in the browser's zone, to the second.
pub fn time(at: DateTime<Utc>, utc: bool) -> String {
    if utc {
        wall(at.naive_utc(), Precision::Second)
    } else {
        wall(at.with_timezone(&Local).naive_local(), Precision::Second)
    }
}

/// The zone the time column is in, for its header: `UTC` or `Local (UTC+01:00)`.
pub fn zone_label(utc: bool) -> String {
    if utc {
        "UTC".to_string()
    } else {
        let offset = Local::now().offset().local_minus_utc();
        let sign = if offset < 0 { '-' } else { '+' };
        let minutes = offset.unsigned_abs() / 60;
        format!("Local (UTC{sign}{:02}:{:02})", minutes / 60, minutes % 60)
    }
}

/// A size in bytes as a person reads it.
pub fn bytes(size: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{size} B")
    } else {
        format!("{} {}", fixed(value, 1), UNITS[unit])
    }
}

/// `value` with `decimals` digits after the point (at most 9), as `{:.N}` writes it but with
/// integer arithmetic: the panel then carries no float-to-text code. Halfway cases round away
/// from zero, where `{:.N}` goes by the exact binary value; nothing shown depends on that.
pub fn fixed(value: f64, decimals: u32) -> String {
    let scale = 10u64.pow(decimals.min(9));
    let scaled = (value.abs() * scale as f64).round() as u64;
    let sign = if value < 0.0 && scaled != 0 { "-" } else { "" };
    let (whole, fraction) = (scaled / scale, scaled % scale);
    if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!(
            "{sign}{whole}.{fraction:0width$}",
            width = decimals.min(9) as usize
        )
    }
}

/// A count with thousands separators: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};

    use super::{Precision, bytes, count, duration, fixed, utc, wall};

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn durations_use_the_two_largest_units() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(60), "1 min 0 s");
        assert_eq!(duration(303), "5 min 3 s");
        assert_eq!(duration(2 * 3600 + 5 * 60 + 7), "2 h 5 min");
        assert_eq!(duration(3 * 86400 + 4 * 3600 + 59), "3 d 4 h");
    }

    #[test]
    fn times_read_as_chrono_formats_would_write_them() {
        let at: DateTime<Utc> = "2026-11-02T03:04:05.123456789Z".parse().expect("time");
        for (precision, pattern) in [
            (Precision::Minute, "%Y-%m-%d %H:%M"),
            (Precision::Second, "%Y-%m-%d %H:%M:%S"),
            (Precision::Micro, "%Y-%m-%d %H:%M:%S%.6f"),
        ] {
            assert_eq!(
                wall(at.naive_utc(), precision),
                at.format(pattern).to_string()
            );
        }
        assert_eq!(utc(at, Precision::Minute), "2026-11-02 03:04 UTC");
        let odd_years = [
            (0, "0000"),
            (9999, "9999"),
            (10000, "+10000"),
            (-1, "-0001"),
        ];
        for (year, shown) in odd_years {
            let day = NaiveDate::from_ymd_opt(year, 1, 2)
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .expect("day");
            assert_eq!(day.format("%Y").to_string(), shown);
            assert_eq!(wall(day, Precision::Minute), format!("{shown}-01-02 00:00"));
        }
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|day| day.and_hms_micro_opt(23, 59, 59, 1_500_000))
            .expect("leap second");
        assert_eq!(
            wall(leap, Precision::Micro),
            leap.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
        );
    }

    #[test]
    fn fixed_points_read_as_float_formatting_would_write_them() {
        for value in [
            0.0, 0.04, 0.05, 1.0, 12.3456, 99.99951, 100.0, 33.333_333, -2.26,
        ] {
            assert_eq!(fixed(value, 3), format!("{value:.3}"), "{value}");
            assert_eq!(fixed(value, 1), format!("{value:.1}"), "{value}");
        }
        assert_eq!(fixed(2.6, 0), "3");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(10 * 1024 * 1024 + 1), "10.0 MiB");
    }
}
