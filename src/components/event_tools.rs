//! What the event page offers beyond the event's fields: a link to it to copy, the events
//! around it (same actor, same target, within an hour), its place in the chain, and its raw
//! JSON to copy.

use chrono::Duration;
use leptos::prelude::*;
use leptos::wasm_bindgen::{JsCast, JsValue};
use leptos::web_sys;
use leptos::web_sys::js_sys;
use witness_api::{AuditEvent, EventFilter, ValueMatch};

use crate::filters::query_from_filter;

/// A button that copies `text` with the Clipboard API and says in a live region whether it did.
fn copy_button(text: String, label: &'static str) -> AnyView {
    let said = RwSignal::new(String::new());
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            said.set(String::new());
            let outcome = write_clipboard(&text).await;
            said.try_set(match outcome {
                Ok(()) => "Copied".to_string(),
                Err(why) => format!("Could not copy: {why}. Select the text and copy it by hand."),
            });
        });
    };
    view! {
        <button type="button" class="secondary copy" aria-label=label on:click=copy>"Copy"</button>
        <span class="copy-status" role="status" aria-live="polite">{move || said.get()}</span>
    }
    .into_any()
}

async fn write_clipboard(text: &str) -> Result<(), String> {
    let navigator = window().navigator();
    // Absent outside a secure context (plain HTTP to another host): calling it would throw.
    let clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null())
        .ok_or("this browser gives no clipboard to a page served over plain HTTP")?;
    let promise = clipboard
        .unchecked_into::<web_sys::Clipboard>()
        .write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|error| {
            error
                .dyn_ref::<js_sys::Error>()
                .map(|error| String::from(error.message()))
                .unwrap_or_else(|| "the browser refused".to_string())
        })
}

/// A link to this event, in a field to select or copy.
#[component]
pub fn EventLink(id: String) -> impl IntoView {
    let origin = window().location().origin().unwrap_or_default();
    let url = format!(
        "{origin}/audit/{}",
        String::from(js_sys::encode_uri_component(&id))
    );
    view! {
        <div class="copy-link">
            <label for="event-link">"Link to this event"</label>
            <input id="event-link" type="text" readonly value=url.clone() />
            {copy_button(url, "Copy link to this event")}
        </div>
    }
}

/// A filter value that means exactly `value` (a leading `!` would read as "not").
fn exactly(value: Option<&String>) -> Option<ValueMatch> {
    value
        .filter(|value| !value.is_empty() && !value.starts_with('!'))
        .map(|value| ValueMatch {
            value: value.clone(),
            negated: false,
            prefix: false,
        })
}

/// Links to the events of this actor, of this target, and of both, from an hour before this
/// event to an hour after it.
pub fn nearby_links(event: &AuditEvent) -> Vec<(&'static str, String)> {
    let actor = exactly(
        event
            .actor
            .id
            .as_ref()
            .or(event.actor.name.as_ref())
            .or(event.actor.email.as_ref()),
    );
    let target = exactly(event.target.id.as_ref().or(event.target.name.as_ref()));
    let around = EventFilter {
        from: Some(event.timestamp - Duration::hours(1)),
        to: Some(event.timestamp + Duration::hours(1)),
        ..EventFilter::default()
    };
    let link = |actor: Option<&ValueMatch>, target: Option<&ValueMatch>| {
        let filter = EventFilter {
            actor: actor.into_iter().cloned().collect(),
            target: target.into_iter().cloned().collect(),
            ..around.clone()
        };
        format!("/audit?{}", query_from_filter(&filter, &[]))
    };
    let mut links = Vec::new();
    if let Some(actor) = &actor {
        links.push(("This actor, ±1 hour", link(Some(actor), None)));
    }
    if let Some(target) = &target {
        links.push(("This target, ±1 hour", link(None, Some(target))));
    }
    if let (Some(actor), Some(target)) = (&actor, &target) {
        links.push((
            "This actor and target, ±1 hour",
            link(Some(actor), Some(target)),
        ));
    }
    links
}

/// The links, the chain and the raw JSON (`raw`, as the server sent it), below the event's
/// fields.
#[component]
pub fn EventTools(event: AuditEvent, raw: String) -> impl IntoView {
    let nearby = nearby_links(&event);
    let sequence = event
        .sequence()
        .map(|seq| seq.to_string())
        .unwrap_or_default();
    let previous = match event.previous_id() {
        Some(id) => {
            let href = format!("/audit/{id}");
            view! {
                <a href=href data-field="previous-hash" title="Open the event before this one in the chain">
                    <code>{event.prev_hash.clone()}</code>
                </a>
            }
            .into_any()
        }
        None => view! {
            <code data-field="previous-hash">{event.prev_hash.clone()}</code>
            " (the first event: nothing comes before it)"
        }
        .into_any(),
    };
    view! {
        <EventLink id=event.id.clone() />
        {(!nearby.is_empty()).then(|| view! {
            <h2>"Around this event"</h2>
            <ul class="nearby">
                {nearby
                    .into_iter()
                    .map(|(text, href)| view! { <li><a href=href>{text}</a></li> })
                    .collect_view()}
            </ul>
        })}
        <h2>"Place in the chain"</h2>
        <p class="muted">
            "Each event's hash covers the hash of the event before it, so no event can be changed, \
             removed or reordered without breaking every hash after it."
        </p>
        <dl class="facts chain">
            <dt>"Sequence number"</dt>
            <dd data-field="sequence">{sequence}</dd>
            <dt>"Hash"</dt>
            <dd><code data-field="hash">{event.hash.clone()}</code></dd>
            <dt>"Previous hash"</dt>
            <dd>{previous}</dd>
        </dl>
        <h2>"Raw JSON"</h2>
        <div class="raw-tools">{copy_button(raw.clone(), "Copy raw JSON")}</div>
        <pre class="json" data-field="raw-json">{raw}</pre>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::nearby_links;

    #[test]
    fn nearby_links_span_an_hour_each_side() {
        let event: witness_api::AuditEvent = serde_json::from_value(serde_json::json!({
            "id": "0000000000000007", "timestamp": "2026-11-20T10:30:00Z", "action": "a",
            "actor": {"type": "user", "id": "alice & bob"}, "target": {"name": "!odd"},
            "result": "success", "details": {}, "message": "", "level": "Information",
            "properties": {}, "hash": "h", "prev_hash": "p",
        }))
        .expect("an event");
        let links = nearby_links(&event);
        // A target value starting with `!` cannot be asked for exactly: no link for it.
        assert_eq!(links.len(), 1);
        assert_eq!(
            links[0].1,
            "/audit?from=2026-11-20T09%3A30%3A00Z&to=2026-11-20T11%3A30%3A00Z&actor=alice+%26+bob"
        );
    }
}
