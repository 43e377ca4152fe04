use leptos::prelude::*;
use witness_api::VerifyReport;

use crate::format::{self, Precision};
use crate::load::{Load, State};

/// The result of `GET /api/audit/verify` as a badge; a broken chain is announced as an alert.
#[component]
pub fn IntegrityBadge(integrity: Load) -> impl IntoView {
    integrity.draw(|state| {
        let report = match state {
            State::Loading => {
                return view! { <span class="badge muted">"Checking integrity…"</span> }.into_any();
            }
            State::Failed(error) => {
                return view! {
                    <span class="badge muted" data-field="integrity">
                        {format!("Integrity unknown: {error}")}
                    </span>
                }
                .into_any();
            }
            State::Ready(_) => match state.value::<VerifyReport>() {
                Some(report) => report,
                None => return ().into_any(),
            },
        };
        if report.ok {
            view! {
                <span class="badge ok" data-field="integrity">
                    {match report.last_full_verify_at {
                        Some(at) => format!(
                            "Integrity verified: {} (full check with {} at {})",
                            format::counted(report.verified_count, "event", "events"),
                            format::counted(report.checkpoints_compared, "signed checkpoint", "signed checkpoints"),
                            format::utc(at, Precision::Minute),
                        ),
                        None => format!("Integrity verified: {}", format::counted(report.verified_count, "event", "events")),
                    }}
                </span>
            }
            .into_any()
        } else {
            let detail = report
                .first_break
                .as_ref()
                .map(|b| format!("broken at event {}: {}", b.event_id, b.reason))
                .unwrap_or_default();
            view! {
                <span class="badge warn" role="alert" data-field="integrity">
                    {format!("Integrity check failed: {detail}")}
                </span>
            }
            .into_any()
        }
    })
}
