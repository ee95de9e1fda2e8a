//! Pages rendered on the server only (issue 12): the inspection report, the accounts
//! review, the access-log import. Each is one [`Fragment`]; the browser shows the HTML
//! that [`get_fragment`] answers for it with `inner_html`, fetched again on the live tick
//! and when `/pkg/passkey.js` fires `monban:refresh` on `window`.
//!
//! Why: these pages hold no reactive state besides their data, and their view code would
//! grow the wasm bundle past its budget (docs/ARCHITECTURE.md, "Decisions"). With this
//! module a new page costs the bundle one [`Fragment`] variant and a route; its view code
//! (an ssr-only `render` module beside its page module) never reaches the browser.
//!
//! Adding a page: a variant here with its path name and titles, an arm in
//! `render` that calls the page module's `fragment(query, lang)` (ssr; it checks the
//! role, reads its data source, renders), a route in `app.rs` and `routes.rs`.
//!
//! Forms on these pages are plain HTML forms posting to the server's dashboard routes
//! with the session's `_csrf`, or `data-passkey` buttons run by `/pkg/passkey.js`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_location;
use serde::{Deserialize, Serialize};

use crate::api::DashError;
use crate::app::{use_live_tick, Layout};
use crate::i18n::{use_lang, Lang};

/// A server-rendered page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fragment {
    /// `/maintenance`: vendor maintenance (保守).
    Maintenance,
    /// `/maintenance/report`: the printable maintenance report (保守作業報告書).
    MaintenanceReport,
    /// `/inspection`: the inspection report (立入検査用報告書).
    Inspection,
    /// `/accounts`: the account review (アカウントの棚卸し).
    Accounts,
    /// `/imports`: access-log import (アクセスログの取込み).
    Imports,
}

impl Fragment {
    /// The name the server function is called with (and the page's test id).
    pub fn name(self) -> &'static str {
        match self {
            Fragment::Maintenance => "maintenance",
            Fragment::MaintenanceReport => "maintenance-report",
            Fragment::Inspection => "inspection",
            Fragment::Accounts => "accounts",
            Fragment::Imports => "imports",
        }
    }

    #[cfg_attr(not(feature = "ssr"), allow(dead_code))]
    fn from_name(name: &str) -> Option<Fragment> {
        Fragment::ALL.into_iter().find(|f| f.name() == name)
    }

    pub const ALL: [Fragment; 5] = [
        Fragment::Maintenance,
        Fragment::MaintenanceReport,
        Fragment::Inspection,
        Fragment::Accounts,
        Fragment::Imports,
    ];

    /// The page's title (`<title>`), Japanese and English.
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Fragment::Maintenance => ("保守", "Maintenance"),
            Fragment::MaintenanceReport => ("保守作業報告書", "Maintenance report"),
            Fragment::Inspection => ("立入検査用報告書", "Inspection report"),
            Fragment::Accounts => ("アカウントの棚卸し", "Account review"),
            Fragment::Imports => ("アクセスログの取込み", "Access-log import"),
        }
    }

    /// The test id of the page's status line (where passkey.js writes its messages).
    fn status_testid(self) -> &'static str {
        match self {
            Fragment::Maintenance | Fragment::MaintenanceReport => "maint-status",
            Fragment::Inspection | Fragment::Imports => "fragment-status",
            Fragment::Accounts => "acc-status",
        }
    }
}

/// A page's query parameters as the browser sent them (the first value of each name).
pub type Query = std::collections::BTreeMap<String, String>;

/// Parses `a=1&b=x%20y` (with or without the leading `?`).
pub fn parse_query(search: &str) -> Query {
    let mut out = Query::new();
    for pair in search.trim_start_matches('?').split('&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode(k), decode(v));
        out.entry(k).or_insert(v);
    }
    out
}

/// Percent-decoding of a query component (`+` is a space); invalid escapes stay as they
/// are, invalid UTF-8 becomes U+FFFD.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The page's body as HTML (`GET /api/dash/fragment`), for the signed-in user, in the
/// page language; `query` is the page URL's query string.
#[server(prefix = "/api/dash", endpoint = "fragment", input = GetUrl, output = crate::api::TextJson)]
pub async fn get_fragment(page: String, query: String, en: bool) -> Result<String, DashError> {
    crate::pages::account::no_store();
    let Some(page) = Fragment::from_name(&page) else {
        return Err(DashError::Unavailable);
    };
    let lang = if en { Lang::En } else { Lang::Ja };
    render(page, &parse_query(&query), lang).await
}

/// Renders `page` (server only).
#[cfg(feature = "ssr")]
async fn render(page: Fragment, query: &Query, lang: Lang) -> Result<String, DashError> {
    match page {
        Fragment::Maintenance => crate::pages::maintenance::fragment(lang).await,
        Fragment::MaintenanceReport => {
            crate::pages::maintenance::report_fragment(query, lang).await
        }
        Fragment::Inspection => crate::pages::inspection::fragment(query, lang).await,
        Fragment::Accounts => crate::pages::accounts::fragment(query, lang).await,
        Fragment::Imports => crate::pages::imports::fragment(query, lang).await,
    }
}

/// Bumps the live tick when passkey.js fires `monban:refresh` (something the page shows
/// was stored): the page's data is fetched again.
pub(crate) fn refresh_on_event() {
    #[cfg(feature = "hydrate")]
    {
        if let Some(crate::app::LiveBump(bump)) = use_context::<crate::app::LiveBump>() {
            Effect::new(move |_| {
                // Kept for the page's lifetime; the listener only bumps the tick.
                let _handle = window_event_listener_untyped("monban:refresh", move |_| {
                    bump.update(|t| *t += 1)
                });
            });
        }
    }
}

/// The server-rendered body, or why it could not be read.
pub(crate) fn body(result: Result<String, DashError>) -> AnyView {
    match result {
        Ok(html) => view! { <div class="fragment__body" inner_html=html></div> }.into_any(),
        Err(e) => view! {
            <p class="notice notice--error" role="alert" data-testid="error">{e.to_string()}</p>
        }
        .into_any(),
    }
}

/// A server-rendered page: its body fetched for the current query and language.
#[component]
pub fn FragmentPage(page: Fragment) -> impl IntoView {
    let lang = use_lang();
    let tick = use_live_tick();
    let location = use_location();
    refresh_on_event();
    let data = Resource::new(
        move || (tick.get(), location.search.get(), lang.get()),
        move |(_, search, l)| get_fragment(page.name().to_string(), search, l == Lang::En),
    );
    let (ja, en) = page.title();
    view! {
        <Layout testid=page.name()>
            <Title text=move || format!("{} — 門番", lang.get().pick(ja, en)) />
            <p class="notice passkey-status" role="status" aria-live="polite" data-passkey-status="" data-testid=page.status_testid()></p>
            <Transition fallback=move || view! { <p class="notice">{move || lang.get().pick("読み込み中…", "Loading…")}</p> }>
                {move || Suspend::new(async move { body(data.await) })}
            </Transition>
        </Layout>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_decoded() {
        let q =
            parse_query("?from=2026-11-01&to=2026-11-30&note=a+b%20c&x=%E6%97%A5&bad=%zz&from=2");
        assert_eq!(q["from"], "2026-11-01");
        assert_eq!(q["to"], "2026-11-30");
        assert_eq!(q["note"], "a b c");
        assert_eq!(q["x"], "日");
        assert_eq!(q["bad"], "%zz");
        assert_eq!(parse_query(""), Query::new());
        assert_eq!(parse_query("a")["a"], "");
        assert_eq!(parse_query("t=%4")["t"], "%4");
    }

    #[test]
    fn names_round_trip() {
        for f in Fragment::ALL {
            assert_eq!(Fragment::from_name(f.name()), Some(f));
        }
        assert_eq!(Fragment::from_name("nope"), None);
    }
}
