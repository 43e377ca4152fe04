use leptos::prelude::*;

/// An error message shown while there is one, announced to screen readers (`role="alert"`).
pub fn alert(text: impl Fn() -> Option<String> + Send + Sync + 'static) -> AnyView {
    message(Box::new(text), true)
}

/// The server's message about one field of a form, shown under the field while there is one.
pub fn field_error(text: impl Fn() -> Option<String> + Send + Sync + 'static) -> AnyView {
    message(Box::new(text), false)
}

/// One concrete function for every such message, rather than a copy of the view per page.
fn message(text: Box<dyn Fn() -> Option<String> + Send + Sync>, alert: bool) -> AnyView {
    (move || {
        text().map(|message| {
            if alert {
                view! { <p class="error" role="alert">{message}</p> }.into_any()
            } else {
                view! { <p class="field-error">{message}</p> }.into_any()
            }
        })
    })
    .into_any()
}

/// `view` while `condition` holds, drawn again only when the condition changes (Leptos's
/// `<Show>`, compiled once for every use).
pub fn shown_when(
    condition: impl Fn() -> bool + Send + Sync + 'static,
    view: impl Fn() -> AnyView + Send + Sync + 'static,
) -> AnyView {
    shown_erased(Box::new(condition), Box::new(view))
}

type Condition = Box<dyn Fn() -> bool + Send + Sync>;

fn shown_erased(condition: Condition, view: Box<dyn Fn() -> AnyView + Send + Sync>) -> AnyView {
    let shown = Memo::new(move |_| condition());
    (move || shown.get().then(|| untrack(&view))).into_any()
}
