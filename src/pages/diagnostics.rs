use leptos::prelude::*;
use witness_api::Diagnostics;

use crate::api;
use crate::components::{DiagnosticsCard, IntegrityBadge};
use crate::load::Load;

#[component]
pub fn DiagnosticsPage() -> impl IntoView {
    let diagnostics = Load::new(api::diagnostics);
    let integrity = Load::new(api::verify);
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
            {diagnostics.view("Loading diagnostics…", "diagnostics", |d: &Diagnostics| {
                view! { <DiagnosticsCard diagnostics=d.clone() /> }.into_any()
            })}
        </section>
    }
    .into_any()
}
