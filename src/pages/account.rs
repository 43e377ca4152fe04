//! Your account: change your own password (the current one is required).

use leptos::prelude::*;
use witness_api::PasswordChange;

use crate::api;
use crate::load::Act;

#[component]
pub fn AccountPage() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let change = Act::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = PasswordChange {
            current_password: current.get_untracked(),
            new_password: new.get_untracked(),
        };
        change.run(async move {
            let result = api::change_password(&request).await;
            if result.is_ok() {
                current.try_set(String::new());
                new.try_set(String::new());
            }
            result
        });
    };
    let status = move || {
        match change.answer() {
        Some(Ok(_)) => Some(
            view! {
                <p class="saved" role="status" data-field="saved">
                    "Your password was changed. Your other sessions have ended."
                </p>
            }
            .into_any(),
        ),
        Some(Err(error)) if !matches!(error, api::ApiError::Invalid { .. }) => {
            Some(view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any())
        }
        Some(Err(_)) => Some(
            view! {
                <p class="error" role="alert">"Nothing was changed: correct the fields marked below."</p>
            }
            .into_any(),
        ),
        None => None,
    }
    };
    view! {
        <section class="page">
            <h1>"Your account"</h1>
            <form class="card form" on:submit=submit aria-label="Change your password">
                <h2>"Change your password"</h2>
                <label for="current-password">"Current password"</label>
                <input
                    id="current-password"
                    type="password"
                    autocomplete="current-password"
                    aria-describedby="current-password-error"
                    bind:value=current
                />
                <p class="field-error" id="current-password-error">
                    {move || change.field_error("current_password")}
                </p>
                <label for="new-password">"New password (at least 10 characters)"</label>
                <input
                    id="new-password"
                    type="password"
                    autocomplete="new-password"
                    aria-describedby="new-password-error"
                    bind:value=new
                />
                <p class="field-error" id="new-password-error">{move || change.field_error("new_password")}</p>
                {status}
                <button type="submit" disabled=move || change.pending()>
                    {move || if change.pending() { "Changing…" } else { "Change password" }}
                </button>
            </form>
        </section>
    }
    .into_any()
}
