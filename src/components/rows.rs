use leptos::prelude::*;
use send_wrapper::SendWrapper;

/// One row of a keyed list: its key, and how to draw it (called only while no row with that
/// key is on screen).
pub struct Row {
    key: String,
    draw: SendWrapper<Box<dyn FnOnce() -> AnyView>>,
}

impl Row {
    pub fn new(key: String, draw: impl FnOnce() -> AnyView + 'static) -> Self {
        Row {
            key,
            draw: SendWrapper::new(Box::new(draw)),
        }
    }
}

/// A keyed list of rows (Leptos's `<For>`): when `rows` gives a new list, rows whose key was
/// already shown are kept as they are and only the others are drawn. Every list of the panel
/// goes through this one function, so `<For>` is compiled once.
pub fn keyed_rows(rows: impl Fn() -> Vec<Row> + Send + 'static) -> AnyView {
    keyed_erased(Box::new(rows))
}

fn keyed_erased(rows: Box<dyn Fn() -> Vec<Row> + Send>) -> AnyView {
    view! {
        <For each=move || rows() key=|row: &Row| row.key.clone() children=|row: Row| (row.draw.take())() />
    }
    .into_any()
}
