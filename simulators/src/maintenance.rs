//! A small client of the hub's maintenance API (CONTRACT §10), for `monban-sim
//! maintenance`, the day player and the scenario runner: file a request and submit a
//! report with a vendor's token, read a request or a login with a read token.
//!
//! Over the same `reqwest` client as the login source ([`crate::login`]). Connection
//! errors (the request never reached the hub) and `502`/`503`/`504` are retried with
//! backoff; any other answer is returned as the hub gave it ([`Reply`]), so that a
//! refusal keeps the hub's error body. Filing is idempotent by `request_id` (the same
//! body again is `200`), so a retry cannot file twice.

use anyhow::{anyhow, bail, Context as _};
use monban_core::maintenance::{ReportBody, RequestBody};
use std::time::Duration;

/// Attempts per call.
const ATTEMPTS: u32 = 4;

/// The hub's answer: its status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    /// `2xx`.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The contract's error code (`{"error": {"code": …}}`), when the body has one.
    pub fn error_code(&self) -> Option<String> {
        self.json()["error"]["code"].as_str().map(str::to_string)
    }
}

/// A hub's maintenance API at a base URL.
#[derive(Debug, Clone)]
pub struct Hub {
    http: reqwest::Client,
    base: String,
}

impl Hub {
    /// A client of the hub at `url` (`http://host:port`). Fails on a URL that is not
    /// plain HTTP.
    pub fn new(url: &str) -> anyhow::Result<Hub> {
        let parsed =
            reqwest::Url::parse(url).with_context(|| format!("hub URL {url:?} is not a URL"))?;
        if parsed.scheme() != "http" {
            bail!("hub URL {url:?} must start with http://");
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Hub {
            http,
            base: url.trim_end_matches('/').to_string(),
        })
    }

    /// `POST /api/v1/maintenance` with a vendor's token: `201` (filed), `200` (the same
    /// request again) or the hub's refusal.
    pub async fn file_request(&self, token: &str, body: &RequestBody) -> anyhow::Result<Reply> {
        let url = format!("{}/api/v1/maintenance", self.base);
        let json = serde_json::to_value(body).context("request body")?;
        self.send(reqwest::Method::POST, &url, token, Some(&json))
            .await
    }

    /// `POST /api/v1/maintenance/{id}/report` with a vendor's token.
    pub async fn submit_report(
        &self,
        token: &str,
        request_id: &str,
        body: &ReportBody,
    ) -> anyhow::Result<Reply> {
        let url = format!(
            "{}/api/v1/maintenance/{}/report",
            self.base,
            path(request_id)
        );
        let json = serde_json::to_value(body).context("report body")?;
        self.send(reqwest::Method::POST, &url, token, Some(&json))
            .await
    }

    /// `GET /api/v1/maintenance/{id}` with a read token.
    pub async fn request(&self, token: &str, request_id: &str) -> anyhow::Result<Reply> {
        let url = format!("{}/api/v1/maintenance/{}", self.base, path(request_id));
        self.send(reqwest::Method::GET, &url, token, None).await
    }

    /// `GET /api/v1/logins/{event_id}` with a read token.
    pub async fn login(&self, token: &str, event_id: &str) -> anyhow::Result<Reply> {
        let url = format!("{}/api/v1/logins/{}", self.base, path(event_id));
        self.send(reqwest::Method::GET, &url, token, None).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        token: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<Reply> {
        let mut backoff = Duration::from_millis(250);
        for attempt in 1..=ATTEMPTS {
            let last = attempt == ATTEMPTS;
            let mut req = self.http.request(method.clone(), url).bearer_auth(token);
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let text = resp.text().await.unwrap_or_default();
                    if matches!(status, 502..=504) && !last {
                        tracing::warn!(%url, status, attempt, "the hub is unavailable; retrying");
                    } else {
                        return Ok(Reply { status, body: text });
                    }
                }
                Err(e) if e.is_connect() && !last => {
                    tracing::warn!(%url, error = %e, attempt, "cannot reach the hub; retrying");
                }
                Err(e) => return Err(anyhow!(e)).with_context(|| format!("{method} {url}")),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
        bail!("{method} {url}: no answer after {ATTEMPTS} attempts")
    }
}

/// An id as one path segment (ids are `[A-Za-z0-9._~:-]`, but a typed one may not be).
fn path(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What the hub says about one login's maintenance (`GET /api/v1/logins/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoginState {
    pub verdict: String,
    pub reasons: Vec<String>,
    pub flags: Vec<String>,
    /// `maintenance.status`, for a maintenance login.
    pub maintenance: Option<String>,
    /// `maintenance.request_id`.
    pub request_id: Option<String>,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl LoginState {
    /// Reads a login result (the reply to `POST /api/v1/logins` or
    /// `GET /api/v1/logins/{id}`).
    pub fn parse(body: &serde_json::Value) -> anyhow::Result<LoginState> {
        let verdict = body["verdict"]
            .as_str()
            .context("the hub's answer has no \"verdict\"")?
            .to_string();
        Ok(LoginState {
            verdict,
            reasons: strings(&body["reasons"]),
            flags: strings(&body["flags"]),
            maintenance: body["maintenance"]["status"].as_str().map(str::to_string),
            request_id: body["maintenance"]["request_id"]
                .as_str()
                .map(str::to_string),
        })
    }
}

/// What the hub says about one request (`GET /api/v1/maintenance/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestState {
    pub status: String,
    pub findings: Vec<String>,
    pub supervised: Option<bool>,
    /// Whether a report was submitted.
    pub reported: bool,
    pub logins: Vec<String>,
}

impl RequestState {
    pub fn parse(body: &serde_json::Value) -> anyhow::Result<RequestState> {
        Ok(RequestState {
            status: body["status"]
                .as_str()
                .context("the hub's answer has no \"status\"")?
                .to_string(),
            findings: strings(&body["findings"]),
            supervised: body["supervised"].as_bool(),
            reported: body["report"].is_object(),
            logins: strings(&body["logins"]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn body() -> RequestBody {
        RequestBody {
            request_id: "acme-2026-0042".into(),
            vendor: None,
            system: "ehr".into(),
            people: vec!["v001".into()],
            work_plan: "WP-2026-118".into(),
            purpose: "電子カルテ 定期パッチ適用".into(),
            start: "2026-12-10T20:00:00+09:00".into(),
            end: "2026-12-10T23:00:00+09:00".into(),
            remote: true,
            emergency: false,
        }
    }

    /// A stub hub: files for `Bearer vendor`, 503 once on the report, 404 for unknown
    /// requests.
    async fn stub() -> (String, Arc<AtomicU32>) {
        let reports = Arc::new(AtomicU32::new(0));
        let count = reports.clone();
        let app = axum::Router::new()
            .route(
                "/api/v1/maintenance",
                post(
                    |headers: HeaderMap, body: axum::Json<serde_json::Value>| async move {
                        if headers.get("authorization").and_then(|v| v.to_str().ok())
                            != Some("Bearer vendor")
                        {
                            return (
                                StatusCode::UNAUTHORIZED,
                                r#"{"error":{"code":"unauthorized","message":"no"}}"#.to_string(),
                            );
                        }
                        assert_eq!(body["work_plan"], "WP-2026-118");
                        assert!(
                            body.get("vendor").is_none(),
                            "no vendor with a vendor token"
                        );
                        (
                        StatusCode::CREATED,
                        serde_json::json!({"request_id": body["request_id"], "status": "requested"})
                            .to_string(),
                    )
                    },
                ),
            )
            .route(
                "/api/v1/maintenance/{id}/report",
                post(move |body: axum::Json<serde_json::Value>| {
                    let count = count.clone();
                    async move {
                        if count.fetch_add(1, Ordering::SeqCst) == 0 {
                            return (StatusCode::SERVICE_UNAVAILABLE, String::new());
                        }
                        assert_eq!(body["recording"]["uri"], "pam://x");
                        (StatusCode::CREATED, "{}".to_string())
                    }
                }),
            )
            .route(
                "/api/v1/maintenance/{id}",
                get(|| async {
                    (
                        StatusCode::NOT_FOUND,
                        r#"{"error":{"code":"not_found","message":"no such request"}}"#,
                    )
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}"), reports)
    }

    #[tokio::test]
    async fn files_reports_and_keeps_the_hubs_refusals() {
        let (url, reports) = stub().await;
        let hub = Hub::new(&url).expect("hub");
        let r = hub.file_request("vendor", &body()).await.expect("answered");
        assert_eq!(r.status, 201);
        assert_eq!(r.json()["status"], "requested");
        let r = hub.file_request("other", &body()).await.expect("answered");
        assert!(!r.is_success());
        assert_eq!(r.error_code().as_deref(), Some("unauthorized"));

        let report = ReportBody {
            summary: "done".into(),
            recording: Some(monban_core::maintenance::Recording {
                sha256: "ab".repeat(32),
                uri: "pam://x".into(),
            }),
        };
        let r = hub
            .submit_report("vendor", "acme-2026-0042", &report)
            .await
            .expect("answered");
        assert_eq!(r.status, 201, "the 503 was retried");
        assert_eq!(reports.load(Ordering::SeqCst), 2);

        let r = hub.request("read", "nope").await.expect("answered");
        assert_eq!(
            (r.status, r.error_code().as_deref()),
            (404, Some("not_found"))
        );
        assert!(Hub::new("ftp://x").is_err());
    }

    #[test]
    fn ids_are_one_path_segment_and_answers_parse() {
        assert_eq!(path("acme-2026.0042"), "acme-2026.0042");
        assert_eq!(path("a/b c"), "a%2Fb%20c");
        let login = LoginState::parse(&serde_json::json!({
            "verdict": "direct_2fa", "reasons": [], "flags": ["maintenance_unapproved"],
            "maintenance": {"request_id": null, "status": "unapproved"}}))
        .expect("login");
        assert_eq!(login.flags, vec!["maintenance_unapproved"]);
        assert_eq!(login.maintenance.as_deref(), Some("unapproved"));
        assert_eq!(login.request_id, None);
        let plain = LoginState::parse(&serde_json::json!({"verdict": "not_met"})).expect("plain");
        assert_eq!((plain.flags.len(), plain.maintenance), (0, None));
        let req = RequestState::parse(&serde_json::json!({
            "status": "approved", "findings": ["unsupervised"], "supervised": false,
            "report": null, "logins": ["l-1"]}))
        .expect("request");
        assert_eq!(req.findings, vec!["unsupervised"]);
        assert_eq!((req.supervised, req.reported), (Some(false), false));
        assert!(RequestState::parse(&serde_json::json!({})).is_err());
    }
}
