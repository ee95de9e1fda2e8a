//! MQTT for the tests: an embedded rumqttd 0.20 (no outside service needed), the
//! Mosquitto named by `MONBAN_TEST_MQTT_URL`, and a QoS 1 publisher that waits for the
//! broker's PUBACK, so that "published" means "the broker has it".
//!
//! A door controller's last will is played by [`WillClient`]: it connects with a will of
//! `offline` on its status topic and then drops its socket without a DISCONNECT, which
//! makes the broker publish the will.

use crate::harness::{unique, DEADLINE};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Starts an embedded rumqttd on a free port of 127.0.0.1 and returns its URL once it
/// accepts connections. The broker lives until the test process ends.
pub fn start_rumqttd() -> String {
    // rumqttd needs a concrete address to listen on: take a free port from the OS.
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
        .expect("spawn the broker thread");
    let until = std::time::Instant::now() + DEADLINE;
    while TcpStream::connect(addr).is_err() {
        assert!(
            std::time::Instant::now() < until,
            "embedded rumqttd did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    format!("mqtt://{addr}")
}

/// rumqttd 0.20 configured in code: one MQTT 3.1.1 listener, no console, no metrics.
/// Payloads up to 8 MiB, like a broker left at its defaults (Mosquitto has no limit).
fn rumqttd_config(listen: SocketAddr) -> rumqttd::Config {
    let connections = rumqttd::ConnectionSettings {
        connection_timeout_ms: 5_000,
        max_payload_size: 8 * 1024 * 1024,
        max_inflight_count: 100,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    let server = rumqttd::ServerSettings {
        name: "v4-e2e".into(),
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

/// The Mosquitto to test against, or `None` (with a note) when `MONBAN_TEST_MQTT_URL`
/// is not set.
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
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or_else(|| panic!("broker url {url:?} must start with mqtt://"));
    let rest = rest.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().expect("broker port")),
        None => (rest.to_string(), 1883),
    }
}

/// A client that publishes at QoS 1 and waits for each PUBACK.
pub struct Publisher {
    client: AsyncClient,
    acks: mpsc::UnboundedReceiver<()>,
    task: JoinHandle<()>,
}

impl Publisher {
    pub async fn connect(url: &str) -> Publisher {
        let (host, port) = host_port(url);
        let mut o = MqttOptions::new(unique("e2e-pub"), host, port);
        // Large enough for the oversized-payload test.
        o.set_keep_alive(Duration::from_secs(5))
            .set_max_packet_size(8 * 1024 * 1024, 8 * 1024 * 1024);
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

    /// Publishes at QoS 1 and waits until the broker acknowledged it.
    pub async fn publish(&mut self, topic: &str, payload: impl Into<Vec<u8>>, retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload)
            .await
            .expect("queue a publish");
        tokio::time::timeout(DEADLINE, self.acks.recv())
            .await
            .unwrap_or_else(|_| panic!("the broker did not acknowledge a publish to {topic}"))
            .expect("publisher task alive");
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A door controller connected with a last will (`offline`, retained, on its status
/// topic). [`WillClient::die`] drops the connection without a DISCONNECT.
pub struct WillClient {
    _client: AsyncClient,
    task: JoinHandle<()>,
}

impl WillClient {
    /// Connects and returns once the broker acknowledged the connection.
    pub async fn connect(url: &str, status_topic: &str) -> WillClient {
        let (host, port) = host_port(url);
        let mut o = MqttOptions::new(unique("e2e-door"), host, port);
        o.set_keep_alive(Duration::from_secs(5))
            .set_last_will(LastWill::new(
                status_topic,
                "offline",
                QoS::AtLeastOnce,
                true,
            ));
        let (client, mut eventloop) = AsyncClient::new(o, 10);
        let (tx, mut connected) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = tx.send(());
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("test door controller: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        tokio::time::timeout(DEADLINE, connected.recv())
            .await
            .expect("the broker acknowledged the door controller")
            .expect("controller task alive");
        WillClient {
            _client: client,
            task,
        }
    }

    /// Drops the socket without a DISCONNECT: the broker publishes the will.
    pub async fn die(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Connects with `client_id` and a clean session and leaves again, so that the broker
/// forgets the persistent session a hub left behind (tidiness on a shared Mosquitto).
pub async fn forget_session(url: &str, client_id: &str) {
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
                Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
                Ok(_) => {}
                Err(_) => return,
            }
        }
    };
    let _ = tokio::time::timeout(DEADLINE, run).await;
}

/// A TCP relay to `upstream` (`mqtt://host:port`) that waits `delay` before it connects
/// each accepted connection through: a broker behind a slow link. Returns its URL. It
/// runs on the calling test's runtime and stops with it.
pub async fn slow_link(upstream: &str, delay: Duration) -> String {
    let (host, port) = host_port(upstream);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the relay");
    let addr = listener.local_addr().expect("relay address");
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = format!("{host}:{port}");
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    format!("mqtt://{addr}")
}

/// Runs each named scenario `async fn(url: &str)` of the calling module as two tests: in
/// `rumqttd::` against an embedded broker, in `mosquitto::` against the Mosquitto of
/// `MONBAN_TEST_MQTT_URL` (returning at once when it is unset).
#[allow(unused_macros)] // the browser tests include this file without using it
macro_rules! against_both {
    ($($scenario:ident),* $(,)?) => {
        mod rumqttd {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(&crate::broker::start_rumqttd()).await;
                }
            )*
        }
        mod mosquitto {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let Some(url) = crate::broker::mosquitto_url() else { return };
                    super::$scenario(&url).await;
                }
            )*
        }
    };
}
