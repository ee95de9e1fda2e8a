//! The gate in front of every route: who is asking ([`Principal`]), may they, and is a
//! state-changing request really theirs (CSRF).
//!
//! 1. A session cookie (`monban_session`, `HttpOnly`, `SameSite=Strict`, `Secure` with
//!    the `__Host-` prefix over https) names a session; it counts while it is younger
//!    than `[auth] session_max` and was used within `session_idle`, and its user is not
//!    disabled (`crate::auth::session`). Otherwise `Authorization: Bearer` may carry a
//!    read token, for reads.
//! 2. [`crate::auth::policy::access`] says what the route needs; the role must hold it
//!    (`401` — or a redirect to `/signin` for a page — without a principal, `403` with
//!    the wrong role). Read tokens get only read permissions, and only for GET.
//! 3. Every request that changes state (not GET/HEAD/OPTIONS) and is not a bearer-token
//!    API call must come from the hub's own pages: its `Origin` (or `Sec-Fetch-Site`)
//!    must be the hub's, and when a session is involved the session's CSRF token must
//!    come with it — as the `X-CSRF-Token` header or the `_csrf` form field.
//!    Ceremonies before sign-in (`/auth/*`) must be JSON (no cross-site form can send
//!    JSON without a preflight).
//!
//! The request then carries [`Principal`], [`ClientAddr`] and, for a signed-in user,
//! [`monban_web::auth::Viewer`] (the pages read it while rendering).

use super::error::ApiError;
use super::hardening::ClientIp;
use super::state::Accounts;
use crate::auth::policy::{access, Access};
use crate::auth::session::{clear_cookie, live_session};
use crate::auth::{Auth, ClientAddr, Principal};
use crate::store::TokenScope;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use monban_web::auth::Viewer;
use std::net::SocketAddr;

/// The client's address: as the rate limits see it (`X-Forwarded-For` from a trusted
/// proxy, [`ClientIp`]), else the TCP peer.
pub fn client_addr(req: &Request) -> String {
    if let Some(ClientIp(ip)) = req.extensions().get() {
        return ip.to_string();
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn wants_html(method: &Method, headers: &HeaderMap, path: &str) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && !path.starts_with("/api/")
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// A small page for a refused page request (the API answers with the error body).
fn forbidden_page(role: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>権限がありません</title><link rel=\"stylesheet\" href=\"/pkg/monban.css\"></head><body><main class=\"page\"><section class=\"panel\" data-testid=\"forbidden\"><h1>権限がありません <span lang=\"en\">/ Access denied</span></h1><p>このページは役割「{role}」では開けません。必要な場合は管理者に依頼してください。</p><p lang=\"en\">Your role ({role}) does not give access to this page.</p><p><a href=\"/account\">アカウント / Account</a></p></section></main></body></html>"
    );
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Whether a state-changing request comes from the hub's own pages.
fn same_origin(auth: &Auth, headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let own = auth.origin.as_str().trim_end_matches('/');
        let by_host = host
            .is_some_and(|h| origin == format!("http://{h}") || origin == format!("https://{h}"));
        return origin == own || by_host;
    }
    // No Origin (older browsers on same-origin form posts): trust Fetch Metadata if
    // present; a request without either comes from no browser page at all.
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

fn csrf_refused(message: &str) -> Response {
    ApiError::CsrfFailed(message.to_string()).into_response()
}

/// Where a page that runs a passkey ceremony must be opened instead, if not here:
/// passkeys never work at an IP address (`http://127.0.0.1:8080/signin`), so a browser
/// there is sent to the same page at the hub's origin. Proxied requests (with
/// `X-Forwarded-*`) are left alone: the proxy decides the address.
fn ceremony_page_elsewhere(
    auth: &Auth,
    method: &Method,
    headers: &HeaderMap,
    path_and_query: &str,
) -> Option<String> {
    let path = path_and_query.split('?').next().unwrap_or_default();
    let ceremony_page =
        path == "/signin" || path.starts_with("/enroll/") || path.starts_with("/step-up/");
    if !ceremony_page || !wants_html(method, headers, path) {
        return None;
    }
    if headers.contains_key("x-forwarded-for") || headers.contains_key("x-forwarded-host") {
        return None;
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    let at_ip = name.parse::<std::net::IpAddr>().is_ok();
    (at_ip && auth.origin.host_str() != Some(name)).then(|| auth.link(path_and_query))
}

/// The middleware: see the module documentation.
pub async fn authorize(State(accounts): State<Accounts>, req: Request, next: Next) -> Response {
    let auth = &accounts.auth;
    let store = &accounts.store;
    let now = accounts.now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    if let Some(there) = ceremony_page_elsewhere(auth, &method, req.headers(), &path_and_query) {
        return Redirect::temporary(&there).into_response();
    }
    let rule = match access(&method, &path) {
        // A bearer token goes to the handler, which checks it; a session needs the role.
        Access::IngestOr(p) => {
            if bearer(req.headers()).is_some() {
                Access::Ingest
            } else {
                Access::Needs(p)
            }
        }
        other => other,
    };
    let address = client_addr(&req);
    let headers = req.headers().clone();
    let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);

    // Ingest and step-up API: the handler checks its token; no cookie counts there.
    if rule == Access::Ingest {
        let mut req = req;
        req.extensions_mut().insert(ClientAddr(address));
        req.extensions_mut().insert(Principal::Anonymous);
        return next.run(req).await;
    }

    let mut clear = false;
    let mut principal = Principal::Anonymous;
    if let Some(cookie) = cookie_value(&headers, auth.cookie_name()) {
        match live_session(store, auth, &cookie, now).await {
            Ok(Ok((s, user))) => {
                principal = Principal::User {
                    user,
                    session_hash: s.hash,
                    csrf: s.csrf,
                }
            }
            Ok(Err(_)) => clear = true,
            Err(e) => return lookup_failed(e),
        }
    }
    if matches!(principal, Principal::Anonymous) && !unsafe_method {
        if let Some(text) = bearer(&headers) {
            match store.token_by_hash(&crate::tokens::hash(text)).await {
                Ok(Some(t)) if !t.revoked => {
                    if t.last_used_at
                        .is_none_or(|u| now.as_millis() - u.as_millis() > 60_000)
                    {
                        let _ = store.touch_token(&t.id, now).await;
                    }
                    principal = Principal::Token(t)
                }
                Ok(_) => {
                    return ApiError::Unauthorized(
                        "the token is not known or has been revoked".into(),
                    )
                    .into_response()
                }
                Err(e) => return lookup_failed(e),
            }
        }
    }

    // May they?
    let allowed = match (rule, &principal) {
        (Access::Public | Access::Ingest, _) => Ok(()),
        // Resolved to `Ingest` or `Needs` above.
        (Access::IngestOr(_), _) => Err(None),
        (_, Principal::Anonymous) => Err(None),
        (Access::SignedIn, Principal::User { .. }) => Ok(()),
        (Access::SignedIn, Principal::Token(_)) => Err(Some("token".to_string())),
        (Access::Needs(p), Principal::User { user, .. }) => {
            if user.role.can(p) {
                Ok(())
            } else {
                Err(Some(user.role.as_str().to_string()))
            }
        }
        (Access::AdminRead, Principal::User { user, .. }) => {
            if user.role == monban_web::auth::Role::Admin {
                Ok(())
            } else {
                Err(Some(user.role.as_str().to_string()))
            }
        }
        (Access::AdminRead, Principal::Token(t)) => match &t.scope {
            TokenScope::Read(role) if role == "admin" && !unsafe_method => Ok(()),
            TokenScope::Read(role) => Err(Some(format!("read token ({role})"))),
            _ => Err(Some("ingest token".to_string())),
        },
        (Access::Needs(p), Principal::Token(t)) => match &t.scope {
            TokenScope::Read(role) => match role.parse::<monban_web::auth::Role>() {
                Ok(r) if p.is_read() && r.can(p) && !unsafe_method => Ok(()),
                _ => Err(Some(format!("read token ({role})"))),
            },
            _ => Err(Some("ingest token".to_string())),
        },
    };
    match allowed {
        Ok(()) => {}
        Err(None) => {
            let mut res = if wants_html(&method, &headers, &path) {
                let target = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into());
                let next_q: String =
                    url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
                Redirect::to(&format!("/signin?next={next_q}")).into_response()
            } else {
                ApiError::Unauthorized(
                    "sign in with a passkey, or send Authorization: Bearer <read token>".into(),
                )
                .into_response()
            };
            if clear {
                set_cookie(&mut res, &clear_cookie(auth));
            }
            return res;
        }
        Err(Some(role)) => {
            let (actor, name) = principal.actor();
            // A bounded trace: a prefix of the path, and a few rows a minute per actor.
            if auth.may_record_denial(&format!("{actor} {address}"), now) {
                accounts
                    .record(
                        &actor,
                        &name,
                        &address,
                        "access.denied",
                        &format!("{method} {}", monban_core::text::prefix(&path)),
                        serde_json::json!({"role": role}),
                    )
                    .await;
            } else {
                tracing::warn!(%actor, %address, "access denied again (not recorded: over the audit trail's limit)");
            }
            return if wants_html(&method, &headers, &path) {
                forbidden_page(&role)
            } else {
                ApiError::Forbidden(format!(
                    "the role {role} does not allow {method} {}",
                    monban_core::text::prefix(&path)
                ))
                .into_response()
            };
        }
    }

    // Is a state change really from the hub's own pages? (Not asked on the read-only
    // public endpoints: nothing there changes state, and another method gets the 405.)
    let mut req = req;
    if unsafe_method && !crate::auth::policy::read_only(&path) {
        if !same_origin(auth, &headers) {
            return csrf_refused("the request did not come from the hub's own pages (Origin)");
        }
        match (&principal, rule) {
            (
                Principal::User { csrf, .. },
                Access::SignedIn | Access::Needs(_) | Access::AdminRead,
            ) => {
                let sent_header = headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let sent = match sent_header {
                    Some(t) => Some(t),
                    None => {
                        let (parts, body) = req.into_parts();
                        let limit = super::hardening::body_limit(parts.uri.path());
                        let bytes = match axum::body::to_bytes(body, limit).await {
                            Ok(b) => b,
                            Err(_) => {
                                return ApiError::PayloadTooLarge("the form is too large".into())
                                    .into_response()
                            }
                        };
                        let token = url::form_urlencoded::parse(&bytes)
                            .find(|(k, _)| k == "_csrf")
                            .map(|(_, v)| v.into_owned());
                        req = Request::from_parts(parts, Body::from(bytes));
                        token
                    }
                };
                let ok = sent.is_some_and(|s| {
                    s.len() == csrf.len()
                        && s.bytes()
                            .zip(csrf.bytes())
                            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                            == 0
                });
                if !ok {
                    return csrf_refused(
                        "the CSRF token is missing or wrong: reload the page and try again",
                    );
                }
            }
            _ => {
                // The public ceremonies: only JSON changes anything there.
                let json = headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|c| c.starts_with("application/json"));
                if !json {
                    return csrf_refused("this request must be sent as application/json");
                }
            }
        }
    }

    let role = match &principal {
        Principal::User { user, .. } => Some(user.role),
        Principal::Token(t) => match &t.scope {
            TokenScope::Read(r) => r.parse::<monban_web::auth::Role>().ok(),
            _ => None,
        },
        Principal::Anonymous => None,
    };
    if let Some(role) = role {
        req.extensions_mut()
            .insert(monban_web::auth::Reader { role });
    }
    if let Principal::User { user, csrf, .. } = &principal {
        req.extensions_mut().insert(Viewer {
            user_id: user.id.clone(),
            name: user.name.clone(),
            role: user.role,
            csrf: csrf.clone(),
        });
    }
    req.extensions_mut().insert(principal);
    req.extensions_mut().insert(ClientAddr(address));
    let mut res = next.run(req).await;
    if clear && !res.headers().contains_key(header::SET_COOKIE) {
        set_cookie(&mut res, &clear_cookie(auth));
    }
    res
}

/// A store error while looking up who is asking: `503 store_unavailable` when the store
/// cannot be reached, else `500 internal_error`.
fn lookup_failed(e: crate::store::StoreError) -> Response {
    tracing::error!(error = %e, "session lookup failed");
    ApiError::from(e).into_response()
}

/// Adds a `Set-Cookie` header.
pub fn set_cookie(res: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuthSettings;

    #[test]
    fn the_origin_check() {
        let auth = Auth::new(&AuthSettings::default(), 8080, false).expect("auth");
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            m
        };
        assert!(same_origin(
            &auth,
            &h(&[("origin", "http://localhost:8080")])
        ));
        assert!(same_origin(
            &auth,
            &h(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ])
        ));
        assert!(!same_origin(
            &auth,
            &h(&[
                ("host", "localhost:8080"),
                ("origin", "https://evil.example")
            ])
        ));
        assert!(!same_origin(&auth, &h(&[("sec-fetch-site", "cross-site")])));
        assert!(same_origin(&auth, &h(&[("sec-fetch-site", "same-origin")])));
    }

    #[test]
    fn ceremony_pages_at_an_ip_address_go_to_the_origin() {
        let auth = Auth::new(&AuthSettings::default(), 8080, false).expect("auth");
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT, HeaderValue::from_static("text/html"));
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            m
        };
        let at_ip = h(&[("host", "127.0.0.1:8080")]);
        assert_eq!(
            ceremony_page_elsewhere(&auth, &Method::GET, &at_ip, "/signin?next=%2F").as_deref(),
            Some("http://localhost:8080/signin?next=%2F")
        );
        assert!(ceremony_page_elsewhere(&auth, &Method::GET, &at_ip, "/enroll/abc").is_some());
        assert!(ceremony_page_elsewhere(&auth, &Method::GET, &at_ip, "/rooms").is_none());
        let here = h(&[("host", "localhost:8080")]);
        assert!(ceremony_page_elsewhere(&auth, &Method::GET, &here, "/signin").is_none());
        let proxied = h(&[("host", "10.0.0.5:8080"), ("x-forwarded-for", "10.1.2.3")]);
        assert!(ceremony_page_elsewhere(&auth, &Method::GET, &proxied, "/signin").is_none());
        let v6 = h(&[("host", "[::1]:8080")]);
        assert!(ceremony_page_elsewhere(&auth, &Method::GET, &v6, "/signin").is_some());
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut m = HeaderMap::new();
        m.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; monban_session=xyz; b=2"),
        );
        assert_eq!(cookie_value(&m, "monban_session").as_deref(), Some("xyz"));
        assert_eq!(cookie_value(&m, "other"), None);
    }
}
