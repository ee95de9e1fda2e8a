//! The dashboard's wasm entry point. Built only for `wasm32-unknown-unknown` by
//! `scripts/build-web.sh`; wasm-bindgen turns it into `pkg/monban_web.js` +
//! `pkg/monban_web_bg.wasm`, and the page's hydration script calls [`hydrate`].
//! Everything else lives in `monban-web` (feature `hydrate`).

use wasm_bindgen::prelude::wasm_bindgen;

/// Takes over the server-rendered page.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(monban_web::App);
}
