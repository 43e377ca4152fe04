//! The histogram's time buckets, whatever stores the events: the range and width chosen from
//! the filter, and the counts added up per bucket.

use chrono::{DateTime, NaiveDate, Utc};
use witness_api::{EventFilter, Histogram, HistogramBucket};

use crate::store::event_row::{from_micros, micros};
use crate::store::{StoreError, StoreResult};

/// Bucket widths the histogram chooses from, smallest first.
const BUCKET_WIDTHS: [i64; 12] = [
    1,
    10,
    60,
    5 * 60,
    15 * 60,
    30 * 60,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    7 * 86_400,
];
const TARGET_BUCKETS: i64 = 120;
const MINUTE_MICROS: i64 = 60_000_000;
/// The first instant of the years filters accept (`witness_api::YEARS`, 0000-01-01): a wide
/// bucket can start before it (buckets are aligned on the Unix epoch), but Witness writes no
/// time outside those years, which strict RFC 3339 readers, the panel among them, cannot read.
fn earliest_micros() -> i64 {
    NaiveDate::from_ymd_opt(*witness_api::YEARS.start(), 1, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(i64::MIN, |start| micros(start.and_utc()))
}
pub const MAX_BUCKETS: i64 = 10_000;

/// Buckets `first..=last` of `width_micros` each (bucket `b` starts at `b * width_micros`),
/// up to `to`, with a count each.
pub struct Buckets {
    pub first: i64,
    pub last: i64,
    pub width_micros: i64,
    width: i64,
    to: DateTime<Utc>,
    counts: Vec<u64>,
    total: u64,
}

impl Buckets {
    /// The buckets for `filter`'s range; without a start, from `oldest` (the oldest stored
    /// event time, asked only then) or the last 24 hours.
    pub fn plan(
        filter: &EventFilter,
        bucket_seconds: Option<u64>,
        oldest: impl FnOnce() -> StoreResult<Option<i64>>,
    ) -> StoreResult<Self> {
        let to = filter.to.unwrap_or_else(Utc::now);
        let from = match filter.from {
            Some(from) => from,
            None => match oldest()? {
                Some(oldest) if oldest < micros(to) => from_micros(oldest),
                _ => to - chrono::Duration::hours(24),
            },
        };
        let span = ((micros(to) - micros(from)) / 1_000_000).max(1);
        let width = match bucket_seconds {
            Some(width) => {
                let width = i64::try_from(width).unwrap_or(i64::MAX);
                if width < 1 || span / width > MAX_BUCKETS {
                    return Err(StoreError::Invalid {
                        parameter: "bucket".to_string(),
                        message: format!(
                            "{width} seconds would make more than {MAX_BUCKETS} buckets for this \
                             range"
                        ),
                    });
                }
                width
            }
            None => BUCKET_WIDTHS
                .iter()
                .copied()
                .find(|width| span / width <= TARGET_BUCKETS)
                // Beyond the widest listed width (ranges of decades): whole days, still few
                // buckets.
                .unwrap_or_else(|| {
                    let days = (span / TARGET_BUCKETS) / 86_400 + 1;
                    days * 86_400
                }),
        };
        let width_micros = width.saturating_mul(1_000_000);
        let first = micros(from).div_euclid(width_micros);
        let last = (micros(to) - 1).div_euclid(width_micros);
        let buckets = last.saturating_sub(first).saturating_add(1).max(0);
        // The filter bounds times to years 0000-9999 and the width is checked above; this
        // guards the allocation itself, whatever a future caller passes.
        if buckets > MAX_BUCKETS + 1 {
            return Err(StoreError::Invalid {
                parameter: "bucket".to_string(),
                message: format!("{buckets} buckets are more than the {MAX_BUCKETS} allowed"),
            });
        }
        Ok(Buckets {
            first,
            last,
            width_micros,
            width,
            to,
            counts: vec![0; buckets as usize],
            total: 0,
        })
    }

    /// Where the first bucket starts (µs).
    pub fn range_from(&self) -> i64 {
        self.first * self.width_micros
    }

    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    /// Whether each bucket is a whole number of minutes (so per-minute summaries can fill it).
    pub fn whole_minutes(&self) -> bool {
        self.width_micros % 60_000_000 == 0
    }

    /// Where sums of per-minute counts stop (a minute number, exclusive): at the minute `to`
    /// falls in, whose events after `to` are outside the range (the last bucket may reach past
    /// `to`); those before it are counted one by one ([`Buckets::partial_minute`]).
    pub fn summed_minutes_end(&self) -> i64 {
        micros(self.to).div_euclid(MINUTE_MICROS)
    }

    /// The start (µs) of the minute `to` falls in, when `to` is not a whole minute: the events
    /// from there to `to` are counted one by one, as per-minute counts cannot split a minute.
    pub fn partial_minute(&self) -> Option<i64> {
        let to = micros(self.to);
        let start = to.div_euclid(MINUTE_MICROS) * MINUTE_MICROS;
        (start < to).then_some(start)
    }

    /// Adds `count` events to bucket number `bucket`; outside the range, nothing. A negative
    /// count takes events away (a total minus what a filter excludes: [`excluded_sources_only`]).
    pub fn add(&mut self, bucket: i64, count: i64) {
        if let Some(slot) = usize::try_from(bucket - self.first)
            .ok()
            .and_then(|index| self.counts.get_mut(index))
        {
            let magnitude = count.unsigned_abs();
            if count >= 0 {
                *slot += magnitude;
                self.total += magnitude;
            } else {
                let taken = magnitude.min(*slot);
                *slot -= taken;
                self.total -= taken;
            }
        }
    }

    pub fn into_histogram(self) -> Histogram {
        let (first, width_micros) = (self.first, self.width_micros);
        let earliest = earliest_micros();
        let start = |bucket: i64| from_micros((bucket * width_micros).max(earliest));
        Histogram {
            from: start(first),
            to: self.to,
            bucket_seconds: self.width as u64,
            buckets: self
                .counts
                .into_iter()
                .enumerate()
                .map(|(index, count)| HistogramBucket {
                    start: start(first + index as i64),
                    count,
                })
                .collect(),
            total: self.total,
        }
    }
}

/// The sources a filter excludes, when that is all it asks besides a time range (the panel's
/// default view, `source=!witness`). Its histogram is then the per-minute totals minus the
/// events of those sources, counted through the `(source, ts)` index, instead of a count of
/// every other event row by row.
pub fn excluded_sources_only(filter: &EventFilter) -> Option<Vec<String>> {
    if filter.source.is_empty() || filter.source.iter().any(|m| !m.negated || m.prefix) {
        return None;
    }
    let rest = EventFilter {
        from: None,
        to: None,
        source: Vec::new(),
        ..filter.clone()
    };
    rest.is_empty().then(|| {
        // Each once: `source=!witness&source=!witness` takes Witness's events away once.
        let mut sources: Vec<String> = filter.source.iter().map(|m| m.value.clone()).collect();
        sources.sort();
        sources.dedup();
        sources
    })
}
