//! The load generator behind `monban-sim load` and `docs/BENCHMARKS.md`.
//!
//! Two measurements against a running hub, both through the real connectors:
//!
//! 1. **Door events, MQTT → stored.** Publishes `door_events` access events at QoS 1 to
//!    `monban/{site}/door/{door}/event` and follows the hub's live feed
//!    (`GET /api/v1/live`, one message per stored event) to see each one stored. The
//!    latency of an event is the time from its publish call to its message on the feed;
//!    the throughput is events stored per second from the first publish to the last
//!    store.
//! 2. **Login verdicts, HTTP.** Posts `logins` logins with `concurrency` parallel
//!    clients and times each request until its verdict is back.
//!
//! It is a benchmark, not a test: it reports figures and asserts nothing about them.

use anyhow::{bail, Context as _};
use chrono::Utc;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// What to send and where.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub mqtt_host: String,
    pub mqtt_port: u16,
    pub hub_url: String,
    pub site: String,
    /// A door of the hub's inventory, and a credential of a person in it.
    pub door: String,
    pub credential_type: String,
    pub credential_id: String,
    pub door_events: u64,
    /// Door events per second to publish at; 0 publishes as fast as the client can
    /// (a saturation run: the latency then measures the queue).
    pub door_rate: f64,
    /// A system, its login-ingest token, an account mapped to that person and a terminal.
    pub system: String,
    pub login_token: String,
    /// A read token (any role) for the live feed, which needs one since the hub has
    /// sign-in.
    pub read_token: Option<String>,
    pub account: String,
    pub terminal: String,
    pub logins: u64,
    pub concurrency: usize,
    /// A tag that makes this run's event ids unique.
    pub run_id: String,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(mut samples: Vec<Duration>) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort();
        let at = |q: f64| {
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples[i.min(samples.len() - 1)].as_secs_f64() * 1000.0
        };
        Percentiles {
            count: samples.len(),
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadReport {
    pub door_events_sent: u64,
    pub door_events_stored: u64,
    pub door_events_per_second: f64,
    pub door_event_latency: Percentiles,
    pub logins_sent: u64,
    pub logins_ok: u64,
    pub logins_per_second: f64,
    pub login_latency: Percentiles,
}

/// Runs both measurements and returns the figures.
pub async fn run(opts: &LoadOptions) -> anyhow::Result<LoadReport> {
    let mut report = LoadReport::default();
    if opts.door_events > 0 {
        door_events(opts, &mut report).await?;
    }
    if opts.logins > 0 {
        logins(opts, &mut report).await?;
    }
    Ok(report)
}

async fn door_events(opts: &LoadOptions, report: &mut LoadReport) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    // Follow the live feed first, so no store is missed.
    let mut request = http.get(format!("{}/api/v1/live", opts.hub_url));
    if let Some(token) = &opts.read_token {
        request = request.bearer_auth(token);
    }
    let mut feed = request
        .send()
        .await
        .context("cannot open the hub's live feed")?
        .error_for_status()
        .context("the hub refused its live feed (give a read token: --read-token)")?;
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let total = opts.door_events;
    let prefix = format!("{}/bench-{}-", opts.door, opts.run_id);
    let sent_r = sent.clone();
    let reader = tokio::spawn(async move {
        let mut latencies = Vec::with_capacity(total as usize);
        let mut buf = String::new();
        let mut last = Instant::now();
        let deadline = Instant::now() + Duration::from_secs(600);
        // Stop when everything was seen, or nothing new was stored for 30 s (the feed's
        // keep-alives alone do not count): lost events are then reported as such.
        while (latencies.len() as u64) < total
            && Instant::now() < deadline
            && last.elapsed() < Duration::from_secs(30)
        {
            let chunk = match tokio::time::timeout(Duration::from_secs(5), feed.chunk()).await {
                Ok(Ok(Some(c))) => c,
                Ok(_) => break,
                Err(_) => continue,
            };
            let now = Instant::now();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find('\n') {
                let line: String = buf.drain(..=end).collect();
                let Some(data) = line.strip_prefix("data:") else {
                    continue;
                };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) else {
                    continue;
                };
                if v["kind"] != "door_event" {
                    continue;
                }
                let id = v["id"].as_str().unwrap_or_default();
                if !id.starts_with(&prefix) {
                    continue;
                }
                if let Some(t0) = sent_r.lock().await.get(id) {
                    latencies.push(now.duration_since(*t0));
                    last = now;
                }
            }
        }
        (latencies, last)
    });

    let mut mqtt = MqttOptions::new(
        format!("monban-load-{}", opts.run_id),
        &opts.mqtt_host,
        opts.mqtt_port,
    );
    mqtt.set_keep_alive(Duration::from_secs(30));
    mqtt.set_inflight(200);
    let (client, mut eventloop) = AsyncClient::new(mqtt, 1000);
    let poller = tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Disconnect)) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "load generator MQTT error");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    });
    let topic = format!("monban/{}/door/{}/event", opts.site, opts.door);
    let started = Instant::now();
    let pace = (opts.door_rate > 0.0).then(|| Duration::from_secs_f64(1.0 / opts.door_rate));
    for n in 0..total {
        if let Some(pace) = pace {
            let due = started + pace * n as u32;
            tokio::time::sleep_until(due.into()).await;
        }
        let event_id = format!("bench-{}-{n:07}", opts.run_id);
        // Exits, so the events do not pile up presence for the bench person.
        let payload = serde_json::json!({
            "event_id": event_id,
            "ts": Utc::now().to_rfc3339(),
            "kind": "access_granted",
            "direction": if n % 2 == 0 { "in" } else { "out" },
            "credential": {"type": opts.credential_type, "id": opts.credential_id},
        });
        sent.lock()
            .await
            .insert(format!("{}/{event_id}", opts.door), Instant::now());
        client
            .publish(&topic, QoS::AtLeastOnce, false, payload.to_string())
            .await?;
    }
    let (latencies, last) = reader.await?;
    let _ = client.disconnect().await;
    poller.abort();
    report.door_events_sent = total;
    report.door_events_stored = latencies.len() as u64;
    let secs = last.duration_since(started).as_secs_f64().max(1e-9);
    report.door_events_per_second = latencies.len() as f64 / secs;
    report.door_event_latency = Percentiles::of(latencies);
    if report.door_events_stored < total {
        tracing::warn!(
            stored = report.door_events_stored,
            total,
            "not every door event was seen stored"
        );
    }
    Ok(())
}

async fn logins(opts: &LoadOptions, report: &mut LoadReport) -> anyhow::Result<()> {
    if opts.concurrency == 0 {
        bail!("concurrency must be at least 1");
    }
    let http = reqwest::Client::new();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..opts.concurrency {
        let http = http.clone();
        let next = next.clone();
        let opts = opts.clone();
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut ok = 0u64;
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= opts.logins {
                    break;
                }
                let body = serde_json::json!({
                    "event_id": format!("bench-{}-l{n:07}", opts.run_id),
                    "ts": Utc::now().to_rfc3339(),
                    "system": opts.system,
                    "account": opts.account,
                    "terminal": opts.terminal,
                    "factors": ["password"],
                    "outcome": "success",
                });
                let t0 = Instant::now();
                let res = http
                    .post(format!("{}/api/v1/logins", opts.hub_url))
                    .bearer_auth(&opts.login_token)
                    .json(&body)
                    .send()
                    .await;
                if let Ok(r) = res {
                    if r.status().is_success() && r.bytes().await.is_ok() {
                        ok += 1;
                        lat.push(t0.elapsed());
                    }
                }
            }
            (lat, ok)
        }));
    }
    let mut all = Vec::new();
    let mut ok = 0;
    for w in workers {
        let (l, o) = w.await?;
        all.extend(l);
        ok += o;
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    report.logins_sent = opts.logins;
    report.logins_ok = ok;
    report.logins_per_second = ok as f64 / secs;
    report.login_latency = Percentiles::of(all);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let p = Percentiles::of((1..=100).map(Duration::from_millis).collect());
        assert_eq!(p.count, 100);
        assert!((p.p50_ms - 50.0).abs() <= 1.0, "{p:?}");
        assert!((p.p99_ms - 99.0).abs() <= 1.0, "{p:?}");
        assert_eq!(p.max_ms, 100.0);
        assert_eq!(Percentiles::of(vec![]).count, 0);
    }
}
