//! A tiny in-process MQTT 3.1.1 broker for tests (built on rumqttc's own packet codec):
//! it acknowledges what clients send and records, in order, every `CONNECT` with its last
//! will, every `PUBLISH`, and how each connection ended — a `DISCONNECT`, or a socket
//! closed without one, after which a real broker publishes the last will (recorded as
//! [`Seen::Will`]). It delivers nothing to anyone: the tests read [`TestBroker::seen`].

use rumqttc::mqttbytes::Error as CodecError;
use rumqttc::{ConnAck, ConnectReturnCode, Packet, PubAck, PubComp, PubRec};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

const MAX_PACKET: usize = 1 << 20;

/// One thing the broker saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Connect {
        client_id: String,
        /// topic, payload, QoS (0..=2), retained
        will: Option<(String, String, u8, bool)>,
    },
    Publish {
        client_id: String,
        topic: String,
        payload: String,
        qos: u8,
        retain: bool,
    },
    Disconnect {
        client_id: String,
    },
    /// The socket closed without `DISCONNECT` and the client had a last will.
    Will {
        client_id: String,
        topic: String,
        payload: String,
        retain: bool,
    },
    /// The socket closed without `DISCONNECT` and the client had no last will.
    Dropped {
        client_id: String,
    },
}

/// A running test broker; it stops when dropped.
pub struct TestBroker {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestBroker {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> TestBroker {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, log.clone()));
            }
        });
        TestBroker { addr, seen, task }
    }

    /// Everything seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The `(topic, payload)` of every `PUBLISH` so far.
    pub fn published(&self) -> Vec<(String, String)> {
        self.seen()
            .into_iter()
            .filter_map(|s| match s {
                Seen::Publish { topic, payload, .. } => Some((topic, payload)),
                _ => None,
            })
            .collect()
    }

    /// Waits until every connection has ended (so everything sent on it is recorded).
    pub async fn wait_closed(&self) {
        self.wait_for("every connection closed", |seen| {
            let opened = seen
                .iter()
                .filter(|s| matches!(s, Seen::Connect { .. }))
                .count();
            let closed = seen
                .iter()
                .filter(|s| {
                    matches!(
                        s,
                        Seen::Disconnect { .. } | Seen::Will { .. } | Seen::Dropped { .. }
                    )
                })
                .count();
            opened > 0 && opened == closed
        })
        .await;
    }

    /// Waits up to five seconds until `pred` holds for what was seen.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&[Seen]) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            if pred(&self.seen()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the test broker never saw {what}; it saw {:#?}",
                self.seen()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn send(stream: &mut TcpStream, packet: Packet) -> bool {
    let mut out = Default::default();
    if packet.write(&mut out, MAX_PACKET).is_err() {
        return false;
    }
    stream.write_all(&out).await.is_ok()
}

async fn serve(mut stream: TcpStream, seen: Arc<Mutex<Vec<Seen>>>) {
    let record = |s: Seen| seen.lock().unwrap_or_else(|p| p.into_inner()).push(s);
    let mut buf = Default::default();
    let mut client_id = String::new();
    let mut will: Option<(String, String, bool)> = None;
    loop {
        let packet = match Packet::read(&mut buf, MAX_PACKET) {
            Ok(p) => p,
            Err(CodecError::InsufficientBytes(_)) => match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            },
            Err(_) => break,
        };
        let ok = match packet {
            Packet::Connect(c) => {
                client_id = c.client_id.clone();
                will = c.last_will.as_ref().map(|w| {
                    (
                        w.topic.clone(),
                        String::from_utf8_lossy(&w.message).into_owned(),
                        w.retain,
                    )
                });
                record(Seen::Connect {
                    client_id: client_id.clone(),
                    will: c.last_will.map(|w| {
                        (
                            w.topic,
                            String::from_utf8_lossy(&w.message).into_owned(),
                            w.qos as u8,
                            w.retain,
                        )
                    }),
                });
                send(
                    &mut stream,
                    Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, false)),
                )
                .await
            }
            Packet::Publish(p) => {
                record(Seen::Publish {
                    client_id: client_id.clone(),
                    topic: p.topic.clone(),
                    payload: String::from_utf8_lossy(&p.payload).into_owned(),
                    qos: p.qos as u8,
                    retain: p.retain,
                });
                match p.qos {
                    rumqttc::QoS::AtMostOnce => true,
                    rumqttc::QoS::AtLeastOnce => {
                        send(&mut stream, Packet::PubAck(PubAck::new(p.pkid))).await
                    }
                    rumqttc::QoS::ExactlyOnce => {
                        send(&mut stream, Packet::PubRec(PubRec::new(p.pkid))).await
                    }
                }
            }
            Packet::PubRel(r) => send(&mut stream, Packet::PubComp(PubComp::new(r.pkid))).await,
            Packet::PingReq => send(&mut stream, Packet::PingResp).await,
            Packet::Disconnect => {
                record(Seen::Disconnect {
                    client_id: client_id.clone(),
                });
                return;
            }
            _ => true,
        };
        if !ok {
            break;
        }
    }
    match will {
        Some((topic, payload, retain)) => record(Seen::Will {
            client_id,
            topic,
            payload,
            retain,
        }),
        None => record(Seen::Dropped { client_id }),
    }
}
