use leptos::prelude::*;

use crate::api;
use crate::format::{self, Precision};

/// The result of `GET /api/audit/verify` as a badge; a broken chain is announced as an alert.
#[component]
pub fn IntegrityBadge(
    integrity: LocalResource<Result<witness_api::VerifyReport, api::ApiError>>,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <span class="badge muted">"Checking integrity…"</span> }>
            {move || Suspend::new(async move {
                match integrity.await {
                    Ok(report) if report.ok => view! {
                        <span class="badge ok" data-field="integrity">
                            {match report.last_full_verify_at {
                                Some(at) => format!(
                                    "Integrity verified: {} events (full check with {} signed checkpoints at {})",
                                    report.verified_count,
                                    report.checkpoints_compared,
                                    format::utc(at, Precision::Minute),
                                ),
                                None => format!("Integrity verified: {} events", report.verified_count),
                            }}
                        </span>
                    }
                    .into_any(),
                    Ok(report) => {
                        let detail = report
                            .first_break
                            .map(|b| format!("broken at event {}: {}", b.event_id, b.reason))
                            .unwrap_or_default();
                        view! {
                            <span class="badge warn" role="alert" data-field="integrity">
                                {format!("Integrity check failed: {detail}")}
                            </span>
                        }
                        .into_any()
                    }
                    Err(error) => view! {
                        <span class="badge muted" data-field="integrity">
                            {format!("Integrity unknown: {error}")}
                        </span>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}
