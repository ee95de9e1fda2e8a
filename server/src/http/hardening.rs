//! Hardening of every HTTP response: security headers and per-address rate limits.
//!
//! - **Headers** ([`security_headers`]): `X-Content-Type-Options: nosniff`,
//!   `Referrer-Policy: same-origin`, `X-Frame-Options: DENY`,
//!   `Cross-Origin-Opener-Policy: same-origin`, a `Permissions-Policy` that turns off the
//!   camera, the microphone and geolocation, and a `Content-Security-Policy` when the
//!   handler did not set one. Dashboard pages set their own policy with the request's
//!   nonce for Leptos's inline scripts (`monban_web::ssr::content_security_policy`); all
//!   other responses get the same policy without a nonce, so no inline script runs.
//!   `Strict-Transport-Security` is sent only when the hub serves TLS itself.
//! - **Rate limits** ([`rate_limit`]): token buckets (GCRA, the `governor` crate) per
//!   client address, one for sign-in (`/auth/*`) and one for ingest (`POST
//!   /api/v1/door-events`, `POST /api/v1/logins`, `/api/v1/step-up*`). Over the limit:
//!   `429` with the contract's error body (`rate_limited`) and `Retry-After`. The client
//!   is the TCP peer (`ConnectInfo`); `X-Forwarded-For` counts only from a peer listed
//!   in `[server] trusted_proxies`. IPv6 clients share a bucket per /64.
//!
//! [`Hardening::apply`] wraps a router in both; the headers are outermost, so `404`,
//! `405` and `429` answers carry them too.

use super::error::ApiError;
use crate::config::Config;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

/// `Strict-Transport-Security` sent over TLS: a year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";
/// `Permissions-Policy`: the dashboard needs no camera, microphone or location.
pub const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=()";

/// What [`Hardening::apply`] adds, from `monban.toml` (`[server]`, `[limits]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardening {
    /// The hub serves TLS itself: send HSTS.
    pub tls: bool,
    /// Sign-in requests (`/auth/*`) per minute per address; 0: no limit.
    pub signin_per_minute: u32,
    /// Ingest requests per second per address; 0: no limit.
    pub ingest_per_second: u32,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// The largest access log uploaded to `/api/v1/imports/{system}` (`[limits]
    /// import_max_bytes`).
    pub import_max_bytes: u64,
}

impl Default for Hardening {
    fn default() -> Hardening {
        let limits = crate::config::LimitSettings::default();
        Hardening {
            tls: false,
            signin_per_minute: limits.signin_per_minute,
            ingest_per_second: limits.ingest_per_second,
            trusted_proxies: Vec::new(),
            import_max_bytes: limits.import_max_bytes,
        }
    }
}

impl Hardening {
    pub fn from_config(config: &Config) -> Hardening {
        Hardening {
            tls: config.server.tls_enabled(),
            signin_per_minute: config.limits.signin_per_minute,
            ingest_per_second: config.limits.ingest_per_second,
            trusted_proxies: config.server.trusted_proxies.clone(),
            import_max_bytes: config.limits.import_max_bytes,
        }
    }

    /// Wraps `router` in the rate limits and, outermost, the security headers.
    pub fn apply(&self, router: Router) -> Router {
        let limits = Arc::new(Limits {
            signin: self.signin_per_minute.try_into().ok().map(|n: NonZeroU32| {
                // Bursts of a third of the minute's allowance (10 of 30).
                let burst = NonZeroU32::new(n.get() / 3).unwrap_or(NonZeroU32::MIN);
                Bucket::new(Quota::per_minute(n).allow_burst(burst), "sign-in")
            }),
            ingest: self.ingest_per_second.try_into().ok().map(|n: NonZeroU32| {
                // Bursts of two seconds' allowance (2000 of 1000/s).
                let burst = NonZeroU32::new(n.get().saturating_mul(2)).unwrap_or(n);
                Bucket::new(Quota::per_second(n).allow_burst(burst), "ingest")
            }),
            trusted_proxies: self.trusted_proxies.clone(),
        });
        let headers = Arc::new(Headers { hsts: self.tls });
        router
            .layer(axum::middleware::from_fn_with_state(
                BodyLimits {
                    access_log: usize::try_from(self.import_max_bytes).unwrap_or(usize::MAX),
                },
                limit_body,
            ))
            .layer(axum::middleware::from_fn_with_state(limits, rate_limit))
            .layer(axum::middleware::from_fn_with_state(
                headers,
                security_headers,
            ))
    }
}

/// The largest request body of every route (CONTRACT §9), the API's, the sign-in
/// ceremonies', the forms' and the dashboard's alike.
pub const BODY_LIMIT: usize = 64 * 1024;
/// The one exception: an inventory CSV pasted or uploaded on `/inventory/import` by a
/// signed-in editor (a hospital's people table is larger than 64 KiB).
pub const IMPORT_LIMIT: usize = 4 * 1024 * 1024;

/// A refused body up to this size is read and dropped before the `413` (see
/// [`limit_body`]).
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;

/// The body limit of a route (an access-log upload's is [`BodyLimits::access_log`]).
pub fn body_limit(path: &str) -> usize {
    if path == "/inventory/import" {
        IMPORT_LIMIT
    } else {
        BODY_LIMIT
    }
}

/// The limits of [`limit_body`] that the configuration sets.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// An access log uploaded to `POST /api/v1/imports/{system}` (`[limits]
    /// import_max_bytes`, 64 MiB by default): streamed to a temporary file, never held
    /// in memory.
    pub access_log: usize,
}

impl BodyLimits {
    fn of(&self, method: &Method, path: &str) -> usize {
        if method == Method::POST && path.starts_with("/api/v1/imports/") {
            self.access_log
        } else {
            body_limit(path)
        }
    }
}

/// Bounds every request body: a declared `Content-Length` over the route's limit is
/// refused at once, and a body without one is cut off when it grows past it (whoever
/// reads it gets an error). Every `413`, whichever layer refused the body, carries the
/// contract's error body (`payload_too_large`).
pub async fn limit_body(State(limits): State<BodyLimits>, req: Request, next: Next) -> Response {
    let limit = limits.of(req.method(), req.uri().path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > limit as u64) {
        // Read (and drop) a moderately large body before answering, so that a client
        // still sending it reads the 413 instead of a reset connection; a huge one is
        // refused at once. Either way nothing of it is kept.
        if n <= DRAIN_LIMIT as u64 {
            let drain = axum::body::to_bytes(req.into_body(), DRAIN_LIMIT);
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), drain).await;
        }
        return too_large(limit);
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    let res = next.run(Request::from_parts(parts, body)).await;
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !json {
        return too_large(limit);
    }
    res
}

fn too_large(limit: usize) -> Response {
    let size = if limit >= 1024 * 1024 && limit.is_multiple_of(1024 * 1024) {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{} KiB", limit / 1024)
    };
    ApiError::PayloadTooLarge(format!("the body is larger than {size}")).into_response()
}

/// The header middleware's settings.
#[derive(Debug)]
pub struct Headers {
    hsts: bool,
}

/// Adds the security headers to every response; a header the handler set is kept.
pub async fn security_headers(
    State(settings): State<Arc<Headers>>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            PERMISSIONS_POLICY,
        ),
    ];
    for (name, value) in fixed {
        h.entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(v) = HeaderValue::from_str(&monban_web::ssr::content_security_policy(None)) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    if settings.hsts {
        h.entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert_with(|| HeaderValue::from_static(HSTS));
    }
    res
}

/// One keyed token bucket.
struct Bucket {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    what: &'static str,
}

impl Bucket {
    fn new(quota: Quota, what: &'static str) -> Bucket {
        Bucket {
            limiter: RateLimiter::keyed(quota),
            what,
        }
    }

    /// `Err(seconds to wait)` when `client` is over the limit.
    fn check(&self, client: IpAddr) -> Result<(), u64> {
        // Forget idle addresses now and then so the table stays small.
        if self.limiter.len() > STATE_ENTRIES_BEFORE_CLEANUP {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            // Whole seconds, rounded up, at least 1.
            (wait.as_millis().div_ceil(1000) as u64).max(1)
        })
    }
}

/// Above this many addresses in a bucket's table, idle ones are dropped.
const STATE_ENTRIES_BEFORE_CLEANUP: usize = 10_000;

/// The rate-limit middleware's state.
pub struct Limits {
    signin: Option<Bucket>,
    ingest: Option<Bucket>,
    trusted_proxies: Vec<IpAddr>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("signin", &self.signin.is_some())
            .field("ingest", &self.ingest.is_some())
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

impl Limits {
    /// The bucket a request counts against, if any.
    fn bucket_for(&self, method: &Method, path: &str) -> Option<&Bucket> {
        if path.starts_with("/auth/") {
            return self.signin.as_ref();
        }
        let ingest = (method == Method::POST
            && matches!(path, "/api/v1/door-events" | "/api/v1/logins"))
            || path == "/api/v1/step-up"
            || path.starts_with("/api/v1/step-up/");
        if ingest {
            self.ingest.as_ref()
        } else {
            None
        }
    }
}

/// Answers `429` (with `Retry-After`) to a client over its limit.
///
/// Every request also gets its client's address as a [`ClientIp`] extension, the same
/// address the limits count against: the audit trail records it.
pub async fn rate_limit(
    State(limits): State<Arc<Limits>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip());
    let client = if peer.is_some() {
        Some(client_address(peer, req.headers(), &limits.trusted_proxies))
    } else {
        None
    };
    if let Some(c) = client {
        req.extensions_mut().insert(ClientIp(c));
    }
    let Some(bucket) = limits.bucket_for(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let client = client.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    match bucket.check(bucket_key(client)) {
        Ok(()) => next.run(req).await,
        Err(retry_after) => {
            tracing::warn!(%client, limit = bucket.what, "rate limited");
            ApiError::RateLimited {
                what: bucket.what,
                retry_after,
            }
            .into_response()
        }
    }
}

/// The client's address as the rate limits and the audit trail see it (a request
/// extension set by [`rate_limit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client's address: the peer, or — when the peer is a trusted proxy — the last
/// address in `X-Forwarded-For` that is not itself a trusted proxy. Without a peer
/// (a router called directly, not through `serve`) all requests share one bucket.
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let Some(peer) = peer.map(|p| p.to_canonical()) else {
        return IpAddr::from([0, 0, 0, 0]);
    };
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()))
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop {
            Ok(ip) if trusted.contains(ip) => continue,
            Ok(ip) => return *ip,
            // Garbage in the chain: trust nothing before it.
            Err(_) => return peer,
        }
    }
    peer
}

/// The bucket key of an address: IPv4 as is, IPv6 by its /64 (one host's share).
fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::body::Body;
    use axum::routing::{get, post};
    use tower::ServiceExt as _;

    fn test_router(h: &Hardening) -> Router {
        let api = Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route("/auth/options", post(|| async { "challenge" }))
            .route("/api/v1/logins", post(|| async { "stored" }))
            .route("/api/v1/door-events", post(|| async { "stored" }))
            .route(
                "/own-csp",
                get(|| async {
                    (
                        [(header::CONTENT_SECURITY_POLICY, "default-src 'none'")],
                        "mine",
                    )
                }),
            )
            .fallback(crate::http::ops::not_found);
        h.apply(api)
    }

    fn request(method: Method, path: &str, from: [u8; 4]) -> Request {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((from, 40000))));
        req
    }

    async fn body_json(res: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
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

    #[tokio::test]
    async fn every_response_carries_the_security_headers() {
        let app = test_router(&Hardening::default());
        let res = app
            .clone()
            .oneshot(request(Method::GET, "/healthz", [127, 0, 0, 1]))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_security_headers(&res);
        assert!(res.headers().get("strict-transport-security").is_none());
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert_eq!(
            csp,
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        );

        // Unknown routes too.
        let res = app
            .clone()
            .oneshot(request(Method::GET, "/nowhere", [127, 0, 0, 1]))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_security_headers(&res);

        // A handler's own policy is kept.
        let res = app
            .oneshot(request(Method::GET, "/own-csp", [127, 0, 0, 1]))
            .await
            .unwrap();
        assert_eq!(
            res.headers()["content-security-policy"],
            "default-src 'none'"
        );

        // HSTS only when the hub serves TLS.
        let tls = Hardening {
            tls: true,
            ..Hardening::default()
        };
        let res = test_router(&tls)
            .oneshot(request(Method::GET, "/healthz", [127, 0, 0, 1]))
            .await
            .unwrap();
        assert_eq!(res.headers()["strict-transport-security"], HSTS);
    }

    #[tokio::test]
    async fn every_body_is_bounded_and_refused_with_the_contracts_body() {
        let app = Hardening::default().apply(
            Router::new()
                .route(
                    "/auth/signin/start",
                    post(|body: axum::body::Bytes| async move { body.len().to_string() }),
                )
                .route(
                    "/inventory/import",
                    post(|body: axum::body::Bytes| async move { body.len().to_string() }),
                )
                .layer(axum::extract::DefaultBodyLimit::disable()),
        );
        let send = |path: &str, len: usize, declared: bool| {
            let mut b = Request::builder().method(Method::POST).uri(path);
            if declared {
                b = b.header(header::CONTENT_LENGTH, len);
            }
            let body = if declared {
                Body::from(vec![b'x'; len])
            } else {
                // No Content-Length: a stream the limit must cut off while reading.
                Body::from_stream(futures::stream::iter(
                    (0..len / 1024).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1024])),
                ))
            };
            let mut req = b.body(body).unwrap();
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([10, 1, 1, 1], 1))));
            app.clone().oneshot(req)
        };
        for declared in [true, false] {
            let res = send("/auth/signin/start", 2 * 1024 * 1024, declared)
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "declared {declared}"
            );
            assert_eq!(body_json(res).await["error"]["code"], "payload_too_large");
            let res = send("/auth/signin/start", 64 * 1024, declared)
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "declared {declared}");
            // The inventory import alone takes more.
            let res = send("/inventory/import", 1024 * 1024, declared)
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "declared {declared}");
            let res = send("/inventory/import", 5 * 1024 * 1024, declared)
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        }
    }

    #[tokio::test]
    async fn sign_in_is_limited_per_address_after_the_burst() {
        let app = test_router(&Hardening::default());
        // 30 per minute, bursts of 10.
        for i in 0..10 {
            let res = app
                .clone()
                .oneshot(request(Method::POST, "/auth/options", [10, 0, 0, 7]))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "request {i}");
        }
        let res = app
            .clone()
            .oneshot(request(Method::POST, "/auth/options", [10, 0, 0, 7]))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_security_headers(&res);
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&retry), "{retry}");
        let body = body_json(res).await;
        assert_eq!(body["error"]["code"], "rate_limited");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sign-in"));

        // Another address has its own bucket; other routes are not limited.
        let res = app
            .clone()
            .oneshot(request(Method::POST, "/auth/options", [10, 0, 0, 8]))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        for _ in 0..20 {
            let res = app
                .clone()
                .oneshot(request(Method::GET, "/healthz", [10, 0, 0, 7]))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        }
    }

    #[tokio::test]
    async fn ingest_is_limited_and_zero_turns_limits_off() {
        let h = Hardening {
            ingest_per_second: 2,
            ..Hardening::default()
        };
        let app = test_router(&h);
        // 2 per second: bursts of 4, shared by logins and door events.
        for path in ["/api/v1/logins", "/api/v1/door-events"]
            .iter()
            .cycle()
            .take(4)
        {
            let res = app
                .clone()
                .oneshot(request(Method::POST, path, [192, 168, 1, 5]))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        }
        let res = app
            .clone()
            .oneshot(request(Method::POST, "/api/v1/logins", [192, 168, 1, 5]))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()["retry-after"], "1");
        assert_eq!(body_json(res).await["error"]["code"], "rate_limited");

        let off = Hardening {
            signin_per_minute: 0,
            ingest_per_second: 0,
            ..Hardening::default()
        };
        let app = test_router(&off);
        for _ in 0..50 {
            for path in ["/auth/options", "/api/v1/logins"] {
                let res = app
                    .clone()
                    .oneshot(request(Method::POST, path, [192, 168, 1, 5]))
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::OK);
            }
        }
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.2"),
        );
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        // Not trusted: the header is ignored.
        assert_eq!(client_address(Some(peer), &headers, &[]), peer);
        // Trusted: the last hop that is not a trusted proxy.
        assert_eq!(
            client_address(Some(peer), &headers, &[peer]),
            "10.0.0.2".parse::<IpAddr>().unwrap()
        );
        let proxies = [peer, "10.0.0.2".parse().unwrap()];
        assert_eq!(
            client_address(Some(peer), &headers, &proxies),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        headers.insert("x-forwarded-for", HeaderValue::from_static("junk"));
        assert_eq!(client_address(Some(peer), &headers, &[peer]), peer);
        // IPv4-mapped IPv6 peers are their IPv4 address.
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(client_address(Some(mapped), &HeaderMap::new(), &[]), peer);
        // IPv6 clients share a bucket per /64.
        assert_eq!(
            bucket_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
    }
}
