use leptos::prelude::*;
use witness_api::Diagnostics;

use crate::format::{self, Precision};

/// The server's live status as a definition list. Every value is rendered as text.
#[component]
pub fn DiagnosticsCard(diagnostics: Diagnostics) -> impl IntoView {
    let started = format::utc(diagnostics.started_at, Precision::Second);
    view! {
        <dl class="facts">
            <dt>"Version"</dt>
            <dd data-field="version">{diagnostics.version}</dd>
            <dt>"Uptime"</dt>
            <dd data-field="uptime">
                {format::duration(diagnostics.uptime_seconds)} " (since " {started} ")"
            </dd>
            <dt>"Auditing"</dt>
            <dd data-field="auditing">
                <span class=if diagnostics.auditing.enabled { "ok" } else { "warn" }>
                    {diagnostics.auditing.summary}
                </span>
                <ul class="targets">
                    {diagnostics
                        .auditing
                        .targets
                        .into_iter()
                        .map(|target| view! { <li><code>{target}</code></li> })
                        .collect_view()}
                </ul>
            </dd>
            <dt>"Last backup"</dt>
            <dd data-field="last_backup">
                {diagnostics
                    .last_backup_at
                    .map(|at| format::utc(at, Precision::Minute))
                    .unwrap_or_else(|| "none yet".to_string())}
            </dd>
            <dt>"Next backup"</dt>
            <dd data-field="next_backup">
                {diagnostics
                    .next_backup_at
                    .map(|at| format::utc(at, Precision::Minute))
                    .unwrap_or_else(|| "not scheduled".to_string())}
            </dd>
            <dt>"Storage"</dt>
            <dd data-field="storage">
                {match diagnostics.storage {
                    Some(storage) => {
                        let span = match (storage.oldest_event, storage.newest_event) {
                            (Some(oldest), Some(newest)) => format!(
                                ", from {} to {}",
                                format::utc(oldest, Precision::Minute),
                                format::utc(newest, Precision::Minute)
                            ),
                            _ => String::new(),
                        };
                        format!(
                            "{}: {}, {} on disk{span}",
                            storage.backend,
                            format::counted(storage.event_count, "event", "events"),
                            format::bytes(storage.size_bytes)
                        )
                    }
                    None => "The store could not be read; see the diagnostic report.".to_string(),
                }}
            </dd>
            <dt>"Scheduled full verify"</dt>
            <dd data-field="full_verify">
                {match diagnostics.last_full_verify {
                    None => "Not run yet since the server started.".to_string(),
                    Some(report) => {
                        let verdict = match report.first_break {
                            None => "intact".to_string(),
                            Some(broken) => {
                                format!("BROKEN at event {}: {}", broken.event_id, broken.reason)
                            }
                        };
                        format!(
                            "{} at {}: {}, {} compared",
                            verdict,
                            format::utc(report.checked_at, Precision::Second),
                            format::counted(report.verified_count, "event", "events"),
                            format::counted(report.checkpoints_compared, "signed checkpoint", "signed checkpoints"),
                        )
                    }
                }}
            </dd>
            <dt>"Data directory"</dt>
            <dd data-field="data_dir"><code>{diagnostics.data_dir}</code></dd>
        </dl>
    }
}
