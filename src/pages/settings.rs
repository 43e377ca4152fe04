use leptos::prelude::*;

use super::coming_soon::ComingSoon;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <ComingSoon title="Settings" what="Backup schedule and retention settings will live here." /> }
}
