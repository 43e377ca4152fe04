//! Users: list, add, change role, remove.

use leptos::prelude::*;
use witness_api::{NewUser, Role, User, UserUpdate};

use crate::api;
use crate::components::{Row, alert, field_error, keyed_rows};
use crate::load::{Act, Load};

#[component]
pub fn UsersPage() -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new("auditor".to_string());
    let add = Act::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let new = NewUser {
            username: username.get_untracked(),
            password: password.get_untracked(),
            role: Role::parse(&role.get_untracked()).unwrap_or(Role::Auditor),
            display_name: None,
            email: None,
        };
        add.run(async move {
            let result = api::create_user(&new).await;
            if result.is_ok() {
                username.try_set(String::new());
                password.try_set(String::new());
            }
            result
        });
    };
    let change = Act::new();
    let remove = Act::new();
    // Loaded again whenever one of the actions has finished.
    let users = Load::new(move || {
        add.version();
        change.version();
        remove.version();
        api::users()
    });
    let action_error = move || {
        change
            .error()
            .or_else(|| remove.error())
            .map(|error| error.to_string())
    };
    view! {
        <section class="page">
            <h1>"Users"</h1>
            <form class="card form" on:submit=submit aria-label="Add a user">
                <label for="user-name">"Username"</label>
                <input id="user-name" autocomplete="off" bind:value=username />
                {field_error(move || add.field_error("username"))}
                <label for="user-password">"Password"</label>
                <input id="user-password" type="password" autocomplete="new-password" bind:value=password />
                {field_error(move || add.field_error("password"))}
                <label for="user-role">"Role"</label>
                <select id="user-role" bind:value=role>
                    <option value="auditor">"auditor: reads audit logs"</option>
                    <option value="admin">"admin: also manages Witness"</option>
                </select>
                {alert(move || add.form_error())}
                <button type="submit" disabled=move || add.pending()>"Add user"</button>
            </form>
            {alert(action_error)}
            {users.view("Loading users…", "users", move |users: &Vec<User>| {
                if users.is_empty() {
                    return view! { <p class="empty">"No users yet. Create one above."</p> }.into_any();
                }
                let users = users.clone();
                view! {
                    <table class="events">
                        <thead>
                            <tr>
                                <th scope="col">"Username"</th>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Email"</th>
                                <th scope="col">"Role"</th>
                                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            // Keyed on the id and on what a row shows that can change, so
                            // that a changed user is drawn again.
                            {keyed_rows(move || users.iter().cloned().map(|user| {
                                let key = format!(
                                    "{}\u{1f}{}\u{1f}{}\u{1f}{}",
                                    user.id,
                                    user.role.as_str(),
                                    user.display_name.as_deref().unwrap_or_default(),
                                    user.email.as_deref().unwrap_or_default(),
                                );
                                Row::new(key, move || user_row(user, change, remove))
                            }).collect())}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
    .into_any()
}

/// One user's row: their role can be changed in place, and they can be removed.
fn user_row(user: User, change: Act, remove: Act) -> AnyView {
    let id = user.id.clone();
    let name = user.username.clone();
    let current = user.role.as_str().to_string();
    view! {
        <tr>
            <td>{user.username.clone()}</td>
            <td>{user.display_name.clone().unwrap_or_default()}</td>
            <td>{user.email.clone().unwrap_or_default()}</td>
            <td>
                <label class="visually-hidden" for=format!("role-{}", user.id)>
                    {format!("Role of {}", user.username)}
                </label>
                <select
                    id=format!("role-{}", user.id)
                    prop:value=current.clone()
                    on:change={
                        let id = id.clone();
                        move |ev| {
                            let update = UserUpdate { role: Role::parse(&event_target_value(&ev)), ..UserUpdate::default() };
                            let id = id.clone();
                            change.run(async move { api::update_user(&id, &update).await });
                        }
                    }
                >
                    <option value="auditor" selected=current == "auditor">"auditor"</option>
                    <option value="admin" selected=current == "admin">"admin"</option>
                </select>
            </td>
            <td>
                <button
                    type="button"
                    class="secondary danger"
                    aria-label=format!("Remove {name}")
                    on:click={
                        let id = id.clone();
                        let name = name.clone();
                        move |_| {
                            if api::confirm(&format!("Remove the user {name}? Their sessions end at once.")) {
                                let id = id.clone();
                                remove.run(async move { api::remove_user(&id).await });
                            }
                        }
                    }
                >
                    "Remove"
                </button>
            </td>
        </tr>
    }
    .into_any()
}
