//! Backups: list, download, back up now; and where the secret key is (not in the backup).

use leptos::prelude::*;
use witness_api::BackupInfo;

use crate::api;
use crate::components::{Row, keyed_rows};
use crate::format::{self, Precision};
use crate::load::{Act, Load};

#[component]
pub fn BackupsPage() -> impl IntoView {
    let create = Act::new();
    // Loaded again whenever a backup has been made (or has failed).
    let backups = Load::new(move || {
        create.version();
        api::backups()
    });
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Backups"</h1>
                <button
                    type="button"
                    disabled=move || create.pending()
                    on:click=move |_| create.run(api::create_backup())
                >
                    {move || if create.pending() { "Backing up…" } else { "Back up now" }}
                </button>
            </header>
            <p class="notice" role="note">
                "Backups hold users, API keys (hashed) and settings, encrypted with the server's secret key. "
                <strong>"The secret key is not inside the backups."</strong>
                " Without it they cannot be restored: keep a copy of it (run "
                <code>"witness show-key"</code>
                " on the server, or see WITNESS_STORAGE_SECRETKEY or secret.key in the data directory) somewhere safe, apart from the backups."
            </p>
            {move || create.pending().then(|| view! {
                <p class="loading" role="status"><progress aria-label="Backing up"></progress> " Making a backup…"</p>
            })}
            {move || create.answer().map(|answer| match answer {
                Ok(backup) => match backup.downcast_ref::<BackupInfo>() {
                    Some(backup) => view! { <p class="saved" role="status">{format!("Backup {} created.", backup.file_name)}</p> }.into_any(),
                    None => ().into_any(),
                },
                Err(error) => view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
            {backups.view("Loading backups…", "the backups", |list: &Vec<BackupInfo>| {
                if list.is_empty() {
                    return view! { <p class="empty">"No backups yet. One is made daily at the time set in Settings, or press Back up now."</p> }.into_any();
                }
                let list = list.clone();
                view! {
                    <table class="events backups">
                        <thead>
                            <tr>
                                <th scope="col">"Created (UTC)"</th>
                                <th scope="col">"Size"</th>
                                <th scope="col">"File"</th>
                                <th scope="col"><span class="visually-hidden">"Download"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {keyed_rows(move || list.iter().cloned().map(|backup| Row::new(backup.id.clone(), move || view! {
                                <tr>
                                    <td>{format::wall(backup.created_at.naive_utc(), Precision::Second)}</td>
                                    <td>{format::bytes(backup.size_bytes)}</td>
                                    <td><code>{backup.file_name.clone()}</code></td>
                                    <td>
                                        <a
                                            class="button secondary"
                                            href=api::backup_download_url(&backup.id)
                                            download=backup.file_name.clone()
                                            aria-label=format!("Download {}", backup.file_name)
                                        >
                                            "Download"
                                        </a>
                                    </td>
                                </tr>
                            }.into_any())).collect())}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
    .into_any()
}
