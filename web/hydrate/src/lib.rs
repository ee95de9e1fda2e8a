//! The dashboard's wasm entry point. Built only for `wasm32-unknown-unknown` by
//! `scripts/build-web.sh`; wasm-bindgen turns it into `pkg/monban_web.js` +
//! `pkg/monban_web_bg.wasm`, and the page's hydration script calls [`hydrate`].
//! Everything else lives in `monban-web` (feature `hydrate`).

use wasm_bindgen::prelude::wasm_bindgen;

/// Takes over the server-rendered page. `hydrate_lazy`, not `hydrate_body`: a page other
/// than the overview is a lazy route, whose code is fetched (a wasm-split chunk) before
/// its server-rendered HTML can be hydrated.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(monban_web::App);
}
