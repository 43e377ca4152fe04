use leptos::prelude::*;

use crate::api;
use crate::components::{DiagnosticsCard, ErrorList, IntegrityBadge};

#[component]
pub fn DiagnosticsPage() -> impl IntoView {
    let diagnostics = LocalResource::new(api::diagnostics);
    let integrity = LocalResource::new(api::verify);
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Diagnostics"</h1>
                <div class="actions">
                    <a class="button" href=api::DIAGNOSTIC_REPORT_URL download>
                        "Download diagnostic report"
                    </a>
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| {
                            diagnostics.refetch();
                            integrity.refetch();
                        }
                    >
                        "Refresh"
                    </button>
                </div>
            </header>
            <p class="integrity">"Integrity: " <IntegrityBadge integrity /></p>
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
    .into_any()
}
