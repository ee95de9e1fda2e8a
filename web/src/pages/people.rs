//! People's step-up passkeys (`/people`, officer and admin): the inventory's people,
//! their accounts, the passkeys they verify step-ups with; an enrollment link per person
//! (shown once) and revocation.
//!
//! **Two people for one passkey.** A link made here works only after a second officer or
//! admin — not the one who made it — approves it in 「承認待ちの登録リンク」: whoever
//! maps an account to a person must not alone be able to register that person's
//! passkey (and so make that account's password logins `direct_2fa`).
//!
//! Test ids: `person-row` (`data-id`, `data-passkeys`), `person-invite`,
//! `person-passkey-revoke`, `waiting-invite` (`data-id`), `invite-approve`, `flash`,
//! `new-link`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::Layout;
use crate::i18n::use_lang;
use crate::labels;
use crate::pages::account::{when, Flash, FlashNotice, FormKeys, PasskeyView};

/// A person of the inventory with their step-up passkeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonView {
    pub id: String,
    pub name: String,
    /// (system id, account).
    pub accounts: Vec<(String, String)>,
    /// Active ones only.
    pub passkeys: Vec<PasskeyView>,
}

/// A person's enrollment link that waits for a second officer's approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitingInvite {
    pub id: String,
    pub person: String,
    pub name: String,
    /// The user name of whoever made it (who may not approve it).
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
}

/// Everything the people page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeopleView {
    pub people: Vec<PersonView>,
    /// Links waiting for approval, oldest first.
    #[serde(default)]
    pub waiting: Vec<WaitingInvite>,
    pub flash: Option<Flash>,
    pub csrf: String,
    /// The viewer's user name (a link they made is not theirs to approve).
    #[serde(default)]
    pub me: String,
}

/// What the people page needs from the hub.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait PeopleSource: Send + Sync + 'static {
    /// People and their passkeys; `flash` and `csrf` are filled by the server function.
    async fn people(&self) -> Result<PeopleView, crate::api::SourceError> {
        Err("the people page is not available".into())
    }
}

/// The people page's data (`GET /api/dash/people`).
#[server(prefix = "/api/dash", endpoint = "people", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_people() -> Result<PeopleView, DashError> {
    use crate::pages::account::{no_store, source, take_flash, unavailable};
    no_store();
    let viewer = crate::auth::require(crate::auth::Permission::ManagePeoplePasskeys)?;
    let parts = use_context::<axum::http::request::Parts>();
    let source = source()?;
    let mut view = source.people().await.map_err(unavailable("people"))?;
    view.flash = take_flash(&source, parts).await;
    view.csrf = viewer.csrf;
    view.me = viewer.name;
    Ok(view)
}

#[component]
pub fn PeoplePage() -> impl IntoView {
    let lang = use_lang();
    let data = Resource::new(move || lang.get(), |_| get_people());
    view! {
        <Layout testid="people">
            <Title text=move || format!("{} — 門番", lang.get().pick("職員のパスキー", "People's passkeys")) />
            <section class="panel people">
                <h2 class="panel__title">{move || lang.get().pick("職員のパスキー（本人確認）", "People's passkeys (step-up)")}</h2>
                <Transition fallback=|| view! { <p class="notice">"読み込み中…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(v) => view! { <PeopleBody v /> }.into_any(),
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
fn PeopleBody(v: PeopleView) -> impl IntoView {
    let l = use_lang().get_untracked();
    let PeopleView {
        people,
        waiting,
        flash,
        csrf,
        me,
    } = v;
    let has_waiting = !waiting.is_empty();
    let waiting_rows = waiting
        .into_iter()
        .map(|w| {
            let action = format!("/people/invites/{}/approve", w.id);
            let mine = w.created_by == me;
            let c = csrf.clone();
            view! {
                <tr data-testid="waiting-invite" data-id=w.id.clone()>
                    <td data-label=l.pick("氏名", "Name")>{w.name.clone()}<span class="code">{w.person.clone()}</span></td>
                    <td data-label=l.pick("発行者", "Made by")>{w.created_by.clone()}<span class="sub">{labels::jst_time(&w.created_at)}</span></td>
                    <td data-label=l.pick("有効期限", "Expires")>{labels::jst_time(&w.expires_at)}</td>
                    <td data-label=l.pick("操作", "Actions")>
                        {if mine {
                            view! { <span class="muted">{l.pick("別の責任者の承認待ち", "Waiting for another officer")}</span> }.into_any()
                        } else {
                            view! {
                                <form method="post" action=action class="inline-form">
                                    <FormKeys csrf=c />
                                    <button type="submit" class="primary" data-testid="invite-approve">{l.pick("承認", "Approve")}</button>
                                </form>
                            }.into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let rows = people
        .into_iter()
        .map(|p| {
            let invite = format!("/people/{}/invite", p.id);
            let accounts = p
                .accounts
                .iter()
                .map(|(s, a)| format!("{s}: {a}"))
                .collect::<Vec<_>>()
                .join(", ");
            let n = p.passkeys.len();
            let c = csrf.clone();
            let keys = p
                .passkeys
                .into_iter()
                .map(|k| {
                    let action = format!("/people/{}/passkeys/{}/revoke", p.id, k.id);
                    let c = csrf.clone();
                    view! {
                        <li>
                            {k.name.clone()}
                            <span class="sub">
                                {format!(
                                    "{} {} / {} {}",
                                    l.pick("登録", "created"),
                                    labels::jst_time(&k.created_at),
                                    l.pick("最終使用", "last used"),
                                    when(&k.last_used_at)
                                )}
                            </span>
                            <form method="post" action=action class="inline-form" data-testid="person-passkey-revoke">
                                <FormKeys csrf=c />
                                <button type="submit" class="danger">{l.pick("失効", "Revoke")}</button>
                            </form>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <tr data-testid="person-row" data-id=p.id.clone() data-passkeys=n.to_string()>
                    <td data-label=l.pick("氏名", "Name")>{p.name.clone()}<span class="code">{p.id.clone()}</span></td>
                    <td data-label=l.pick("アカウント", "Accounts")>{accounts}</td>
                    <td data-label=l.pick("パスキー", "Passkeys")>
                        {if n == 0 {
                            view! { <span class="muted">{l.pick("未登録", "None")}</span> }.into_any()
                        } else {
                            view! { <ul class="plain-list">{keys}</ul> }.into_any()
                        }}
                    </td>
                    <td data-label=l.pick("操作", "Actions")>
                        <form method="post" action=invite class="inline-form">
                            <FormKeys csrf=c />
                            <button type="submit" data-testid="person-invite">{l.pick("登録リンクを発行", "Create enrollment link")}</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <FlashNotice flash />
        {has_waiting.then(|| view! {
            <h3 class="people__waiting">{l.pick("承認待ちの登録リンク", "Enrollment links waiting for approval")}</h3>
            <p class="sub people__note">
                {l.pick(
                    "登録リンクは、発行した人とは別のセキュリティ責任者または管理者が承認するまで使えません。",
                    "An enrollment link works only once an officer or admin other than its maker has approved it.",
                )}
            </p>
            <div class="table-wrap">
                <table class="grid grid--cards" data-testid="waiting-invites">
                    <thead><tr>
                        <th scope="col">{l.pick("氏名", "Name")}</th>
                        <th scope="col">{l.pick("発行者", "Made by")}</th>
                        <th scope="col">{l.pick("有効期限", "Expires")}</th>
                        <th scope="col">{l.pick("操作", "Actions")}</th>
                    </tr></thead>
                    <tbody>{waiting_rows}</tbody>
                </table>
            </div>
        })}
        <p class="sub people__note">
            {l.pick(
                "二要素認証のないシステムでは、ログイン時に職員のパスキーで本人確認します。登録リンクは本人に渡し、本人の端末で開いてもらいます。",
                "Systems without two-factor authentication ask the hub to verify the person's passkey at login. Give the enrollment link to the person, to open on their own device.",
            )}
        </p>
        <div class="table-wrap">
            <table class="grid grid--cards" data-testid="people-table">
                <thead><tr>
                    <th scope="col">{l.pick("氏名", "Name")}</th>
                    <th scope="col">{l.pick("アカウント", "Accounts")}</th>
                    <th scope="col">{l.pick("パスキー", "Passkeys")}</th>
                    <th scope="col">{l.pick("操作", "Actions")}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
