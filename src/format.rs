//! Pure formatting helpers, tested natively.

use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDateTime, SecondsFormat, Timelike, Utc};

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

/// The zone event times are read in: the Audit logs tab's `tz` URL parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// No parameter, or `tz=utc`.
    Utc,
    /// `tz=local`: the browser's zone.
    Local,
    /// `tz=Europe/Paris`: an IANA zone, as the browser's `Intl` knows them.
    Named(String),
}

impl Zone {
    pub fn from_param(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            None | Some("") => Zone::Utc,
            Some(zone) if zone.eq_ignore_ascii_case("utc") => Zone::Utc,
            Some("local") => Zone::Local,
            Some(zone) => Zone::Named(zone.to_string()),
        }
    }

    /// The URL value, `None` for the default (UTC).
    pub fn param(&self) -> Option<&str> {
        match self {
            Zone::Utc => None,
            Zone::Local => Some("local"),
            Zone::Named(zone) => Some(zone),
        }
    }

    /// Seconds east of UTC at `at`; `None` for a zone name the browser does not know.
    pub fn offset(&self, at: DateTime<Utc>) -> Option<i32> {
        match self {
            Zone::Utc => Some(0),
            Zone::Local => Some(at.with_timezone(&Local).offset().local_minus_utc()),
            Zone::Named(zone) => crate::zone::offset(zone, at),
        }
    }

    /// What the time column's header says: `UTC`, `Local, UTC+01:00`, `Europe/Paris`.
    pub fn label(&self) -> String {
        match self {
            Zone::Utc => "UTC".to_string(),
            Zone::Local => format!(
                "Local, UTC{}",
                offset_text(Zone::Local.offset(Utc::now()).unwrap_or(0))
            ),
            Zone::Named(zone) => zone.clone(),
        }
    }
}

/// `+01:00`, `-05:30`.
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The exact instant as ISO 8601 in a zone `offset` seconds east of UTC:
/// `2026-11-22T11:00:05.123456+01:00`, or `…Z` in UTC.
pub fn iso(at: DateTime<Utc>, offset: i32) -> String {
    match FixedOffset::east_opt(offset).filter(|_| offset != 0) {
        Some(zone) => at
            .with_timezone(&zone)
            .to_rfc3339_opts(SecondsFormat::AutoSi, false),
        None => at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
}

/// How long ago `at` was, as a person says it: `just now`, `42 s ago`, `4 min ago`,
/// `3 h ago`, `2 d ago`, `5 mo ago`, `2 y ago` (`in 4 min` for a time ahead of `now`).
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds();
    let ahead = seconds < 0;
    let s = seconds.unsigned_abs();
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let amount = match s {
        0..5 => return "just now".to_string(),
        s if s < MINUTE => format!("{s} s"),
        s if s < HOUR => format!("{} min", s / MINUTE),
        s if s < DAY => format!("{} h", s / HOUR),
        s if s < 30 * DAY => format!("{} d", s / DAY),
        s if s < 365 * DAY => format!("{} mo", s / (30 * DAY)),
        s => format!("{} y", s / (365 * DAY)),
    };
    if ahead {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// `1 event`, `2 events`, `1,234 events`: a count with its noun, singular for one.
pub fn counted(n: u64, singular: &str, plural: &str) -> String {
    format!("{} {}", count(n), if n == 1 { singular } else { plural })
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

    use super::{
        Precision, Zone, bytes, count, counted, duration, fixed, iso, relative, utc, wall,
    };

    #[test]
    fn relative_times_read_as_people_say_them() {
        let now: DateTime<Utc> = "2026-11-22T12:00:00Z".parse().expect("time");
        let ago = |seconds: i64| relative(now - chrono::Duration::seconds(seconds), now);
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(42), "42 s ago");
        assert_eq!(ago(4 * 60 + 59), "4 min ago");
        assert_eq!(ago(3 * 3600), "3 h ago");
        assert_eq!(ago(2 * 86400 + 5), "2 d ago");
        assert_eq!(ago(65 * 86400), "2 mo ago");
        assert_eq!(ago(800 * 86400), "2 y ago");
        assert_eq!(ago(-240), "in 4 min");
    }

    #[test]
    fn exact_instants_are_iso_8601_in_the_zone() {
        let at: DateTime<Utc> = "2026-11-22T10:00:05.123456Z".parse().expect("time");
        assert_eq!(iso(at, 0), "2026-11-22T10:00:05.123456Z");
        assert_eq!(iso(at, 3600), "2026-11-22T11:00:05.123456+01:00");
        assert_eq!(
            iso(at, -(5 * 3600 + 1800)),
            "2026-11-22T04:30:05.123456-05:30"
        );
        let whole: DateTime<Utc> = "2026-11-22T10:00:05Z".parse().expect("time");
        assert_eq!(iso(whole, 0), "2026-11-22T10:00:05Z");
    }

    #[test]
    fn the_zone_parameter_names_utc_local_or_a_zone() {
        assert_eq!(Zone::from_param(None), Zone::Utc);
        assert_eq!(Zone::from_param(Some("UTC")), Zone::Utc);
        assert_eq!(Zone::from_param(Some("local")), Zone::Local);
        let paris = Zone::from_param(Some("Europe/Paris"));
        assert_eq!(paris.param(), Some("Europe/Paris"));
        assert_eq!(paris.label(), "Europe/Paris");
        assert_eq!(Zone::Utc.param(), None);
        assert_eq!(Zone::Utc.label(), "UTC");
    }

    #[test]
    fn one_is_singular() {
        assert_eq!(counted(1, "event", "events"), "1 event");
        assert_eq!(counted(0, "event", "events"), "0 events");
        assert_eq!(counted(1234, "event", "events"), "1,234 events");
    }

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
