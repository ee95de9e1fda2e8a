//! # The MQTT connector (CONTRACT §5, and vendor formats)
//!
//! One task that owns a rumqttc event loop: it subscribes at QoS 1 to
//! `monban/{site}/door/+/event` and `monban/{site}/door/+/status`, and to the topics of
//! the configured vendor [sources](mapping) (`[[mqtt.sources]]`); it decodes each message
//! at the edge ([`codec`] for the native topics, [`mapping`] for the sources) and hands
//! the result to the [`DoorSink`]. Call [`run`] and keep the future alive; it returns
//! when the cancellation token fires.
//!
//! # Layout
//! - [`codec`] — pure: topic → door and kind, payload → event, status or dead letter.
//! - [`mapping`] — pure: the vendor sources (esp-rfid, uhppoted, Tasmota, ESPHome,
//!   Shelly, generic), their configuration, topics and payloads → events, statuses,
//!   heartbeats, ignored messages or dead letters.
//! - `backoff` — reconnect delays (exponential, capped, jittered).
//! - `driver` — the loop: connection, subscription, routing, acknowledgement, health.
//!
//! # Sources
//!
//! Each message is routed once: a native topic (`monban/{site}/door/…`) goes to the
//! codec; any other topic to the first source, in configuration order, whose topics
//! include it; a topic nobody claims is dead-lettered as unexpected, as before. A
//! source's message maps to zero or more outputs, handed to the sink in order:
//! events ([`DoorSink::door_event`]), statuses ([`DoorSink::door_status`]), heartbeats
//! ([`DoorSink::heartbeat`]), refusals ([`DoorSink::dead_letter`], `source = "mqtt"`,
//! `origin` = the topic, the door when known, a reason starting with the source's name).
//! An *ignored* message (valid, but of no use to monban) is acknowledged, logged at
//! debug, and — when its door is known — reported as a heartbeat at the arrival time.
//!
//! The message is acknowledged only when every output was handed over; a sink failure
//! leaves it unacknowledged like any other (below), and on redelivery the outputs that
//! were already stored come back as duplicates (event ids are deterministic; see
//! [`mapping`], *Idempotency*). Contact levels (Tasmota, ESPHome, Shelly, esp-rfid
//! `io/…`) are remembered only after the sink stored the message, so a redelivered
//! change is still a change. They are kept in memory: after a restart the first level
//! seen counts as a change again.
//!
//! # Delivery guarantees
//!
//! *At least once, never an acknowledged loss.* The session is persistent (clean session
//! off, a fixed client id) and acknowledgements are manual: a PUBACK is queued only after
//! the sink returned `Ok` — the event or status stored, recognised as a duplicate, or the
//! unusable payload stored as a dead letter. A bad payload is therefore acknowledged
//! (it is kept, and redelivering it would not make it better), and never stops the loop.
//!
//! When the sink fails (the store is down) the message is *not* acknowledged: the
//! connector drops the connection, reports `Disconnected`, waits (backoff) and
//! reconnects. The broker resends unacknowledged QoS 1 messages of a persistent session
//! on reconnect (MQTT 3.1.1 §4.4), so the message comes again; the store's
//! `(door, event_id)` idempotency turns resends into `Duplicate`.
//!
//! *Fail closed on a lost session.* When an established connection drops at `from` and
//! the next CONNACK says `session_present = false` (the broker restarted without
//! persistence, or another client took our client id with a clean session), messages
//! published in between are gone. Once the new subscriptions are acknowledged at `to`,
//! the connector calls [`DoorSink::blind_period`]`("mqtt", from, to)` and the hub treats
//! every MQTT door as offline for that span. The first connection of a process cannot
//! know its gap: when its CONNACK says `session_present = false`, the connector calls
//! [`DoorSink::fresh_session`] and the hub, which remembers when it was last connected,
//! records the blind period from then (nothing on a very first start). A broker that *does* keep the session but drops
//! messages on its own (Mosquitto's `max_queued_messages`, default 1000; rumqttd's
//! bounded commit log) cannot be detected from the client: size those limits for the
//! longest expected hub outage.
//!
//! # rumqttc, and why the loop looks the way it does
//!
//! - *One task polls and handles.* Messages are handled in order on the polling task;
//!   the sink is awaited between polls. While the sink works nothing is polled, so a
//!   sink slower than about 1.5 × keep-alive makes the broker drop us; the message is
//!   then redelivered. The store is expected to answer in milliseconds.
//! - *Acks without deadlock.* `AsyncClient::ack` awaits room in the request channel, which
//!   only `EventLoop::poll` drains — awaiting it on the polling task could wait forever.
//!   The connector uses `try_ack`; when the channel is full, acks wait in a local queue
//!   (in order: MQTT 3.1.1 wants PUBACKs in the order the PUBLISHes came) and are pushed
//!   again after every poll. The channel is large ([`REQUEST_CHANNEL`]) so this is rare.
//! - *Acks never cross connections.* A PUBACK names a packet id, and packet ids are
//!   reused; an ack meant for the old connection, sent on a new one, could acknowledge a
//!   different, unstored message. So on every connection loss: rumqttc's own
//!   `EventLoop::clean` drops PubAck requests still in its channel (it says so: "wait for
//!   publish retransmission"), the connector drops its local ack queue, and it also
//!   clears `MqttState::events` — rumqttc reads up to ten packets per network read and
//!   keeps the surplus there *across* a reconnect, so PUBLISHes of the dead connection
//!   would otherwise come out of `poll` after the new CONNACK and be acked on the new
//!   connection. All of them were unacknowledged, so the broker resends them (persistent
//!   session) or they fall inside a reported blind period.
//! - *What rumqttc re-sends itself.* On an error, `clean` moves our own unacknowledged
//!   outgoing packets to `pending` (for us: SUBSCRIBEs only — the hub publishes nothing).
//!   On a CONNACK with `session_present = false` rumqttc discards `pending`; otherwise
//!   it re-sends it. The connector subscribes again after every CONNACK anyway
//!   (subscribing twice to the same filter is harmless), so either way works.
//! - *Limits.* rumqttc checks each incoming packet's length against
//!   `max_incoming_packet_size` as soon as it has the fixed header, and a packet over it
//!   fails the connection (`PayloadSizeLimitExceeded`) before we see its topic: MQTT
//!   3.1.1 gives a client no way to refuse one message. With a persistent session the
//!   broker resends that packet on every reconnect, and every message queued behind it
//!   waits. So the limit belongs on the broker: [`MAX_INCOMING_PACKET`] is 1 MiB of
//!   payload plus the longest topic, and the broker's message size limit must be at or
//!   below [`BROKER_MESSAGE_SIZE_LIMIT`] (Mosquitto `message_size_limit 1048576`, rumqttd
//!   `max_payload_size`); then the broker refuses a runaway controller's message and
//!   nothing can jam the session. Up to the cap every packet reaches the codec, and a
//!   payload over [`MAX_PAYLOAD`] (64 KiB) is dead-lettered (its first 64 KiB kept). The
//!   cap is not the MQTT maximum (256 MiB) any more: one message of that size would cost
//!   the hub 256 MiB of memory for as long as it is handled, from a single misbehaving
//!   controller. A broker left without a limit can still jam us; that is made visible,
//!   never silent: the connector reports `Disconnected` with [`LinkError::TooLarge`]
//!   (the size, and what to do) on every attempt, and stores one dead letter per jam
//!   (`source = "mqtt"`, origin = the broker and our client id, reason
//!   `packet_too_large: …`) for the officer's list. The way out is the operator's:
//!   discard the hub's session at the broker once; the next CONNACK then says
//!   `session_present = false` and the hub records a blind period (fail closed).
//!   `inflight` only bounds our own outgoing QoS > 0 publishes (none); how many
//!   unacknowledged messages the broker sends us is the broker's setting (Mosquitto
//!   `max_inflight_messages`, rumqttd `max_inflight_count`).
//! - *TLS and credentials.* `mqtts://` uses rumqttc's rustls transport with a client
//!   configuration built here on the ring provider ([`TlsSettings`]: the site's CA,
//!   optionally our client certificate); the system trust store is not used. The broker
//!   user and password ([`Login`]) go in the CONNECT packet only: [`Password`] prints as
//!   `***`, and the driver logs the client id, never the options.
//! - *Shutdown.* On cancellation the message being handled is finished (a sink call is
//!   never cut in half), queued acks are flushed and a DISCONNECT is sent (at most
//!   [`SHUTDOWN_GRACE`]); the broker keeps the session and queues what comes next.
//!
//! # Health
//!
//! `connector_state("mqtt", …)`: `Connecting` once before the first attempt; `Connected`
//! when the broker acknowledged all subscriptions, native and sources' (messages flow); `Disconnected { since,
//! error }` when a connection attempt or a connection fails — `since` is the start of the
//! outage and stays put while retrying, `error` is the latest [`LinkError`]. A state is
//! reported only when it changes.

pub(crate) mod backoff;
pub mod codec;
mod driver;
pub mod mapping;

pub use codec::{DecodeError, Decoded, TopicKind, MAX_PAYLOAD};
pub use mapping::{Source, SourceConfig};

use crate::sink::{DoorSink, SinkError};
use monban_core::SiteId;
use rumqttc::{MqttOptions, TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The name under which this connector reports state and blind periods.
pub const CONNECTOR: &str = "mqtt";

/// Largest packet accepted from the broker, as rumqttc counts it (the *remaining
/// length*: topic, packet id and payload; the fixed header comes on top): a payload of
/// 1 MiB plus the longest topic MQTT allows (65 535 bytes and its 2-byte length) and a
/// packet id. Payloads over [`MAX_PAYLOAD`] (64 KiB) are dead letters anyway, so the cap
/// only decides where a runaway message is refused: here, by dropping the connection,
/// or at the broker. It must be the broker: with a persistent session a packet we
/// refuse is resent on every reconnect and jams every message behind it (see the
/// module docs, *Limits*). Set the broker's limit at or below 1 MiB (Mosquitto
/// `message_size_limit 1048576`, rumqttd `max_payload_size`); then nothing over this
/// cap ever reaches us.
pub const MAX_INCOMING_PACKET: usize = 1024 * 1024 + 2 + 65_535 + 2;
/// The broker-side message size limit that [`MAX_INCOMING_PACKET`] is sized for.
pub const BROKER_MESSAGE_SIZE_LIMIT: usize = 1024 * 1024;
/// Largest packet we send (SUBSCRIBE, PUBACK, PINGREQ, DISCONNECT: all tiny).
const MAX_OUTGOING_PACKET: usize = 64 * 1024;
/// Capacity of rumqttc's request channel (acks, subscriptions, disconnect).
pub const REQUEST_CHANNEL: usize = 1024;
/// How long a clean shutdown may take to flush acks and say DISCONNECT.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttSettings {
    /// `mqtt://[user[:password]@]host[:port]` (`tcp://` too; port 1883 by default), or
    /// `mqtts://host[:port]` (`ssl://` too; port 8883 by default) for TLS, which needs
    /// [`tls`](Self::tls). The broker's certificate must name the host of the URL.
    pub url: String,
    /// Fixed client id: the broker keeps our persistent session under it. Two hubs must
    /// not share one (they would take the session from each other in turn).
    pub client_id: String,
    /// The site whose topics are subscribed (`monban/{site}/door/…`).
    pub site: SiteId,
    /// MQTT keep-alive, whole seconds from 1 s to 65535 s. It bounds how long a dead
    /// connection goes unnoticed (about 1.5 ×).
    pub keep_alive: Duration,
    /// The cap of the reconnect backoff (it starts at 200 ms).
    pub max_backoff: Duration,
    /// Vendor formats (`[[mqtt.sources]]`), subscribed besides the native topics.
    pub sources: Vec<Source>,
    /// TLS (`mqtts://`): the CA that signed the broker's certificate, and our own
    /// certificate when the broker asks for one.
    pub tls: Option<TlsSettings>,
    /// The broker user and password (instead of a user in the URL).
    pub login: Option<Login>,
}

/// The contents of a PEM file, with the name it is reported under (its path): the
/// connector reads no files, the caller does (and reports what it cannot read).
#[derive(Clone, PartialEq, Eq)]
pub struct PemFile {
    /// The path, for error messages.
    pub name: String,
    pub pem: Vec<u8>,
}

impl PemFile {
    pub fn new(name: impl Into<String>, pem: impl Into<Vec<u8>>) -> PemFile {
        PemFile {
            name: name.into(),
            pem: pem.into(),
        }
    }
}

/// The name and size only: a private key must not end up in a log.
impl fmt::Debug for PemFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PemFile({:?}, {} bytes)", self.name, self.pem.len())
    }
}

/// `mqtts://`: whom to trust, and who we are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// One or more CA certificates (PEM); the broker's chain must lead to one of them.
    /// The system's trust store is not used: a site's broker has the site's own CA.
    pub ca: PemFile,
    /// Our certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1),
    /// for a broker with `require_certificate true`.
    pub client: Option<ClientIdentity>,
}

/// A client certificate and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub cert: PemFile,
    pub key: PemFile,
}

/// The broker user name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub password: Password,
}

/// A password: shown as `***` by `Debug` (and it has no `Display`), so it never reaches
/// a log through the settings.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(secret: impl Into<String>) -> Password {
        Password(secret.into())
    }
    /// The secret itself, for the CONNECT packet only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl MqttSettings {
    /// Settings with a 30 s keep-alive and a 30 s backoff cap.
    pub fn new(url: impl Into<String>, client_id: impl Into<String>, site: SiteId) -> Self {
        MqttSettings {
            url: url.into(),
            client_id: client_id.into(),
            site,
            keep_alive: Duration::from_secs(30),
            max_backoff: Duration::from_secs(30),
            sources: Vec::new(),
            tls: None,
            login: None,
        }
    }

    /// The rumqttc options: persistent session, manual acks, the limits above. Checks
    /// everything that rumqttc would otherwise panic on.
    pub fn mqtt_options(&self) -> Result<MqttOptions, MqttError> {
        let Endpoint {
            host,
            port,
            tls,
            credentials,
        } = parse_url(&self.url)?;
        let bad_url = |reason: &str| MqttError::InvalidUrl {
            url: redact(&self.url),
            reason: reason.into(),
        };
        let transport = match (tls, &self.tls) {
            (true, Some(settings)) => Some(client_config(settings)?),
            (true, None) => {
                return Err(bad_url(
                    "mqtts:// needs the CA that signed the broker's certificate (ca_file)",
                ))
            }
            (false, Some(_)) => {
                return Err(bad_url(
                    "a CA file is given but the URL is not TLS: use mqtts://host:8883",
                ))
            }
            (false, None) => None,
        };
        if credentials.is_some() && self.login.is_some() {
            return Err(bad_url(
                "a user is given both in the URL and as username: give it once",
            ));
        }
        if self.client_id.is_empty() {
            return Err(MqttError::InvalidSettings(
                "client_id must not be empty: the broker keeps the persistent session under it"
                    .into(),
            ));
        }
        if self.client_id.chars().any(char::is_control) || self.client_id.len() > 256 {
            return Err(MqttError::InvalidSettings(format!(
                "client_id {:?} must be at most 256 characters without control characters",
                self.client_id
            )));
        }
        if self.keep_alive < Duration::from_secs(1)
            || self.keep_alive.as_secs() > u64::from(u16::MAX)
        {
            return Err(MqttError::InvalidSettings(format!(
                "keep_alive {:?} must be between 1 s and 65535 s: without it a dead connection goes unnoticed",
                self.keep_alive
            )));
        }
        if self.max_backoff.is_zero() {
            return Err(MqttError::InvalidSettings(
                "max_backoff must be more than zero".into(),
            ));
        }
        mapping::check_names(&self.sources)
            .map_err(|e| MqttError::InvalidSettings(e.to_string()))?;
        // One SUBSCRIBE carries every filter (2 bytes of length and 1 of QoS each, plus
        // the packet id and a fixed header of at most 5).
        let subscribe: usize = filters(self).iter().map(|f| f.len() + 3).sum::<usize>() + 7;
        if subscribe > MAX_OUTGOING_PACKET {
            return Err(MqttError::InvalidSettings(format!(
                "the {} subscription filters of the sources do not fit one SUBSCRIBE of {MAX_OUTGOING_PACKET} bytes; use fewer sources (e.g. one generic source with a wildcard topic)",
                filters(self).len()
            )));
        }
        let mut o = MqttOptions::new(self.client_id.clone(), host, port);
        o.set_keep_alive(Duration::from_secs(self.keep_alive.as_secs()))
            .set_clean_session(false)
            .set_manual_acks(true)
            .set_max_packet_size(MAX_INCOMING_PACKET, MAX_OUTGOING_PACKET)
            .set_inflight(100)
            .set_request_channel_capacity(REQUEST_CHANNEL);
        if let Some((user, password)) = credentials {
            o.set_credentials(user, password);
        }
        if let Some(login) = &self.login {
            if login.username.is_empty() {
                return Err(MqttError::InvalidSettings(
                    "the broker user name must not be empty".into(),
                ));
            }
            o.set_credentials(login.username.clone(), login.password.expose());
        }
        if let Some(config) = transport {
            o.set_transport(Transport::Tls(TlsConfiguration::Rustls(config)));
        }
        Ok(o)
    }
}

/// Every subscription filter: the native ones of the site, then each source's, each
/// filter once, in that order.
pub fn filters(settings: &MqttSettings) -> Vec<String> {
    let mut out: Vec<String> = codec::filters(&settings.site).into();
    for f in settings.sources.iter().flat_map(Source::filters) {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// A setup error: [`run`] returns it before connecting. Everything that goes wrong
/// later is retried and reported as a [`LinkError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MqttError {
    /// The URL cannot be used (not a URL, another scheme, a path or query).
    #[error("MQTT url {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// Another setting is out of range.
    #[error("MQTT settings: {0}")]
    InvalidSettings(String),
    /// A CA, certificate or key cannot be used; `file` names it.
    #[error("MQTT TLS: {file}: {reason}")]
    Tls { file: String, reason: String },
}

/// Why the connector is not receiving: the `error` of
/// [`ConnectorState::Disconnected`](crate::ConnectorState::Disconnected). Transport,
/// broker refusal, protocol and store failures are kept apart; all are retried.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The network: refused or timed-out TCP connect, a closed socket, a keep-alive
    /// that went unanswered.
    #[error("transport: {0}")]
    Transport(Box<rumqttc::ConnectionError>),
    /// The broker refused our CONNECT (bad credentials, not authorised, id rejected).
    #[error("broker refused the connection: {0:?}")]
    Refused(rumqttc::ConnectReturnCode),
    /// The broker sent a packet over [`MAX_INCOMING_PACKET`] (its remaining length, in
    /// bytes): rumqttc refuses it by failing the connection, and the broker resends it
    /// on every reconnect. Reported as a dead letter too (see the module docs, *Limits*).
    #[error("protocol: the broker sent a packet of {0} bytes, over our limit of {MAX_INCOMING_PACKET}; it is resent and refused on every reconnect, and the messages queued behind it wait, until the broker's session for this client id is discarded (limit the message size on the broker: Mosquitto message_size_limit {BROKER_MESSAGE_SIZE_LIMIT})")]
    TooLarge(usize),
    /// The broker sent something we cannot accept (a malformed packet) or refused a
    /// subscription.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The sink could not store a message; it was not acknowledged and will come again.
    #[error("store: {0}")]
    Store(#[from] SinkError),
}

impl From<rumqttc::ConnectionError> for LinkError {
    fn from(e: rumqttc::ConnectionError) -> Self {
        use rumqttc::{ConnectionError as C, Error as Bytes, StateError as S};
        match e {
            C::ConnectionRefused(code) => LinkError::Refused(code),
            C::MqttState(S::Deserialization(Bytes::PayloadSizeLimitExceeded(n))) => {
                LinkError::TooLarge(n)
            }
            C::Io(_)
            | C::NetworkTimeout
            | C::FlushTimeout
            | C::MqttState(
                S::Io(_)
                | S::ConnectionAborted
                | S::AwaitPingResp
                | S::Deserialization(Bytes::Io(_)),
            ) => LinkError::Transport(Box::new(e)),
            other => LinkError::Protocol(other.to_string()),
        }
    }
}

/// Runs the MQTT connector until `cancel` fires, then returns `Ok(())`.
///
/// Only a setup error (an unusable URL or setting) is returned as `Err`, before any
/// connection attempt. Connection failures are retried forever with exponential backoff
/// (200 ms doubling up to `max_backoff`, with jitter) and reported to the sink.
pub async fn run(
    settings: MqttSettings,
    sink: Arc<dyn DoorSink>,
    cancel: CancellationToken,
) -> Result<(), MqttError> {
    let options = settings.mqtt_options()?;
    driver::Driver::new(&settings, options, sink, cancel)
        .run()
        .await;
    Ok(())
}

/// The rustls client configuration of [`TlsSettings`], on the ring provider. Every error
/// names its file.
fn client_config(settings: &TlsSettings) -> Result<Arc<rustls::ClientConfig>, MqttError> {
    let tls_err = |file: &PemFile, reason: String| MqttError::Tls {
        file: file.name.clone(),
        reason,
    };
    let certs = |file: &PemFile, what: &str| {
        let certs = CertificateDer::pem_slice_iter(&file.pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls_err(file, format!("the {what} is not valid PEM: {e}")))?;
        if certs.is_empty() {
            return Err(tls_err(
                file,
                format!(
                    "the {what} file holds no certificate (expected -----BEGIN CERTIFICATE-----)"
                ),
            ));
        }
        Ok(certs)
    };
    let mut roots = rustls::RootCertStore::empty();
    for ca in certs(&settings.ca, "CA certificate")? {
        roots
            .add(ca)
            .map_err(|e| tls_err(&settings.ca, format!("not a usable CA certificate: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| {
            tls_err(
                &settings.ca,
                format!("rustls has no protocol versions: {e}"),
            )
        })?
        .with_root_certificates(roots);
    let config = match &settings.client {
        None => builder.with_no_client_auth(),
        Some(id) => {
            let chain = certs(&id.cert, "client certificate")?;
            let key = PrivateKeyDer::from_pem_slice(&id.key.pem).map_err(|e| match e {
                rustls::pki_types::pem::Error::NoItemsFound => tls_err(
                    &id.key,
                    "the client key file holds no private key (expected -----BEGIN PRIVATE KEY-----)"
                        .into(),
                ),
                e => tls_err(&id.key, format!("the client key is not valid PEM: {e}")),
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                tls_err(
                    &id.key,
                    format!(
                        "the key does not suit the client certificate {}: {e}",
                        id.cert.name
                    ),
                )
            })?
        }
    };
    Ok(Arc::new(config))
}

type Credentials = Option<(String, String)>;

/// What the URL says.
struct Endpoint {
    host: String,
    port: u16,
    tls: bool,
    credentials: Credentials,
}

fn parse_url(raw: &str) -> Result<Endpoint, MqttError> {
    let bad = |reason: String| MqttError::InvalidUrl {
        url: redact(raw),
        reason,
    };
    let url = url::Url::parse(raw)
        .map_err(|e| bad(format!("not a URL ({e}); expected mqtt://host:port")))?;
    let tls = match url.scheme() {
        "mqtt" | "tcp" => false,
        "mqtts" | "ssl" => true,
        other => {
            return Err(bad(format!(
                "scheme {other:?} is not supported; expected mqtt://host:port or mqtts://host:port"
            )))
        }
    };
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.to_string(),
        _ => return Err(bad("no host; expected mqtt://host:port".into())),
    };
    if !(url.path().is_empty() || url.path() == "/")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(bad(
            "a path, query or fragment is not supported; expected mqtt://host:port".into(),
        ));
    }
    let credentials = if url.username().is_empty() {
        None
    } else {
        let user = percent_decode(url.username())
            .ok_or_else(|| bad("the user name is not valid UTF-8".into()))?;
        let password = percent_decode(url.password().unwrap_or(""))
            .ok_or_else(|| bad("the password is not valid UTF-8".into()))?;
        Some((user, password))
    };
    Ok(Endpoint {
        host,
        port: url.port().unwrap_or(if tls { 8883 } else { 1883 }),
        tls,
        credentials,
    })
}

/// Hides the user and password of a URL in messages.
fn redact(raw: &str) -> String {
    match (raw.find("://"), raw.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &raw[..scheme + 3], &raw[at..])
        }
        _ => raw.to_string(),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn settings(url: &str) -> MqttSettings {
        MqttSettings::new(url, "monban-hub", SiteId::parse("tokyo-general").unwrap())
    }

    #[test]
    fn builds_a_persistent_manual_ack_session() {
        let o = settings("mqtt://127.0.0.1:1884").mqtt_options().unwrap();
        assert_eq!(o.broker_address(), ("127.0.0.1".to_string(), 1884));
        assert!(!o.clean_session());
        assert!(o.manual_acks());
        assert_eq!(o.max_packet_size(), MAX_INCOMING_PACKET);
        assert_eq!(o.keep_alive(), Duration::from_secs(30));
        assert_eq!(o.client_id(), "monban-hub");
        assert!(o.credentials().is_none());
    }

    #[test]
    fn default_port_and_credentials() {
        let o = settings("tcp://broker.local").mqtt_options().unwrap();
        assert_eq!(o.broker_address(), ("broker.local".to_string(), 1883));
        let o = settings("mqtt://hub:p%40ss@[::1]:1883/")
            .mqtt_options()
            .unwrap();
        assert_eq!(o.broker_address(), ("[::1]".to_string(), 1883));
        let login = o.credentials().unwrap();
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("hub", "p@ss")
        );
    }

    #[test]
    fn refuses_unusable_urls_without_leaking_passwords() {
        for url in [
            "",
            "127.0.0.1:1883",
            "http://h:1",
            "mqtts://h:8883",
            "mqtt://h:1/x",
            "mqtt://h:1?client_id=a",
            "mqtt://",
        ] {
            let e = settings(url).mqtt_options().unwrap_err();
            assert!(matches!(e, MqttError::InvalidUrl { .. }), "{url:?}: {e}");
        }
        let e = settings("http://hub:secret@h:1")
            .mqtt_options()
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn refuses_settings_rumqttc_would_panic_on() {
        let mut s = settings("mqtt://h");
        s.client_id = String::new();
        assert!(matches!(
            s.mqtt_options(),
            Err(MqttError::InvalidSettings(_))
        ));
        for ka in [
            Duration::ZERO,
            Duration::from_millis(500),
            Duration::from_secs(70_000),
        ] {
            let mut s = settings("mqtt://h");
            s.keep_alive = ka;
            assert!(
                matches!(s.mqtt_options(), Err(MqttError::InvalidSettings(_))),
                "{ka:?}"
            );
        }
        let mut s = settings("mqtt://h");
        s.max_backoff = Duration::ZERO;
        assert!(matches!(
            s.mqtt_options(),
            Err(MqttError::InvalidSettings(_))
        ));
    }

    #[test]
    fn classifies_connection_errors() {
        use rumqttc::{ConnectionError as C, StateError as S};
        let io = || std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(matches!(
            LinkError::from(C::Io(io())),
            LinkError::Transport(_)
        ));
        assert!(matches!(
            LinkError::from(C::NetworkTimeout),
            LinkError::Transport(_)
        ));
        assert!(matches!(
            LinkError::from(C::MqttState(S::ConnectionAborted)),
            LinkError::Transport(_)
        ));
        assert!(matches!(
            LinkError::from(C::MqttState(S::AwaitPingResp)),
            LinkError::Transport(_)
        ));
        assert!(matches!(
            LinkError::from(C::ConnectionRefused(
                rumqttc::ConnectReturnCode::NotAuthorized
            )),
            LinkError::Refused(_)
        ));
        let big = LinkError::from(C::MqttState(S::Deserialization(
            rumqttc::Error::PayloadSizeLimitExceeded(2_000_000),
        )));
        assert!(
            matches!(&big, LinkError::TooLarge(2_000_000))
                && big.to_string().contains("message_size_limit 1048576"),
            "{big}"
        );
        assert!(matches!(
            LinkError::from(C::MqttState(S::WrongPacket)),
            LinkError::Protocol(_)
        ));
        assert!(LinkError::from(SinkError("db locked".into()))
            .to_string()
            .starts_with("store: "));
    }

    fn ca() -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        (params.self_signed(&key).unwrap(), key)
    }

    fn tls_settings(url: &str, ca_pem: &str) -> MqttSettings {
        let mut s = settings(url);
        s.tls = Some(TlsSettings {
            ca: PemFile::new("/etc/monban/ca.pem", ca_pem),
            client: None,
        });
        s
    }

    #[test]
    fn mqtts_uses_tls_with_the_given_ca_on_port_8883() {
        let (ca, _) = ca();
        let o = tls_settings("mqtts://broker.local", &ca.pem())
            .mqtt_options()
            .unwrap();
        assert_eq!(o.broker_address(), ("broker.local".to_string(), 8883));
        assert!(matches!(
            o.transport(),
            Transport::Tls(TlsConfiguration::Rustls(_))
        ));
        let o = tls_settings("ssl://broker.local:9883", &ca.pem())
            .mqtt_options()
            .unwrap();
        assert_eq!(o.broker_address().1, 9883);
        // Plain stays plain.
        let o = settings("mqtt://broker.local").mqtt_options().unwrap();
        assert!(matches!(o.transport(), Transport::Tcp));
    }

    #[test]
    fn tls_and_url_must_agree() {
        let e = settings("mqtts://h").mqtt_options().unwrap_err();
        assert!(e.to_string().contains("ca_file"), "{e}");
        let (ca, _) = ca();
        let e = tls_settings("mqtt://h", &ca.pem())
            .mqtt_options()
            .unwrap_err();
        assert!(e.to_string().contains("use mqtts://"), "{e}");
    }

    #[test]
    fn unusable_pem_files_are_named() {
        for pem in [
            "",
            "garbage",
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        ] {
            let e = tls_settings("mqtts://h", pem).mqtt_options().unwrap_err();
            assert!(
                matches!(&e, MqttError::Tls { file, .. } if file == "/etc/monban/ca.pem"),
                "{pem:?}: {e}"
            );
            assert!(e.to_string().contains("/etc/monban/ca.pem"), "{e}");
        }
        let (ca, ca_key) = ca();
        let client_key = rcgen::KeyPair::generate().unwrap();
        let client = rcgen::CertificateParams::new(vec!["monban-hub".into()])
            .unwrap()
            .signed_by(&client_key, &ca, &ca_key)
            .unwrap();
        let mut s = tls_settings("mqtts://h", &ca.pem());
        let identity = |key: String| ClientIdentity {
            cert: PemFile::new("hub.pem", client.pem()),
            key: PemFile::new("hub.key", key),
        };
        s.tls.as_mut().unwrap().client = Some(identity(client_key.serialize_pem()));
        s.mqtt_options().unwrap();
        // A key that is no key, and the key of another certificate.
        s.tls.as_mut().unwrap().client = Some(identity(client.pem()));
        let e = s.mqtt_options().unwrap_err().to_string();
        assert!(e.contains("hub.key") && e.contains("no private key"), "{e}");
        s.tls.as_mut().unwrap().client = Some(identity(ca_key.serialize_pem()));
        let e = s.mqtt_options().unwrap_err().to_string();
        assert!(e.contains("hub.key") && e.contains("does not suit"), "{e}");
    }

    #[test]
    fn login_is_sent_and_never_shown() {
        let (ca, _) = ca();
        let mut s = tls_settings("mqtts://h", &ca.pem());
        s.login = Some(Login {
            username: "monban-hub".into(),
            password: Password::new("s3cret-pw"),
        });
        let o = s.mqtt_options().unwrap();
        let login = o.credentials().unwrap();
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("monban-hub", "s3cret-pw")
        );
        let shown = format!("{s:?} {:?}", s.tls);
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        assert!(!shown.contains("BEGIN"), "no PEM in Debug: {shown}");
        assert!(shown.contains("Password(***)"), "{shown}");
        // Once only.
        s.url = "mqtts://other:pw@h".into();
        assert!(s.mqtt_options().is_err());
        s.url = "mqtts://h".into();
        s.login.as_mut().unwrap().username.clear();
        assert!(s.mqtt_options().is_err());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2"), Some("a b%2".into()));
        assert_eq!(percent_decode("%ff"), None);
    }
}
