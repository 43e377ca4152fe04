//! "Only this" and "exclude this" on a value shown in the audit table or on an event page:
//! two small controls after the value, shown on hover and when focused (reachable by Tab).

use leptos::prelude::*;

/// A value a person asked to filter on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellFilter {
    /// The filter field: `actor`, `action`, `target`, `ip`, `organization`, `workspace`,
    /// `source`.
    pub field: &'static str,
    pub value: String,
    pub exclude: bool,
}

/// How a field is named in the controls' accessible names: "Only IP 10.0.0.1".
fn field_name(field: &str) -> &str {
    if field == "ip" { "IP" } else { field }
}

fn labels(field: &str, value: &str) -> [String; 2] {
    let name = field_name(field);
    [
        format!("Only {name} {value}"),
        format!("Exclude {name} {value}"),
    ]
}

/// Two buttons for the table; nothing for an empty value.
pub fn cell_filter_buttons(
    field: &'static str,
    value: String,
    on_filter: Callback<CellFilter>,
) -> AnyView {
    if value.is_empty() {
        return ().into_any();
    }
    let [only, exclude] = labels(field, &value);
    let pick = move |exclude: bool| {
        let value = value.clone();
        move |_| {
            on_filter.run(CellFilter {
                field,
                value: value.clone(),
                exclude,
            })
        }
    };
    view! {
        <span class="cell-filters">
            <button type="button" class="cell-filter only" aria-label=only.clone() title=only on:click=pick(false)></button>
            <button type="button" class="cell-filter exclude" aria-label=exclude.clone() title=exclude on:click=pick(true)></button>
        </span>
    }
    .into_any()
}

/// The same as links to the Audit logs tab, for the event page (which has no filter of its
/// own to narrow).
pub fn cell_filter_links(field: &'static str, value: Option<String>) -> AnyView {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return ().into_any();
    };
    let [only, exclude] = labels(field, &value);
    let href = |negated: bool| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair(field, &format!("{}{value}", if negated { "!" } else { "" }));
        format!("/audit?{}", query.finish())
    };
    view! {
        <span class="cell-filters">
            <a class="cell-filter only" href=href(false) aria-label=only.clone() title=only></a>
            <a class="cell-filter exclude" href=href(true) aria-label=exclude.clone() title=exclude></a>
        </span>
    }
    .into_any()
}
