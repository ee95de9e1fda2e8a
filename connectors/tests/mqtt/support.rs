//! Test support: an in-memory [`DoorSink`], brokers (embedded rumqttd, or the Mosquitto
//! named by `MONBAN_TEST_MQTT_URL`), a QoS 1 publisher, and a handle on a running
//! connector.

use async_trait::async_trait;
use monban_connectors::mqtt::{self, MqttError, MqttSettings};
use monban_connectors::{ConnectorState, DeadLetter, DoorSink, Ingested, SinkError};
use monban_core::health::OutageCause;
use monban_core::{DoorEvent, DoorId, SiteId, StatusChange, Timestamp};
use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Logs to the test output when `TEST_LOG` is set (e.g. `TEST_LOG=1`, or a filter such
/// as `TEST_LOG=monban_connectors=debug,rumqttd=info`).
pub fn init_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let filter = if filter == "1" {
                "monban_connectors=debug".to_string()
            } else {
                filter
            };
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}

/// How long a condition may take to come true.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A short random suffix, so tests never share client ids, sites or sessions.
pub fn unique(prefix: &str) -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u8(0);
    format!("{prefix}-{:08x}", h.finish() as u32)
}

pub fn now() -> Timestamp {
    Timestamp::from(chrono::Utc::now())
}

// ---------------------------------------------------------------- the sink double

/// Everything the connector handed to the sink.
#[derive(Debug, Default, Clone)]
pub struct Recorded {
    /// Events stored for the first time, in order.
    pub stored: Vec<DoorEvent>,
    /// Every successful `door_event` call by `(door, event_id)`, duplicates included.
    pub deliveries: HashMap<(String, String), usize>,
    pub statuses: Vec<StatusChange>,
    pub dead_letters: Vec<DeadLetter>,
    pub states: Vec<ConnectorState>,
    pub blind: Vec<(String, Timestamp, Timestamp)>,
    /// `door_outage` calls: door, from, to, cause, reason.
    pub outages: Vec<(String, Timestamp, Timestamp, OutageCause, String)>,
    /// `fresh_session` calls: connector, time.
    pub fresh: Vec<(String, Timestamp)>,
    /// `heartbeat` calls: door, time.
    pub heartbeats: Vec<(String, Timestamp)>,
    /// Injected failures served.
    pub failures: usize,
}

impl Recorded {
    pub fn stored_count(&self, door: &str, event_id: &str) -> usize {
        self.stored
            .iter()
            .filter(|e| e.door.as_str() == door && e.event_id == event_id)
            .count()
    }
    pub fn delivered(&self, door: &str, event_id: &str) -> usize {
        self.deliveries
            .get(&(door.to_string(), event_id.to_string()))
            .copied()
            .unwrap_or(0)
    }
    pub fn is_connected(&self) -> bool {
        matches!(self.states.last(), Some(ConnectorState::Connected))
    }
    pub fn dead_letter_codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self
            .dead_letters
            .iter()
            .map(|d| d.reason.split(':').next().unwrap_or_default().to_string())
            .collect();
        codes.sort();
        codes
    }
}

/// An in-memory [`DoorSink`] that dedupes by `(door, event_id)` like the store, and can
/// be told to fail the next N `door_event` calls (the store is down).
#[derive(Default)]
pub struct MemorySink {
    rec: Mutex<Recorded>,
    fail_events: AtomicUsize,
    /// 1-based numbers of `door_event` calls that fail.
    fail_calls: Mutex<Vec<usize>>,
    calls: AtomicUsize,
}

impl MemorySink {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    pub fn fail_next_events(&self, n: usize) {
        self.fail_events.store(n, Ordering::SeqCst);
    }
    /// Fails the `door_event` calls with these 1-based numbers.
    pub fn fail_on_calls(&self, calls: &[usize]) {
        *self.fail_calls.lock().unwrap_or_else(|p| p.into_inner()) = calls.to_vec();
    }
    pub fn recorded(&self) -> MutexGuard<'_, Recorded> {
        self.rec.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Waits until `cond` holds, or panics after [`DEADLINE`] with what was recorded.
    pub async fn wait_for(&self, what: &str, cond: impl Fn(&Recorded) -> bool) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if cond(&self.recorded()) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "timed out waiting for {what}; recorded: {:#?}",
                    *self.recorded()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[async_trait]
impl DoorSink for MemorySink {
    async fn door_event(&self, event: DoorEvent, _raw: &[u8]) -> Result<Ingested, SinkError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let fail = self
            .fail_events
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
            || self
                .fail_calls
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(&call);
        let mut rec = self.recorded();
        if fail {
            rec.failures += 1;
            return Err(SinkError("injected failure: database is locked".into()));
        }
        let key = (event.door.to_string(), event.event_id.clone());
        *rec.deliveries.entry(key.clone()).or_default() += 1;
        if rec
            .stored
            .iter()
            .any(|e| e.door.as_str() == key.0 && e.event_id == key.1)
        {
            return Ok(Ingested::Duplicate);
        }
        rec.stored.push(event);
        Ok(Ingested::New)
    }
    async fn door_status(&self, change: StatusChange, _raw: &[u8]) -> Result<(), SinkError> {
        self.recorded().statuses.push(change);
        Ok(())
    }
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), SinkError> {
        self.recorded().dead_letters.push(letter);
        Ok(())
    }
    async fn fresh_session(&self, name: &str, at: Timestamp) {
        self.recorded().fresh.push((name.to_string(), at));
    }
    async fn heartbeat(&self, door: &DoorId, ts: Timestamp) -> Result<(), SinkError> {
        self.recorded().heartbeats.push((door.to_string(), ts));
        Ok(())
    }
    async fn connector_state(&self, _name: &str, state: ConnectorState) {
        self.recorded().states.push(state);
    }
    async fn blind_period(&self, name: &str, from: Timestamp, to: Timestamp) {
        self.recorded().blind.push((name.to_string(), from, to));
    }
    async fn door_outage(
        &self,
        door: &DoorId,
        from: Timestamp,
        to: Timestamp,
        cause: OutageCause,
        reason: &str,
    ) {
        self.recorded()
            .outages
            .push((door.to_string(), from, to, cause, reason.to_string()));
    }
    fn now(&self) -> Timestamp {
        now()
    }
}

// ---------------------------------------------------------------- brokers

/// Starts an embedded rumqttd on a free port of 127.0.0.1 and returns its URL once it
/// accepts connections. The broker lives until the test process ends.
pub fn start_rumqttd() -> String {
    // rumqttd wants a concrete address (with port 0 we could not learn the real one):
    // take a free port from the OS and hand it over.
    let addr: SocketAddr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let config = rumqttd_config(addr);
    std::thread::Builder::new()
        .name(format!("rumqttd-{}", addr.port()))
        .spawn(move || {
            // `start` blocks for as long as the broker runs.
            if let Err(e) = rumqttd::Broker::new(config).start() {
                eprintln!("embedded rumqttd stopped: {e}");
            }
        })
        .expect("spawn broker thread");
    let deadline = std::time::Instant::now() + DEADLINE;
    while TcpStream::connect(addr).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "embedded rumqttd did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    format!("mqtt://{addr}")
}

/// A rumqttd 0.20 configuration built in code: one MQTT 3.1.1 listener, no console,
/// no metrics, payloads up to 1 MiB.
pub fn rumqttd_config(listen: SocketAddr) -> rumqttd::Config {
    let connections = rumqttd::ConnectionSettings {
        connection_timeout_ms: 5_000,
        max_payload_size: 1024 * 1024,
        max_inflight_count: 100,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = rumqttd::ServerSettings {
        name: "v4-test".into(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    rumqttd::Config {
        id: 0,
        router: rumqttd::RouterConfig {
            max_connections: 100,
            max_outgoing_packet_count: 200,
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 10,
            ..Default::default()
        },
        v4: Some(HashMap::from([("1".to_string(), server)])),
        ..Default::default()
    }
}

/// The Mosquitto to test against, or `None` (and a note on stderr) when
/// `MONBAN_TEST_MQTT_URL` is not set.
pub fn mosquitto_url() -> Option<String> {
    match std::env::var("MONBAN_TEST_MQTT_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipping: MONBAN_TEST_MQTT_URL is not set");
            None
        }
    }
}

fn host_port(url: &str) -> (String, u16) {
    let u = url::Url::parse(url).expect("broker url");
    (
        u.host_str().expect("broker host").to_string(),
        u.port().unwrap_or(1883),
    )
}

// ---------------------------------------------------------------- clients

/// A separate client that publishes at QoS 1 and waits for the broker's PUBACK of each
/// message, so that "published" means "the broker has it".
pub struct Publisher {
    client: AsyncClient,
    acks: mpsc::UnboundedReceiver<()>,
    task: JoinHandle<()>,
}

impl Publisher {
    pub async fn connect(url: &str) -> Publisher {
        let (host, port) = host_port(url);
        let mut o = MqttOptions::new(unique("pub"), host, port);
        o.set_max_packet_size(2 * 1024 * 1024, 2 * 1024 * 1024)
            .set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(o, 100);
        let (tx, acks) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        let _ = tx.send(());
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("test publisher: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Publisher { client, acks, task }
    }

    pub async fn publish(&mut self, topic: &str, payload: impl Into<Vec<u8>>, retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await
            .expect("queue publish");
        tokio::time::timeout(DEADLINE, self.acks.recv())
            .await
            .unwrap_or_else(|_| panic!("the broker did not acknowledge a publish to {topic}"))
            .expect("publisher task alive");
    }
}

impl Publisher {
    /// Queues all messages at once (so they reach the connector in a burst), then waits
    /// until the broker acknowledged every one.
    pub async fn publish_burst(&mut self, messages: Vec<(String, String)>) {
        let n = messages.len();
        for (topic, payload) in messages {
            self.client
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .await
                .expect("queue publish");
        }
        for i in 0..n {
            tokio::time::timeout(DEADLINE, self.acks.recv())
                .await
                .unwrap_or_else(|_| panic!("the broker acknowledged only {i} of {n} publishes"))
                .expect("publisher task alive");
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Connects with `client_id` and a *clean* session, then disconnects. The broker drops
/// any connection holding that id and forgets its session: used to make the connector
/// lose its session, and to clean up persistent sessions after a test.
pub async fn take_over_with_clean_session(url: &str, client_id: &str) {
    let (host, port) = host_port(url);
    let mut o = MqttOptions::new(client_id, host, port);
    o.set_clean_session(true)
        .set_keep_alive(Duration::from_secs(5));
    let (client, mut eventloop) = AsyncClient::new(o, 10);
    let run = async {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let _ = client.try_disconnect();
                }
                Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
                Ok(_) => {}
                Err(e) => panic!("clean-session client {client_id}: {e}"),
            }
        }
    };
    tokio::time::timeout(DEADLINE, run)
        .await
        .expect("clean-session connect and disconnect");
}

/// A connector running on its own task.
pub struct Running {
    cancel: CancellationToken,
    join: JoinHandle<Result<(), MqttError>>,
}

pub fn settings(url: &str, client_id: &str, site: &str) -> MqttSettings {
    let mut s = MqttSettings::new(url, client_id, SiteId::parse(site).expect("site id"));
    s.keep_alive = Duration::from_secs(5);
    s.max_backoff = Duration::from_secs(1);
    s
}

pub fn start(settings: MqttSettings, sink: Arc<MemorySink>) -> Running {
    init_log();
    let cancel = CancellationToken::new();
    let join = tokio::spawn(mqtt::run(settings, sink, cancel.clone()));
    Running { cancel, join }
}

impl Running {
    /// Cancels and waits for `run` to return `Ok`.
    pub async fn stop(self) {
        self.cancel.cancel();
        let result = tokio::time::timeout(DEADLINE, self.join)
            .await
            .expect("connector stops when cancelled");
        result
            .expect("connector task")
            .expect("run returns Ok when cancelled");
    }
}

/// A valid door event payload (CONTRACT §5).
pub fn event(event_id: &str) -> String {
    format!(
        r#"{{"event_id": "{event_id}", "ts": "2026-11-21T09:00:00+09:00", "kind": "access_granted",
            "direction": "in", "credential": {{"type": "card", "id": "04A1B2C3"}}}}"#
    )
}
