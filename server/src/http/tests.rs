//! The assembled application ([`super::app`]): its routes equal the OpenAPI document,
//! every ingest body is bounded with the contract's error body, and every page's inline
//! script carries the page's fresh nonce under the hardening's policy. (These tests sit
//! here, above `openapi`, `hardening` and `dashboard`, because they need the whole app.)

use super::hardening::{Hardening, PERMISSIONS_POLICY};
use super::openapi::spec_json;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt as _;

/// Documented operations whose route is still to come (none now). The route test fails
/// once such a route exists, so the entry is removed then.
const PENDING: &[(&str, &str)] = &[];

/// The HTTP methods of OpenAPI path items that the hub uses.
const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

fn spec() -> Value {
    spec_json()
}

/// `(METHOD, path)` of every documented operation.
fn documented(spec: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(*m).is_some() {
                ops.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// `(METHOD, path)` of every `.route("…", get(…).post(…))` of the API in the server's
/// sources: `/api/v1/…`, `/healthz`, `/metrics`.
fn routed_in_sources() -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                routes_of(&std::fs::read_to_string(&path).unwrap(), &mut ops);
            }
        }
    }
    ops
}

fn routes_of(text: &str, ops: &mut BTreeSet<(String, String)>) {
    let mut rest = text;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        // The call's arguments, up to the matching parenthesis.
        let mut depth = 1;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let args = &rest[..end];
        let Some(path) = args
            .trim_start()
            .strip_prefix('"')
            .and_then(|a| a.split_once('"'))
            .map(|(p, _)| p)
        else {
            continue;
        };
        if !(path.starts_with("/api/v1/") || path == "/healthz" || path == "/metrics") {
            continue;
        }
        let bytes = args.as_bytes();
        for m in METHODS {
            let call = format!("{m}(");
            let mut from = 0;
            while let Some(i) = args[from..].find(&call) {
                let i = from + i;
                let before = if i == 0 { b' ' } else { bytes[i - 1] };
                if !(before.is_ascii_alphanumeric() || before == b'_') {
                    ops.insert((m.to_uppercase(), path.to_string()));
                }
                from = i + call.len();
            }
        }
    }
}

async fn hub(dir: &std::path::Path) -> super::AppState {
    let text = format!(
        "[server]\ndatabase = \"sqlite://{}/monban.db\"\n[site]\nid = \"test\"\n",
        dir.display()
    );
    let config = crate::config::Config::parse(&text, "monban.toml", dir).unwrap();
    crate::prepare(&config, "test", crate::clock::Clock::system())
        .await
        .unwrap()
}

async fn app(dir: &std::path::Path) -> axum::Router {
    super::app(hub(dir).await, &Hardening::default())
}

fn request(method: &str, path: &str) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    req
}

/// Every documented operation is routed, and every API route of the sources is
/// documented (CI fails when one is added without the other).
#[tokio::test]
async fn the_spec_and_the_routes_are_equal() {
    let spec = spec();
    let documented = documented(&spec);
    let routed = routed_in_sources();
    let pending: BTreeSet<(String, String)> = PENDING
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    // `/api/v1/openapi.json` is routed by `openapi`'s closure, so the scan finds it too.
    let missing: Vec<_> = routed.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes without a spec entry: {missing:?}"
    );
    let unrouted: Vec<_> = documented
        .difference(&routed)
        .filter(|op| !pending.contains(*op))
        .collect();
    assert!(
        unrouted.is_empty(),
        "spec entries without a route: {unrouted:?}"
    );

    // And the running router agrees: each documented operation answers neither the
    // fallback's 404 nor 405 (no token is sent, so nothing is stored).
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    for (method, path) in &documented {
        let concrete = path.replace("{event_id}", "l-x").replace("{id}", "x");
        let res = app
            .clone()
            .oneshot(request(method, &concrete))
            .await
            .unwrap();
        let status = res.status();
        let pending_op = pending.contains(&(method.clone(), path.clone()));
        if pending_op {
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{method} {path} is routed now: remove it from PENDING"
            );
        } else {
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {status}"
            );
        }
    }
    // A method the spec does not list for a path is 405.
    let res = app
        .clone()
        .oneshot(request("DELETE", "/api/v1/door-events"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "POST");
    // Also on the read-only public endpoints (no CSRF proof is asked there).
    for method in ["POST", "TRACE", "DELETE"] {
        let res = app
            .clone()
            .oneshot(request(method, "/healthz"))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert!(res.headers().contains_key("allow"), "{method}");
    }
}

#[tokio::test]
async fn the_spec_is_served_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let res = app(dir.path())
        .await
        .oneshot(request("GET", "/api/v1/openapi.json"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let served: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(served, spec());
}

/// Every ingest endpoint answers a body over 64 KiB with the documented `413` error body
/// (CONTRACT §9), after the token is checked.
#[tokio::test]
async fn ingest_bodies_over_64_kib_are_413_with_the_error_body() {
    use crate::store::TokenScope;
    let dir = tempfile::tempdir().unwrap();
    let hub = hub(dir.path()).await;
    let clock = crate::clock::Clock::system();
    let ehr = monban_core::SystemId::parse("ehr").unwrap();
    let login = crate::issue_token(&hub.store, TokenScope::Login(ehr), "t", &clock)
        .await
        .unwrap();
    let doors = crate::issue_token(&hub.store, TokenScope::Doors(None), "t", &clock)
        .await
        .unwrap();
    let app = super::app(hub, &Hardening::default());
    let big = format!(
        "{{\"system\": \"ehr\", \"account\": \"{}\"}}",
        "x".repeat(super::extract::BODY_LIMIT)
    );
    for (path, token) in [
        ("/api/v1/logins", &login),
        ("/api/v1/step-up", &login),
        ("/api/v1/door-events", &doors),
    ] {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(big.clone()))
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "payload_too_large", "{path}");
    }
}

// ---- the dashboard's pages under the hardening's policy --------------------------------

fn page_request(method: Method, path: &str, from: [u8; 4]) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((from, 40000))));
    req
}

fn assert_security_headers(res: &Response) {
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    assert_eq!(h["permissions-policy"], PERMISSIONS_POLICY);
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

/// The dashboard's pages, on a hub with an empty store and a (fake) built bundle so
/// that the page carries Leptos's inline hydration script.
async fn dashboard(dir: &std::path::Path) -> Router {
    let text = format!(
        "[server]\ndatabase = \"sqlite://{}/monban.db\"\n[site]\nid = \"test\"\n",
        dir.display()
    );
    let config = crate::config::Config::parse(&text, "monban.toml", dir).unwrap();
    let state = crate::prepare(&config, "test", crate::clock::Clock::system())
        .await
        .unwrap();
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg").join("monban_web.js"), "").unwrap();
    let source: Arc<dyn monban_web::DashboardSource> =
        Arc::new(super::dashboard::Source::new(&state));
    Hardening::default().apply(monban_web::dashboard_router(source, site))
}

/// The nonce of a page's policy, after checking the policy allows no inline code.
fn page_nonce(res: &Response) -> String {
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("style-src 'self';"), "{csp}");
    let (_, rest) = csp.split_once("script-src 'self' 'nonce-").expect(&csp);
    let (nonce, rest) = rest.split_once('\'').unwrap();
    assert!(rest.starts_with(" 'wasm-unsafe-eval';"), "{csp}");
    assert!(nonce.len() >= 16, "{csp}");
    nonce.to_string()
}

#[tokio::test]
async fn pages_get_a_fresh_nonce_on_every_inline_script() {
    let dir = tempfile::tempdir().unwrap();
    let app = dashboard(dir.path()).await;
    let res = app
        .clone()
        .oneshot(page_request(Method::GET, "/", [127, 0, 0, 1]))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(&res);
    let nonce = page_nonce(&res);
    let html = String::from_utf8(
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "no hydration script: {html}");
    for s in scripts {
        let tag = &s[..s.find('>').unwrap()];
        if tag.contains(" src=") {
            continue;
        }
        assert!(
            tag.contains(&format!("nonce=\"{nonce}\"")),
            "an inline script without the page's nonce: <script{tag}>"
        );
    }
    assert!(
        !html.contains(" style="),
        "an inline style attribute: {html}"
    );

    let again = app
        .oneshot(page_request(Method::GET, "/", [127, 0, 0, 1]))
        .await
        .unwrap();
    assert_ne!(page_nonce(&again), nonce, "a nonce must not be reused");
}
