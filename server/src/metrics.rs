//! Prometheus metrics (`GET /metrics`): events ingested by source, verdicts by kind,
//! dead letters, connector state, per-door health (online, last event, heartbeat and
//! sign of life, overruns, outages, dead letters) and request latency histograms.
//!
//! One registry per hub (no global recorder), so tests can run several hubs in one
//! process and read each one's figures.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceResult {
    pub source: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabel {
    pub verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnectorLabel {
    pub connector: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DoorLabel {
    pub door: String,
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabel {
    pub method: String,
    pub route: String,
    pub status: String,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~8 s
    Histogram::new(exponential_buckets(0.00025, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub door_events: Family<SourceResult, Counter>,
    pub status_changes: Family<SourceLabel, Counter>,
    pub logins: Family<SourceResult, Counter>,
    pub verdicts: Family<VerdictLabel, Counter>,
    pub verdict_changes: Family<VerdictLabel, Counter>,
    pub dead_letters: Family<SourceLabel, Counter>,
    pub connector_up: Family<ConnectorLabel, Gauge>,
    pub pending_verdicts: Gauge,
    pub http_latency: Family<HttpLabel, Histogram, fn() -> Histogram>,
    /// Inputs per writer transaction (group commit: how many one commit holds).
    pub batch_inputs: Histogram,
    /// Time from a batch's first statement to its commit.
    pub batch_seconds: Histogram,
    pub door_online: Family<DoorLabel, Gauge>,
    pub door_last_event: Family<DoorLabel, Gauge>,
    pub door_last_heartbeat: Family<DoorLabel, Gauge>,
    pub door_last_heard: Family<DoorLabel, Gauge>,
    pub door_overruns: Family<DoorLabel, Gauge>,
    pub door_outages: Family<DoorLabel, Gauge>,
    pub door_dead_letters: Family<DoorLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("monban");
        let door_events = Family::<SourceResult, Counter>::default();
        let status_changes = Family::<SourceLabel, Counter>::default();
        let logins = Family::<SourceResult, Counter>::default();
        let verdicts = Family::<VerdictLabel, Counter>::default();
        let verdict_changes = Family::<VerdictLabel, Counter>::default();
        let dead_letters = Family::<SourceLabel, Counter>::default();
        let connector_up = Family::<ConnectorLabel, Gauge>::default();
        let pending_verdicts = Gauge::default();
        let http_latency = Family::<HttpLabel, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "door_events_ingested",
            "Door events received, by source and result (new, duplicate)",
            door_events.clone(),
        );
        registry.register(
            "door_status_changes",
            "Door status changes received, by source",
            status_changes.clone(),
        );
        registry.register(
            "logins_ingested",
            "Logins received, by source and result (new, duplicate)",
            logins.clone(),
        );
        registry.register(
            "verdicts",
            "First verdicts given to new logins, by kind",
            verdicts.clone(),
        );
        registry.register(
            "verdict_changes",
            "Verdicts changed by a late event inside grace, by new kind",
            verdict_changes.clone(),
        );
        registry.register(
            "dead_letters",
            "Payloads kept as dead letters, by source",
            dead_letters.clone(),
        );
        registry.register(
            "connector_up",
            "1 when the connector is connected, 0 otherwise",
            connector_up.clone(),
        );
        registry.register(
            "pending_verdicts",
            "Logins whose verdict is not yet final",
            pending_verdicts.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency, by method, route and status",
            http_latency.clone(),
        );
        // 1 .. 4096 inputs.
        let batch_inputs = Histogram::new(exponential_buckets(1.0, 2.0, 13));
        registry.register(
            "writer_batch_inputs",
            "Inputs stored per writer transaction (one commit each)",
            batch_inputs.clone(),
        );
        let batch_seconds = latency_histogram();
        registry.register(
            "writer_batch_seconds",
            "Time the writer spends on one batch, from its first statement to the commit",
            batch_seconds.clone(),
        );
        let door_online = Family::<DoorLabel, Gauge>::default();
        let door_last_event = Family::<DoorLabel, Gauge>::default();
        let door_last_heartbeat = Family::<DoorLabel, Gauge>::default();
        let door_last_heard = Family::<DoorLabel, Gauge>::default();
        let door_overruns = Family::<DoorLabel, Gauge>::default();
        let door_outages = Family::<DoorLabel, Gauge>::default();
        let door_dead_letters = Family::<DoorLabel, Gauge>::default();
        registry.register(
            "door_online",
            "1 when the door is online now, 0 when offline (status, outage or heartbeat timeout)",
            door_online.clone(),
        );
        registry.register(
            "door_last_event_timestamp_seconds",
            "Arrival time of the door's newest event (Unix seconds)",
            door_last_event.clone(),
        );
        registry.register(
            "door_last_heartbeat_timestamp_seconds",
            "Time of the door's newest heartbeat or successful poll (Unix seconds)",
            door_last_heartbeat.clone(),
        );
        registry.register(
            "door_last_heard_timestamp_seconds",
            "Time of the door's newest sign of life (Unix seconds)",
            door_last_heard.clone(),
        );
        registry.register(
            "door_overruns_recorded",
            "Modbus event ring overruns recorded for the door (all time)",
            door_overruns.clone(),
        );
        registry.register(
            "door_outages_recorded",
            "Outages (fail-closed periods) recorded for the door (all time)",
            door_outages.clone(),
        );
        registry.register(
            "door_dead_letters_recorded",
            "Dead letters that named the door (all time)",
            door_dead_letters.clone(),
        );
        Metrics {
            door_online,
            door_last_event,
            door_last_heartbeat,
            door_last_heard,
            door_overruns,
            door_outages,
            door_dead_letters,
            registry,
            door_events,
            status_changes,
            logins,
            verdicts,
            verdict_changes,
            dead_letters,
            connector_up,
            pending_verdicts,
            http_latency,
            batch_inputs,
            batch_seconds,
        }
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// `n` door events from `source` were stored (`result` `new`) or repeated
    /// (`duplicate`). The writer adds up a batch before it counts.
    pub fn door_events(&self, source: &str, result: &str, n: u64) {
        self.door_events
            .get_or_create(&SourceResult {
                source: source.into(),
                result: result.into(),
            })
            .inc_by(n);
    }
    pub fn logins(&self, result: &str, n: u64) {
        self.logins
            .get_or_create(&SourceResult {
                source: "http".into(),
                result: result.into(),
            })
            .inc_by(n);
    }
    pub fn verdicts(&self, kind: &str, n: u64) {
        self.verdicts
            .get_or_create(&VerdictLabel {
                verdict: kind.into(),
            })
            .inc_by(n);
    }
    pub fn verdict_changes(&self, kind: &str, n: u64) {
        self.verdict_changes
            .get_or_create(&VerdictLabel {
                verdict: kind.into(),
            })
            .inc_by(n);
    }
    pub fn dead_letters(&self, source: &str, n: u64) {
        self.dead_letters
            .get_or_create(&SourceLabel {
                source: source.into(),
            })
            .inc_by(n);
    }
    pub fn status_changes(&self, source: &str, n: u64) {
        self.status_changes
            .get_or_create(&SourceLabel {
                source: source.into(),
            })
            .inc_by(n);
    }
    /// Sets the per-door gauges from the hub's health view (called at each scrape).
    pub fn set_door_health(&self, doors: &[crate::health::DoorHealth]) {
        let secs = |t: &Option<String>| {
            t.as_deref()
                .and_then(|t| monban_core::Timestamp::parse_rfc3339(t).ok())
                .map(|t| t.as_millis() / 1000)
        };
        for d in doors {
            let l = DoorLabel {
                door: d.door.clone(),
                source: d.source.to_string(),
            };
            self.door_online
                .get_or_create(&l)
                .set(i64::from(d.state == "online"));
            for (family, value) in [
                (&self.door_last_event, secs(&d.last_event_at)),
                (&self.door_last_heartbeat, secs(&d.last_heartbeat_at)),
                (&self.door_last_heard, secs(&d.last_heard_at)),
            ] {
                if let Some(v) = value {
                    family.get_or_create(&l).set(v);
                }
            }
            let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            self.door_overruns.get_or_create(&l).set(count(d.overruns));
            self.door_outages.get_or_create(&l).set(count(d.outages));
            self.door_dead_letters
                .get_or_create(&l)
                .set(count(d.dead_letters));
        }
    }

    pub fn connector(&self, name: &str, up: bool) {
        self.connector_up
            .get_or_create(&ConnectorLabel {
                connector: name.into(),
            })
            .set(up as i64);
    }
}
