//! Hub users (`/users`, admin): the users with their role and passkeys, invites (a
//! one-time enrollment link, shown once), role changes, disable/enable, re-invite after
//! a lost passkey, passkey revocation, and the open invites.
//!
//! Forms post to `/users/…` (`monban_server::http::forms`) and come back here. An admin
//! cannot disable or demote themselves (the hub refuses it; the page does not offer it).
//!
//! Test ids: `user-row` (`data-name`, `data-role`, `data-disabled`), `invite-form`,
//! `user-role-form`, `user-disable`, `user-enable`, `user-reinvite`,
//! `user-passkey-revoke`, `invite-row` (`data-kind`, `data-used`), `flash`, `new-link`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::Layout;
use crate::auth::Role;
use crate::i18n::use_lang;
use crate::labels;
use crate::pages::account::{role_label, when, Flash, FlashNotice, FormKeys, PasskeyView};

/// A hub user as the page lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub disabled_at: Option<String>,
    pub passkeys: Vec<PasskeyView>,
}

/// An enrollment link (its secret is never listed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InviteView {
    pub id: String,
    /// `user` or `person`.
    pub kind: String,
    pub name: String,
    pub role: Option<Role>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub used_at: Option<String>,
    /// Unused and not yet expired.
    pub open: bool,
}

/// Everything the users page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsersView {
    pub users: Vec<UserView>,
    /// Newest first.
    pub invites: Vec<InviteView>,
    pub flash: Option<Flash>,
    pub csrf: String,
    /// The signed-in admin (their own row offers no disable or demotion).
    pub me: String,
}

/// What the users page needs from the hub.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait UsersSource: Send + Sync + 'static {
    /// Users and invites; `flash`, `csrf` and `me` are filled by the server function.
    async fn users(&self) -> Result<UsersView, crate::api::SourceError> {
        Err("the users page is not available".into())
    }
}

/// The users page's data (`GET /api/dash/users`).
#[server(prefix = "/api/dash", endpoint = "users", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_users() -> Result<UsersView, DashError> {
    use crate::pages::account::{no_store, source, take_flash, unavailable};
    no_store();
    let viewer = crate::auth::require(crate::auth::Permission::ManageUsers)?;
    let parts = use_context::<axum::http::request::Parts>();
    let source = source()?;
    let mut view = source.users().await.map_err(unavailable("users"))?;
    view.flash = take_flash(&source, parts).await;
    view.csrf = viewer.csrf;
    view.me = viewer.user_id;
    Ok(view)
}

/// The role `<select>` (current role selected).
#[component]
pub fn RoleSelect(selected: Role) -> impl IntoView {
    let l = use_lang().get_untracked();
    view! {
        <select name="role">
            {Role::ALL.iter().map(|r| {
                view! { <option value=r.as_str() selected=*r == selected>{role_label(*r, l)}</option> }
            }).collect_view()}
        </select>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let lang = use_lang();
    let data = Resource::new(move || lang.get(), |_| get_users());
    view! {
        <Layout testid="users">
            <Title text=move || format!("{} — 門番", lang.get().pick("ユーザー", "Users")) />
            <section class="panel users">
                <h2 class="panel__title">{move || lang.get().pick("ユーザー", "Users")}</h2>
                <Transition fallback=|| view! { <p class="notice">"読み込み中…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(v) => view! { <UsersBody v /> }.into_any(),
                            Err(e) => view! {
                                <p class="notice notice--error" role="alert" data-testid="error">{e.to_string()}</p>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </Layout>
    }
}

#[component]
fn UsersBody(v: UsersView) -> impl IntoView {
    let l = use_lang().get_untracked();
    let UsersView {
        users,
        invites,
        flash,
        csrf,
        me,
    } = v;
    let rows = users
        .into_iter()
        .map(|u| {
            let mine = u.id == me;
            let disabled = u.disabled_at.is_some();
            let active: Vec<PasskeyView> = u.passkeys.iter().filter(|p| p.revoked_at.is_none()).cloned().collect();
            let n_active = active.len();
            let base = format!("/users/{}", u.id);
            let csrf = csrf.clone();
            let (c1, c2, c3) = (csrf.clone(), csrf.clone(), csrf.clone());
            let keys = active
                .into_iter()
                .map(|p| {
                    let action = format!("{base}/passkeys/{}/revoke", p.id);
                    let c = csrf.clone();
                    view! {
                        <li>
                            {p.name.clone()}
                            <span class="sub">{format!("{} {}", l.pick("最終使用", "last used"), when(&p.last_used_at))}</span>
                            <form method="post" action=action class="inline-form" data-testid="user-passkey-revoke">
                                <FormKeys csrf=c />
                                <button type="submit" class="danger">{l.pick("失効", "Revoke")}</button>
                            </form>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <tr data-testid="user-row" data-name=u.name.clone() data-role=u.role.as_str() data-disabled=disabled.to_string()>
                    <td data-label=l.pick("ユーザー名", "User name")>
                        {u.name.clone()}
                        {mine.then(|| view! { <span class="sub">{l.pick("（あなた）", "(you)")}</span> })}
                    </td>
                    <td data-label=l.pick("役割", "Role")>
                        {if mine {
                            view! { <span>{role_label(u.role, l)}</span> }.into_any()
                        } else {
                            view! {
                                <form method="post" action=format!("{base}/role") class="inline-form" data-testid="user-role-form">
                                    <FormKeys csrf=c1 />
                                    <label><span class="sr-only">{l.pick("役割", "Role")}</span><RoleSelect selected=u.role /></label>
                                    <button type="submit">{l.pick("変更", "Change")}</button>
                                </form>
                            }.into_any()
                        }}
                    </td>
                    <td data-label=l.pick("パスキー", "Passkeys")>
                        <span class="num" data-testid="user-passkeys">{n_active}</span>
                        <ul class="plain-list">{keys}</ul>
                    </td>
                    <td data-label=l.pick("作成", "Created")>{labels::jst_time(&u.created_at)}</td>
                    <td data-label=l.pick("状態", "State")>
                        {if disabled {
                            format!("{} {}", l.pick("無効", "Disabled"), when(&u.disabled_at))
                        } else {
                            l.pick("有効", "Active").to_string()
                        }}
                    </td>
                    <td data-label=l.pick("操作", "Actions") class="users__actions">
                        {(!mine).then(|| {
                            if disabled {
                                view! {
                                    <form method="post" action=format!("{base}/enable") class="inline-form">
                                        <FormKeys csrf=c2 />
                                        <button type="submit" data-testid="user-enable">{l.pick("有効にする", "Enable")}</button>
                                    </form>
                                }.into_any()
                            } else {
                                view! {
                                    <form method="post" action=format!("{base}/disable") class="inline-form">
                                        <FormKeys csrf=c2 />
                                        <button type="submit" class="danger" data-testid="user-disable">{l.pick("無効にする", "Disable")}</button>
                                    </form>
                                }.into_any()
                            }
                        })}
                        <form method="post" action=format!("{base}/reinvite") class="inline-form">
                            <FormKeys csrf=c3 />
                            <button type="submit" data-testid="user-reinvite">{l.pick("再登録リンク", "Re-invite")}</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let invite_rows = invites
        .into_iter()
        .map(|i| {
            let kind = if i.kind == "person" { l.pick("職員（本人確認）", "Person (step-up)") } else { l.pick("ユーザー", "User") };
            let state = match (&i.used_at, i.open) {
                (Some(_), _) => format!("{} {}", l.pick("使用済み", "Used"), when(&i.used_at)),
                (None, true) => l.pick("未使用", "Open").to_string(),
                (None, false) => l.pick("期限切れ", "Expired").to_string(),
            };
            view! {
                <tr data-testid="invite-row" data-kind=i.kind.clone() data-used=i.used_at.is_some().to_string() data-open=i.open.to_string()>
                    <td data-label=l.pick("名前", "Name")>{i.name.clone()}</td>
                    <td data-label=l.pick("種類", "Kind")>{kind}</td>
                    <td data-label=l.pick("役割", "Role")>{i.role.map(|r| role_label(r, l)).unwrap_or("—")}</td>
                    <td data-label=l.pick("発行者", "Created by")>{i.created_by.clone()}</td>
                    <td data-label=l.pick("発行", "Created")>{labels::jst_time(&i.created_at)}</td>
                    <td data-label=l.pick("期限", "Expires")>{labels::jst_time(&i.expires_at)}</td>
                    <td data-label=l.pick("状態", "State")>{state}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <FlashNotice flash />
        <div class="table-wrap">
            <table class="grid grid--cards" data-testid="users-table">
                <thead><tr>
                    <th scope="col">{l.pick("ユーザー名", "User name")}</th>
                    <th scope="col">{l.pick("役割", "Role")}</th>
                    <th scope="col">{l.pick("パスキー", "Passkeys")}</th>
                    <th scope="col">{l.pick("作成", "Created")}</th>
                    <th scope="col">{l.pick("状態", "State")}</th>
                    <th scope="col">{l.pick("操作", "Actions")}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <section class="acct__section" aria-labelledby="users-invite-h">
            <h3 id="users-invite-h">{l.pick("ユーザーを招待", "Invite a user")}</h3>
            <p class="sub">
                {l.pick(
                    "一回だけ使える登録リンクを発行します。リンクは一度だけ表示されます。",
                    "Creates a one-time enrollment link. The link is shown only once.",
                )}
            </p>
            <form method="post" action="/users/invite" class="inv__form" data-testid="invite-form">
                <FormKeys csrf=csrf.clone() />
                <label>{l.pick("ユーザー名", "User name")}<input name="name" required=true maxlength="80" autocomplete="off" /></label>
                <label>{l.pick("役割", "Role")}<RoleSelect selected=Role::Auditor /></label>
                <button type="submit">{l.pick("登録リンクを発行", "Create invite link")}</button>
            </form>
        </section>
        <section class="acct__section" aria-labelledby="users-invites-h">
            <h3 id="users-invites-h">{l.pick("登録リンク", "Invites")}</h3>
            <div class="table-wrap">
                <table class="grid grid--cards" data-testid="invites-table">
                    <thead><tr>
                        <th scope="col">{l.pick("名前", "Name")}</th>
                        <th scope="col">{l.pick("種類", "Kind")}</th>
                        <th scope="col">{l.pick("役割", "Role")}</th>
                        <th scope="col">{l.pick("発行者", "Created by")}</th>
                        <th scope="col">{l.pick("発行", "Created")}</th>
                        <th scope="col">{l.pick("期限", "Expires")}</th>
                        <th scope="col">{l.pick("状態", "State")}</th>
                    </tr></thead>
                    <tbody>{invite_rows}</tbody>
                </table>
            </div>
        </section>
    }
}
