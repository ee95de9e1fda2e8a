//! API tokens (`/tokens`, admin): login ingest tokens (one system each), the door-event
//! token, read tokens with a role; issue (the text is shown once) and revoke.
//!
//! Test ids: `token-row` (`data-id`, `data-kind`, `data-revoked`), `token-issue-form`,
//! `token-revoke`, `flash`, `new-token`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::Layout;
use crate::auth::Role;
use crate::i18n::{use_lang, Lang};
use crate::labels;
use crate::pages::account::{role_label, when, Flash, FlashNotice, FormKeys};
use crate::pages::users::RoleSelect;

/// A token as the page lists it (never its text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: String,
    /// `login`, `doors`, `read` or `vendor`.
    pub kind: String,
    /// The system of a login token, the vendor of a vendor token.
    pub system: Option<String>,
    pub role: Option<String>,
    pub label: String,
    pub created_at: String,
    pub created_by: Option<String>,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// Everything the tokens page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokensView {
    pub tokens: Vec<TokenView>,
    /// The inventory's systems: (id, name).
    pub systems: Vec<(String, String)>,
    /// The inventory's vendors: (id, name).
    #[serde(default)]
    pub vendors: Vec<(String, String)>,
    pub flash: Option<Flash>,
    pub csrf: String,
}

/// What the tokens page needs from the hub.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait TokensSource: Send + Sync + 'static {
    /// Tokens and systems; `flash` and `csrf` are filled by the server function.
    async fn tokens(&self) -> Result<TokensView, crate::api::SourceError> {
        Err("the tokens page is not available".into())
    }
}

/// The tokens page's data (`GET /api/dash/tokens`).
#[server(prefix = "/api/dash", endpoint = "tokens", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_tokens() -> Result<TokensView, DashError> {
    use crate::pages::account::{no_store, source, take_flash, unavailable};
    no_store();
    let viewer = crate::auth::require(crate::auth::Permission::ManageTokens)?;
    let parts = use_context::<axum::http::request::Parts>();
    let source = source()?;
    let mut view = source.tokens().await.map_err(unavailable("tokens"))?;
    view.flash = take_flash(&source, parts).await;
    view.csrf = viewer.csrf;
    Ok(view)
}

fn kind_label(kind: &str, l: Lang) -> &'static str {
    match kind {
        "login" => l.pick("ログイン取り込み", "Login ingest"),
        "doors" => l.pick("入退室取り込み", "Door events"),
        "read" => l.pick("読み取り", "Read"),
        "vendor" => l.pick("保守事業者", "Vendor"),
        _ => "",
    }
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let lang = use_lang();
    let data = Resource::new(move || lang.get(), |_| get_tokens());
    view! {
        <Layout testid="tokens">
            <Title text=move || format!("{} — 門番", lang.get().pick("APIトークン", "API tokens")) />
            <section class="panel tokens">
                <h2 class="panel__title">{move || lang.get().pick("APIトークン", "API tokens")}</h2>
                <Transition fallback=|| view! { <p class="notice">"読み込み中…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(v) => view! { <TokensBody v /> }.into_any(),
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
fn TokensBody(v: TokensView) -> impl IntoView {
    let l = use_lang().get_untracked();
    let TokensView {
        tokens,
        systems,
        vendors,
        flash,
        csrf,
    } = v;
    let rows = tokens
        .into_iter()
        .map(|t| {
            let scope = match (t.kind.as_str(), &t.system, &t.role) {
                ("login", Some(s), _) | ("vendor", Some(s), _) => s.clone(),
                ("read", _, Some(r)) => match r.parse::<Role>() {
                    Ok(role) => role_label(role, l).to_string(),
                    Err(_) => r.clone(),
                },
                _ => "—".to_string(),
            };
            let revoke = format!("/tokens/{}/revoke", t.id);
            let c = csrf.clone();
            view! {
                <tr data-testid="token-row" data-id=t.id.clone() data-kind=t.kind.clone() data-revoked=t.revoked.to_string()>
                    <td data-label="ID"><code>{t.id.clone()}</code></td>
                    <td data-label=l.pick("種類", "Kind")>{kind_label(&t.kind, l)}</td>
                    <td data-label=l.pick("システム／役割", "System / role")>{scope}</td>
                    <td data-label=l.pick("ラベル", "Label")>{t.label.clone()}</td>
                    <td data-label=l.pick("発行", "Created")>
                        {labels::jst_time(&t.created_at)}
                        <span class="sub">{t.created_by.clone().unwrap_or_else(|| "—".into())}</span>
                    </td>
                    <td data-label=l.pick("最終使用", "Last used")>{when(&t.last_used_at)}</td>
                    <td data-label=l.pick("状態", "State")>
                        {if t.revoked {
                            view! { <span>{l.pick("失効", "Revoked")}</span> }.into_any()
                        } else {
                            view! {
                                <form method="post" action=revoke class="inline-form">
                                    <FormKeys csrf=c />
                                    <button type="submit" class="danger" data-testid="token-revoke">{l.pick("失効させる", "Revoke")}</button>
                                </form>
                            }.into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <FlashNotice flash />
        <div class="table-wrap">
            <table class="grid grid--cards" data-testid="tokens-table">
                <thead><tr>
                    <th scope="col">"ID"</th>
                    <th scope="col">{l.pick("種類", "Kind")}</th>
                    <th scope="col">{l.pick("システム／役割", "System / role")}</th>
                    <th scope="col">{l.pick("ラベル", "Label")}</th>
                    <th scope="col">{l.pick("発行", "Created")}</th>
                    <th scope="col">{l.pick("最終使用", "Last used")}</th>
                    <th scope="col">{l.pick("状態", "State")}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <section class="acct__section" aria-labelledby="tokens-issue-h">
            <h3 id="tokens-issue-h">{l.pick("トークンを発行", "Issue a token")}</h3>
            <p class="sub">
                {l.pick(
                    "ログイン取り込みはシステムを、読み取りは役割を、事業者トークン（保守作業の申請と報告）は保守事業者を選びます。トークンは一度だけ表示されます。",
                    "A login ingest token needs a system, a read token a role, a vendor token (maintenance requests and reports) a vendor. The token is shown only once.",
                )}
            </p>
            <form method="post" action="/tokens/issue" class="inv__form" data-testid="token-issue-form">
                <FormKeys csrf />
                <label>
                    {l.pick("種類", "Kind")}
                    <select name="kind">
                        <option value="login">{kind_label("login", l)}</option>
                        <option value="doors">{kind_label("doors", l)}</option>
                        <option value="read">{kind_label("read", l)}</option>
                        <option value="vendor">{kind_label("vendor", l)}</option>
                    </select>
                </label>
                <label>
                    {l.pick("システム（ログイン取り込み）", "System (login ingest)")}
                    <select name="system">
                        <option value="">"—"</option>
                        {systems.into_iter().map(|(id, name)| {
                            view! { <option value=id.clone()>{format!("{name} ({id})")}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>{l.pick("役割（読み取り）", "Role (read)")}<RoleSelect selected=Role::Auditor /></label>
                <label>
                    {l.pick("保守事業者（事業者トークン）", "Vendor (vendor token)")}
                    <select name="vendor">
                        <option value="">"—"</option>
                        {vendors.into_iter().map(|(id, name)| {
                            view! { <option value=id.clone()>{format!("{name} ({id})")}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>{l.pick("ラベル", "Label")}<input name="label" required=true maxlength="80" /></label>
                <button type="submit">{l.pick("発行する", "Issue")}</button>
            </form>
        </section>
    }
}
