use leptos::prelude::*;

use super::coming_soon::ComingSoon;

#[component]
pub fn BackupsPage() -> impl IntoView {
    view! { <ComingSoon title="Backups" what="Encrypted configuration backups will be listed and downloaded here." /> }
}
