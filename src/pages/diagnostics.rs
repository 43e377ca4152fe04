use leptos::prelude::*;

use crate::api;
use crate::components::{DiagnosticsCard, ErrorList};

#[component]
pub fn DiagnosticsPage() -> impl IntoView {
    let diagnostics = LocalResource::new(api::diagnostics);
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Diagnostics"</h1>
                <button type="button" on:click=move |_| diagnostics.refetch()>"Refresh"</button>
            </header>
            <Transition fallback=|| {
                view! { <p class="loading" role="status">"Loading diagnostics…"</p> }
            }>
                <ErrorBoundary fallback=|errors| {
                    view! { <ErrorList errors what="diagnostics" /> }
                }>
                    {move || Suspend::new(async move {
                        diagnostics.await.map(|d| view! { <DiagnosticsCard diagnostics=d /> })
                    })}
                </ErrorBoundary>
            </Transition>
        </section>
    }
}
