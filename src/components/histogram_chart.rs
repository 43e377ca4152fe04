use chrono::{DateTime, Duration, Utc};
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use witness_api::Histogram;

use crate::format::{self, Precision};

/// The buckets a drag from `a` to `b` covers (either direction), as a time range.
fn span(
    starts: &[DateTime<Utc>],
    step: Duration,
    a: usize,
    b: usize,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (low, high) = (a.min(b), a.max(b));
    Some((*starts.get(low)?, *starts.get(high)? + step))
}

/// Events over time as SVG bars. Clicking a bar narrows the range to it; dragging across bars
/// narrows it to all of them. From the keyboard the chart is one tab stop: the arrow keys move
/// between bars and Enter or Space does what a click does.
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
    let starts: Vec<DateTime<Utc>> = histogram.buckets.iter().map(|b| b.start).collect();
    let starts = StoredValue::new(starts);
    // The bar a drag started on and the bar the pointer is over now.
    let drag = RwSignal::new(None::<(usize, usize)>);
    let finish = move |end: usize| {
        if let Some((start, _)) = drag.get_untracked() {
            drag.set(None);
            if let Some(range) = starts.with_value(|s| span(s, step, start, end)) {
                on_pick.run(range);
            }
        }
    };
    let bars = histogram
        .buckets
        .into_iter()
        .enumerate()
        .map(|(index, bucket)| {
            let height = bucket.count as f64 / max as f64 * 100.0;
            let start = bucket.start;
            let label = format!(
                "{} from {}",
                format::counted(bucket.count, "event", "events"),
                format::utc(start, Precision::Minute)
            );
            let aria_label = label.clone();
            let class = move || match drag.get() {
                Some((a, b)) if index >= a.min(b) && index <= a.max(b) => "bar selected",
                _ => "bar",
            };
            view! {
                <rect
                    x=format::fixed(index as f64 * width, 3)
                    y=format::fixed(100.0 - height, 3)
                    width=format::fixed((width * 0.9).max(0.05), 3)
                    height=format::fixed(height, 3)
                    class=class
                    tabindex=if index == 0 { "0" } else { "-1" }
                    role="button"
                    aria-label=aria_label
                    on:mousedown=move |ev| {
                        ev.prevent_default();
                        drag.set(Some((index, index)));
                    }
                    on:mouseenter=move |_| {
                        if let Some((a, _)) = drag.get_untracked() {
                            drag.set(Some((a, index)));
                        }
                    }
                    on:mouseup=move |_| finish(index)
                    on:keydown=move |ev| {
                        match ev.key().as_str() {
                            "Enter" | " " => {
                                ev.prevent_default();
                                on_pick.run((start, start + step));
                            }
                            // One tab stop for the chart; the arrows move between its bars.
                            "ArrowLeft" | "ArrowRight" => {
                                ev.prevent_default();
                                let bar = ev
                                    .target()
                                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
                                let next = bar.and_then(|bar| {
                                    if ev.key() == "ArrowLeft" {
                                        bar.previous_element_sibling()
                                    } else {
                                        bar.next_element_sibling()
                                    }
                                });
                                if let Some(next) = next.and_then(|n| n.dyn_into::<web_sys::SvgElement>().ok()) {
                                    let _ = next.focus();
                                }
                            }
                            _ => {}
                        }
                    }
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
                role="group"
                aria-label=format!("{} over time; click a bar or drag across bars to narrow the range", format::counted(total, "event", "events"))
                on:mouseleave=move |_| drag.set(None)
            >
                {bars}
            </svg>
            <figcaption class="muted">
                {format!("{} · click a bar or drag across bars to narrow the range", format::counted(total, "event", "events"))}
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_drag_covers_its_buckets_in_either_direction() {
        let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let step = Duration::hours(1);
        let starts: Vec<_> = (0..5).map(|i| start + step * i).collect();
        let expected = Some((start + step, start + step * 4));
        assert_eq!(span(&starts, step, 1, 3), expected);
        assert_eq!(span(&starts, step, 3, 1), expected);
        assert_eq!(
            span(&starts, step, 2, 2),
            Some((start + step * 2, start + step * 3))
        );
        assert_eq!(span(&starts, step, 2, 9), None);
    }
}
