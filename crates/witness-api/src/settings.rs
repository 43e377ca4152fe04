use serde::{Deserialize, Serialize};

/// `GET /api/settings` (and the answer to `PUT`): the backup schedule and retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Settings {
    /// When the daily backup runs, `HH:MM` in UTC (24-hour clock, two digits each).
    #[cfg_attr(feature = "schema", schemars(pattern(TIME_OF_DAY_PATTERN)))]
    pub backup_utc_time_of_day: String,
    /// How many backups are kept (the newest); 1 to 100.
    #[cfg_attr(feature = "schema", schemars(range(min = Settings::MIN_BACKUPS_TO_KEEP, max = Settings::MAX_BACKUPS_TO_KEEP)))]
    pub backups_to_keep: u32,
    /// Events received longer ago than this many days are deleted; 1 to 3650.
    #[cfg_attr(feature = "schema", schemars(range(min = Settings::MIN_RETENTION_DAYS, max = Settings::MAX_RETENTION_DAYS)))]
    pub retention_days: u32,
}

/// `PUT /api/settings`: every field is required. Numbers are taken as any whole number so
/// that one out of range is answered with a message for that field (422), not a parse error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    /// As in `Settings`; any other value is answered with 422.
    #[cfg_attr(feature = "schema", schemars(pattern(TIME_OF_DAY_PATTERN)))]
    pub backup_utc_time_of_day: String,
    #[cfg_attr(feature = "schema", schemars(range(min = Settings::MIN_BACKUPS_TO_KEEP, max = Settings::MAX_BACKUPS_TO_KEEP)))]
    pub backups_to_keep: i64,
    #[cfg_attr(feature = "schema", schemars(range(min = Settings::MIN_RETENTION_DAYS, max = Settings::MAX_RETENTION_DAYS)))]
    pub retention_days: i64,
}

/// What [`Settings::parse_time_of_day`] accepts, as a regular expression (for the schemas).
#[cfg(feature = "schema")]
const TIME_OF_DAY_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

impl From<Settings> for SettingsUpdate {
    fn from(settings: Settings) -> Self {
        SettingsUpdate {
            backup_utc_time_of_day: settings.backup_utc_time_of_day,
            backups_to_keep: i64::from(settings.backups_to_keep),
            retention_days: i64::from(settings.retention_days),
        }
    }
}

impl Settings {
    pub const MIN_BACKUPS_TO_KEEP: u32 = 1;
    pub const MAX_BACKUPS_TO_KEEP: u32 = 100;
    pub const MIN_RETENTION_DAYS: u32 = 1;
    pub const MAX_RETENTION_DAYS: u32 = 3650;

    /// `(hour, minute)` of a valid `HH:MM` (exactly two digits each, 00:00 to 23:59).
    pub fn parse_time_of_day(text: &str) -> Option<(u32, u32)> {
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return None;
        }
        let digits = [bytes[0], bytes[1], bytes[3], bytes[4]];
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value = |a: u8, b: u8| u32::from(a - b'0') * 10 + u32::from(b - b'0');
        let (hour, minute) = (value(digits[0], digits[1]), value(digits[2], digits[3]));
        (hour < 24 && minute < 60).then_some((hour, minute))
    }

    /// What is wrong with each field of an update (field name → message); empty when valid.
    pub fn problems(update: &SettingsUpdate) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if Self::parse_time_of_day(&update.backup_utc_time_of_day).is_none() {
            problems.push((
                "backup_utc_time_of_day",
                "must be a UTC time of day as HH:MM, from 00:00 to 23:59".to_string(),
            ));
        }
        let (low, high) = (Self::MIN_BACKUPS_TO_KEEP, Self::MAX_BACKUPS_TO_KEEP);
        if !(i64::from(low)..=i64::from(high)).contains(&update.backups_to_keep) {
            problems.push(("backups_to_keep", format!("must be from {low} to {high}")));
        }
        let (low, high) = (Self::MIN_RETENTION_DAYS, Self::MAX_RETENTION_DAYS);
        if !(i64::from(low)..=i64::from(high)).contains(&update.retention_days) {
            problems.push(("retention_days", format!("must be from {low} to {high}")));
        }
        problems
    }

    /// The settings an update asks for, when every field is valid.
    pub fn from_update(update: &SettingsUpdate) -> Option<Settings> {
        if !Self::problems(update).is_empty() {
            return None;
        }
        Some(Settings {
            backup_utc_time_of_day: update.backup_utc_time_of_day.clone(),
            backups_to_keep: u32::try_from(update.backups_to_keep).ok()?,
            retention_days: u32::try_from(update.retention_days).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(time: &str, keep: i64, days: i64) -> SettingsUpdate {
        SettingsUpdate {
            backup_utc_time_of_day: time.into(),
            backups_to_keep: keep,
            retention_days: days,
        }
    }

    #[test]
    fn times_of_day_need_two_digits_each_and_a_real_time() {
        assert_eq!(Settings::parse_time_of_day("00:00"), Some((0, 0)));
        assert_eq!(Settings::parse_time_of_day("23:59"), Some((23, 59)));
        assert_eq!(Settings::parse_time_of_day("02:30"), Some((2, 30)));
        for bad in [
            "24:00",
            "23:60",
            "2:00",
            "02:0",
            "0200",
            "02-00",
            " 02:00",
            "02:00 ",
            "",
            "ab:cd",
            "+1:00",
            "٠٢:٠٠",
            "02:00:00",
        ] {
            assert_eq!(Settings::parse_time_of_day(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn problems_name_every_bad_field() {
        assert!(Settings::problems(&update("02:00", 7, 365)).is_empty());
        assert!(Settings::problems(&update("00:00", 1, 1)).is_empty());
        assert!(Settings::problems(&update("23:59", 100, 3650)).is_empty());
        let fields: Vec<&str> = Settings::problems(&update("25:00", 0, 3651))
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        assert_eq!(
            fields,
            [
                "backup_utc_time_of_day",
                "backups_to_keep",
                "retention_days"
            ]
        );
        assert_eq!(Settings::problems(&update("02:00", 101, -1)).len(), 2);
        assert_eq!(
            Settings::from_update(&update("02:00", 7, 30)),
            Some(Settings {
                backup_utc_time_of_day: "02:00".into(),
                backups_to_keep: 7,
                retention_days: 30
            })
        );
    }

    #[test]
    fn an_update_refuses_unknown_fields() {
        let json =
            r#"{"backup_utc_time_of_day":"02:00","backups_to_keep":7,"retention_days":1,"x":1}"#;
        assert!(serde_json::from_str::<SettingsUpdate>(json).is_err());
    }
}
