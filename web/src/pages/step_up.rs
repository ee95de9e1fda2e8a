//! The step-up page (`/step-up/{id}`, public: the id is the capability): the page a
//! terminal opens when a system without two-factor authentication asks the hub to verify
//! a person's passkey. Shows which system, account, person and terminal; the button
//! (`data-passkey="step-up"`) runs the ceremony in `/pkg/passkey.js`.
//!
//! Test ids: `step-up` (`data-status`), `step-up-button`, `step-up-done`,
//! `step-up-missing`, `passkey-status`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::PublicLayout;
use crate::i18n::{use_lang, Lang};
use crate::labels;

/// A step-up as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepUpView {
    pub id: String,
    pub system: String,
    pub system_name: String,
    pub account: String,
    pub person_name: String,
    pub terminal: Option<String>,
    /// `pending`, `verified`, `failed`, `used` or `expired`.
    pub status: String,
    pub expires_at: String,
}

/// What the step-up page needs from the hub.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait StepUpSource: Send + Sync + 'static {
    /// The step-up with this id, if any (`status` is `expired` once it ran out pending).
    async fn step_up(&self, _id: String) -> Result<Option<StepUpView>, crate::api::SourceError> {
        Err("the step-up page is not available".into())
    }
}

/// The step-up page's data (`GET /api/dash/step-up`, public).
#[server(prefix = "/api/dash", endpoint = "step-up", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_step_up(id: String) -> Result<Option<StepUpView>, DashError> {
    use crate::pages::account::{no_store, source, unavailable};
    no_store();
    source()?.step_up(id).await.map_err(unavailable("step-up"))
}

fn status_text(status: &str, l: Lang) -> &'static str {
    match status {
        "verified" => l.pick(
            "本人確認は完了しています。端末に戻ってください。",
            "Already verified. Return to the terminal.",
        ),
        "used" => l.pick(
            "この本人確認はすでにログインに使われました。",
            "This verification has already been used for a login.",
        ),
        "failed" => l.pick(
            "本人確認に失敗しました。端末からやり直してください。",
            "The verification failed. Start again from the terminal.",
        ),
        "expired" => l.pick(
            "この本人確認は有効期限が切れました。端末からやり直してください。",
            "This verification has expired. Start again from the terminal.",
        ),
        _ => "",
    }
}

#[component]
pub fn StepUpPage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).unwrap_or_default();
    let data = Resource::new(id, get_step_up);
    view! {
        <PublicLayout testid="step-up-page">
            <Title text=move || format!("{} — 門番", lang.get().pick("本人確認", "Verification")) />
            <section class="panel public">
                <h2 class="panel__title">{move || lang.get().pick("パスキーで本人確認", "Verify with your passkey")}</h2>
                <Transition fallback=|| view! { <p class="notice">"読み込み中…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(Some(s)) => view! { <StepUpBody s /> }.into_any(),
                            Ok(None) => view! {
                                <p class="notice notice--error" role="alert" data-testid="step-up-missing">
                                    {lang.get_untracked().pick("この本人確認は見つかりません。", "This verification does not exist.")}
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
fn StepUpBody(s: StepUpView) -> impl IntoView {
    let l = use_lang().get_untracked();
    let pending = s.status == "pending";
    view! {
        <div class="public__body" data-testid="step-up" data-status=s.status.clone() data-passkey-scope="step-up">
            <dl class="acct__facts">
                <div><dt>{l.pick("システム", "System")}</dt><dd>{format!("{} ({})", s.system_name, s.system)}</dd></div>
                <div><dt>{l.pick("アカウント", "Account")}</dt><dd>{s.account.clone()}</dd></div>
                <div><dt>{l.pick("氏名", "Person")}</dt><dd>{s.person_name.clone()}</dd></div>
                <div><dt>{l.pick("端末", "Terminal")}</dt><dd>{s.terminal.clone().unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>{l.pick("有効期限", "Expires")}</dt><dd>{labels::jst_time(&s.expires_at)}</dd></div>
            </dl>
            {if pending {
                view! {
                    <button type="button" class="primary" data-passkey="step-up" data-step-up=s.id.clone() data-testid="step-up-button">
                        {l.pick("パスキーで本人確認", "Verify with passkey")}
                    </button>
                }.into_any()
            } else {
                view! {
                    <p class="notice" data-testid="step-up-done">{status_text(&s.status, l)}</p>
                }.into_any()
            }}
            <p class="passkey-status" role="status" aria-live="polite" data-passkey-status="" data-testid="passkey-status"></p>
        </div>
    }
}
