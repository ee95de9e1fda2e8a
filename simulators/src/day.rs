//! The player: sends a [`Schedule`](crate::schedule::Schedule) to a hub through its real
//! connectors, in accelerated time.
//!
//! The simulated clock is `start + elapsed_real × speed`; each item is sent when the
//! simulated clock reaches it (the late entry event [`LATE_DELIVERY`] real seconds after
//! its login). Door events and status changes go to the MQTT broker at QoS 1, logins to
//! `POST {hub}/api/v1/logins` with the system's bearer token. No message ever carries a
//! `ts` in the future of the real clock: once the simulated clock catches up with it, the
//! rest is skipped and [`play`] returns, as it does at `until`, at the end of the day, or
//! when `cancel` fires. A door left offline by a cut-short day is brought back online.
//!
//! MQTT: the crate's shared client (`mqtt.rs`), whose event loop runs in its own task,
//! counts `PUBACK`s and simply polls again after an error (that is how rumqttc
//! reconnects). The session is not clean, so QoS 1 messages not yet acknowledged are
//! sent again after a reconnect. HTTP: connection errors and 5xx answers are retried
//! with backoff; a 4xx is logged with its body and counted as rejected.
//!
//! [`LATE_DELIVERY`]: crate::schedule::LATE_DELIVERY

use crate::hospital::Hospital;
use crate::maintenance::Hub;
use crate::mqtt::Mqtt;
use crate::schedule::{self, Action, MaintenanceKind, StatusMessage, WantedDecision};
use anyhow::{anyhow, bail, Context as _};
use chrono::{DateTime, TimeDelta, Utc};
use monban_core::{DoorId, DoorStatus};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use crate::schedule::{Case, Expectation};

/// The default speed: a 24-hour day started 24 hours ago catches up with the real
/// clock after 24 h / 143 ≈ 10 minutes.
pub const DEFAULT_SPEED: f64 = 144.0;

/// How long [`play`] waits at the end for the broker to acknowledge what was published.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per login POST.
const POST_ATTEMPTS: u32 = 5;

/// Where to send the day, and which day.
#[derive(Debug, Clone)]
pub struct PlayOptions {
    pub mqtt_host: String,
    pub mqtt_port: u16,
    pub client_id: String,
    /// The hub's base URL, e.g. `http://127.0.0.1:8080`.
    pub hub_url: String,
    /// System id → login-ingest token. Every system of the hospital needs one.
    pub login_tokens: BTreeMap<String, String>,
    /// Simulated start time; must not be in the future.
    pub start: DateTime<Utc>,
    /// Simulated seconds per real second (> 0).
    pub speed: f64,
    /// Seed of the day's schedule.
    pub seed: u64,
    /// Stop here (simulated time) instead of after 24 hours.
    pub until: Option<DateTime<Utc>>,
    /// Vendor id → vendor token (CONTRACT §9 `token issue --vendor`), for the day's
    /// maintenance requests and reports. A vendor without one has its maintenance
    /// messages skipped (its logins are still sent).
    pub vendor_tokens: BTreeMap<String, String>,
    /// Records the decisions the day wants (approve, deny, cancel) when their time
    /// comes. `None`: they are not made, and are listed in
    /// [`PlayReport::decisions_not_made`].
    pub decide: Option<DecisionHook>,
}

/// The future a [`DecisionHook`] returns.
pub type DecisionFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// Makes one wanted decision in the hub (an officer's decision needs a passkey, so the
/// API cannot do it for the simulator: `monban demo` records it with a seeded officer).
#[derive(Clone)]
pub struct DecisionHook(pub Arc<dyn Fn(WantedDecision) -> DecisionFuture + Send + Sync>);

impl DecisionHook {
    pub fn new<F, Fut>(f: F) -> DecisionHook
    where
        F: Fn(WantedDecision) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        DecisionHook(Arc::new(move |d| Box::pin(f(d))))
    }
}

impl std::fmt::Debug for DecisionHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecisionHook")
    }
}

impl Default for PlayOptions {
    /// Local broker and hub, the day that ended now, [`DEFAULT_SPEED`], no tokens.
    fn default() -> Self {
        PlayOptions {
            mqtt_host: "127.0.0.1".into(),
            mqtt_port: 1883,
            client_id: "monban-sim".into(),
            hub_url: "http://127.0.0.1:8080".into(),
            login_tokens: BTreeMap::new(),
            start: Utc::now() - schedule::day_length(),
            speed: DEFAULT_SPEED,
            seed: 1,
            until: None,
            vendor_tokens: BTreeMap::new(),
            decide: None,
        }
    }
}

/// What was sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlayReport {
    /// Door events published.
    pub door_events: u64,
    /// Door status changes published.
    pub status_changes: u64,
    /// Logins the hub accepted (`200`/`202`).
    pub logins: u64,
    /// The deliberate cases that were sent and accepted, in send order.
    pub expected: Vec<Expectation>,
    /// Items not sent because their `ts` was still in the future of the real clock.
    pub skipped: u64,
    /// Logins the hub refused (4xx, or 5xx after retries).
    pub rejected: u64,
    /// QoS 1 messages the broker had not acknowledged when play ended.
    pub mqtt_unacked: u64,
    /// Whether `cancel` ended the day early.
    pub cancelled: bool,
    /// Maintenance requests and reports the hub accepted (`200`/`201`).
    pub maintenance_sent: u64,
    /// Maintenance requests and reports the hub refused.
    pub maintenance_refused: u64,
    /// Maintenance requests and reports not sent: no vendor token, or (a report) its
    /// request was not approved in this run.
    pub maintenance_skipped: u64,
    /// Decisions recorded through [`PlayOptions::decide`].
    pub decisions_made: u64,
    /// Decisions the day wanted but nobody made (no hook, or the hook failed).
    pub decisions_not_made: Vec<WantedDecision>,
    /// The maintenance cases whose messages were all handled, in plan order.
    pub maintenance: Vec<schedule::MaintenanceExpectation>,
}

/// Plays the day of `h` described by `opts`. Returns when the day is over, the
/// simulated clock caught up with the real one, `until` is reached, or `cancel` fires
/// (then with what was sent so far). Fails when the options are wrong, the broker
/// cannot be reached within 10 seconds, or the hub stays unreachable for a login.
pub async fn play(
    h: &Hospital,
    opts: PlayOptions,
    cancel: CancellationToken,
) -> anyhow::Result<PlayReport> {
    let wall_start = Utc::now();
    let logins_url = check_options(h, &opts, wall_start)?;
    let schedule = schedule::build(h, opts.start, opts.until, opts.seed);
    let (planned, skipped) = schedule::plan(&schedule, opts.speed, wall_start);
    let t0 = Instant::now();
    tracing::info!(
        items = schedule.items.len(),
        planned = planned.len(),
        start = %schedule.start,
        end = %schedule.end,
        speed = opts.speed,
        "playing a day at {}",
        h.site_name
    );

    if skipped > 0 {
        tracing::warn!(
            skipped,
            "part of the day lies ahead of the real clock at this speed and start; it is skipped"
        );
    }
    let mut mqtt = Mqtt::connect(&opts.mqtt_host, opts.mqtt_port, &opts.client_id, &cancel).await?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("cannot build the HTTP client")?;
    let expectations: HashMap<&str, &Expectation> = schedule
        .expectations
        .iter()
        .map(|e| (e.event_id.as_str(), e))
        .collect();

    let mut report = PlayReport {
        skipped: skipped as u64,
        ..PlayReport::default()
    };
    let mut offline: BTreeSet<DoorId> = BTreeSet::new();
    let mut maintenance = MaintenancePlayer {
        hub: Hub::new(&opts.hub_url)?,
        approved: BTreeSet::new(),
        failed: BTreeSet::new(),
    };
    let progress_every = (planned.len() / 10).max(1);
    let result: anyhow::Result<()> = async {
        for (n, p) in planned.iter().enumerate() {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    report.cancelled = true;
                    break;
                }
                _ = tokio::time::sleep_until(t0 + p.due) => {}
            }
            let item = &schedule.items[p.index];
            if item.ts() > Utc::now() {
                report.skipped += 1;
                continue;
            }
            match &item.action {
                Action::Door(m) => {
                    if !mqtt.publish(m.topic(&h.site_id), m.payload().to_string(), &cancel).await? {
                        report.cancelled = true;
                        break;
                    }
                    report.door_events += 1;
                }
                Action::Status(m) => {
                    if !mqtt.publish(m.topic(&h.site_id), m.payload().to_string(), &cancel).await? {
                        report.cancelled = true;
                        break;
                    }
                    report.status_changes += 1;
                    match m.status {
                        DoorStatus::Offline => offline.insert(m.door.clone()),
                        DoorStatus::Online => offline.remove(&m.door),
                    };
                }
                Action::Login(m) => {
                    let token = opts.login_tokens.get(m.system.as_str()).map(String::as_str).unwrap_or_default();
                    match post_login(&http, &logins_url, token, &m.event_id, &m.body(), &cancel).await? {
                        Posted::Accepted(_) => {
                            report.logins += 1;
                            if let Some(e) = expectations.get(m.event_id.as_str()) {
                                report.expected.push((*e).clone());
                            }
                        }
                        Posted::Rejected { .. } => report.rejected += 1,
                        Posted::Cancelled => {
                            report.cancelled = true;
                            break;
                        }
                    }
                }
                Action::Maintenance(m) => {
                    maintenance.handle(m, &opts, &mut report).await;
                }
            }
            if (n + 1) % progress_every == 0 {
                tracing::info!(sent = n + 1, of = planned.len(), sim_time = %item.at, "day in progress");
            }
        }
        Ok(())
    }
    .await;

    // A controller the day left offline comes back, so the hub does not fail closed for
    // the rest of time.
    if !offline.is_empty() {
        let elapsed = Duration::try_from_secs_f64(t0.elapsed().as_secs_f64() * opts.speed)
            .unwrap_or(Duration::MAX);
        let sim_now = TimeDelta::from_std(elapsed)
            .ok()
            .and_then(|d| schedule.start.checked_add_signed(d))
            .unwrap_or(schedule.end);
        let ts = sim_now.min(Utc::now()).max(schedule.start);
        let never = CancellationToken::new();
        for door in offline {
            let m = StatusMessage {
                door,
                status: DoorStatus::Online,
                ts: ts.fixed_offset(),
            };
            let publish = mqtt.publish(m.topic(&h.site_id), m.payload().to_string(), &never);
            if let Ok(Ok(true)) = tokio::time::timeout(Duration::from_secs(1), publish).await {
                report.status_changes += 1;
            }
        }
    }
    let ack_wait = if report.cancelled {
        Duration::from_secs(1)
    } else {
        ACK_TIMEOUT
    };
    report.mqtt_unacked = mqtt.finish(ack_wait).await;
    result?;
    report.maintenance = schedule
        .maintenance
        .iter()
        .filter(|m| {
            m.request_id
                .as_ref()
                .is_none_or(|id| !maintenance.failed.contains(id))
        })
        .cloned()
        .collect();
    tracing::info!(
        door_events = report.door_events,
        status_changes = report.status_changes,
        logins = report.logins,
        skipped = report.skipped,
        rejected = report.rejected,
        unacked = report.mqtt_unacked,
        "day played"
    );
    Ok(report)
}

/// Sends the day's maintenance messages and remembers what came of them.
struct MaintenancePlayer {
    hub: Hub,
    /// Requests approved in this run (through the hook).
    approved: BTreeSet<String>,
    /// Requests some message of which was skipped or refused.
    failed: BTreeSet<String>,
}

impl MaintenancePlayer {
    async fn handle(
        &mut self,
        m: &schedule::MaintenanceMessage,
        opts: &PlayOptions,
        report: &mut PlayReport,
    ) {
        let id = m.request_id.clone();
        let token = opts
            .vendor_tokens
            .get(m.vendor.as_str())
            .filter(|t| !t.trim().is_empty());
        let sent = match &m.kind {
            MaintenanceKind::Decision { decision, note } => {
                let wanted = WantedDecision {
                    request_id: id.clone(),
                    decision: *decision,
                    note: note.clone(),
                    at: m.ts.with_timezone(&Utc),
                };
                let made = match &opts.decide {
                    Some(hook) => match (hook.0)(wanted.clone()).await {
                        Ok(()) => true,
                        Err(e) => {
                            tracing::warn!(request = %id, decision = %decision, error = %e, "the decision hook failed");
                            false
                        }
                    },
                    None => false,
                };
                if made {
                    report.decisions_made += 1;
                    if *decision == monban_core::maintenance::Decision::Approve {
                        self.approved.insert(id);
                    } else {
                        self.approved.remove(&id);
                    }
                } else {
                    report.decisions_not_made.push(wanted);
                    self.failed.insert(id);
                }
                return;
            }
            _ if token.is_none() => {
                tracing::debug!(vendor = %m.vendor, request = %id, "no vendor token: maintenance message skipped");
                report.maintenance_skipped += 1;
                self.failed.insert(id);
                return;
            }
            MaintenanceKind::Report {
                needs_approval: true,
                ..
            } if !self.approved.contains(&id) => {
                tracing::info!(request = %id, "not approved in this run: its report is not sent");
                report.maintenance_skipped += 1;
                self.failed.insert(id);
                return;
            }
            MaintenanceKind::Request(body) => {
                self.hub
                    .file_request(token.map(String::as_str).unwrap_or_default(), body)
                    .await
            }
            MaintenanceKind::Report { body, .. } => {
                self.hub
                    .submit_report(token.map(String::as_str).unwrap_or_default(), &id, body)
                    .await
            }
        };
        match sent {
            Ok(r) if r.is_success() => report.maintenance_sent += 1,
            Ok(r) => {
                tracing::warn!(request = %id, status = r.status, body = %r.body, "the hub refused a maintenance message");
                report.maintenance_refused += 1;
                self.failed.insert(id);
            }
            Err(e) => {
                tracing::warn!(request = %id, error = %format!("{e:#}"), "cannot deliver a maintenance message");
                report.maintenance_refused += 1;
                self.failed.insert(id);
            }
        }
    }
}

/// Checks the options; returns the logins URL.
fn check_options(h: &Hospital, opts: &PlayOptions, now: DateTime<Utc>) -> anyhow::Result<String> {
    if !(opts.speed.is_finite() && opts.speed > 0.0) {
        bail!(
            "speed must be a positive number of simulated seconds per real second, not {}",
            opts.speed
        );
    }
    if opts.start > now {
        bail!(
            "start {} is in the future; the simulation never sends events from the future",
            opts.start
        );
    }
    if opts.mqtt_host.trim().is_empty() {
        bail!("the MQTT host is empty");
    }
    let url = reqwest::Url::parse(&opts.hub_url)
        .with_context(|| format!("hub URL {:?} is not a URL", opts.hub_url))?;
    if url.scheme() != "http" {
        bail!(
            "hub URL {:?} must start with http:// (this build speaks plain HTTP)",
            opts.hub_url
        );
    }
    let systems: BTreeSet<String> = h.system_ids().iter().map(|s| s.to_string()).collect();
    let unknown: Vec<&str> = opts
        .login_tokens
        .keys()
        .filter(|k| !systems.contains(*k))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        bail!(
            "login token for unknown system(s) {}; the hospital's systems are {}",
            unknown.join(", "),
            systems.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    let vendors: BTreeSet<&str> = h.vendors.iter().map(|v| v.id.as_str()).collect();
    if let Some(v) = opts
        .vendor_tokens
        .keys()
        .find(|v| !vendors.contains(v.as_str()))
    {
        bail!(
            "vendor token for unknown vendor {v}; the hospital's vendors are {}",
            vendors.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }
    let missing: Vec<&str> = systems
        .iter()
        .filter(|s| {
            opts.login_tokens
                .get(*s)
                .is_none_or(|t| t.trim().is_empty())
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        bail!(
            "no login token for system(s) {}; every system of the hospital needs one",
            missing.join(", ")
        );
    }
    Ok(format!(
        "{}/api/v1/logins",
        opts.hub_url.trim_end_matches('/')
    ))
}

/// The outcome of one login POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Posted {
    /// `200` or `202`, with the hub's answer (`{"event_id", "verdict", "reasons", "final"}`).
    Accepted(String),
    /// A 4xx, or a 5xx after every attempt: the status and the hub's answer.
    Rejected {
        status: u16,
        body: String,
    },
    Cancelled,
}

/// POSTs one login; retries connection errors, timeouts and 5xx with backoff.
pub(crate) async fn post_login(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    event_id: &str,
    body: &serde_json::Value,
    cancel: &CancellationToken,
) -> anyhow::Result<Posted> {
    let mut backoff = Duration::from_millis(250);
    for attempt in 1..=POST_ATTEMPTS {
        let last = attempt == POST_ATTEMPTS;
        let sent = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Ok(Posted::Cancelled),
            r = http.post(url).bearer_auth(token).json(body).send() => r,
        };
        match sent {
            Ok(resp) if resp.status().is_success() => {
                return Ok(Posted::Accepted(resp.text().await.unwrap_or_default()))
            }
            Ok(resp) if resp.status().is_client_error() => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                tracing::warn!(%event_id, %status, body = %text, "the hub refused a login");
                return Ok(Posted::Rejected {
                    status: status.as_u16(),
                    body: text,
                });
            }
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                if last {
                    tracing::error!(%event_id, %status, body = %text, "the hub kept failing on a login; giving up on it");
                    return Ok(Posted::Rejected {
                        status: status.as_u16(),
                        body: text,
                    });
                }
                tracing::warn!(%event_id, %status, attempt, "the hub failed on a login; retrying");
            }
            Err(e) if e.is_connect() || e.is_timeout() || e.is_request() => {
                if last {
                    return Err(anyhow!(e)).with_context(|| {
                        format!("cannot deliver login {event_id} to {url} after {POST_ATTEMPTS} attempts")
                    });
                }
                tracing::warn!(%event_id, error = %e, attempt, "cannot reach the hub; retrying");
            }
            Err(e) => {
                return Err(anyhow!(e))
                    .with_context(|| format!("cannot deliver login {event_id} to {url}"))
            }
        }
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Ok(Posted::Cancelled),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(4));
    }
    // Not reached: the last attempt always returns above.
    Ok(Posted::Rejected {
        status: 0,
        body: format!("gave up after {POST_ATTEMPTS} attempts"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hospital::generate;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    fn opts() -> PlayOptions {
        PlayOptions {
            login_tokens: crate::hospital::ids::SYSTEMS
                .iter()
                .map(|s| (s.to_string(), format!("tok-{s}")))
                .collect(),
            ..PlayOptions::default()
        }
    }

    /// A tiny hub: answers 503 to the first attempt, then 202; 403 for a wrong token.
    async fn tiny_hub() -> (String, Arc<AtomicU64>) {
        use axum::http::{HeaderMap, StatusCode};
        use axum::routing::post;
        let attempts = Arc::new(AtomicU64::new(0));
        let state = attempts.clone();
        let app = axum::Router::new().route(
            "/api/v1/logins",
            post(
                move |headers: HeaderMap, body: axum::Json<serde_json::Value>| {
                    let state = state.clone();
                    async move {
                        let n = state.fetch_add(1, Ordering::SeqCst);
                        let auth = headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        if auth != "Bearer tok-ehr" {
                            return (
                                StatusCode::FORBIDDEN,
                                r#"{"error":{"code":"forbidden","message":"wrong system"}}"#
                                    .to_string(),
                            );
                        }
                        if n == 0 {
                            return (StatusCode::SERVICE_UNAVAILABLE, String::new());
                        }
                        (
                            StatusCode::ACCEPTED,
                            format!(r#"{{"event_id":{},"verdict":"not_met"}}"#, body["event_id"]),
                        )
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/api/v1/logins"), attempts)
    }

    #[tokio::test]
    async fn login_posts_retry_then_succeed_and_refusals_are_counted() {
        let (url, attempts) = tiny_hub().await;
        let http = reqwest::Client::new();
        let cancel = CancellationToken::new();
        let body = serde_json::json!({"event_id": "l-1"});
        let posted = post_login(&http, &url, "tok-ehr", "l-1", &body, &cancel)
            .await
            .expect("delivered");
        assert!(
            matches!(&posted, Posted::Accepted(body) if body.contains("not_met")),
            "{posted:?}"
        );
        assert_eq!(attempts.load(Ordering::SeqCst), 2, "the 503 was retried");
        let posted = post_login(&http, &url, "tok-vpn", "l-2", &body, &cancel)
            .await
            .expect("answered");
        assert!(
            matches!(&posted, Posted::Rejected { status: 403, body } if body.contains("wrong system")),
            "{posted:?}"
        );
        assert_eq!(attempts.load(Ordering::SeqCst), 3, "a 4xx is not retried");
    }

    #[tokio::test]
    async fn an_unreachable_hub_is_an_error_and_cancel_stops_retrying() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/api/v1/logins",
            listener.local_addr().expect("addr")
        );
        drop(listener);
        let http = reqwest::Client::new();
        let body = serde_json::json!({});
        let cancel = CancellationToken::new();
        cancel.cancel();
        assert_eq!(
            post_login(&http, &url, "t", "l-1", &body, &cancel)
                .await
                .ok(),
            Some(Posted::Cancelled)
        );
        let err = post_login(&http, &url, "t", "l-1", &body, &CancellationToken::new())
            .await
            .expect_err("unreachable");
        assert!(format!("{err:#}").contains("after 5 attempts"), "{err:#}");
    }

    /// A stub of the maintenance API: files and reports for `Bearer tok-medisys`.
    async fn maintenance_stub() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        use axum::extract::Path;
        use axum::http::{HeaderMap, StatusCode};
        use axum::routing::post;
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (a, b) = (seen.clone(), seen.clone());
        let ok = |h: &HeaderMap| {
            h.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer tok-medisys")
        };
        let app = axum::Router::new()
            .route(
                "/api/v1/maintenance",
                post(move |h: HeaderMap, body: axum::Json<serde_json::Value>| {
                    let seen = a.clone();
                    async move {
                        if !ok(&h) {
                            return StatusCode::UNAUTHORIZED;
                        }
                        if let Ok(mut s) = seen.lock() {
                            s.push(format!(
                                "request {}",
                                body["request_id"].as_str().unwrap_or("")
                            ));
                        }
                        StatusCode::CREATED
                    }
                }),
            )
            .route(
                "/api/v1/maintenance/{id}/report",
                post(move |h: HeaderMap, Path(id): Path<String>| {
                    let seen = b.clone();
                    async move {
                        if !ok(&h) {
                            return StatusCode::UNAUTHORIZED;
                        }
                        if let Ok(mut s) = seen.lock() {
                            s.push(format!("report {id}"));
                        }
                        StatusCode::CREATED
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}"), seen)
    }

    #[tokio::test]
    async fn maintenance_is_filed_decided_through_the_hook_and_reported_once_approved() {
        use monban_core::maintenance::{Decision, ReportBody, RequestBody};
        let (url, seen) = maintenance_stub().await;
        let ts = chrono::DateTime::parse_from_rfc3339("2026-12-06T10:00:00+09:00").expect("ts");
        let msg = |vendor: &str, id: &str, kind: MaintenanceKind| schedule::MaintenanceMessage {
            ts,
            vendor: monban_core::VendorId::parse(vendor).expect("vendor"),
            request_id: id.into(),
            kind,
        };
        let request = |id: &str| {
            MaintenanceKind::Request(RequestBody {
                request_id: id.into(),
                vendor: None,
                system: "ehr".into(),
                people: vec!["p0031".into()],
                work_plan: "WP-1".into(),
                purpose: String::new(),
                start: "2026-12-06T01:00:00+09:00".into(),
                end: "2026-12-06T04:00:00+09:00".into(),
                remote: true,
                emergency: false,
            })
        };
        let report_of = || MaintenanceKind::Report {
            body: ReportBody {
                summary: "done".into(),
                recording: None,
            },
            needs_approval: true,
        };
        let approve = || MaintenanceKind::Decision {
            decision: Decision::Approve,
            note: String::new(),
        };
        let decided = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = decided.clone();
        let mut o = opts();
        o.hub_url = url;
        o.vendor_tokens
            .insert("medisys".into(), "tok-medisys".into());
        o.decide = Some(DecisionHook::new(move |d: WantedDecision| {
            let log = log.clone();
            async move {
                if let Ok(mut l) = log.lock() {
                    l.push(format!("{} {}", d.decision.as_str(), d.request_id));
                }
                Ok(())
            }
        }));
        let mut player = MaintenancePlayer {
            hub: Hub::new(&o.hub_url).expect("hub"),
            approved: BTreeSet::new(),
            failed: BTreeSet::new(),
        };
        let mut report = PlayReport::default();
        for m in [
            msg("medisys", "a", request("a")),
            msg("medisys", "a", approve()),
            msg("medisys", "a", report_of()),
            // Not approved in this run: its report is not sent.
            msg("medisys", "b", request("b")),
            msg("medisys", "b", report_of()),
            // No token for this vendor.
            msg("towa-mt", "c", request("c")),
        ] {
            player.handle(&m, &o, &mut report).await;
        }
        assert_eq!(report.maintenance_sent, 3);
        assert_eq!(report.maintenance_skipped, 2);
        assert_eq!(report.decisions_made, 1);
        assert!(report.decisions_not_made.is_empty());
        assert_eq!(
            seen.lock().expect("lock").clone(),
            vec!["request a", "report a", "request b"]
        );
        assert_eq!(decided.lock().expect("lock").clone(), vec!["approve a"]);
        assert_eq!(
            player.failed.iter().map(String::as_str).collect::<Vec<_>>(),
            vec!["b", "c"]
        );

        // Without a hook the decision is listed for an officer.
        o.decide = None;
        let mut report = PlayReport::default();
        player
            .handle(&msg("medisys", "d", approve()), &o, &mut report)
            .await;
        assert_eq!(report.decisions_not_made.len(), 1);
        assert_eq!(report.decisions_not_made[0].request_id, "d");
        // A wrong token is refused and counted.
        o.vendor_tokens.insert("medisys".into(), "wrong".into());
        player
            .handle(&msg("medisys", "e", request("e")), &o, &mut report)
            .await;
        assert_eq!(report.maintenance_refused, 1);
    }

    #[test]
    fn options_are_checked() {
        let h = generate(1);
        let now = Utc::now();
        assert_eq!(
            check_options(&h, &opts(), now).ok().as_deref(),
            Some("http://127.0.0.1:8080/api/v1/logins")
        );

        let mut o = opts();
        o.speed = 0.0;
        assert!(check_options(&h, &o, now).is_err_and(|e| e.to_string().contains("speed")));
        let mut o = opts();
        o.start = now + TimeDelta::hours(1);
        assert!(check_options(&h, &o, now).is_err_and(|e| e.to_string().contains("future")));
        let mut o = opts();
        o.login_tokens.remove("vpn");
        assert!(check_options(&h, &o, now)
            .is_err_and(|e| e.to_string().contains("no login token for system(s) vpn")));
        let mut o = opts();
        o.login_tokens.insert("lis".into(), "x".into());
        assert!(check_options(&h, &o, now)
            .is_err_and(|e| e.to_string().contains("unknown system(s) lis")));
        let mut o = opts();
        o.hub_url = "ftp://x".into();
        assert!(check_options(&h, &o, now).is_err_and(|e| e.to_string().contains("http://")));
        let mut o = opts();
        o.vendor_tokens.insert("acme".into(), "x".into());
        assert!(check_options(&h, &o, now)
            .is_err_and(|e| e.to_string().contains("unknown vendor acme")));
    }
}
