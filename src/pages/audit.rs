use leptos::prelude::*;

use super::coming_soon::ComingSoon;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <ComingSoon title="Audit logs" what="Search, filter and export audit events here." /> }
}
