use leptos::prelude::*;
use witness_api::{AuditEvent, AuditResult, Tenant};

use crate::components::{Row, keyed_rows};
use crate::format;

fn tenant_label(tenant: &Option<Tenant>) -> String {
    tenant
        .as_ref()
        .and_then(|t| t.name.clone().or_else(|| t.id.clone()))
        .unwrap_or_default()
}

/// The audit events as a table; each time links to the event's details. Every value is text.
/// The rows are keyed on the event id: when the list changes (a new page, the live tail's
/// arrivals), rows already shown are kept and only new ones are rendered.
#[component]
pub fn EventTable(
    #[prop(into)] events: Signal<Vec<AuditEvent>>,
    #[prop(into)] utc: Signal<bool>,
) -> impl IntoView {
    let row = move |event: AuditEvent| {
        let href = format!("/audit/{}", event.id);
        let timestamp = event.timestamp;
        let result_class = match event.result {
            AuditResult::Success => "result success",
            AuditResult::Failure => "result failure",
        };
        let tenancy = [
            tenant_label(&event.organization),
            tenant_label(&event.workspace),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
        view! {
            <tr>
                <td class="time">
                    <a href=href>{move || format::time(timestamp, utc.get())}</a>
                </td>
                <td data-col="actor">{event.actor.label().to_string()}</td>
                <td data-col="action"><code>{event.action}</code></td>
                <td data-col="target">{event.target.label().to_string()}</td>
                <td data-col="result"><span class=result_class>{event.result.as_str()}</span></td>
                <td data-col="ip">{event.client_ip.unwrap_or_default()}</td>
                <td data-col="tenancy">{tenancy}</td>
                <td data-col="source">{event.source.unwrap_or_default()}</td>
            </tr>
        }
        .into_any()
    };
    view! {
        <table class="events">
            <thead>
                <tr>
                    <th scope="col">{move || format!("Time ({})", format::zone_label(utc.get()))}</th>
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
