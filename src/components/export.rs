//! Export of the filtered events: how many it is exporting, its progress as the file streams
//! in, and a Cancel button.
//!
//! The links stay real download links (their address is the export); a plain click is taken
//! over to fetch the file here, counting events as they arrive, and saves it when complete.

use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;
use leptos::web_sys;
use witness_api::EventFilter;

use crate::api;
use crate::components::shown_when;

/// Counts the events of an export as its bytes arrive: one per line of NDJSON (JSON escapes
/// line breaks inside strings), one per CSV record after the header (a line break inside a
/// quoted cell belongs to the cell; `""` inside quotes toggles twice and changes nothing).
#[derive(Debug, Default)]
pub struct EventCounter {
    csv: bool,
    in_quotes: bool,
    header_done: bool,
    pub events: u64,
}

impl EventCounter {
    pub fn new(csv: bool) -> Self {
        EventCounter {
            csv,
            header_done: !csv,
            ..EventCounter::default()
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            match byte {
                b'"' if self.csv => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => {
                    if self.header_done {
                        self.events += 1;
                    } else {
                        self.header_done = true;
                    }
                }
                _ => {}
            }
        }
    }
}

#[derive(Clone, PartialEq)]
enum Progress {
    Idle,
    /// `total` is `None` until the count has come back.
    Running {
        total: Option<u64>,
        done: u64,
    },
    Saved(u64),
    Cancelled {
        done: u64,
    },
    Failed(String),
}

fn plural(count: u64) -> &'static str {
    if count == 1 { "event" } else { "events" }
}

/// Saves `download` as a file, through a link to it that is clicked once.
fn save(download: &api::Download) -> Result<(), String> {
    let url = web_sys::Url::create_object_url_with_blob(&download.blob)
        .map_err(|_| "the browser could not save the file".to_string())?;
    let link = document()
        .create_element("a")
        .ok()
        .and_then(|element| element.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        .ok_or("the browser could not save the file")?;
    link.set_href(&url);
    link.set_download(&download.file_name);
    link.click();
    // The click starts the download at once; the address is no longer needed.
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The Export CSV and Export NDJSON links, and the export's progress while one runs.
#[component]
pub fn ExportButtons(#[prop(into)] filter: Signal<EventFilter>) -> impl IntoView {
    let progress = RwSignal::new(Progress::Idle);
    let controller = StoredValue::new_local(None::<web_sys::AbortController>);
    let running = move || matches!(progress.get(), Progress::Running { .. });
    // Leaving the page stops an export still running.
    on_cleanup(move || {
        if let Some(Some(controller)) = controller.try_with_value(|c| c.clone()) {
            controller.abort();
        }
    });

    let start = move |event: web_sys::MouseEvent, format: &'static str| {
        if event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key() {
            return; // the browser's own way: a new tab or window, a plain download
        }
        event.prevent_default();
        if running() {
            return;
        }
        let Ok(abort) = web_sys::AbortController::new() else {
            return;
        };
        controller.set_value(Some(abort.clone()));
        let filter = filter.get_untracked();
        let url = api::export_url(&filter, format);
        progress.set(Progress::Running {
            total: None,
            done: 0,
        });
        leptos::task::spawn_local(async move {
            let total = api::histogram(&filter).await.ok().map(|h| h.total);
            if let Progress::Running { done, .. } = progress.get_untracked() {
                progress.try_set(Progress::Running { total, done });
            } else {
                return; // cancelled while counting
            }
            let mut counter = EventCounter::new(format == "csv");
            let outcome = api::export(&url, &abort.signal(), |chunk| {
                counter.feed(chunk);
                progress.try_set(Progress::Running {
                    total,
                    done: counter.events,
                });
            })
            .await;
            controller.try_set_value(None);
            let next = match outcome {
                _ if abort.signal().aborted() => Progress::Cancelled {
                    done: counter.events,
                },
                Ok(download) => match save(&download) {
                    Ok(()) => Progress::Saved(counter.events),
                    Err(why) => Progress::Failed(why),
                },
                Err(error) => Progress::Failed(error.to_string()),
            };
            progress.try_set(next);
        });
    };
    let cancel = move |_| {
        if let Some(abort) = controller.get_value() {
            abort.abort();
        }
        if let Progress::Running { done, .. } = progress.get_untracked() {
            progress.set(Progress::Cancelled { done });
        }
    };

    let status = move || match progress.get() {
        Progress::Idle => String::new(),
        Progress::Running { total: None, .. } => "Counting the events to export…".to_string(),
        Progress::Running {
            total: Some(total),
            done,
        } => format!(
            "Exporting {total} {}… {done} of {total} received.",
            plural(total)
        ),
        Progress::Saved(count) => format!("Exported {count} {}.", plural(count)),
        Progress::Cancelled { done } => format!(
            "Export cancelled after {done} {}; nothing was saved.",
            plural(done)
        ),
        Progress::Failed(why) => format!("The export failed: {why}"),
    };
    // No value until the count is known: the bar shows work without an amount. More may
    // arrive than were counted (events stored since the count).
    let bar_max = move || match progress.get() {
        Progress::Running {
            total: Some(total),
            done,
        } => Some(total.max(done).max(1).to_string()),
        _ => None,
    };
    let bar_value = move || match progress.get() {
        Progress::Running {
            total: Some(_),
            done,
        } => Some(done.to_string()),
        _ => None,
    };

    view! {
        <div class="export">
            <a
                class="button secondary"
                href=move || api::export_url(&filter.get(), "csv")
                download
                on:click=move |event| start(event, "csv")
            >
                "Export CSV"
            </a>
            <a
                class="button secondary"
                href=move || api::export_url(&filter.get(), "ndjson")
                download
                on:click=move |event| start(event, "ndjson")
            >
                "Export NDJSON"
            </a>
            {shown_when(running, move || view! {
                <progress max=bar_max value=bar_value aria-label="Export progress"></progress>
                <button type="button" class="secondary" data-control="cancel-export" on:click=cancel>
                    "Cancel export"
                </button>
            }.into_any())}
            <span class="export-status" role="status" aria-live="polite" data-field="export-status">
                {status}
            </span>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::EventCounter;

    #[test]
    fn csv_records_are_counted_across_chunks_and_quoted_line_breaks() {
        let csv = "id,message\n1,\"two\nlines, \"\"quoted\"\"\"\n2,plain\n3,\"x\"\n";
        for split in 0..csv.len() {
            let mut counter = EventCounter::new(true);
            counter.feed(&csv.as_bytes()[..split]);
            counter.feed(&csv.as_bytes()[split..]);
            assert_eq!(counter.events, 3, "split at {split}");
        }
    }

    #[test]
    fn ndjson_lines_are_events() {
        let mut counter = EventCounter::new(false);
        counter.feed(b"{\"m\":\"a\\nb\"}\n{\"m\":\"\\\"\"}\n{\"m\"");
        assert_eq!(counter.events, 2);
        counter.feed(b":1}\n");
        assert_eq!(counter.events, 3);
    }
}
