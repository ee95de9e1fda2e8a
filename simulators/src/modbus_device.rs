//! A simulated Modbus TCP door controller speaking profile `monban-door-v1`
//! (CONTRACT §6), for commissioning a site without hardware.
//!
//! [`ModbusDoor`] is a tokio-modbus TCP server over an in-memory register map:
//! discrete inputs 0 (door contact) and 1 (tamper); input register 0 = 1 (profile
//! version), 1 = the newest sequence number (u16, wraps); a ring of 32 event slots of
//! ten registers at 100 + 10·k, k = seq mod 32. Reads over 125 registers, of zero
//! registers or beyond the map answer a Modbus exception, as do other functions.
//! [`ModbusDoor::stop`] takes the device off the network (the hub sees a lost
//! connection) and [`ModbusDoor::restart`] brings it back on the same address with the
//! same registers.
//!
//! The `monban-sim modbus-door` command drives one from the line script of
//! [`crate::script`]; [`check_line`] says which lines the profile cannot carry (a
//! heartbeat, a credential id that is not hexadecimal) and [`apply`] carries out the rest.

use crate::script::{self, Line, Numbered, ScriptError};
use monban_core::{CredentialType, Direction, DoorEventKind};
use std::future::{ready, Ready};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_modbus::server::tcp::{accept_tcp_connection, Server};
use tokio_modbus::server::Service;
use tokio_modbus::{ExceptionCode, Request, Response, SlaveRequest};

/// Input register 0: the profile version.
pub const PROFILE_VERSION: u16 = 1;
/// Slots in the event ring.
pub const RING_SLOTS: u16 = 32;
/// First input register of slot 0.
pub const SLOT_BASE: u16 = 100;
/// Registers per slot.
pub const SLOT_REGISTERS: u16 = 10;
/// The most registers one request may read.
pub const MAX_READ: u16 = 125;
/// Input registers 0..420: header, gap, 32 slots.
pub const REGISTERS: usize = (SLOT_BASE + RING_SLOTS * SLOT_REGISTERS) as usize;

/// The §6 kind code of an event kind (1..=7).
pub fn kind_code(kind: DoorEventKind) -> u16 {
    match kind {
        DoorEventKind::AccessGranted => 1,
        DoorEventKind::AccessDenied => 2,
        DoorEventKind::DoorOpened => 3,
        DoorEventKind::DoorClosed => 4,
        DoorEventKind::DoorForced => 5,
        DoorEventKind::DoorHeldOpen => 6,
        DoorEventKind::Tamper => 7,
    }
}

/// The §6 direction code: 0 in, 1 out.
pub fn direction_code(direction: Direction) -> u16 {
    match direction {
        Direction::In => 0,
        Direction::Out => 1,
    }
}

/// The §6 credential type code (0 is "none").
pub fn credential_code(kind: Option<CredentialType>) -> u16 {
    match kind {
        None => 0,
        Some(CredentialType::Card) => 1,
        Some(CredentialType::Pin) => 2,
        Some(CredentialType::CardPin) => 3,
        Some(CredentialType::Biometric) => 4,
        Some(CredentialType::CardBiometric) => 5,
        Some(CredentialType::Mobile) => 6,
    }
}

/// Parses a credential id as the u64 the profile carries: hexadecimal, as the hub
/// renders it back (`format!("{:08X}")`), so `04A1B2C3` round-trips.
pub fn credential_number(id: &str) -> Result<u64, String> {
    u64::from_str_radix(id.trim(), 16).map_err(|_| {
        format!(
            "credential id {id:?} is not hexadecimal (at most 16 digits); Modbus carries ids as a u64 shown as hex, e.g. 04A1B2C3"
        )
    })
}

/// One event to push into the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotEvent {
    pub kind: DoorEventKind,
    pub direction: Direction,
    /// Credential type and id; `None` is written as type 0, id 0.
    pub credential: Option<(CredentialType, u64)>,
    /// Unix seconds.
    pub time: u32,
}

impl SlotEvent {
    /// The ten registers of the slot for sequence `seq`.
    pub fn registers(&self, seq: u16) -> [u16; 10] {
        let (ctype, id) = match self.credential {
            Some((t, id)) => (Some(t), id),
            None => (None, 0),
        };
        [
            seq,
            kind_code(self.kind),
            direction_code(self.direction),
            credential_code(ctype),
            (id >> 48) as u16,
            (id >> 32) as u16,
            (id >> 16) as u16,
            id as u16,
            (self.time >> 16) as u16,
            self.time as u16,
        ]
    }
}

/// The register map.
#[derive(Debug, Clone)]
struct Registers {
    input: Vec<u16>,
    contact: bool,
    tamper: bool,
}

impl Registers {
    fn new() -> Self {
        let mut input = vec![0; REGISTERS];
        input[0] = PROFILE_VERSION;
        Registers {
            input,
            contact: false,
            tamper: false,
        }
    }

    fn answer(&self, request: Request<'static>) -> Result<Response, ExceptionCode> {
        match request {
            Request::ReadInputRegisters(addr, cnt) => {
                if cnt == 0 || cnt > MAX_READ {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                let (a, n) = (usize::from(addr), usize::from(cnt));
                if a + n > REGISTERS {
                    return Err(ExceptionCode::IllegalDataAddress);
                }
                Ok(Response::ReadInputRegisters(self.input[a..a + n].to_vec()))
            }
            Request::ReadDiscreteInputs(addr, cnt) => {
                let inputs = [self.contact, self.tamper];
                let (a, n) = (usize::from(addr), usize::from(cnt));
                if n == 0 || a + n > inputs.len() {
                    return Err(ExceptionCode::IllegalDataAddress);
                }
                Ok(Response::ReadDiscreteInputs(inputs[a..a + n].to_vec()))
            }
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }

    fn push(&mut self, event: &SlotEvent) -> u16 {
        let seq = self.input[1].wrapping_add(1);
        let at = usize::from(SLOT_BASE + SLOT_REGISTERS * (seq % RING_SLOTS));
        self.input[at..at + usize::from(SLOT_REGISTERS)].copy_from_slice(&event.registers(seq));
        self.input[1] = seq;
        seq
    }
}

struct Svc(Arc<Mutex<Registers>>);

impl Service for Svc {
    type Request = SlaveRequest<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = Ready<Result<Response, ExceptionCode>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        let regs = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ready(regs.answer(req.request))
    }
}

/// A running simulated door controller.
pub struct ModbusDoor {
    regs: Arc<Mutex<Registers>>,
    addr: SocketAddr,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl ModbusDoor {
    /// Binds `addr` (port 0 picks a free port) and serves an empty ring (newest
    /// sequence 0).
    pub async fn start(addr: SocketAddr) -> std::io::Result<ModbusDoor> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let regs = Arc::new(Mutex::new(Registers::new()));
        let task = spawn_server(listener, regs.clone());
        Ok(ModbusDoor {
            regs,
            addr,
            task: Mutex::new(Some(task)),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn regs(&self) -> MutexGuard<'_, Registers> {
        self.regs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `event` into the next slot and advances the sequence; returns the new
    /// sequence number.
    pub fn push(&self, event: SlotEvent) -> u16 {
        self.regs().push(&event)
    }

    /// Sets the newest sequence number without writing a slot (to start near the
    /// u16 wrap, or to simulate an overrun).
    pub fn set_sequence(&self, seq: u16) {
        self.regs().input[1] = seq;
    }

    /// The newest sequence number.
    pub fn sequence(&self) -> u16 {
        self.regs().input[1]
    }

    /// Discrete input 0: the door contact (`true` = open).
    pub fn set_contact(&self, open: bool) {
        self.regs().contact = open;
    }

    /// Discrete input 1: the tamper switch (`true` = active).
    pub fn set_tamper(&self, active: bool) {
        self.regs().tamper = active;
    }

    /// Whether the server is on the network.
    pub fn is_running(&self) -> bool {
        self.task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Takes the device off the network: closes the listener and every connection.
    pub async fn stop(&self) {
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// Brings a stopped device back on the same address with the same registers.
    /// Retries the bind for up to five seconds (the old socket may linger).
    pub async fn restart(&self) -> std::io::Result<()> {
        if self.is_running() {
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        *self.task.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(spawn_server(listener, self.regs.clone()));
        Ok(())
    }
}

impl Drop for ModbusDoor {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }
}

fn spawn_server(listener: TcpListener, regs: Arc<Mutex<Registers>>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let server = Server::new(listener);
        let on_connected = move |stream, socket_addr| {
            let regs = regs.clone();
            async move {
                accept_tcp_connection(stream, socket_addr, move |_| Ok(Some(Svc(regs.clone()))))
            }
        };
        if let Err(e) = server
            .serve(
                &on_connected,
                |e| tracing::warn!(error = %e, "modbus door: connection error"),
            )
            .await
        {
            tracing::warn!(error = %e, "modbus door: server stopped");
        }
    })
}

/// Why a script line cannot be carried out on a Modbus door.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The profile cannot express the line (a heartbeat, a credential id that is not
    /// hexadecimal).
    #[error("{0}")]
    Unsupported(String),
    /// The device could not come back on the network.
    #[error("cannot listen again: {0}")]
    Io(#[from] std::io::Error),
}

/// Whether `line` can be carried out on a Modbus door; the error says why not.
pub fn check_line(line: &Line) -> Result<(), ApplyError> {
    match line {
        Line::Event {
            credential: Some(c),
            ..
        } => credential_number(&c.id)
            .map(|_| ())
            .map_err(ApplyError::Unsupported),
        Line::Heartbeat => Err(ApplyError::Unsupported(
            "a Modbus door has no heartbeat: the hub polls it".into(),
        )),
        _ => Ok(()),
    }
}

/// Parses a script (the format of [`crate::script`]) and checks every line against the
/// profile, so that a bad id fails before anything is played.
pub fn parse_script(text: &str) -> Result<Vec<Numbered>, ScriptError> {
    let lines = script::parse_script(text)?;
    for l in &lines {
        check_line(&l.action).map_err(|e| ScriptError {
            line: l.line,
            message: e.to_string(),
        })?;
    }
    Ok(lines)
}

/// Carries out one script line on `door`, stamping events with `now_secs`. `offline`
/// without a duration takes the device off the network until `online`; `quit` is the
/// caller's to handle (it does nothing here).
pub async fn apply(door: &ModbusDoor, line: &Line, now_secs: u32) -> Result<(), ApplyError> {
    check_line(line)?;
    match line {
        Line::Event {
            kind,
            direction,
            credential,
        } => {
            let credential = match credential {
                Some(c) => Some((
                    c.kind,
                    credential_number(&c.id).map_err(ApplyError::Unsupported)?,
                )),
                None => None,
            };
            let seq = door.push(SlotEvent {
                kind: *kind,
                direction: *direction,
                credential,
                time: now_secs,
            });
            tracing::info!(seq, kind = kind.as_str(), "event pushed");
        }
        Line::Contact(open) => door.set_contact(*open),
        Line::Tamper(active) => door.set_tamper(*active),
        Line::Wait(d) => tokio::time::sleep(*d).await,
        Line::Offline(Some(d)) => {
            door.stop().await;
            tracing::info!("offline for {d:?}");
            tokio::time::sleep(*d).await;
            door.restart().await?;
            tracing::info!("back online");
        }
        Line::Offline(None) => {
            door.stop().await;
            tracing::info!("offline until `online`");
        }
        Line::Online => {
            door.restart().await?;
            tracing::info!("back online");
        }
        Line::Heartbeat | Line::Quit => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_modbus::client::{tcp, Reader};

    const T: u32 = 1_795_219_200;

    async fn client(door: &ModbusDoor) -> tokio_modbus::client::Context {
        tcp::connect(door.addr()).await.expect("connect")
    }

    #[tokio::test]
    async fn every_register_reads_back_as_the_profile_says() {
        let door = ModbusDoor::start("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("start");
        let mut ctx = client(&door).await;
        let header = ctx
            .read_input_registers(0, 2)
            .await
            .expect("io")
            .expect("ok");
        assert_eq!(header, vec![1, 0]);
        assert_eq!(
            ctx.read_discrete_inputs(0, 2)
                .await
                .expect("io")
                .expect("ok"),
            vec![false, false]
        );
        door.set_contact(true);
        door.set_tamper(true);
        assert_eq!(
            ctx.read_discrete_inputs(0, 2)
                .await
                .expect("io")
                .expect("ok"),
            vec![true, true]
        );
        door.set_tamper(false);
        assert_eq!(
            ctx.read_discrete_inputs(1, 1)
                .await
                .expect("io")
                .expect("ok"),
            vec![false]
        );

        let seq = door.push(SlotEvent {
            kind: DoorEventKind::AccessGranted,
            direction: Direction::Out,
            credential: Some((CredentialType::CardPin, 0x04A1_B2C3)),
            time: T,
        });
        assert_eq!(seq, 1);
        let slot = ctx
            .read_input_registers(110, 10)
            .await
            .expect("io")
            .expect("ok");
        assert_eq!(
            slot,
            vec![1, 1, 1, 3, 0, 0, 0x04A1, 0xB2C3, (T >> 16) as u16, T as u16]
        );
        assert_eq!(
            ctx.read_input_registers(1, 1).await.expect("io"),
            Ok(vec![1])
        );

        // Every kind and credential type code, and the u16 wrap of the sequence.
        door.set_sequence(u16::MAX - 1);
        let kinds = DoorEventKind::ALL;
        let types = [
            None,
            Some(CredentialType::Card),
            Some(CredentialType::Pin),
            Some(CredentialType::CardPin),
            Some(CredentialType::Biometric),
            Some(CredentialType::CardBiometric),
            Some(CredentialType::Mobile),
        ];
        for (i, kind) in kinds.iter().enumerate() {
            let seq = door.push(SlotEvent {
                kind: *kind,
                direction: Direction::In,
                credential: types[i].map(|t| (t, 0x0123_4567_89AB_CDEF)),
                time: T + i as u32,
            });
            let expected_seq = (u16::MAX - 1).wrapping_add(1 + i as u16);
            assert_eq!(seq, expected_seq);
            let at = 100 + 10 * (seq % 32);
            let slot = ctx
                .read_input_registers(at, 10)
                .await
                .expect("io")
                .expect("ok");
            let id = if types[i].is_some() {
                [0x0123, 0x4567, 0x89AB, 0xCDEF]
            } else {
                [0; 4]
            };
            let t = T + i as u32;
            assert_eq!(
                slot,
                vec![
                    seq,
                    i as u16 + 1,
                    0,
                    i as u16,
                    id[0],
                    id[1],
                    id[2],
                    id[3],
                    (t >> 16) as u16,
                    t as u16
                ],
                "{kind:?}"
            );
        }
        assert_eq!(
            ctx.read_input_registers(1, 1).await.expect("io"),
            Ok(vec![5]),
            "the sequence wrapped"
        );
        // The whole first 12 slots in one read of 120 registers.
        let many = ctx
            .read_input_registers(100, 120)
            .await
            .expect("io")
            .expect("ok");
        assert_eq!(many.len(), 120);
        assert_eq!(many[10..20], slot_at(&mut ctx, 1).await[..]);

        // Exceptions: too many registers, beyond the map, unknown discrete input,
        // unsupported function.
        assert!(ctx
            .read_input_registers(100, 126)
            .await
            .expect("io")
            .is_err());
        assert!(ctx.read_input_registers(0, 0).await.expect("io").is_err());
        assert!(ctx
            .read_input_registers(415, 10)
            .await
            .expect("io")
            .is_err());
        assert!(ctx
            .read_input_registers(5000, 1)
            .await
            .expect("io")
            .is_err());
        assert!(ctx.read_discrete_inputs(2, 1).await.expect("io").is_err());
        assert!(ctx.read_holding_registers(0, 1).await.expect("io").is_err());
        // The connection survives the exceptions.
        assert_eq!(
            ctx.read_input_registers(0, 1).await.expect("io"),
            Ok(vec![1])
        );
    }

    async fn slot_at(ctx: &mut tokio_modbus::client::Context, k: u16) -> Vec<u16> {
        ctx.read_input_registers(100 + 10 * k, 10)
            .await
            .expect("io")
            .expect("ok")
    }

    #[tokio::test]
    async fn stop_takes_it_off_the_network_and_restart_keeps_the_registers() {
        let door = ModbusDoor::start("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("start");
        door.push(SlotEvent {
            kind: DoorEventKind::Tamper,
            direction: Direction::In,
            credential: None,
            time: T,
        });
        let mut ctx = client(&door).await;
        assert_eq!(
            ctx.read_input_registers(1, 1).await.expect("io"),
            Ok(vec![1])
        );
        door.stop().await;
        assert!(!door.is_running());
        assert!(
            ctx.read_input_registers(1, 1).await.is_err(),
            "connection dropped"
        );
        assert!(tcp::connect(door.addr()).await.is_err(), "nobody listens");
        door.restart().await.expect("restart");
        let mut ctx = client(&door).await;
        assert_eq!(
            ctx.read_input_registers(0, 2).await.expect("io"),
            Ok(vec![1, 1])
        );
    }

    #[test]
    fn scripts_are_checked_against_the_profile() {
        let ok = parse_script("badge card_pin 04765F5F out\ncontact open\noffline\nonline\n")
            .expect("parses");
        assert_eq!(ok.len(), 4);
        let err = parse_script("contact open\nbadge biometric P0017\n").expect_err("not hex");
        assert_eq!(err.line, 2);
        assert!(err.message.contains("hexadecimal"), "{err}");
        let err = parse_script("heartbeat\n").expect_err("no heartbeat");
        assert!(err.message.contains("polls"), "{err}");
        let err = parse_script("wait 1x\n").expect_err("syntax");
        assert_eq!(err.line, 1);
    }

    #[tokio::test]
    async fn apply_pushes_with_the_given_time() {
        let door = ModbusDoor::start("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("start");
        let script = parse_script("badge mobile ff in\ncontact open\n").expect("script");
        for l in &script {
            apply(&door, &l.action, T).await.expect("apply");
        }
        assert_eq!(door.sequence(), 1);
        let mut ctx = client(&door).await;
        let slot = slot_at(&mut ctx, 1).await;
        assert_eq!(slot[3], 6);
        assert_eq!(slot[7], 0xFF);
        assert_eq!(
            ctx.read_discrete_inputs(0, 1).await.expect("io"),
            Ok(vec![true])
        );
    }
}
