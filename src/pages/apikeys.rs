//! API keys: list, create (the token is shown once, with a copy button), revoke.

use leptos::prelude::*;
use witness_api::{ApiKey, ApiKeyPermission, CreatedApiKey, NewApiKey};

use crate::api;
use crate::components::{Row, alert, field_error, keyed_rows};
use crate::format::{self, Precision};
use crate::load::{Act, Load};

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let title = RwSignal::new(String::new());
    let ingest = RwSignal::new(true);
    let read = RwSignal::new(false);
    let created = RwSignal::new(None::<CreatedApiKey>);
    let create = Act::new();
    let revoke = Act::new();
    // Loaded again whenever one of the actions has finished.
    let keys = Load::new(move || {
        create.version();
        revoke.version();
        api::api_keys()
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut permissions = Vec::new();
        if ingest.get_untracked() {
            permissions.push(ApiKeyPermission::Ingest);
        }
        if read.get_untracked() {
            permissions.push(ApiKeyPermission::Read);
        }
        let new = NewApiKey {
            title: title.get_untracked(),
            permissions,
        };
        create.run(async move {
            let result = api::create_api_key(&new).await;
            if let Ok(key) = &result {
                created.try_set(Some(key.clone()));
                title.try_set(String::new());
            }
            result
        });
    };
    view! {
        <section class="page">
            <h1>"API keys"</h1>
            <form class="card form" on:submit=submit aria-label="Create an API key">
                <label for="key-title">"Title"</label>
                <input id="key-title" bind:value=title placeholder="billing service" />
                {field_error(move || create.field_error("title"))}
                <fieldset>
                    <legend>"Permissions"</legend>
                    <label><input type="checkbox" bind:checked=ingest /> " ingest (send events)"</label>
                    <label><input type="checkbox" bind:checked=read /> " read (query audit logs)"</label>
                </fieldset>
                {field_error(move || create.field_error("permissions"))}
                {alert(move || create.form_error())}
                <button type="submit" disabled=move || create.pending()>"Create key"</button>
            </form>
            {move || created.get().map(|created| {
                let token = created.token.clone();
                view! {
                    <div class="card token" role="status">
                        <p>
                            <strong>{format!("Key \u{201c}{}\u{201d} created.", created.key.title)}</strong>
                            " Copy the token now: it is shown only once."
                        </p>
                        <p><code data-field="token">{created.token.clone()}</code></p>
                        <button
                            type="button"
                            on:click=move |_| {
                                if let Some(window) = leptos::web_sys::window() {
                                    let _ = window.navigator().clipboard().write_text(&token);
                                }
                            }
                        >
                            "Copy token"
                        </button>
                    </div>
                }
            })}
            {keys.view("Loading keys…", "API keys", move |keys: &Vec<ApiKey>| {
                if keys.is_empty() {
                    return view! { <p class="empty">"No API keys yet. Create one above for each application that sends events."</p> }.into_any();
                }
                let keys = keys.clone();
                view! {
                    <table class="events">
                        <thead>
                            <tr>
                                <th scope="col">"Title"</th>
                                <th scope="col">"Token starts"</th>
                                <th scope="col">"Permissions"</th>
                                <th scope="col">"Created (UTC)"</th>
                                <th scope="col">"State"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            // Keyed on the id and on whether the key is revoked, the one thing
                            // about a key that changes.
                            {keyed_rows(move || keys.iter().cloned().map(|key| {
                                let row_key = format!("{} {}", key.id, key.revoked_at.is_some());
                                Row::new(row_key, move || key_row(key, revoke))
                            }).collect())}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
    .into_any()
}

/// One key's row; `revoke` is dispatched with its id once the person confirms.
fn key_row(key: ApiKey, revoke: Act) -> AnyView {
    let id = key.id.clone();
    let title = key.title.clone();
    let revoked = key.revoked_at.is_some();
    let permissions: Vec<&str> = key.permissions.iter().map(|p| p.as_str()).collect();
    view! {
        <tr>
            <td>{key.title.clone()}</td>
            <td><code>{format!("{}…", key.token_prefix)}</code></td>
            <td>{permissions.join(", ")}</td>
            <td>{format::wall(key.created_at.naive_utc(), Precision::Minute)}</td>
            <td>{key.revoked_at.map(|at| format!("revoked {}", format::wall(at.naive_utc(), Precision::Minute))).unwrap_or_else(|| "active".to_string())}</td>
            <td>
                {(!revoked).then(|| view! {
                    <button
                        type="button"
                        class="secondary danger"
                        aria-label=format!("Revoke {}", title)
                        on:click=move |_| {
                            if api::confirm(&format!("Revoke the key \u{201c}{title}\u{201d}? Applications using it stop at once.")) {
                                let id = id.clone();
                                revoke.run(async move { api::revoke_api_key(&id).await });
                            }
                        }
                    >
                        "Revoke"
                    </button>
                })}
            </td>
        </tr>
    }
    .into_any()
}
