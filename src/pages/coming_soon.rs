use leptos::prelude::*;

/// A page whose server side does not exist yet.
#[component]
pub fn ComingSoon(#[prop(into)] title: String, #[prop(into)] what: String) -> impl IntoView {
    view! {
        <section class="page">
            <h1>{title}</h1>
            <p class="muted">{what} " Coming soon."</p>
        </section>
    }
}
