//! Which parts of the split wasm bundle a page makes the browser load (issue 10,
//! point 7; `scripts/build-web.sh`, `web/src/routes.rs`).
//!
//! The overview is in the main module: its page names no lazily loaded module and the
//! browser fetches none. A page that is a lazy route (`/rooms`) names, in
//! `<link rel="preload">`, exactly the modules `pkg/__wasm_split_manifest.json` lists for
//! one lazy function, and the browser fetches exactly those. Both pages hydrate (the live
//! indicator says ライブ更新中), at the phone size, and the bytes the browser received
//! for the overview's JS and wasm (gzip, as served) are within the 300 KB that
//! build-web.sh checks.

use crate::harness::*;
use crate::Browser;
use serde_json::Value;
use std::collections::BTreeSet;

/// The bundle's files this page fetched: `[path, encodedBodySize, decodedBodySize]` of
/// every `/pkg/*.js` and `/pkg/*.wasm` in the resource timeline (first entry per path).
const PKG_RESOURCES: &str = "
    const seen = new Map();
    for (const e of performance.getEntriesByType('resource')) {
        const path = new URL(e.name).pathname;
        if (/^\\/pkg\\/.*\\.(js|wasm)$/.test(path) && !seen.has(path)) {
            seen.set(path, [path, e.encodedBodySize, e.decodedBodySize]);
        }
    }
    return [...seen.values()];";

/// The `href`s of the page's `<link rel="preload">` and `<link rel="modulepreload">`.
const PRELOADS: &str = "
    return [...document.querySelectorAll(\"link[rel='preload'], link[rel='modulepreload']\")]
        .map(l => l.getAttribute('href'));";

/// The live indicator's text, once the page follows the hub.
const LIVE: &str = "
    const e = document.querySelector(\"[data-testid='live'][data-live='live']\");
    return e && e.textContent.includes('ライブ更新中') ? e.textContent.trim() : null;";

/// Lazily loaded modules among paths: `/pkg/split_*.wasm`, `/pkg/chunk_*.wasm`.
fn lazy_modules<'a>(paths: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    paths
        .into_iter()
        .filter(|p| p.starts_with("/pkg/split_") || p.starts_with("/pkg/chunk_"))
        .filter(|p| p.ends_with(".wasm"))
        .map(str::to_string)
        .collect()
}

fn paths(resources: &Value) -> Vec<&str> {
    resources
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| r[0].as_str().expect("a path"))
        .collect()
}

#[tokio::test]
async fn the_overview_loads_the_main_module_only_and_a_lazy_page_its_preloaded_modules() {
    let test = "bundle";
    let Some(browser) = Browser::start(test).await else {
        return;
    };
    let hub = spawn_hub(HubOptions::default()).await;
    browser.sign_in(&hub, "officer").await;
    browser.set_viewport(375, 812).await;

    // The overview: the main module, its loader, the split loader; nothing lazy.
    browser.open(&hub.page_url("/"), "overview").await;
    browser
        .wait_js("the overview to go live", LIVE, vec![])
        .await;
    let resources = browser.js(PKG_RESOURCES, vec![]).await;
    let loaded = paths(&resources);
    for main in [
        "/pkg/monban_web.js",
        "/pkg/monban_web_bg.wasm",
        "/pkg/__wasm_split.______________________.js",
    ] {
        assert!(
            loaded.contains(&main),
            "the overview loads {main}: {loaded:?}"
        );
    }
    assert_eq!(
        lazy_modules(loaded.iter().copied()),
        BTreeSet::new(),
        "the overview loads no lazily loaded module: {loaded:?}"
    );
    let preloads = browser.js(PRELOADS, vec![]).await;
    let preloads: Vec<&str> = preloads
        .as_array()
        .expect("preloads")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        lazy_modules(preloads.iter().copied()),
        BTreeSet::new(),
        "the overview preloads no lazily loaded module: {preloads:?}"
    );
    // What the browser received: gzip (the precompressed copies), within the budget.
    let mut received = 0;
    for r in resources.as_array().expect("resources") {
        let (path, encoded, decoded) = (&r[0], r[1].as_u64(), r[2].as_u64());
        let (Some(encoded), Some(decoded)) = (encoded, decoded) else {
            panic!("sizes of {path}: {r}");
        };
        if path.as_str().is_some_and(|p| p.ends_with(".wasm")) {
            assert!(encoded < decoded, "{path} is served compressed: {r}");
        }
        received += encoded;
    }
    assert!(
        received <= 300_000,
        "the overview's JS and wasm are {received} bytes as received (limit 300 000): {resources}"
    );
    browser.screenshot("overview-375").await;

    // The modules each lazy function needs, as the server knows them.
    let manifest = browser
        .js(
            "return fetch('/pkg/__wasm_split_manifest.json').then(r => r.json())",
            vec![],
        )
        .await;
    let groups: Vec<BTreeSet<String>> = manifest
        .as_object()
        .expect("the manifest is an object")
        .values()
        .map(|modules| {
            modules
                .as_array()
                .expect("a list of modules")
                .iter()
                .map(|m| format!("/pkg/{}.wasm", m.as_str().expect("a module name")))
                .collect()
        })
        .collect();
    assert!(
        !groups.is_empty(),
        "the manifest names the lazy pages' modules: {manifest}"
    );

    // A lazy page, opened directly: it preloads and loads exactly one function's modules.
    browser.open(&hub.page_url("/rooms"), "rooms").await;
    browser
        .wait_js("the rooms page to go live", LIVE, vec![])
        .await;
    let preloads = browser.js(PRELOADS, vec![]).await;
    let preloaded = lazy_modules(
        preloads
            .as_array()
            .expect("preloads")
            .iter()
            .filter_map(Value::as_str),
    );
    // The preload links are best effort: leptos_integration_utils 0.8.9 looks the split
    // manifest up (`use_context::<WasmSplitManifest>()`) after awaiting the render,
    // outside the page's reactive owner, so on some renders — it depends on which thread
    // resumes the response — it finds none and the page goes without them (the modules
    // then load after the main one, as without a split). When they are there, they are
    // exactly one lazy function's modules.
    assert!(
        preloaded.is_empty() || groups.contains(&preloaded),
        "/rooms preloads the modules of one lazy function: {preloaded:?}, manifest {manifest}"
    );
    let resources = browser.js(PKG_RESOURCES, vec![]).await;
    let loaded = lazy_modules(paths(&resources));
    assert!(
        groups.contains(&loaded),
        "/rooms loads the modules of exactly one lazy function: {loaded:?}, manifest {manifest}"
    );
    if !preloaded.is_empty() {
        assert_eq!(
            loaded, preloaded,
            "/rooms loads the modules it preloads: {resources}"
        );
    }
    browser.screenshot("rooms-375").await;
    browser.close().await;
}
