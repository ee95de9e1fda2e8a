//! My account (`/account`): my passkeys (rename, revoke, add one more), my recent
//! sign-ins, sign-out. Also the pieces the other account pages share: the one-time
//! [`Flash`] message, [`PasskeyView`], the hidden form fields and date formatting.
//!
//! Every change is a plain HTML form posted to the hub (`monban_server::http::forms`)
//! with the session's `_csrf`, answered by a redirect back here (post/redirect/get); the
//! result is shown once as the session's flash. Adding a passkey is a WebAuthn ceremony
//! run by `/pkg/passkey.js` (button `data-passkey="add"` with `data-csrf`).
//!
//! Test ids: `account-name`, `account-role`, `passkey-row` (`data-id`, `data-revoked`),
//! `passkey-rename`, `passkey-revoke`, `passkey-add`, `passkey-status`, `signin-row`,
//! `flash` (`data-kind`), `new-link`, `new-token`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::Layout;
use crate::auth::Role;
use crate::i18n::{use_lang, Lang};
use crate::labels;
use crate::pages::audit::AuditView;

/// A one-time message left by a form post for the next page (`Store::set_flash`): an
/// outcome, an error, or a secret shown exactly once (an enrollment link, a token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flash {
    /// `ok`, `error`, `link` (an enrollment link) or `token` (an API token).
    pub kind: String,
    pub ja: String,
    pub en: String,
    /// The link or token text, shown once.
    #[serde(default)]
    pub secret: Option<String>,
}

/// A passkey as the pages list it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Everything the account page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub user_id: String,
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub passkeys: Vec<PasskeyView>,
    /// My recent sign-ins (and failures), newest first.
    pub signins: Vec<AuditView>,
    pub flash: Option<Flash>,
    pub csrf: String,
}

/// The session's one-time message (server only).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait FlashSource: Send + Sync + 'static {
    /// Takes (reads and clears) the flash of the session that made `request`.
    async fn take_flash(&self, _request: &axum::http::request::Parts) -> Option<Flash> {
        None
    }
}

/// What the account page needs from the hub.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AccountSource: Send + Sync + 'static {
    /// The user's account; `flash` and `csrf` are filled by the server function.
    async fn account(&self, _user_id: String) -> Result<AccountView, crate::api::SourceError> {
        Err("the account page is not available".into())
    }
}

/// Marks a server function's answer as not cacheable (server only).
#[cfg(feature = "ssr")]
pub(crate) fn no_store() {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
    }
}

/// The injected data source (server only).
#[cfg(feature = "ssr")]
pub(crate) fn source() -> Result<std::sync::Arc<dyn crate::DashboardSource>, DashError> {
    use_context::<std::sync::Arc<dyn crate::DashboardSource>>().ok_or(DashError::NotConfigured)
}

/// Takes the session's flash (server only). `parts` must be read from the context
/// before the server function's first `await`.
#[cfg(feature = "ssr")]
pub(crate) async fn take_flash(
    source: &std::sync::Arc<dyn crate::DashboardSource>,
    parts: Option<axum::http::request::Parts>,
) -> Option<Flash> {
    match parts {
        Some(p) => source.take_flash(&p).await,
        None => None,
    }
}

/// Logs a source failure and hides its detail from the browser (server only).
#[cfg(feature = "ssr")]
pub(crate) fn unavailable(page: &'static str) -> impl Fn(crate::api::SourceError) -> DashError {
    move |message| {
        tracing::warn!(error = %message, page, "dashboard: page data failed");
        DashError::Unavailable
    }
}

/// The account page's data (`GET /api/dash/account`).
#[server(prefix = "/api/dash", endpoint = "account", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_account() -> Result<AccountView, DashError> {
    no_store();
    let viewer = crate::auth::current_viewer().ok_or(DashError::Forbidden)?;
    let parts = use_context::<axum::http::request::Parts>();
    let source = source()?;
    let mut view = source
        .account(viewer.user_id.clone())
        .await
        .map_err(unavailable("account"))?;
    view.flash = take_flash(&source, parts).await;
    view.csrf = viewer.csrf;
    Ok(view)
}

/// A JST time, or `—`.
pub fn when(t: &Option<String>) -> String {
    t.as_deref()
        .map(labels::jst_time)
        .unwrap_or_else(|| "—".into())
}

/// The hidden fields of every state-changing form: the session's CSRF token and the
/// page language (the redirect keeps it).
#[component]
pub fn FormKeys(csrf: String) -> impl IntoView {
    let l = use_lang().get_untracked();
    view! {
        <input type="hidden" name="_csrf" value=csrf />
        <input type="hidden" name="lang" value=l.code() />
    }
}

/// Shows a flash: a message, and a secret (link or token) once, copy-friendly.
#[component]
pub fn FlashNotice(flash: Option<Flash>) -> impl IntoView {
    let l = use_lang().get_untracked();
    flash.map(|f| {
        let class = if f.kind == "error" {
            "notice notice--error flash"
        } else {
            "notice notice--ok flash"
        };
        let role = if f.kind == "error" { "alert" } else { "status" };
        let text = l.pick(&f.ja, &f.en).to_string();
        let secret = f.secret.clone().map(|s| {
            let testid = if f.kind == "token" {
                "new-token"
            } else {
                "new-link"
            };
            view! {
                <p class="flash__secret">
                    <code data-testid=testid class="flash__code">{s}</code>
                </p>
                <p class="sub">
                    {l.pick(
                        "この値は一度だけ表示されます。いまコピーしてください。",
                        "This is shown only once: copy it now.",
                    )}
                </p>
            }
        });
        view! {
            <div class=class role=role data-testid="flash" data-kind=f.kind.clone()>
                <p>{text}</p>
                {secret}
            </div>
        }
    })
}

/// A role's label in the page language.
pub fn role_label(role: Role, l: Lang) -> &'static str {
    let (ja, en) = labels::role(role.as_str());
    l.pick(ja, en)
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let lang = use_lang();
    let data = Resource::new(move || lang.get(), |_| get_account());
    view! {
        <Layout testid="account">
            <Title text=move || format!("{} — 門番", lang.get().pick("アカウント", "Account")) />
            <section class="panel acct">
                <h2 class="panel__title">{move || lang.get().pick("アカウント", "Account")}</h2>
                <Transition fallback=|| view! { <p class="notice">"読み込み中…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(v) => view! { <AccountBody v /> }.into_any(),
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
fn AccountBody(v: AccountView) -> impl IntoView {
    let l = use_lang().get_untracked();
    let AccountView {
        name,
        role,
        created_at,
        passkeys,
        signins,
        flash,
        csrf,
        ..
    } = v;
    let active = passkeys.iter().filter(|p| p.revoked_at.is_none()).count();
    let rows = passkeys
        .into_iter()
        .map(|p| {
            let revoked = p.revoked_at.is_some();
            let rename = format!("/account/passkeys/{}/rename", p.id);
            let revoke = format!("/account/passkeys/{}/revoke", p.id);
            let last = active <= 1 && !revoked;
            let csrf_a = csrf.clone();
            let csrf_b = csrf.clone();
            view! {
                <tr data-testid="passkey-row" data-id=p.id.clone() data-revoked=revoked.to_string()>
                    <td data-label=l.pick("名前", "Name")>{p.name.clone()}</td>
                    <td data-label=l.pick("登録", "Created")>{labels::jst_time(&p.created_at)}</td>
                    <td data-label=l.pick("最終使用", "Last used")>{when(&p.last_used_at)}</td>
                    <td data-label=l.pick("状態", "State")>
                        {if revoked {
                            format!("{} {}", l.pick("失効", "Revoked"), when(&p.revoked_at))
                        } else {
                            l.pick("有効", "Active").to_string()
                        }}
                    </td>
                    <td data-label=l.pick("操作", "Actions") class="acct__actions">
                        {(!revoked).then(|| view! {
                            <form method="post" action=rename class="inline-form" data-testid="passkey-rename">
                                <FormKeys csrf=csrf_a />
                                <label>
                                    <span class="sr-only">{l.pick("新しい名前", "New name")}</span>
                                    <input name="name" required=true maxlength="80" value=p.name.clone() />
                                </label>
                                <button type="submit">{l.pick("名前を変更", "Rename")}</button>
                            </form>
                            {if last {
                                view! {
                                    <p class="sub" data-testid="passkey-last">
                                        {l.pick(
                                            "最後の有効なパスキーは失効できません（失うと管理者の新しい登録リンクが必要です）。",
                                            "The last active passkey cannot be revoked (losing it means asking an administrator for a new invite).",
                                        )}
                                    </p>
                                }.into_any()
                            } else {
                                view! {
                                    <form method="post" action=revoke class="inline-form" data-testid="passkey-revoke">
                                        <FormKeys csrf=csrf_b />
                                        <button type="submit" class="danger">{l.pick("失効させる", "Revoke")}</button>
                                    </form>
                                }.into_any()
                            }}
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let signin_rows = signins
        .into_iter()
        .map(|a| {
            view! {
                <tr data-testid="signin-row" data-action=a.action.clone()>
                    <td data-label=l.pick("日時 (JST)", "When (JST)")><time datetime=a.at.clone()>{labels::jst_time(&a.at)}</time></td>
                    <td data-label=l.pick("結果", "Result")>{labels::audit_action(&a.action, l == Lang::En).to_string()}</td>
                    <td data-label=l.pick("接続元", "Address")><code>{a.address.clone()}</code></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <FlashNotice flash />
        <dl class="acct__facts">
            <div><dt>{l.pick("ユーザー名", "User name")}</dt><dd data-testid="account-name">{name}</dd></div>
            <div><dt>{l.pick("役割", "Role")}</dt><dd data-testid="account-role" data-role=role.as_str()>{role_label(role, l)}</dd></div>
            <div><dt>{l.pick("作成", "Created")}</dt><dd>{labels::jst_time(&created_at)}</dd></div>
        </dl>
        <section class="acct__section" aria-labelledby="acct-pk-h">
            <h3 id="acct-pk-h">{l.pick("パスキー", "Passkeys")}</h3>
            <div class="table-wrap">
                <table class="grid grid--cards">
                    <thead><tr>
                        <th scope="col">{l.pick("名前", "Name")}</th>
                        <th scope="col">{l.pick("登録", "Created")}</th>
                        <th scope="col">{l.pick("最終使用", "Last used")}</th>
                        <th scope="col">{l.pick("状態", "State")}</th>
                        <th scope="col">{l.pick("操作", "Actions")}</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <div class="acct__add" data-passkey-scope="add">
                <label>
                    {l.pick("新しいパスキーの名前", "Name of the new passkey")}
                    <input name="passkey_name" maxlength="80" placeholder=l.pick("例: 予備のキー", "e.g. spare key") />
                </label>
                <button type="button" data-passkey="add" data-csrf=csrf.clone() data-testid="passkey-add">
                    {l.pick("パスキーを追加", "Add a passkey")}
                </button>
                <p class="passkey-status" role="status" aria-live="polite" data-passkey-status="" data-testid="passkey-status"></p>
            </div>
        </section>
        <section class="acct__section" aria-labelledby="acct-signins-h">
            <h3 id="acct-signins-h">{l.pick("最近のサインイン", "Recent sign-ins")}</h3>
            <div class="table-wrap">
                <table class="grid grid--cards">
                    <thead><tr>
                        <th scope="col">{l.pick("日時 (JST)", "When (JST)")}</th>
                        <th scope="col">{l.pick("結果", "Result")}</th>
                        <th scope="col">{l.pick("接続元", "Address")}</th>
                    </tr></thead>
                    <tbody>{signin_rows}</tbody>
                </table>
            </div>
        </section>
        <form method="post" action="/signout" class="acct__signout">
            <FormKeys csrf />
            <button type="submit" data-testid="account-signout">{l.pick("サインアウト", "Sign out")}</button>
        </form>
    }
}
