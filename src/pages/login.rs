use leptos::prelude::*;
use witness_api::LoginRequest;

use crate::api;
use crate::app::SessionContext;
use crate::components::alert;
use crate::load::Act;
use crate::router::use_router;

#[component]
pub fn LoginPage() -> impl IntoView {
    let router = use_router();
    let session = expect_context::<SessionContext>();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let login = Act::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = LoginRequest {
            username: username.get_untracked(),
            password: password.get_untracked(),
        };
        login.run(async move {
            let result = api::login(&request).await;
            if let Ok(response) = &result {
                session.set_user(response.user.clone());
                let next = api::safe_next(untrack(|| router.query("next")));
                router.navigate(&next);
            }
            result
        });
    };
    view! {
        <section class="page login">
            <h1>"Log in to Witness"</h1>
            <form class="card form" on:submit=submit>
                <label for="login-username">"Username"</label>
                <input
                    id="login-username"
                    name="username"
                    autocomplete="username"
                    required
                    bind:value=username
                />
                <label for="login-password">"Password"</label>
                <input
                    id="login-password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    bind:value=password
                />
                {alert(move || login.error().map(|error| error.to_string()))}
                <button type="submit" disabled=move || login.pending()>
                    {move || if login.pending() { "Logging in…" } else { "Log in" }}
                </button>
            </form>
        </section>
    }
    .into_any()
}
