//! Enrollment (`/enroll/{token}`, public): opens a one-time invite link, shows whom it is
//! for, and registers a passkey (`data-passkey="enroll"`, `/pkg/passkey.js`). A user's
//! enrollment signs them in; a person's (step-up) passkey is only stored.
//!
//! Test ids: `invite` (`data-kind`), `invite-refused` (`data-reason`: `used`, `expired`,
//! `unknown`), `enroll-button`, `passkey-status`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::PublicLayout;
use crate::auth::Role;
use crate::i18n::{use_lang, Lang};
use crate::labels;
use crate::pages::account::role_label;

/// An invite as its enrollment page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InviteInfo {
    pub name: String,
    pub role: Option<Role>,
    /// `user` or `person`.
    pub kind: String,
    pub expires_at: String,
}

/// A usable invite, or why it is not (`used`, `expired`, `unknown`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InviteLookup {
    Usable(InviteInfo),
    Refused(String),
}

/// What the enrollment page needs from the hub.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait EnrollSource: Send + Sync + 'static {
    /// The invite behind a link's token.
    async fn invite(&self, _token: String) -> Result<InviteLookup, crate::api::SourceError> {
        Err("enrollment is not available".into())
    }
}

/// The enrollment page's data (`GET /api/dash/invite`, public: the token is the
/// capability).
#[server(prefix = "/api/dash", endpoint = "invite", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_invite(token: String) -> Result<InviteLookup, DashError> {
    use crate::pages::account::{no_store, source, unavailable};
    no_store();
    source()?.invite(token).await.map_err(unavailable("invite"))
}

fn refusal(reason: &str, l: Lang) -> &'static str {
    match reason {
        "used" => l.pick(
            "この登録リンクは使用済みです。管理者に新しいリンクを依頼してください。",
            "This enrollment link has already been used. Ask an administrator for a new one.",
        ),
        "expired" => l.pick(
            "この登録リンクは有効期限切れです。管理者に新しいリンクを依頼してください。",
            "This enrollment link has expired. Ask an administrator for a new one.",
        ),
        "awaiting_approval" => l.pick(
            "この登録リンクは、発行者とは別のセキュリティ責任者の承認待ちです。承認後にもう一度開いてください。",
            "This enrollment link waits for a second officer's approval. Open it again once it is approved.",
        ),
        _ => l.pick(
            "この登録リンクは無効です。",
            "This enrollment link is not valid.",
        ),
    }
}

#[component]
pub fn EnrollPage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token")).unwrap_or_default();
    let data = Resource::new(token, get_invite);
    view! {
        <PublicLayout testid="enroll">
            <Title text=move || format!("{} — 門番", lang.get().pick("パスキーの登録", "Register a passkey")) />
            <section class="panel public">
                <h2 class="panel__title">{move || lang.get().pick("パスキーの登録", "Register a passkey")}</h2>
                <Transition fallback=|| view! { <p class="notice">"読み込み中…"</p> }>
                    {move || Suspend::new(async move {
                        let l = lang.get_untracked();
                        match data.await {
                            Ok(InviteLookup::Usable(i)) => view! { <EnrollForm i token=token() /> }.into_any(),
                            Ok(InviteLookup::Refused(why)) => view! {
                                <p class="notice notice--error" role="alert" data-testid="invite-refused" data-reason=why.clone()>
                                    {refusal(&why, l)}
                                </p>
                            }.into_any(),
                            Err(e) => view! {
                                <p class="notice notice--error" role="alert" data-testid="error">{e.to_string()}</p>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </PublicLayout>
    }
}

#[component]
fn EnrollForm(i: InviteInfo, token: String) -> impl IntoView {
    let l = use_lang().get_untracked();
    let person = i.kind == "person";
    let lead = if person {
        l.pick(
            "ログイン時の本人確認に使うパスキーを登録します。",
            "Register the passkey you will verify logins with.",
        )
    } else {
        l.pick(
            "門番にサインインするためのパスキーを登録します。登録が終わるとサインインします。",
            "Register the passkey you will sign in to monban with. You are signed in when it is done.",
        )
    };
    view! {
        <form class="public__body public__form" data-testid="invite" data-kind=i.kind.clone() action="" method="get">
            <p>{lead}</p>
            <dl class="acct__facts">
                <div><dt>{l.pick("名前", "Name")}</dt><dd data-testid="invite-name">{i.name.clone()}</dd></div>
                {i.role.map(|r| view! { <div><dt>{l.pick("役割", "Role")}</dt><dd>{role_label(r, l)}</dd></div> })}
                <div><dt>{l.pick("有効期限", "Expires")}</dt><dd>{labels::jst_time(&i.expires_at)}</dd></div>
            </dl>
            <input type="hidden" name="token" value=token />
            <label>
                {l.pick("パスキーの名前（例: 仕事用スマートフォン）", "Passkey name (e.g. work phone)")}
                <input name="passkey_name" maxlength="80" />
            </label>
            <button type="submit" class="primary" data-passkey="enroll" data-testid="enroll-button">
                {l.pick("パスキーを登録", "Register passkey")}
            </button>
            <p class="passkey-status" role="status" aria-live="polite" data-passkey-status="" data-testid="passkey-status"></p>
        </form>
    }
}
