use chrono::Utc;
use leptos::prelude::*;
use witness_api::{AuditEvent, AuditResult, Tenant};

use crate::components::{CellFilter, Row, cell_filter_buttons, keyed_rows};
use crate::format::{self, Zone};

fn tenant_label(tenant: &Option<Tenant>) -> String {
    tenant
        .as_ref()
        .and_then(|t| t.name.clone().or_else(|| t.id.clone()))
        .unwrap_or_default()
}

/// How often relative times ("4 min ago") are brought up to date.
const TICK: std::time::Duration = std::time::Duration::from_secs(30);

/// The audit events as a table; each time links to the event's details. Every value is text.
/// The rows are keyed on the event id: when the list changes (a new page, the live tail's
/// arrivals), rows already shown are kept and only new ones are rendered. Times are relative
/// ("4 min ago"); the exact instant in `zone` is the time's title, and shows on focus. With
/// `on_filter`, each value offers "only this" and "exclude this".
#[component]
pub fn EventTable(
    #[prop(into)] events: Signal<Vec<AuditEvent>>,
    #[prop(into)] zone: Signal<Zone>,
    #[prop(optional)] on_filter: Option<Callback<CellFilter>>,
) -> impl IntoView {
    let now = RwSignal::new(Utc::now());
    if let Ok(handle) = set_interval_with_handle(
        move || {
            now.try_set(Utc::now());
        },
        TICK,
    ) {
        on_cleanup(move || handle.clear());
    }
    let filters = move |field: &'static str, value: String| match on_filter {
        Some(on_filter) => cell_filter_buttons(field, value, on_filter),
        None => ().into_any(),
    };
    let row = move |event: AuditEvent| {
        let href = format!("/audit/{}", event.id);
        let timestamp = event.timestamp;
        let exact = move || zone.with(|z| format::iso(timestamp, z.offset(timestamp).unwrap_or(0)));
        let relative = move || format::relative(timestamp, now.get());
        let result_class = match event.result {
            AuditResult::Success => "result success",
            AuditResult::Failure => "result failure",
        };
        let (org, ws) = (
            tenant_label(&event.organization),
            tenant_label(&event.workspace),
        );
        let tenancy = [org.clone(), ws.clone()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" / ");
        let actor = event.actor.label().to_string();
        let target = event.target.label().to_string();
        let ip = event.client_ip.unwrap_or_default();
        let source = event.source.unwrap_or_default();
        view! {
            <tr>
                <td class="time">
                    <a href=href aria-label=move || format!("{}, {}", relative(), exact())>
                        <time datetime=format::iso(timestamp, 0) title=exact>{relative}</time>
                    </a>
                </td>
                <td data-col="actor">{actor.clone()}{filters("actor", actor)}</td>
                <td data-col="action"><code>{event.action.clone()}</code>{filters("action", event.action)}</td>
                <td data-col="target">{target.clone()}{filters("target", target)}</td>
                <td data-col="result"><span class=result_class>{event.result.as_str()}</span></td>
                <td data-col="ip">{ip.clone()}{filters("ip", ip)}</td>
                <td data-col="tenancy">{tenancy}{filters("organization", org)}{filters("workspace", ws)}</td>
                <td data-col="source">{source.clone()}{filters("source", source)}</td>
            </tr>
        }
        .into_any()
    };
    view! {
        <table class="events">
            <thead>
                <tr>
                    <th scope="col">{move || format!("Time ({})", zone.with(Zone::label))}</th>
                    <th scope="col">"Actor"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Target"</th>
                    <th scope="col">"Result"</th>
                    <th scope="col">"Client IP"</th>
                    <th scope="col">"Organization / workspace"</th>
                    <th scope="col" title="Who handed the event to Witness: an API key id, or witness for its own records">"Source"</th>
                </tr>
            </thead>
            <tbody>
                {keyed_rows(move || {
                    events
                        .get()
                        .into_iter()
                        .map(|event| Row::new(event.id.clone(), move || row(event)))
                        .collect()
                })}
            </tbody>
        </table>
    }
}
