use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p>"There is no page at this address. " <a href="/audit">"Go to the audit logs"</a> "."</p>
        </section>
    }
    .into_any()
}
