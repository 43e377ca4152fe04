use leptos::prelude::*;

/// An error message shown while there is one, announced to screen readers (`role="alert"`).
/// One concrete function for every such message, rather than a copy of the view per page.
#[component]
pub fn Alert(#[prop(into)] text: Signal<Option<String>>) -> impl IntoView {
    move || {
        text.get()
            .map(|message| view! { <p class="error" role="alert">{message}</p> })
    }
}

/// The server's message about one field of a form, shown under the field while there is one.
#[component]
pub fn FieldError(#[prop(into)] text: Signal<Option<String>>) -> impl IntoView {
    move || {
        text.get()
            .map(|message| view! { <p class="field-error">{message}</p> })
    }
}
