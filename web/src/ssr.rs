//! The server side of the dashboard (`ssr` feature): the router the hub mounts, the HTML
//! shell and the Leptos options.
//!
//! The hub calls [`dashboard_router`] once and merges the result into its own router.
//! The dashboard claims `/`, `/api/dash/*` and `/pkg/*` only; `/api/v1/*` stays the
//! hub's.
//!
//! # Site root
//!
//! ```text
//! <site_root>/pkg/monban_web.js          wasm-bindgen's loader   (scripts/build-web.sh)
//! <site_root>/pkg/monban_web_bg.wasm     the main module: runtime, page frame, overview
//! <site_root>/pkg/split_*.wasm           the lazy routes' code (crate::routes), and
//! <site_root>/pkg/chunk_*.wasm             code lazy modules share, if any
//! <site_root>/pkg/__wasm_split.______________________.js   their loader
//! <site_root>/pkg/__wasm_split_manifest.json   lazy function -> modules
//! <site_root>/pkg/monban.css             web/style/monban.css
//! <site_root>/pkg/*.gz                   precompressed copies, served when accepted
//! ```
//!
//! Without `pkg/monban_web.js` the page is still complete (server-rendered) but static:
//! the shell then leaves out the hydration scripts rather than pointing the browser at a
//! file that is not there.
//!
//! Leptos's `HydrationScripts` reads the manifest once per process, at the first page
//! it renders, and from then on adds `<link rel="preload">` for the modules of the lazy
//! page being rendered (the browser fetches them alongside the main module instead of
//! after it). A bundle rebuilt while the hub runs is hydrated all the same, but its
//! preloads only after a restart of the hub (which a rebuilt bundle needs anyway: the
//! server and the bundle must come from the same source).
//!
//! # Content Security Policy
//!
//! Every page is sent with a `Content-Security-Policy` header without `'unsafe-inline'`
//! (see [`content_security_policy`]). Leptos's hydration script and its streamed
//! resource scripts are inline; they carry the request's nonce, which `leptos_axum`
//! draws fresh for every render (`leptos::nonce::provide_nonce`, 16 random bytes) and
//! [`shell`] puts into the page's policy as `'nonce-…'`. Views use classes, never
//! `style="…"` attributes, so `style-src 'self'` holds.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes, ResponseOptions};
use leptos_meta::MetaTags;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeader;

use crate::app::App;
use crate::DashboardSource;

/// The wasm-bindgen `--out-name`: the bundle is `pkg/monban_web.js` + `pkg/monban_web_bg.wasm`.
pub const OUTPUT_NAME: &str = "monban_web";
/// The directory under the site root that holds the bundle and the stylesheet.
pub const SITE_PKG_DIR: &str = "pkg";
/// The stylesheet's file name inside [`SITE_PKG_DIR`].
pub const STYLESHEET: &str = "monban.css";

/// Leptos options for a site rooted at `site_root`.
pub fn leptos_options(site_root: &Path) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir(SITE_PKG_DIR)
        .build()
}

/// Whether the hydration bundle has been built into the site root.
fn bundle_present(options: &LeptosOptions) -> bool {
    Path::new(&*options.site_root)
        .join(&*options.site_pkg_dir)
        .join(format!("{}.js", options.output_name))
        .is_file()
}

/// The Content Security Policy of the hub's responses. With `Some(nonce)` (a page),
/// inline scripts carrying that nonce may run; with `None` (any other response) no
/// inline script may. `'wasm-unsafe-eval'` lets the page compile the hydration bundle;
/// nothing allows inline styles.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(n) => format!("'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_string(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Sets the page's `Content-Security-Policy` header with the request's nonce (provided
/// by `leptos_axum` for every render). Without a nonce the hub's default policy, which
/// allows no inline script, applies.
fn set_page_csp() {
    let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) else {
        return;
    };
    match HeaderValue::from_str(&content_security_policy(Some(&nonce))) {
        Ok(value) => response.insert_header(header::CONTENT_SECURITY_POLICY, value),
        Err(e) => {
            tracing::error!(error = %e, "the page's Content-Security-Policy is not a header value")
        }
    }
}

/// The HTML document around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    set_page_csp();
    // Checked per request: the bundle may be built after the hub started.
    let hydrate = bundle_present(&options);
    let stylesheet = format!("/{}/{STYLESHEET}", options.site_pkg_dir);
    view! {
        <!DOCTYPE html>
        <html lang="ja">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="stylesheet" href=stylesheet />
                <script src="/pkg/passkey.js" defer></script>
                {hydrate.then(|| view! { <HydrationScripts options /> })}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The dashboard's routes, generated once per process.
///
/// Generating them renders the app with resource loading suppressed by a flag that is
/// global to the process (`leptos_server`'s `SuppressResourceLoad`, leptos issue #4773):
/// a resource first polled by *another* render while the flag is up never resolves, and
/// that page hangs. Every router (several per process in tests, one in the hub) reuses
/// the first list, so the flag is never raised while a page renders.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The dashboard as an axum router: `GET /` (server-rendered, then hydrated), the server
/// functions under `/api/dash/`, and the static files `/pkg/*` from `site_root/pkg`.
///
/// `source` is provided as context (`Arc<dyn DashboardSource>`) to every render and
/// every server-function call.
pub fn dashboard_router(source: Arc<dyn DashboardSource>, site_root: PathBuf) -> Router {
    let options = leptos_options(&site_root);
    let routes = route_list();
    // The CSP nonce needs nothing here: `leptos_axum` provides a fresh one for every
    // render before this context (see [`shell`]).
    let context = move || provide_context(Arc::clone(&source));
    let shell_options = options.clone();

    // Bundle names carry no hash, so browsers must revalidate (a cheap 304) to never run
    // a stale bundle against a newer server.
    let pkg = SetResponseHeader::overriding(
        ServeDir::new(site_root.join(SITE_PKG_DIR))
            .precompressed_gzip()
            .precompressed_br(),
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );

    Router::new()
        .leptos_routes_with_context(&options, routes, context, move || {
            shell(shell_options.clone())
        })
        .nest_service(&format!("/{SITE_PKG_DIR}"), pkg)
        .with_state(options)
}
