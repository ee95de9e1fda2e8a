//! Sign-in (`/signin`, public): a passkey — no password exists anywhere. The first
//! button (`data-passkey="signin-any"`) lets a discoverable passkey name its user; the
//! second signs in a named user. `/pkg/passkey.js` runs the ceremony and follows the
//! hub's `redirect` (the `next` page when it stays on the hub's origin, or the role's
//! home).
//!
//! Test ids: `signin-form`, `signin-discoverable`, `signin-name`, `signin-button`,
//! `passkey-status`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::app::PublicLayout;
use crate::i18n::use_lang;

#[component]
pub fn SigninPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next")).unwrap_or_default();
    view! {
        <PublicLayout testid="signin">
            <Title text=move || format!("{} — 門番", lang.get().pick("サインイン", "Sign in")) />
            <section class="panel public">
                <h2 class="panel__title">{move || lang.get().pick("サインイン", "Sign in")}</h2>
                <form class="public__body public__form" data-testid="signin-form" action="/signin" method="get">
                    <input type="hidden" name="next" value=next />
                    <button type="button" class="primary" data-passkey="signin-any" data-testid="signin-discoverable">
                        {move || lang.get().pick("パスキーでサインイン", "Sign in with a passkey")}
                    </button>
                    <p class="sub">
                        {move || lang.get().pick(
                            "登録した端末（スマートフォン・PC・セキュリティキー）の指紋・顔認証または PIN で本人確認します。",
                            "Your registered phone, PC or security key verifies you with a fingerprint, face or PIN.",
                        )}
                    </p>
                    <p class="public__or">{move || lang.get().pick("または、ユーザー名を指定して", "or, with your user name")}</p>
                    <label>
                        {move || lang.get().pick("ユーザー名", "User name")}
                        <input name="name" autocomplete="username webauthn" autocapitalize="off" spellcheck="false" data-testid="signin-name" />
                    </label>
                    <button type="submit" data-passkey="signin" data-passkey-default="" data-testid="signin-button">
                        {move || lang.get().pick("ユーザー名でサインイン", "Sign in with user name")}
                    </button>
                    <p class="passkey-status" role="status" aria-live="polite" data-passkey-status="" data-testid="passkey-status"></p>
                    <p class="sub">
                        {move || lang.get().pick(
                            "パスキーをなくした場合は、管理者に新しい登録リンクを依頼してください。",
                            "Lost your passkey? Ask an administrator for a new enrollment link.",
                        )}
                    </p>
                </form>
            </section>
        </PublicLayout>
    }
}
