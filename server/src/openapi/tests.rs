use super::*;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use monban_core::{DoorEvent, Login};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::SocketAddr;
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

async fn hub(dir: &std::path::Path) -> std::sync::Arc<crate::hub::Hub> {
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
    crate::app(hub(dir).await, &crate::hardening::Hardening::default())
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

#[test]
fn the_spec_is_openapi_3_1_with_both_security_schemes() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    // Every documented error is the one error body.
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
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
    // `/api/v1/openapi.json` is routed by this module's closure, so the scan finds it too.
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

/// The example of a component schema.
fn example(spec: &Value, schema: &str) -> Value {
    spec["components"]["schemas"][schema]["examples"][0].clone()
}

/// The required and the optional properties of a component schema.
fn fields(spec: &Value, schema: &str) -> (Vec<String>, Vec<String>) {
    let s = &spec["components"]["schemas"][schema];
    let required: Vec<String> = s["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let optional = s["properties"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !required.contains(k))
        .cloned()
        .collect();
    (required, optional)
}

/// The mirror types agree with `monban-core`'s parsers: the example parses, a missing
/// required field is refused, a missing optional field is not.
fn check_against_parser(schema: &str, parse: impl Fn(&[u8]) -> Result<(), String>) {
    let spec = spec();
    let example = example(&spec, schema);
    assert!(example.is_object(), "{schema} has an example");
    parse(example.to_string().as_bytes()).unwrap();
    let (required, optional) = fields(&spec, schema);
    assert!(!required.is_empty());
    for field in &required {
        let mut body = example.clone();
        body.as_object_mut().unwrap().remove(field);
        assert!(
            parse(body.to_string().as_bytes()).is_err(),
            "{schema}: the parser accepts a body without {field}"
        );
    }
    for field in &optional {
        let mut body = example.clone();
        body.as_object_mut().unwrap().remove(field);
        parse(body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{schema}: {field} is optional, yet: {e}"));
        let mut body = example.clone();
        body[field] = Value::Null;
        parse(body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{schema}: {field} may be null, yet: {e}"));
    }
}

#[test]
fn door_event_body_mirrors_the_parser() {
    check_against_parser("DoorEventBody", |b| {
        DoorEvent::from_json(b, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    // The credential's own fields.
    let spec = spec();
    let (required, _) = fields(&spec, "CredentialBody");
    assert_eq!(required, ["type", "id"]);
    for field in required {
        let mut body = example(&spec, "DoorEventBody");
        body["credential"].as_object_mut().unwrap().remove(&field);
        assert!(DoorEvent::from_json(body.to_string().as_bytes(), None).is_err());
    }
}

#[test]
fn login_body_mirrors_the_parser() {
    check_against_parser("LoginBody", |b| {
        Login::from_json(b).map(|_| ()).map_err(|e| e.to_string())?;
        crate::auth::step_up::step_up_id_of(b)
            .map(|_| ())
            .map_err(|e| e.message)
    });
}

#[test]
fn step_up_body_is_the_handlers_type() {
    check_against_parser("CreateBody", |b| {
        serde_json::from_slice::<crate::auth::step_up::CreateBody>(b)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

/// Enumerations written here (not taken from a core list) hold exactly what the core
/// parses.
#[test]
fn small_enumerations_match_the_core() {
    let spec = spec();
    let values = |name: &str| -> Vec<String> {
        spec["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let directions = values("DirectionName");
    assert_eq!(directions.len(), 2);
    for d in directions {
        d.parse::<monban_core::Direction>().unwrap();
    }
    let outcomes = values("OutcomeName");
    assert_eq!(outcomes.len(), 2);
    for o in outcomes {
        o.parse::<monban_core::Outcome>().unwrap();
    }
    assert_eq!(values("FactorName").len(), Factor::ALL.len());
    for f in values("FactorName") {
        f.parse::<Factor>().unwrap();
    }
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
    let app = crate::app(hub, &crate::hardening::Hardening::default());
    let big = format!(
        "{{\"system\": \"ehr\", \"account\": \"{}\"}}",
        "x".repeat(crate::api::BODY_LIMIT)
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
