//! The MQTT publishing side shared by the day player ([`crate::day`]), the scenario runner
//! ([`crate::scenario`]) and the MQTT door controllers ([`crate::mqtt_door`]): one
//! rumqttc client whose event loop runs in its own task.
//!
//! The task counts the broker's acknowledgements (`PUBACK` for QoS 1, `PUBCOMP` for
//! QoS 2) and simply polls again after an error — that is how rumqttc reconnects — with a
//! growing pause. [`Mqtt::finish`] ends the session with a `DISCONNECT` (the broker drops
//! the last will); [`Mqtt::drop_connection`] ends it the way a device that loses power or
//! network does: the socket closes without `DISCONNECT`, so the broker publishes the
//! client's last will.

use anyhow::{bail, Context as _};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Outgoing, Packet, QoS};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long [`Mqtt::connect`] waits for the broker's `CONNACK`.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How to connect.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    /// A persistent session (`false`) has the broker keep unacknowledged QoS 1 messages
    /// across a reconnect.
    pub clean_session: bool,
    pub keep_alive: Duration,
    pub last_will: Option<LastWill>,
}

impl Options {
    /// A publisher without a last will and with a persistent session.
    pub(crate) fn publisher(host: &str, port: u16, client_id: &str) -> Options {
        Options {
            host: host.to_string(),
            port,
            client_id: client_id.to_string(),
            clean_session: false,
            keep_alive: Duration::from_secs(30),
            last_will: None,
        }
    }
}

/// A connected client, its event loop task and the count of acknowledgements.
pub(crate) struct Mqtt {
    client: AsyncClient,
    /// Messages handed to the client.
    handed: u64,
    /// Messages the event loop has written to the socket.
    written: Arc<AtomicU64>,
    /// QoS 1 and 2 messages handed to the client.
    published: u64,
    acked: Arc<AtomicU64>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Mqtt {
    /// Connects a plain publisher (no last will, persistent session); see [`Mqtt::open`].
    pub(crate) async fn connect(
        host: &str,
        port: u16,
        client_id: &str,
        cancel: &CancellationToken,
    ) -> anyhow::Result<Mqtt> {
        Mqtt::open(&Options::publisher(host, port, client_id), cancel).await
    }

    /// Connects (waiting up to [`CONNECT_TIMEOUT`] for the broker's `CONNACK`) and keeps
    /// the event loop running in its own task. Returns early, still connecting, when
    /// `cancel` fires.
    pub(crate) async fn open(opts: &Options, cancel: &CancellationToken) -> anyhow::Result<Mqtt> {
        let mut options = MqttOptions::new(&opts.client_id, &opts.host, opts.port);
        options.set_keep_alive(opts.keep_alive);
        options.set_clean_session(opts.clean_session);
        if let Some(will) = &opts.last_will {
            options.set_last_will(will.clone());
        }
        let (client, mut eventloop) = AsyncClient::new(options, 1024);
        let acked = Arc::new(AtomicU64::new(0));
        let written = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        // None: not connected yet; Some(Ok): connected; Some(Err): the last error.
        let (state_tx, mut state_rx) = watch::channel::<Option<Result<(), String>>>(None);

        let task = {
            let acked = acked.clone();
            let written = written.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut pause = Duration::from_millis(200);
                loop {
                    let event = tokio::select! {
                        biased;
                        _ = stop.cancelled() => break,
                        e = eventloop.poll() => e,
                    };
                    match event {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            pause = Duration::from_millis(200);
                            let _ = state_tx.send(Some(Ok(())));
                        }
                        Ok(Event::Incoming(Packet::PubAck(_) | Packet::PubComp(_))) => {
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                        // Reported once the packet is flushed to the socket.
                        Ok(Event::Outgoing(Outgoing::Publish(_))) => {
                            written.fetch_add(1, Ordering::Relaxed);
                        }
                        // Our own DISCONNECT is on the wire: the session is over.
                        Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "MQTT connection error; reconnecting");
                            let _ = state_tx.send(Some(Err(e.to_string())));
                            tokio::select! {
                                biased;
                                _ = stop.cancelled() => break,
                                _ = tokio::time::sleep(pause) => {}
                            }
                            pause = (pause * 2).min(Duration::from_secs(5));
                        }
                    }
                }
                // Dropping the event loop here closes the socket.
            })
        };

        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let mut last_error = String::from("no answer");
        loop {
            if let Some(state) = state_rx.borrow_and_update().clone() {
                match state {
                    Ok(()) => break,
                    Err(e) => last_error = e,
                }
            }
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                changed = state_rx.changed() => if changed.is_err() { break },
                _ = tokio::time::sleep_until(deadline) => {
                    stop.cancel();
                    bail!(
                        "cannot connect to the MQTT broker at {}:{} within {} s: {last_error}",
                        opts.host,
                        opts.port,
                        CONNECT_TIMEOUT.as_secs()
                    );
                }
            }
        }
        Ok(Mqtt {
            client,
            handed: 0,
            written,
            published: 0,
            acked,
            stop,
            task,
        })
    }

    /// Publishes at QoS 1, not retained; see [`Mqtt::publish_with`].
    pub(crate) async fn publish(
        &mut self,
        topic: String,
        payload: String,
        cancel: &CancellationToken,
    ) -> anyhow::Result<bool> {
        self.publish_with(topic, payload, QoS::AtLeastOnce, false, cancel)
            .await
    }

    /// Hands one message to the client; `false` when `cancel` fired first (the client's
    /// queue is full while the broker is away).
    pub(crate) async fn publish_with(
        &mut self,
        topic: String,
        payload: String,
        qos: QoS,
        retain: bool,
        cancel: &CancellationToken,
    ) -> anyhow::Result<bool> {
        let sent = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Ok(false),
            r = self.client.publish(topic.clone(), qos, retain, payload) => r,
        };
        sent.with_context(|| format!("cannot publish to {topic}: the MQTT client stopped"))?;
        self.handed += 1;
        if qos != QoS::AtMostOnce {
            self.published += 1;
        }
        Ok(true)
    }

    /// QoS 1 and 2 messages not acknowledged yet.
    pub(crate) fn unacked(&self) -> u64 {
        self.published
            .saturating_sub(self.acked.load(Ordering::Relaxed))
    }

    /// Waits up to `wait` for every message to be written to the socket and every QoS 1
    /// and 2 message to be acknowledged; returns how many of the latter were not.
    async fn settle(&self, wait: Duration) -> u64 {
        let deadline = Instant::now() + wait;
        while (self.unacked() > 0 || self.written.load(Ordering::Relaxed) < self.handed)
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.unacked()
    }

    /// Waits up to `wait` for every publish to be acknowledged, disconnects cleanly (the
    /// broker drops the last will), and returns how many were not acknowledged.
    pub(crate) async fn finish(self, wait: Duration) -> u64 {
        let unacked = self.settle(wait).await;
        if unacked > 0 {
            tracing::warn!(unacked, "the broker did not acknowledge every message");
        }
        let _ = self.client.disconnect().await;
        // The event loop ends once it has written the DISCONNECT; don't wait on a dead
        // connection for long.
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(2), &mut task)
            .await
            .is_err()
        {
            self.stop.cancel();
            let _ = task.await;
        }
        unacked
    }

    /// Waits up to `wait` for every publish to be acknowledged, then closes the socket
    /// without `DISCONNECT`, as a device that loses its network does: the broker
    /// publishes the last will. Returns how many messages were not acknowledged.
    pub(crate) async fn drop_connection(self, wait: Duration) -> u64 {
        let unacked = self.settle(wait).await;
        self.stop.cancel();
        let _ = self.task.await;
        unacked
    }
}
