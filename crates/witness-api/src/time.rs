//! Times read off the wire with chrono's strict RFC 3339 parser. chrono's own `Deserialize`
//! reads through its general format-item parser (it also takes a space for the `T`), which
//! was the largest piece of date code left in the panel (BENCHMARKS.md, issue 15); every time
//! Witness writes is RFC 3339, so nothing it sends reads differently.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, de::Error};

fn parse<E: Error>(text: &str) -> Result<DateTime<Utc>, E> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|problem| E::custom(format_args!("`{text}` is not an RFC 3339 time: {problem}")))
}

pub(crate) fn rfc3339<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<DateTime<Utc>, D::Error> {
    parse(&String::deserialize(deserializer)?)
}

pub(crate) fn rfc3339_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| parse(&text))
        .transpose()
}

#[cfg(test)]
mod tests {
    use crate::{BackupInfo, Diagnostics};

    fn backup(created_at: &str) -> Result<BackupInfo, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "id": "b", "file_name": "b.wbk", "size_bytes": 1, "created_at": created_at,
        }))
    }

    #[test]
    fn times_read_as_witness_writes_them_and_others_are_refused_naming_the_text() {
        for (written, instant) in [
            ("2026-11-22T10:00:05Z", "2026-11-22T10:00:05+00:00"),
            (
                "2026-11-22T10:00:05.123456Z",
                "2026-11-22T10:00:05.123456+00:00",
            ),
            ("2026-11-22T11:00:05+01:00", "2026-11-22T10:00:05+00:00"),
        ] {
            let read = backup(written).expect(written);
            assert_eq!(read.created_at.to_rfc3339(), instant);
            // What Witness writes for it reads back the same.
            let again = serde_json::to_value(&read).expect("writes");
            let again = again["created_at"].as_str().expect("a string");
            assert_eq!(backup(again).expect(again), read);
        }
        let error = backup("2026-11-22 10:00:05")
            .expect_err("no T, no zone")
            .to_string();
        assert!(
            error.contains("`2026-11-22 10:00:05` is not an RFC 3339 time"),
            "{error}"
        );
    }

    #[test]
    fn an_absent_or_null_optional_time_reads_as_none() {
        let diagnostics = serde_json::json!({
            "version": "0", "started_at": "2026-11-22T10:00:00Z", "uptime_seconds": 1,
            "data_dir": "/d", "auditing": {"enabled": true, "summary": "on", "targets": []},
            "last_backup_at": null,
        });
        let read: Diagnostics = serde_json::from_value(diagnostics).expect("reads");
        assert_eq!(read.last_backup_at, None);
        assert_eq!(read.next_backup_at, None);
    }
}
