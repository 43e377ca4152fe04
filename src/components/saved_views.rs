//! The Audit logs tab's saved views: name the filters and time range shown now, and open or
//! delete the views saved before. Each user's own, stored on the server (`/api/views`).

use leptos::prelude::*;
use witness_api::{NewSavedView, SavedView};

use crate::api;
use crate::components::{Row, alert, field_error, keyed_rows};
use crate::load::{Act, Load};
use crate::router::use_router;

/// The query string of the tab without its page position: a view opens on the newest page.
fn view_query(search: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(search.as_bytes()).filter(|(key, _)| key != "cursor")
    {
        query.append_pair(&key, &value);
    }
    query.finish()
}

fn view_href(query: &str) -> String {
    if query.is_empty() {
        "/audit".to_string()
    } else {
        format!("/audit?{query}")
    }
}

#[component]
pub fn SavedViews() -> impl IntoView {
    let router = use_router();
    let name = RwSignal::new(String::new());
    let create = Act::new();
    let remove = Act::new();
    let views = Load::new(move || {
        create.version();
        remove.version();
        api::saved_views()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = NewSavedView {
            name: name.get_untracked(),
            query: view_query(&router.search()),
        };
        create.run(async move {
            let result = api::create_saved_view(&new).await;
            if result.is_ok() {
                name.try_set(String::new());
            }
            result
        });
    };
    view! {
        <section class="saved-views" aria-labelledby="saved-views-heading">
            <h2 id="saved-views-heading">"Saved views"</h2>
            <form class="save-view" on:submit=submit aria-label="Save this view">
                <label for="view-name">"Name these filters"</label>
                <input
                    id="view-name"
                    bind:value=name
                    placeholder="Failed logins"
                    maxlength="100"
                    autocomplete="off"
                    aria-describedby="view-name-error"
                />
                <button type="submit" disabled=move || create.pending()>"Save view"</button>
            </form>
            <p class="field-error" id="view-name-error">
                {move || create.field_error("name").map(|m| format!("Name {m}."))}
            </p>
            {field_error(move || create.field_error("query").map(|m| format!("This view's query {m}.")))}
            {alert(move || create.form_error().or_else(|| remove.form_error()))}
            {views.view("Loading saved views…", "saved views", move |views: &Vec<SavedView>| {
                if views.is_empty() {
                    return view! { <p class="empty" data-field="no-views">"No saved views yet"</p> }
                        .into_any();
                }
                let views = views.clone();
                view! {
                    <ul class="views">
                        {keyed_rows(move || {
                            views
                                .iter()
                                .cloned()
                                .map(|view| Row::new(view.id.clone(), move || view_row(view, remove)))
                                .collect()
                        })}
                    </ul>
                }
                .into_any()
            })}
        </section>
    }
    .into_any()
}

/// One saved view: a link that opens it, marked while it is the view shown, and its delete
/// button.
fn view_row(view: SavedView, remove: Act) -> AnyView {
    let router = use_router();
    let query = view.query.clone();
    let current = move || (view_query(&router.search()) == query).then_some("true");
    let id = view.id.clone();
    view! {
        <li>
            <a href=view_href(&view.query) aria-current=current>{view.name.clone()}</a>
            <button
                type="button"
                class="secondary danger"
                aria-label=format!("Delete view {}", view.name)
                on:click=move |_| {
                    let id = id.clone();
                    remove.run(async move { api::delete_saved_view(&id).await });
                }
            >
                "Delete"
            </button>
        </li>
    }
    .into_any()
}
