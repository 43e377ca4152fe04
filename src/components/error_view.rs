use leptos::prelude::*;

/// The fallback of an `ErrorBoundary`: what went wrong, and what to do about it.
#[component]
pub fn ErrorList(errors: ArcRwSignal<Errors>, #[prop(into)] what: String) -> impl IntoView {
    view! {
        <div class="error" role="alert">
            <p><strong>{format!("Could not load {what}.")}</strong></p>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, error)| view! { <li>{error.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}
