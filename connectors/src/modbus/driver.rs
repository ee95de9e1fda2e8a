//! The I/O side: one connection at a time, one poll at a time. Everything that decides
//! what registers mean lives in [`codec`](super::codec).

use super::codec::{self, Inputs, Slot};
use super::{ModbusDevice, ModbusError, Parity, SerialLine, StopBits, Transport};
use crate::mqtt::backoff::{jitter, Backoff};
use crate::sink::{ConnectorState, DeadLetter, DoorSink};
use monban_core::health::OutageCause;
use monban_core::{DoorStatus, Span, StatusChange, Timestamp};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_modbus::client::{Context, Reader};
use tokio_modbus::Slave;
use tokio_util::sync::CancellationToken;

/// Why a session ended.
enum Stop {
    Cancelled,
    Failed(ModbusError),
}

impl From<ModbusError> for Stop {
    fn from(e: ModbusError) -> Self {
        Stop::Failed(e)
    }
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Stop::Failed(e.into())
    }
}

pub(crate) struct Driver {
    device: ModbusDevice,
    sink: Arc<dyn DoorSink>,
    cancel: CancellationToken,
    name: String,
    /// The newest sequence taken; `None` until the first poll after start.
    last_seq: Option<u16>,
    /// The start of the last poll that found the ring consistent.
    last_consistent: Option<Timestamp>,
    /// Every slot's registers as last read: after a reconnect the ring is read again,
    /// and a difference in a slot the device had no reason to write means it restarted
    /// or reset its ring ([`codec::restart_evident`]).
    mirror: Vec<Option<Vec<u16>>>,
    /// Set at each new connection: the next poll checks continuity first.
    verify_continuity: bool,
    inputs: Inputs,
    /// The door status last reported to the sink.
    reported: Option<DoorStatus>,
    state: Option<ConnectorState>,
    backoff: Backoff,
    /// A misconfiguration dead letter was kept for the current outage.
    misconfig_reported: bool,
}

impl Driver {
    pub(crate) fn new(
        device: ModbusDevice,
        sink: Arc<dyn DoorSink>,
        cancel: CancellationToken,
    ) -> Self {
        Driver {
            name: device.connector_name(),
            backoff: Backoff::new(device.max_backoff.max(Duration::from_millis(200))),
            device,
            sink,
            cancel,
            last_seq: None,
            last_consistent: None,
            mirror: vec![None; usize::from(codec::RING_SLOTS)],
            verify_continuity: false,
            inputs: Inputs::default(),
            reported: None,
            state: None,
            misconfig_reported: false,
        }
    }

    pub(crate) async fn run(mut self) {
        self.set_state(ConnectorState::Connecting).await;
        loop {
            let err = match self.session().await {
                Stop::Cancelled => return,
                Stop::Failed(e) => e,
            };
            self.lost(err).await;
            let delay = self.backoff.next_delay(jitter());
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// Connects and polls until something fails or `cancel` fires. Dropping the context
    /// closes the socket.
    async fn session(&mut self) -> Stop {
        let mut ctx = match self.connect().await {
            Ok(ctx) => ctx,
            Err(stop) => return stop,
        };
        self.verify_continuity = self.last_seq.is_some();
        let poll = self.device.poll.max(Duration::from_millis(10));
        loop {
            if let Err(stop) = self.poll(&mut ctx).await {
                return stop;
            }
            tokio::select! {
                _ = self.cancel.cancelled() => return Stop::Cancelled,
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Opens the connection: TCP, or the serial port with the RTU client attached. Both
    /// are bounded by the timeout and the cancellation token.
    async fn connect(&self) -> Result<Context, Stop> {
        let timeout = self.device.timeout;
        let slave = Slave(self.device.unit);
        let transport = self.device.transport.clone();
        let connect = async move {
            match transport {
                Transport::Tcp { address } => {
                    let addr =
                        tokio::net::lookup_host(&address)
                            .await?
                            .next()
                            .ok_or_else(|| {
                                std::io::Error::new(
                                    std::io::ErrorKind::NotFound,
                                    format!("{address} resolves to no address"),
                                )
                            })?;
                    tokio_modbus::client::tcp::connect_slave(addr, slave).await
                }
                Transport::Rtu(line) => {
                    let port = open_serial(&line)?;
                    Ok(tokio_modbus::client::rtu::attach_slave(port, slave))
                }
            }
        };
        tokio::select! {
            _ = self.cancel.cancelled() => Err(Stop::Cancelled),
            r = tokio::time::timeout(timeout, connect) => match r {
                Err(_) => Err(ModbusError::Timeout("connect", timeout).into()),
                Ok(r) => Ok(r?),
            }
        }
    }

    /// One request, bounded by the timeout and the cancellation token; tokio-modbus'
    /// nested result (transport/protocol outside, device exception inside) is flattened
    /// into [`ModbusError`] with the three kept apart.
    async fn call<T>(
        &self,
        what: &'static str,
        request: impl Future<Output = tokio_modbus::Result<T>>,
    ) -> Result<T, Stop> {
        let timeout = self.device.timeout;
        tokio::select! {
            _ = self.cancel.cancelled() => Err(Stop::Cancelled),
            r = tokio::time::timeout(timeout, request) => match r {
                Err(_) => Err(ModbusError::Timeout(what, timeout).into()),
                Ok(Err(tokio_modbus::Error::Transport(e))) => Err(e.into()),
                Ok(Err(tokio_modbus::Error::Protocol(e))) => {
                    Err(ModbusError::Protocol(format!("{what}: {e}")).into())
                }
                Ok(Ok(Err(code))) => Err(ModbusError::Exception { request: what, code }.into()),
                Ok(Ok(Ok(v))) => Ok(v),
            }
        }
    }

    async fn poll(&mut self, ctx: &mut Context) -> Result<(), Stop> {
        // Events written after this moment may be lost if this poll finds an overrun, so
        // the gap of a *later* overrun starts here, not when the reads are done.
        let started = self.sink.now();
        let what = "read discrete inputs 0..2";
        let inputs = self
            .call(
                what,
                ctx.read_discrete_inputs(codec::INPUTS_ADDRESS, codec::INPUTS),
            )
            .await?;
        if inputs.len() < usize::from(codec::INPUTS) {
            return Err(wrong_count(what, inputs.len()));
        }
        let what = "read input registers 0..2";
        let header = self
            .call(
                what,
                ctx.read_input_registers(codec::HEADER_ADDRESS, codec::HEADER_REGISTERS),
            )
            .await?;
        if header.len() != usize::from(codec::HEADER_REGISTERS) {
            return Err(wrong_count(what, header.len()));
        }
        if header[0] != codec::PROFILE_VERSION {
            return Err(ModbusError::Misconfigured(format!(
                "input register 0 (profile version) is {}, expected {} (monban-door-v1)",
                header[0],
                codec::PROFILE_VERSION
            ))
            .into());
        }
        let mut restarted = false;
        let mut ring = vec![Vec::new(); usize::from(codec::RING_SLOTS)];
        if let (true, Some(last)) = (self.verify_continuity, self.last_seq) {
            self.read_slots(ctx, &codec::plan_poll(None, header[1]).reads, &mut ring)
                .await?;
            if codec::restart_evident(last, header[1], &self.mirror, &ring) {
                // The device restarted (or its ring was reset) while we were away: the
                // sequence says nothing about what we missed. Take the whole ring again
                // (ids make repeats harmless) and fail closed for the gap.
                restarted = true;
                self.last_seq = None;
            }
        }
        let plan = codec::plan_poll(self.last_seq, header[1]);
        let unread: Vec<_> = plan
            .reads
            .iter()
            .copied()
            .filter(|r| r.slots().any(|k| ring[usize::from(k)].is_empty()))
            .collect();
        self.read_slots(ctx, &unread, &mut ring).await?;
        for (k, regs) in ring.iter().enumerate() {
            if !regs.is_empty() {
                if let Some(m) = self.mirror.get_mut(k) {
                    *m = Some(regs.clone());
                }
            }
        }
        let now = self.sink.now();
        self.device_answered(now).await?;
        self.verify_continuity = false;
        if restarted {
            let from = self.last_consistent.unwrap_or(started);
            let reason = format!(
                "modbus device {} restarted or reset its event ring while disconnected: events may be lost",
                self.device.transport
            );
            tracing::warn!(door = %self.device.door, "{reason}");
            self.sink
                .door_outage(
                    &self.device.door,
                    from,
                    now,
                    OutageCause::ModbusRestart,
                    &reason,
                )
                .await;
        }

        let mut lost = plan.overrun.unwrap_or(0);
        for &seq in &plan.wanted {
            let k = codec::slot_of(seq);
            let regs = &ring[usize::from(k)];
            match codec::decode_slot(&self.device.door, seq, regs) {
                Slot::Event(event) => {
                    let raw = codec::registers_text(regs);
                    self.sink
                        .door_event(event, raw.as_bytes())
                        .await
                        .map_err(ModbusError::from)?;
                }
                Slot::Unwritten | Slot::Stale { .. } => {
                    if !plan.first {
                        lost += 1;
                    }
                }
                Slot::Invalid(e) => {
                    let letter = DeadLetter {
                        source: "modbus".into(),
                        origin: format!("{}/slot {k} (seq {seq})", self.device.endpoint()),
                        door: Some(self.device.door.clone()),
                        payload: codec::registers_text(regs).into_bytes(),
                        reason: e.to_string(),
                        received_at: now,
                    };
                    self.sink
                        .dead_letter(letter)
                        .await
                        .map_err(ModbusError::from)?;
                }
            }
            self.last_seq = Some(seq);
        }
        if self.last_seq.is_none() {
            self.last_seq = Some(header[1]);
        }
        if lost > 0 {
            let from = self.last_consistent.unwrap_or(now);
            let reason = format!(
                "modbus overrun on {}: {lost} event(s) lost between polls",
                self.device.transport
            );
            tracing::warn!(door = %self.device.door, lost, "{reason}");
            self.sink
                .door_outage(
                    &self.device.door,
                    from,
                    now,
                    OutageCause::ModbusOverrun,
                    &reason,
                )
                .await;
        }
        self.last_consistent = Some(started);

        let before = self.inputs.clone();
        let held = Span::from_millis(
            i64::try_from(self.device.held_open_after.as_millis()).unwrap_or(i64::MAX),
        );
        for event in self
            .inputs
            .observe(&self.device.door, inputs[0], inputs[1], now, held)
        {
            let raw = format!("contact={} tamper={}", inputs[0], inputs[1]);
            if let Err(e) = self.sink.door_event(event, raw.as_bytes()).await {
                // Seen again at the next poll.
                self.inputs = before;
                return Err(ModbusError::from(e).into());
            }
        }
        Ok(())
    }

    /// Reads the given slot ranges into `ring` (slot k → `ring[k]`).
    async fn read_slots(
        &self,
        ctx: &mut Context,
        reads: &[codec::SlotRange],
        ring: &mut [Vec<u16>],
    ) -> Result<(), Stop> {
        for read in reads {
            let what = "read event slots";
            let regs = self
                .call(
                    what,
                    ctx.read_input_registers(read.address(), read.registers()),
                )
                .await?;
            if regs.len() != usize::from(read.registers()) {
                return Err(wrong_count(what, regs.len()));
            }
            for (chunk, slot) in regs
                .chunks(usize::from(codec::SLOT_REGISTERS))
                .zip(read.slots())
            {
                if let Some(r) = ring.get_mut(usize::from(slot)) {
                    *r = chunk.to_vec();
                }
            }
        }
        Ok(())
    }

    /// A full poll answered: the door is observed.
    async fn device_answered(&mut self, now: Timestamp) -> Result<(), ModbusError> {
        self.backoff.reset();
        self.misconfig_reported = false;
        if self.reported != Some(DoorStatus::Online) {
            self.status(DoorStatus::Online, now).await?;
        }
        // A full answer is the device's heartbeat (the hub throttles what it writes).
        self.sink.heartbeat(&self.device.door, now).await?;
        self.set_state(ConnectorState::Connected).await;
        Ok(())
    }

    async fn status(&mut self, status: DoorStatus, ts: Timestamp) -> Result<(), ModbusError> {
        let change = StatusChange {
            door: self.device.door.clone(),
            ts,
            status,
        };
        self.sink
            .door_status(change, status.as_str().as_bytes())
            .await?;
        self.reported = Some(status);
        Ok(())
    }

    /// The session failed with `err` at the sink's now.
    async fn lost(&mut self, err: ModbusError) {
        let now = self.sink.now();
        tracing::warn!(connector = %self.name, error = %err, "modbus connection lost");
        if let ModbusError::Misconfigured(reason) = &err {
            if !self.misconfig_reported {
                let letter = DeadLetter {
                    source: "modbus".into(),
                    origin: format!("{}/input register 0", self.device.endpoint()),
                    door: Some(self.device.door.clone()),
                    payload: reason.clone().into_bytes(),
                    reason: format!("misconfigured_device: {reason}"),
                    received_at: now,
                };
                self.misconfig_reported = self.sink.dead_letter(letter).await.is_ok();
            }
        }
        if err.door_unobserved() && self.reported != Some(DoorStatus::Offline) {
            if let Err(e) = self.status(DoorStatus::Offline, now).await {
                tracing::error!(door = %self.device.door, error = %e, "could not record the door offline");
            }
        }
        let since = match &self.state {
            Some(ConnectorState::Disconnected { since, .. }) => *since,
            _ => now,
        };
        self.set_state(ConnectorState::Disconnected {
            since,
            error: err.to_string(),
        })
        .await;
    }

    async fn set_state(&mut self, state: ConnectorState) {
        if self.state.as_ref() != Some(&state) {
            self.sink.connector_state(&self.name, state.clone()).await;
            self.state = Some(state);
        }
    }
}

/// Opens `line` for Modbus RTU: 8 data bits, no flow control, exclusive (a second
/// opener gets an error instead of garbling the line).
fn open_serial(line: &SerialLine) -> std::io::Result<tokio_serial::SerialStream> {
    let parity = match line.parity {
        Parity::None => tokio_serial::Parity::None,
        Parity::Even => tokio_serial::Parity::Even,
        Parity::Odd => tokio_serial::Parity::Odd,
    };
    let stop_bits = match line.stop_bits {
        StopBits::One => tokio_serial::StopBits::One,
        StopBits::Two => tokio_serial::StopBits::Two,
    };
    let builder = tokio_serial::new(&line.path, line.baud)
        .data_bits(tokio_serial::DataBits::Eight)
        .parity(parity)
        .stop_bits(stop_bits)
        .flow_control(tokio_serial::FlowControl::None);
    tokio_serial::SerialStream::open(&builder).map_err(|e| {
        std::io::Error::new(
            std::io::Error::from(e.clone()).kind(),
            format!("cannot open serial port {}: {e}", line.path),
        )
    })
}

fn wrong_count(what: &'static str, got: usize) -> Stop {
    ModbusError::Protocol(format!("{what}: the answer has {got} values")).into()
}
