//! The connector's loop: it owns the rumqttc [`EventLoop`] and the [`AsyncClient`] that
//! feeds it, and is the only task that touches either. See the module docs of
//! [`super`] for the decisions; comments here point at the places they are made.

use super::backoff::{self, Backoff};
use super::codec::{self, DecodeError, Decoded};
use super::mapping::{self, ContactState, ContactUpdate, Mapped, Output, Source};
use super::{LinkError, MqttSettings, CONNECTOR, SHUTDOWN_GRACE};
use crate::sink::{ConnectorState, DoorSink, Ingested, SinkError, SinkItem};
use futures::stream::{FuturesOrdered, StreamExt};
use monban_core::{SiteId, Timestamp};
use rumqttc::{
    AsyncClient, ConnAck, Event, EventLoop, MqttOptions, Outgoing, Packet, Publish, QoS, SubAck,
    SubscribeFilter, SubscribeReasonCode,
};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;

/// Messages stored in one delivery at most.
const MAX_BATCH: usize = 1024;
/// Deliveries waiting for the hub's commit at once. The broker's in-flight window bounds
/// the messages; this bounds the tasks.
const MAX_IN_FLIGHT: usize = 64;

/// A delivery waiting for the hub: the messages it holds, the sink's answer, and the
/// contact levels to keep once it is stored.
type Delivery = Pin<Box<dyn Future<Output = Delivered> + Send>>;
/// What a delivery comes back with.
type Delivered = (
    Vec<Publish>,
    Result<Vec<Ingested>, SinkError>,
    Vec<ContactUpdate>,
);
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

pub(super) struct Driver {
    site: SiteId,
    /// The vendor sources, in configuration order (the first whose topics match wins).
    sources: Vec<Source>,
    /// Every subscription filter: the native ones, then the sources', each once.
    filters: Vec<String>,
    /// The last contact level per door, for the contact presets, as stored.
    contacts: ContactState,
    /// The same, including messages whose delivery is still waiting for the hub: what
    /// the next message is mapped against.
    contacts_ahead: ContactState,
    /// Deliveries sent to the hub and not yet answered, in the order their messages
    /// arrived (their acknowledgements go out in that order).
    in_flight: FuturesOrdered<Delivery>,
    client: AsyncClient,
    eventloop: EventLoop,
    sink: Arc<dyn DoorSink>,
    cancel: CancellationToken,
    backoff: Backoff,
    /// Acks that found the request channel full, oldest first. Only ever for the current
    /// connection: emptied when it drops.
    unsent_acks: VecDeque<Publish>,
    /// `Some(session_present)` once the current connection has its CONNACK.
    session_present: Option<bool>,
    /// The broker acknowledged our subscriptions on the current connection.
    ready: bool,
    /// When the last ready connection dropped; `None` while ready and before the first.
    lost_at: Option<Timestamp>,
    /// The first connection of this process found no session at the broker: the hub
    /// is told once messages flow ([`DoorSink::fresh_session`]).
    fresh: bool,
    /// A connection of this process has been ready before.
    was_ready: bool,
    /// Since `lost_at`, a CONNACK said the broker had no session for us.
    session_lost: bool,
    /// Start of the current outage, for `Disconnected { since }`.
    down_since: Option<Timestamp>,
    /// The size of an oversized packet already reported as a dead letter; cleared when
    /// a message gets through again (one dead letter per jam, not one per reconnect).
    jammed: Option<usize>,
    /// `host:port` of the broker, for the dead letter of an oversized packet.
    broker: String,
    last_state: Option<ConnectorState>,
}

impl Driver {
    pub(super) fn new(
        settings: &MqttSettings,
        options: MqttOptions,
        sink: Arc<dyn DoorSink>,
        cancel: CancellationToken,
    ) -> Self {
        let capacity = options.request_channel_capacity();
        let broker = {
            let (host, port) = options.broker_address();
            format!("{host}:{port}")
        };
        let (client, eventloop) = AsyncClient::new(options, capacity);
        Driver {
            site: settings.site.clone(),
            sources: settings.sources.clone(),
            filters: super::filters(settings),
            contacts: ContactState::new(),
            contacts_ahead: ContactState::new(),
            in_flight: FuturesOrdered::new(),
            client,
            eventloop,
            sink,
            cancel,
            backoff: Backoff::new(settings.max_backoff),
            unsent_acks: VecDeque::new(),
            session_present: None,
            ready: false,
            lost_at: None,
            fresh: false,
            was_ready: false,
            session_lost: false,
            down_since: None,
            jammed: None,
            broker,
            last_state: None,
        }
    }

    pub(super) async fn run(mut self) {
        info!(client_id = %self.eventloop.mqtt_options.client_id(), site = %self.site, "MQTT connector starting");
        self.report(ConnectorState::Connecting).await;
        loop {
            self.push_unsent_acks();
            // Messages keep arriving while earlier ones wait for the hub's commit (the
            // hub commits whatever has queued in one transaction): acknowledgements go
            // out, in arrival order, as each delivery is answered.
            let room = self.in_flight.len() < MAX_IN_FLIGHT;
            let polled = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => break,
                Some(done) = self.in_flight.next() => {
                    match self.delivered(done) {
                        Ok(()) => continue,
                        Err(e) => Err(e),
                    }
                }
                polled = self.eventloop.poll(), if room => polled.map_err(LinkError::from),
            };
            // A message being handled is finished even if `cancel` fires meanwhile: a sink
            // call is never cut in half.
            let handled = match polled {
                Err(e) => Err(e),
                Ok(Event::Incoming(Packet::ConnAck(ack))) => self.on_connack(ack),
                Ok(Event::Incoming(Packet::SubAck(ack))) => self.on_suback(ack).await,
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    let batch = self.more_publishes(publish);
                    self.on_publishes(batch);
                    Ok(())
                }
                Ok(Event::Incoming(Packet::PingResp)) => {
                    // A keep-alive round trip: the connection has proven itself.
                    self.backoff.reset();
                    Ok(())
                }
                Ok(_) => Ok(()),
            };
            if let Err(err) = handled {
                if let LinkError::TooLarge(size) = err {
                    self.report_jam(size).await;
                }
                self.link_down(err).await;
                let delay = self.backoff.next_delay(backoff::jitter());
                debug!(?delay, "MQTT reconnecting after backoff");
                tokio::select! {
                    biased;
                    _ = self.cancel.cancelled() => break,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
        self.shutdown().await;
    }

    fn on_connack(&mut self, ack: ConnAck) -> Result<(), LinkError> {
        self.session_present = Some(ack.session_present);
        if !ack.session_present {
            if let Some(from) = self.lost_at {
                warn!(since = %from, "the MQTT broker kept no session for us: messages since then may be lost");
                self.session_lost = true;
            } else if !self.was_ready {
                self.fresh = true;
            }
        }
        info!(session_present = ack.session_present, "MQTT connected");
        // Subscribe on every connection, also when the session (and its subscriptions)
        // survived: re-subscribing is harmless, and covers a broker that lost them.
        let filters = self
            .filters
            .iter()
            .map(|f| SubscribeFilter::new(f.clone(), QoS::AtLeastOnce));
        self.client
            .try_subscribe_many(filters)
            .map_err(|e| LinkError::Protocol(format!("could not queue the subscription: {e}")))
    }

    async fn on_suback(&mut self, ack: SubAck) -> Result<(), LinkError> {
        let refused: Vec<&str> = ack
            .return_codes
            .iter()
            .zip(self.filters.iter())
            .filter(|(code, _)| matches!(code, SubscribeReasonCode::Failure))
            .map(|(_, f)| f.as_str())
            .collect();
        if !refused.is_empty() {
            return Err(LinkError::Protocol(format!(
                "the broker refused the subscription to {} (check its ACL)",
                refused.join(" and ")
            )));
        }
        if self.ready {
            // A second SUBACK: rumqttc re-sent a SUBSCRIBE of the previous connection.
            return Ok(());
        }
        self.ready = true;
        let now = self.sink.now();
        if let Some(from) = self.lost_at.take() {
            if std::mem::take(&mut self.session_lost) {
                // Fail closed: from the drop until messages flow again, anything published
                // may be lost (CONTRACT §3, door offline).
                warn!(%from, to = %now, "MQTT blind period: the broker lost our session");
                self.sink.blind_period(CONNECTOR, from, now).await;
            }
        }
        self.session_lost = false;
        if std::mem::take(&mut self.fresh) {
            // Only the hub knows whether an earlier process had a session here.
            self.sink.fresh_session(CONNECTOR, now).await;
        }
        self.was_ready = true;
        self.down_since = None;
        self.report(ConnectorState::Connected).await;
        Ok(())
    }

    /// `first` and the messages rumqttc has already read behind it (at most
    /// [`MAX_BATCH`]): they are stored in one batch, so the hub commits them together.
    fn more_publishes(&mut self, first: Publish) -> Vec<Publish> {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            if !matches!(
                self.eventloop.state.events.front(),
                Some(Event::Incoming(Packet::Publish(_)))
            ) {
                break;
            }
            match self.eventloop.state.events.pop_front() {
                Some(Event::Incoming(Packet::Publish(p))) => batch.push(p),
                _ => break,
            }
        }
        batch
    }

    /// Decodes (or maps) every message of the batch into sink items and hands them to
    /// the sink as one delivery, without waiting: [`Driver::delivered`] acknowledges the
    /// messages once the sink answered `Ok`.
    fn on_publishes(&mut self, batch: Vec<Publish>) {
        let arrived = self.sink.now();
        let mut items = Vec::new();
        let mut updates = Vec::new();
        for publish in &batch {
            debug!(topic = %publish.topic, pkid = publish.pkid, dup = publish.dup, retain = publish.retain,
                   bytes = publish.payload.len(), "MQTT message");
            // Native topics first; a topic the codec does not recognise may be a source's;
            // what nobody claims goes to the codec, which dead-letters it as unexpected.
            let native = !matches!(
                codec::parse_topic(&self.site, &publish.topic),
                Err(DecodeError::UnexpectedTopic { .. })
            );
            let routed = match native {
                true => None,
                false => mapping::route(&self.sources, &publish.topic).map(|source| {
                    let mapped = source.map(
                        &publish.topic,
                        &publish.payload,
                        arrived,
                        &self.contacts_ahead,
                    );
                    (source.name().to_string(), mapped)
                }),
            };
            match routed {
                Some((source, mapped)) => {
                    if let Some(update) =
                        Self::mapped_items(&source, publish, mapped, arrived, &mut items)
                    {
                        self.contacts_ahead.commit(update.clone());
                        updates.push(update);
                    }
                }
                None => items.push(self.native_item(publish, arrived)),
            }
        }
        let sink = self.sink.clone();
        self.in_flight.push_back(Box::pin(async move {
            let answer = sink.deliver(items).await;
            (batch, answer, updates)
        }));
    }

    /// The sink answered a delivery: stored — acknowledge its messages and keep their
    /// contact levels — or not stored: no acknowledgement, and the caller drops the
    /// connection so the broker sends them again.
    fn delivered(&mut self, (batch, answer, updates): Delivered) -> Result<(), LinkError> {
        let answers = answer?;
        let duplicates = answers
            .iter()
            .filter(|a| **a == Ingested::Duplicate)
            .count();
        if duplicates > 0 {
            debug!(duplicates, "duplicate door events");
        }
        for update in updates {
            self.contacts.commit(update);
        }
        for publish in batch {
            self.ack(publish);
        }
        self.backoff.reset();
        self.jammed = None;
        Ok(())
    }

    /// A packet over our limit: rumqttc failed the connection before we could see its
    /// topic, and the broker will resend it on every reconnect (a persistent session
    /// cannot skip a QoS 1 message it has not been acknowledged). Messages behind it
    /// wait, so an officer must see it: a dead letter (once per jam) besides the
    /// connector's `Disconnected` error. Nothing is acknowledged or discarded here.
    async fn report_jam(&mut self, size: usize) {
        if self.jammed == Some(size) {
            return;
        }
        let reason = format!(
            "packet_too_large: the broker at {} sent a packet of {size} bytes, over the connector's limit of {}. \
             MQTT cannot refuse one message, so the connection is dropped and the broker resends it on every \
             reconnect; messages queued behind it wait. Limit message size on the broker (Mosquitto \
             message_size_limit {}) and discard this client id's session once (the hub then records a blind period); \
             see docs/CONNECTORS.md",
            self.broker,
            super::MAX_INCOMING_PACKET,
            super::BROKER_MESSAGE_SIZE_LIMIT,
        );
        error!(broker = %self.broker, size, "MQTT packet over the size limit: the session is jammed until the broker drops it");
        let letter = crate::sink::DeadLetter {
            source: CONNECTOR.to_string(),
            origin: format!(
                "{} (client id {})",
                self.broker,
                self.eventloop.mqtt_options.client_id()
            ),
            door: None,
            payload: Vec::new(),
            reason,
            received_at: self.sink.now(),
        };
        match self.sink.dead_letter(letter).await {
            Ok(()) => self.jammed = Some(size),
            // Tried again on the next reconnect.
            Err(e) => {
                warn!(error = %e, "could not store the dead letter of an oversized MQTT packet")
            }
        }
    }

    /// A message on a native topic (CONTRACT §5), or on a topic nobody claims.
    fn native_item(&self, publish: &Publish, arrived: Timestamp) -> SinkItem {
        match codec::decode(&self.site, &publish.topic, &publish.payload, arrived) {
            Ok(Decoded::Event(event)) => SinkItem::Event {
                event,
                raw: publish.payload.to_vec(),
            },
            Ok(Decoded::Status(change)) => SinkItem::Status {
                change,
                raw: publish.payload.to_vec(),
            },
            Err(refusal) => {
                warn!(topic = %publish.topic, reason = %refusal.reason(), "MQTT payload dead-lettered");
                SinkItem::DeadLetter(codec::dead_letter(
                    &publish.topic,
                    &publish.payload,
                    &refusal,
                    arrived,
                ))
            }
        }
    }

    /// What a source made of a message, as sink items in order, and the contact level it
    /// reports (kept for the next message at once, and for good once it is stored).
    fn mapped_items(
        source: &str,
        publish: &Publish,
        mapped: Mapped,
        arrived: Timestamp,
        items: &mut Vec<SinkItem>,
    ) -> Option<ContactUpdate> {
        let Mapped { outputs, contact } = mapped;
        for output in outputs {
            match output {
                Output::Event(event) => items.push(SinkItem::Event {
                    event,
                    raw: publish.payload.to_vec(),
                }),
                Output::Status(change) => items.push(SinkItem::Status {
                    change,
                    raw: publish.payload.to_vec(),
                }),
                Output::Heartbeat { door, ts } => items.push(SinkItem::Heartbeat { door, ts }),
                Output::Ignored { door, why } => {
                    debug!(source, topic = %publish.topic, door = ?door.as_ref().map(|d| d.as_str()), %why,
                           "MQTT message ignored");
                    // A valid message: the controller is alive.
                    if let Some(door) = door {
                        items.push(SinkItem::Heartbeat { door, ts: arrived });
                    }
                }
                Output::Refused { door, refusal } => {
                    warn!(source, topic = %publish.topic, reason = %refusal, "MQTT payload dead-lettered");
                    items.push(SinkItem::DeadLetter(mapping::dead_letter(
                        source,
                        &publish.topic,
                        &publish.payload,
                        door,
                        &refusal,
                        arrived,
                    )));
                }
            }
        }
        contact
    }

    /// Queues the PUBACK without awaiting: see the module docs, *Acks without deadlock*.
    fn ack(&mut self, publish: Publish) {
        if publish.qos == QoS::AtMostOnce {
            return;
        }
        self.unsent_acks.push_back(publish);
        self.push_unsent_acks();
    }

    fn push_unsent_acks(&mut self) {
        while let Some(publish) = self.unsent_acks.front() {
            if self.client.try_ack(publish).is_err() {
                // The channel is full; `poll` drains it, try again after the next poll.
                break;
            }
            self.unsent_acks.pop_front();
        }
    }

    /// The connection failed or is dropped on purpose (the sink failed).
    async fn link_down(&mut self, err: LinkError) {
        // Deliveries still waiting are not acknowledged on this connection (their packet
        // ids belong to it): the broker sends their messages again, and what the hub did
        // store meanwhile is then a duplicate.
        self.in_flight = FuturesOrdered::new();
        self.contacts_ahead = self.contacts.clone();
        let now = self.sink.now();
        if self.ready {
            self.lost_at = Some(now);
        }
        self.ready = false;
        self.session_present = None;
        // Closes the socket (when the sink failed it is still open), keeps our own
        // unacknowledged packets for a resumed session and drops queued PubAck requests.
        self.eventloop.clean();
        // Packets rumqttc already read from the dead connection would come out of `poll`
        // after the next CONNACK; their acks would name packet ids of the old connection.
        let stale = self
            .eventloop
            .state
            .events
            .drain(..)
            .filter(|e| matches!(e, Event::Incoming(Packet::Publish(_))))
            .count();
        let unsent = self.unsent_acks.len();
        self.unsent_acks.clear();
        if stale > 0 || unsent > 0 {
            debug!(
                stale,
                unsent,
                "dropped unacknowledged messages of the old connection; the broker resends them"
            );
        }
        let since = *self.down_since.get_or_insert(now);
        match &err {
            LinkError::Store(_) => {
                error!(error = %err, "MQTT message not stored; reconnecting so the broker resends it")
            }
            _ => warn!(error = %err, "MQTT connection failed"),
        }
        self.report(ConnectorState::Disconnected {
            since,
            error: err.to_string(),
        })
        .await;
    }

    /// Flushes acks and says DISCONNECT, so the broker keeps the session without
    /// waiting for keep-alive to expire. Bounded by [`SHUTDOWN_GRACE`].
    async fn shutdown(&mut self) {
        // Deliveries already handed to the hub are finished and acknowledged first.
        while let Some(done) = self.in_flight.next().await {
            if let Err(e) = self.delivered(done) {
                debug!(error = %e, "a delivery was not stored during shutdown; the broker sends it again");
                self.in_flight = FuturesOrdered::new();
            }
        }
        if self.eventloop.network.is_some() && self.session_present.is_some() {
            let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
            let mut disconnect_queued = false;
            loop {
                self.push_unsent_acks();
                if self.unsent_acks.is_empty() && !disconnect_queued {
                    disconnect_queued = self.client.try_disconnect().is_ok();
                }
                match tokio::time::timeout_at(deadline, self.eventloop.poll()).await {
                    Ok(Ok(Event::Outgoing(Outgoing::Disconnect))) => break,
                    // A message arriving now is not handled and not acked: it comes
                    // again with the next session.
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        debug!(error = %e, "MQTT connection ended during shutdown");
                        break;
                    }
                    Err(_) => {
                        warn!("MQTT shutdown: DISCONNECT not sent within the grace period");
                        break;
                    }
                }
            }
        }
        let since = self.sink.now();
        self.report(ConnectorState::Disconnected {
            since,
            error: "stopped".into(),
        })
        .await;
        info!("MQTT connector stopped");
    }

    async fn report(&mut self, state: ConnectorState) {
        if self.last_state.as_ref() == Some(&state) {
            return;
        }
        self.sink.connector_state(CONNECTOR, state.clone()).await;
        self.last_state = Some(state);
    }
}
