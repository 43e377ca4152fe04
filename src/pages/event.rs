//! One audit event: every field, and changes as old → new.

use leptos::prelude::*;
use serde_json::Value;
use witness_api::AuditEvent;

use crate::api;
use crate::components::{EventTools, cell_filter_links, escape_to_list, list_url};
use crate::format::{self, Precision};
use crate::load::Load;

/// `details` entries shaped `{"old": …, "new": …}`: the changes of the event.
fn changes(event: &AuditEvent) -> Vec<(String, String, String)> {
    let show = |value: Option<&Value>| match value {
        None | Some(Value::Null) => "—".to_string(),
        Some(Value::String(text)) => text.clone(),
        // Not `Display`: that is a third JSON writer in the .wasm besides these two.
        Some(other) => serde_json::to_string(other).unwrap_or_default(),
    };
    event
        .details
        .iter()
        .filter_map(|(field, value)| {
            let object = value.as_object()?;
            if !(object.contains_key("old") || object.contains_key("new")) {
                return None;
            }
            Some((
                field.clone(),
                show(object.get("old")),
                show(object.get("new")),
            ))
        })
        .collect()
}

fn pretty(map: &serde_json::Map<String, Value>) -> String {
    serde_json::to_string_pretty(map).unwrap_or_default()
}

#[component]
pub fn EventPage(id: String) -> impl IntoView {
    let event = Load::new(move || {
        let id = id.clone();
        async move { api::event(&id).await }
    });
    escape_to_list();
    view! {
        <section class="page event">
            <p><a href=list_url() aria-keyshortcuts="Escape">"← Audit logs"</a></p>
            {event.view("Loading the event…", "the event", |(event, raw): &(AuditEvent, String)| {
                view! {
                    <EventDetails event=event.clone() />
                    <EventTools event=event.clone() raw=raw.clone() />
                }
                .into_any()
            })}
        </section>
    }
    .into_any()
}

#[component]
pub fn EventDetails(event: AuditEvent) -> impl IntoView {
    let diff = changes(&event);
    let has_diff = !diff.is_empty();
    let tenant = |t: &Option<witness_api::Tenant>| {
        t.as_ref()
            .map(|t| {
                [t.name.clone(), t.id.clone().map(|id| format!("({id})"))]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    let actor = [
        event.actor.name.clone(),
        event.actor.id.clone().map(|id| format!("id {id}")),
        event.actor.email.clone(),
        Some(event.actor.actor_type.as_str().to_string()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let target = [
        event.target.target_type.clone(),
        event.target.name.clone(),
        event.target.id.clone().map(|id| format!("id {id}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    // Only the server sets the source: a `witness.*` action from a key is that key's claim.
    let claim = match event.source.as_deref() {
        Some(source)
            if event.action.starts_with("witness.") && source != witness_api::SELF_AUDIT_SOURCE =>
        {
            Some(format!(
                "This event names a Witness action but was sent with API key {source}: it is \
                 that key's claim, not a record Witness wrote."
            ))
        }
        _ => None,
    };
    // "Only this" and "exclude this" open the Audit logs filtered on the value (an id where
    // there is one: it names the same thing for every event).
    let tenant_value = |t: &Option<witness_api::Tenant>| {
        t.as_ref()
            .and_then(|t| t.id.clone().or_else(|| t.name.clone()))
    };
    let actor_value = event
        .actor
        .id
        .clone()
        .or_else(|| event.actor.name.clone())
        .or_else(|| event.actor.email.clone());
    let target_value = event
        .target
        .id
        .clone()
        .or_else(|| event.target.name.clone());
    view! {
        <h1><code>{event.action.clone()}</code>{cell_filter_links("action", Some(event.action.clone()))}</h1>
        {claim.map(|text| view! { <p class="notice" role="note" data-field="claim">{text}</p> })}
        <p class="message">{event.message.clone()}</p>
        <dl class="facts">
            <dt>"Time (UTC)"</dt>
            <dd>{format::wall(event.timestamp.naive_utc(), Precision::Micro)}</dd>
            <dt>"Actor"</dt>
            <dd data-field="actor">{actor}{cell_filter_links("actor", actor_value)}</dd>
            <dt>"Target"</dt>
            <dd data-field="target">{target}{cell_filter_links("target", target_value)}</dd>
            <dt>"Result"</dt>
            <dd data-field="result">
                {event.result.as_str()}
                {event.status.clone().map(|s| format!(" ({s})"))}
            </dd>
            <dt>"Client IP"</dt>
            <dd>{event.client_ip.clone().unwrap_or_default()}{cell_filter_links("ip", event.client_ip.clone())}</dd>
            <dt>"Organization"</dt>
            <dd>{tenant(&event.organization)}{cell_filter_links("organization", tenant_value(&event.organization))}</dd>
            <dt>"Workspace"</dt>
            <dd>{tenant(&event.workspace)}{cell_filter_links("workspace", tenant_value(&event.workspace))}</dd>
            <dt>"Level"</dt>
            <dd>{event.level.clone()}</dd>
            <dt>"Source"</dt>
            <dd data-field="source">
                {match event.source.as_deref() {
                    Some(witness_api::SELF_AUDIT_SOURCE) => "witness (Witness's own record)".to_string(),
                    Some(key) => format!("API key {key}"),
                    None => "not recorded (stored before sources were)".to_string(),
                }}
                {cell_filter_links("source", event.source.clone())}
            </dd>
            <dt>"Id"</dt>
            <dd><code>{event.id.clone()}</code></dd>
        </dl>
        {has_diff.then(|| view! {
            <h2>"Changes"</h2>
            <table class="diff">
                <thead>
                    <tr>
                        <th scope="col">"Field"</th>
                        <th scope="col">"Old"</th>
                        <th scope="col">"New"</th>
                    </tr>
                </thead>
                <tbody>
                    {diff
                        .into_iter()
                        .map(|(field, old, new)| {
                            let key = field.clone();
                            view! {
                                <tr data-diff=key>
                                    <th scope="row">{field}</th>
                                    <td class="old">{old}</td>
                                    <td class="new">{new}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }.into_any())}
        <h2>"Details"</h2>
        <pre class="json">{pretty(&event.details)}</pre>
        <h2>"Other properties"</h2>
        <pre class="json">{pretty(&event.properties)}</pre>
    }
    .into_any()
}
