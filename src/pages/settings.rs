//! Settings: backup time of day (UTC), backups to keep, retention days, with the server's
//! validation messages next to each field.

use leptos::prelude::*;
use witness_api::{Settings, SettingsUpdate};

use crate::api;
use crate::load::{Act, Load};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let saved = Load::new(api::settings);
    view! {
        <section class="page">
            <h1>"Settings"</h1>
            {saved.view("Loading settings…", "the settings", |settings: &Settings| {
                view! { <SettingsForm settings=settings.clone() /> }.into_any()
            })}
        </section>
    }
    .into_any()
}

#[component]
fn SettingsForm(settings: Settings) -> impl IntoView {
    let time = RwSignal::new(settings.backup_utc_time_of_day.clone());
    let keep = RwSignal::new(settings.backups_to_keep.to_string());
    let retention = RwSignal::new(settings.retention_days.to_string());
    let save = Act::new();
    let number = |text: String| text.trim().parse::<i64>().unwrap_or(-1);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let update = SettingsUpdate {
            backup_utc_time_of_day: time.get_untracked().trim().to_string(),
            backups_to_keep: number(keep.get_untracked()),
            retention_days: number(retention.get_untracked()),
        };
        save.run(async move { api::save_settings(&update).await });
    };
    let status = move || {
        match save.answer() {
        Some(Ok(settings)) => settings.downcast_ref::<Settings>().map(|settings| view! {
            <p class="saved" role="status" data-field="saved">
                {format!(
                    "Saved: backups daily at {} UTC, {} kept, events kept {} days.",
                    settings.backup_utc_time_of_day, settings.backups_to_keep, settings.retention_days
                )}
            </p>
        }
        .into_any()),
        Some(Err(error)) if !matches!(error, api::ApiError::Invalid { .. }) => Some(
            view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
        ),
        Some(Err(_)) => Some(
            view! { <p class="error" role="alert">"Nothing was saved: correct the fields marked below."</p> }
                .into_any(),
        ),
        None => None,
    }
    };
    view! {
        <form class="card form settings" on:submit=submit aria-label="Settings">
            <label for="backup-time">"Daily backup time (UTC, HH:MM)"</label>
            <input
                id="backup-time"
                name="backup_utc_time_of_day"
                inputmode="numeric"
                placeholder="02:00"
                aria-describedby="backup-time-error"
                bind:value=time
            />
            <p class="field-error" id="backup-time-error">{move || save.field_error("backup_utc_time_of_day")}</p>
            <label for="backups-to-keep">"Backups to keep (1–100)"</label>
            <input
                id="backups-to-keep"
                name="backups_to_keep"
                inputmode="numeric"
                aria-describedby="backups-to-keep-error"
                bind:value=keep
            />
            <p class="field-error" id="backups-to-keep-error">{move || save.field_error("backups_to_keep")}</p>
            <label for="retention-days">"Keep audit events for (days, 1–3650)"</label>
            <input
                id="retention-days"
                name="retention_days"
                inputmode="numeric"
                aria-describedby="retention-days-error"
                bind:value=retention
            />
            <p class="field-error" id="retention-days-error">{move || save.field_error("retention_days")}</p>
            {status}
            <button type="submit" disabled=move || save.pending()>
                {move || if save.pending() { "Saving…" } else { "Save settings" }}
            </button>
        </form>
    }
    .into_any()
}
