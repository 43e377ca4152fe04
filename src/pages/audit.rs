//! The Audit logs tab: filters and page position in the URL, chips, search syntax, quick
//! ranges, histogram, the table with cursor paging, export and integrity status.

use chrono::Utc;
use leptos::prelude::*;
use witness_api::{AuditEvent, EventFilter, EventPage, Histogram};

use crate::api;
use crate::components::{
    AuditShortcuts, CellFilter, EventTable, ExportButtons, HistogramChart, IntegrityBadge,
    SavedViews, alert, shown_when,
};
use crate::filters::{
    Activity, QuickRange, apply_search, chips, exclude_this, filter_from_query, only_this,
    query_from_filter, remove_chip,
};
use crate::format::{self, Precision, Zone};
use crate::load::Load;
use crate::router::use_router;

const PAGE_SIZE: usize = 100;
/// The live tail keeps this many of the newest arrivals on screen.
const LIVE_ROWS: usize = 500;

#[component]
pub fn AuditPage() -> impl IntoView {
    let router = use_router();
    let filter = Memo::new(move |_| filter_from_query(&router.search()));
    let current = move || filter.get().unwrap_or_default();
    // The page position is in the URL too: one `cursor` parameter per "Older →" step from the
    // newest page, the last being the page shown. Back, Forward and reload keep the place,
    // and "← Newer" works after a reload.
    let cursors = Memo::new(move |_| router.query_all("cursor"));
    // Whose events (`activity`) and the time zone (`tz`) are in the URL too, kept by every
    // change of filter or page.
    let activity = Memo::new(move |_| Activity::from_param(router.query("activity").as_deref()));
    let asked_zone = Memo::new(move |_| Zone::from_param(router.query("tz").as_deref()));
    let zone = Memo::new(move |_| match asked_zone.get() {
        Zone::Named(name) if !crate::zone::known(&name) => Zone::Utc,
        zone => zone,
    });
    let zone_error = move || match asked_zone.get() {
        Zone::Named(name) if !crate::zone::known(&name) => Some(format!(
            "Time zone `{name}` is not one this browser knows; times are shown in UTC. Use utc, local or a zone name such as Europe/Paris."
        )),
        _ => None,
    };
    let open_with =
        move |filter: &EventFilter, cursors: &[String], activity: Activity, zone: &Zone| {
            let mut extra: Vec<(&str, &str)> = Vec::new();
            extra.extend(activity.param().map(|value| ("activity", value)));
            extra.extend(zone.param().map(|value| ("tz", value)));
            extra.extend(cursors.iter().map(|c| ("cursor", c.as_str())));
            let query = query_from_filter(filter, &extra);
            let path = if query.is_empty() {
                "/audit".to_string()
            } else {
                format!("/audit?{query}")
            };
            router.navigate(&path);
        };
    let open = move |filter: &EventFilter, cursors: &[String]| {
        open_with(
            filter,
            cursors,
            activity.get_untracked(),
            &asked_zone.get_untracked(),
        )
    };
    // A new filter starts again from the newest page.
    let go = move |next: EventFilter| open(&next, &[]);
    let page_to = move |cursors: Vec<String>| open(&current(), &cursors);
    let on_filter = Callback::new(move |pick: CellFilter| {
        let next = if pick.exclude {
            exclude_this(&current(), pick.field, &pick.value)
        } else {
            only_this(&current(), pick.field, &pick.value)
        };
        go(next);
    });
    // What the server is asked for: the URL's filter within the chosen sources.
    let filter = Memo::new(move |_| filter.get().map(|f| activity.get().narrow(&f)));
    let shown = move || filter.get().unwrap_or_default();
    let zone_text = RwSignal::new(
        asked_zone
            .get_untracked()
            .param()
            .unwrap_or("utc")
            .to_string(),
    );
    let on_zone = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let next = Zone::from_param(Some(zone_text.get_untracked().as_str()));
        open_with(
            &current(),
            &cursors.get_untracked(),
            activity.get_untracked(),
            &next,
        );
    };

    let page = Load::new(move || {
        let filter = filter.get();
        let cursor = cursors.with(|c| c.last().cloned());
        async move {
            let filter = filter.map_err(|error| api::ApiError::Server {
                status: 400,
                code: "bad_request".into(),
                message: error.to_string(),
            })?;
            api::events(&filter, cursor.as_deref(), PAGE_SIZE).await
        }
    });
    // Drawn only when it loaded: a bad filter is reported once, by the table below.
    let histogram = Load::new(move || {
        let filter = filter.get();
        async move {
            match filter {
                Ok(filter) => api::histogram(&filter).await.map(Some),
                Err(_) => Ok(None::<Histogram>),
            }
        }
    });
    let integrity = Load::new(api::verify);

    // Live tail: reopened whenever the filters change, closed when switched off or on leaving
    // the page (dropping the `LiveTail` closes its connection).
    let live = RwSignal::new(false);
    let live_events = RwSignal::new(Vec::<AuditEvent>::new());
    let live_status = RwSignal::new(api::LiveStatus::Connecting);
    let tail = StoredValue::new_local(None::<api::LiveTail>);
    Effect::new(move |_| {
        let on = live.get();
        let filter = filter.get();
        tail.set_value(None);
        live_events.set(Vec::new());
        let (true, Ok(filter)) = (on, filter) else {
            return;
        };
        live_status.set(api::LiveStatus::Connecting);
        let opened = api::LiveTail::open(
            &filter,
            move |event| {
                live_events.try_update(|list| {
                    // The table is keyed on the event id, so an id is shown once.
                    if list.iter().all(|known| known.id != event.id) {
                        list.insert(0, event);
                        list.truncate(LIVE_ROWS);
                    }
                });
            },
            move |status| {
                live_status.try_set(status);
            },
        );
        match opened {
            Ok(opened) => tail.set_value(Some(opened)),
            Err(_) => live_status.set(api::LiveStatus::Stopped),
        }
    });
    on_cleanup(move || {
        tail.try_set_value(None);
    });

    let search = RwSignal::new(String::new());
    let search_error = RwSignal::new(None::<String>);
    let on_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match apply_search(&current(), &search.get_untracked()) {
            Ok(next) => {
                search.set(String::new());
                search_error.set(None);
                go(next);
            }
            Err(message) => search_error.set(Some(message)),
        }
    };
    let from_day = RwSignal::new(String::new());
    let to_day = RwSignal::new(String::new());
    let on_custom = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut pairs: Vec<(String, String)> = current()
            .to_pairs()
            .into_iter()
            .filter(|(k, _)| *k != "from" && *k != "to")
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        for (key, value) in [
            ("from", from_day.get_untracked()),
            ("to", to_day.get_untracked()),
        ] {
            if !value.is_empty() {
                pairs.push((key.to_string(), value));
            }
        }
        match EventFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(next) => {
                search_error.set(None);
                go(next);
            }
            Err(error) => search_error.set(Some(error.to_string())),
        }
    };
    let pick = Callback::new(move |(from, to)| {
        let next = EventFilter {
            from: Some(from),
            to: Some(to),
            ..current()
        };
        go(next);
    });

    view! {
        <section class="page audit">
            <header class="page-header">
                <h1>"Audit logs"</h1>
                <IntegrityBadge integrity />
                <AuditShortcuts />
            </header>

            <div class="toolbar">
                <form class="search" role="search" on:submit=on_search>
                    <label for="audit-search" class="visually-hidden">"Search"</label>
                    <input
                        id="audit-search"
                        type="search"
                        placeholder="actor:alice action:member.* -result:success or words"
                        bind:value=search
                    />
                    <button type="submit">"Search"</button>
                </form>
                <div class="ranges" role="group" aria-label="Time range">
                    {QuickRange::ALL
                        .into_iter()
                        .map(|range| {
                            view! {
                                <button
                                    type="button"
                                    class="secondary"
                                    on:click=move |_| {
                                        let next = range.apply(&current(), Utc::now());
                                        go(next);
                                    }
                                >
                                    {range.label()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
                <form class="custom-range" on:submit=on_custom aria-label="Custom range">
                    <label for="range-from">"From"</label>
                    <input id="range-from" type="date" bind:value=from_day />
                    <label for="range-to">"To (inclusive)"</label>
                    <input id="range-to" type="date" bind:value=to_day />
                    <button type="submit" class="secondary">"Apply"</button>
                </form>
                <form class="zone" on:submit=on_zone aria-label="Time zone">
                    <label for="audit-tz">"Time zone"</label>
                    <input
                        id="audit-tz"
                        list="audit-tz-names"
                        placeholder="utc, local or Europe/Paris"
                        bind:value=zone_text
                    />
                    <datalist id="audit-tz-names">
                        <option value="utc"></option>
                        <option value="local"></option>
                        <option value="Europe/London"></option>
                        <option value="Europe/Paris"></option>
                        <option value="America/New_York"></option>
                        <option value="Asia/Tokyo"></option>
                    </datalist>
                    <button type="submit" class="secondary">"Show"</button>
                </form>
                <label class="toggle">
                    <input type="checkbox" bind:checked=live data-control="live-tail" />
                    " Live tail"
                </label>
            </div>
            {alert(move || search_error.get())}
            {alert(zone_error)}
            <div class="activity" role="group" aria-label="Whose events">
                {Activity::ALL
                    .into_iter()
                    .map(|choice| {
                        view! {
                            <button
                                type="button"
                                class="secondary"
                                data-activity=choice.param().unwrap_or("applications")
                                aria-pressed=move || if activity.get() == choice { "true" } else { "false" }
                                on:click=move |_| open_with(&current(), &[], choice, &asked_zone.get_untracked())
                            >
                                {choice.label()}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>

            <ul class="chips" aria-label="Active filters">
                {move || {
                    let filter = current();
                    let mut items = Vec::new();
                    if let Some(from) = filter.from {
                        items.push(("range".to_string(), format!("from {}", format::utc(from, Precision::Minute)), None));
                    }
                    if let Some(to) = filter.to {
                        items.push(("range".to_string(), format!("before {}", format::utc(to, Precision::Minute)), None));
                    }
                    for chip in chips(&filter) {
                        items.push((chip.field.to_string(), chip.label.clone(), Some(chip)));
                    }
                    items
                        .into_iter()
                        .map(|(_, label, chip)| {
                            let filter = filter.clone();
                            let remove_label = format!("Remove filter {label}");
                            view! {
                                <li class="chip">
                                    <span>{label}</span>
                                    <button
                                        type="button"
                                        class="chip-remove"
                                        aria-label=remove_label
                                        on:click=move |_| {
                                            let next = match &chip {
                                                Some(chip) => remove_chip(&filter, chip),
                                                None => EventFilter { from: None, to: None, ..filter.clone() },
                                            };
                                            go(next);
                                        }
                                    >
                                        "×"
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <SavedViews />

            {histogram.draw(move |state| match state.value::<Option<Histogram>>() {
                Some(Some(h)) => view! { <HistogramChart histogram=h.clone() on_pick=pick /> }.into_any(),
                _ => ().into_any(),
            })}

            {shown_when(move || live.get(), move || view! {
                <section class="live" aria-label="Live tail">
                    <p class="muted" role="status" data-field="live-status">
                        {move || {
                            let count = live_events.with(|list| list.len());
                            match live_status.get() {
                                api::LiveStatus::Connecting => "Connecting the live tail…".to_string(),
                                api::LiveStatus::Open if count == 0 => {
                                    "Live: new events that match these filters appear here as they arrive.".to_string()
                                }
                                api::LiveStatus::Open => format!(
                                    "Live: {count} new event{} (newest first; the last {LIVE_ROWS} are kept).",
                                    if count == 1 { "" } else { "s" }
                                ),
                                api::LiveStatus::Reconnecting => "Connection lost; reconnecting…".to_string(),
                                api::LiveStatus::Stopped => {
                                    "The live tail stopped: the server ended it. Reload the page (you may need to log in again).".to_string()
                                }
                            }
                        }}
                    </p>
                    {shown_when(
                        move || live_events.with(|list| !list.is_empty()),
                        move || view! { <EventTable events=live_events zone=zone on_filter /> }.into_any(),
                    )}
                </section>
            }.into_any())}

            <ExportButtons filter=Signal::derive(shown) />

            {page.view("Loading audit events…", "audit events", move |page: &EventPage| {
                let next = page.next_cursor.clone();
                let empty = page.events.is_empty();
                view! {
                    {if empty {
                        view! {
                            <p class="empty" role="status">
                                {move || match activity.get() {
                                    Activity::Applications => "No application events match these filters. Widen the time range, remove a filter, or look at Witness activity.",
                                    _ => "No audit events match these filters. Widen the time range or remove a filter.",
                                }}
                            </p>
                        }
                        .into_any()
                    } else {
                        view! { <EventTable events=page.events.clone() zone=zone on_filter /> }.into_any()
                    }}
                    <nav class="pager" aria-label="Pages">
                        <button
                            type="button"
                            class="secondary"
                            disabled=move || cursors.with(|c| c.is_empty())
                            on:click=move |_| page_to(Vec::new())
                        >
                            "Newest"
                        </button>
                        <button
                            type="button"
                            class="secondary"
                            disabled=move || cursors.with(|c| c.is_empty())
                            on:click=move |_| {
                                let mut newer = cursors.get_untracked();
                                newer.pop();
                                page_to(newer);
                            }
                        >
                            "← Newer"
                        </button>
                        <button
                            type="button"
                            class="secondary"
                            disabled=next.is_none()
                            on:click=move |_| {
                                if let Some(next) = next.clone() {
                                    let mut older = cursors.get_untracked();
                                    older.push(next);
                                    page_to(older);
                                }
                            }
                        >
                            "Older →"
                        </button>
                    </nav>
                }
                .into_any()
            })}
        </section>
    }
    .into_any()
}
