use chrono::{DateTime, Duration, Utc};
use leptos::prelude::*;
use witness_api::Histogram;

/// Events over time as SVG bars; clicking a bar narrows the range to it.
#[component]
pub fn HistogramChart(
    histogram: Histogram,
    on_pick: Callback<(DateTime<Utc>, DateTime<Utc>)>,
) -> impl IntoView {
    let max = histogram
        .buckets
        .iter()
        .map(|b| b.count)
        .max()
        .unwrap_or(0)
        .max(1);
    let n = histogram.buckets.len().max(1) as f64;
    let width = 100.0 / n;
    let step = Duration::seconds(histogram.bucket_seconds as i64);
    let total = histogram.total;
    let bars = histogram
        .buckets
        .into_iter()
        .enumerate()
        .map(|(index, bucket)| {
            let height = bucket.count as f64 / max as f64 * 100.0;
            let start = bucket.start;
            let label = format!(
                "{} events from {}",
                bucket.count,
                start.format("%Y-%m-%d %H:%M UTC")
            );
            view! {
                <rect
                    x=format!("{:.3}", index as f64 * width)
                    y=format!("{:.3}", 100.0 - height)
                    width=format!("{:.3}", (width * 0.9).max(0.05))
                    height=format!("{:.3}", height)
                    class="bar"
                    on:click=move |_| on_pick.run((start, start + step))
                >
                    <title>{label}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <figure class="histogram">
            <svg
                viewBox="0 0 100 100"
                preserveAspectRatio="none"
                role="img"
                aria-label=format!("{total} events over time; click a bar to narrow the range")
            >
                {bars}
            </svg>
            <figcaption class="muted">
                {format!("{total} events · click a bar to narrow the range")}
            </figcaption>
        </figure>
    }
}
