//! A Modbus TCP door controller speaking `monban-door-v1` (CONTRACT §6), built on
//! tokio-modbus' server `Service`: an in-memory register map the test writes events
//! into and whose discrete inputs it flips. It counts requests and refuses (and
//! remembers) any read over 125 registers.

use std::future::{ready, Ready};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_modbus::server::tcp::{accept_tcp_connection, Server};
use tokio_modbus::server::Service;
use tokio_modbus::{ExceptionCode, Request, Response, SlaveRequest};

use crate::support::DEADLINE;

/// Input registers 0..420: header, gap, 32 slots of 10 from register 100.
pub const REGISTERS: usize = 100 + 32 * 10;

#[derive(Debug)]
pub struct State {
    /// Input registers; `[0]` version, `[1]` newest sequence.
    pub regs: Vec<u16>,
    pub contact: bool,
    pub tamper: bool,
    /// Every input-register read: (address, count).
    pub reads: Vec<(u16, u16)>,
    /// Reads of the header (one per poll).
    pub polls: usize,
}

impl State {
    fn answer(&mut self, request: Request<'static>) -> Result<Response, ExceptionCode> {
        match request {
            Request::ReadInputRegisters(addr, cnt) => {
                self.reads.push((addr, cnt));
                if addr == 0 {
                    self.polls += 1;
                }
                if cnt == 0 || cnt > 125 {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                let (a, n) = (usize::from(addr), usize::from(cnt));
                if a + n > REGISTERS {
                    return Err(ExceptionCode::IllegalDataAddress);
                }
                Ok(Response::ReadInputRegisters(self.regs[a..a + n].to_vec()))
            }
            Request::ReadDiscreteInputs(addr, cnt) => {
                let inputs = [self.contact, self.tamper];
                let (a, n) = (usize::from(addr), usize::from(cnt));
                if a + n > inputs.len() {
                    return Err(ExceptionCode::IllegalDataAddress);
                }
                Ok(Response::ReadDiscreteInputs(inputs[a..a + n].to_vec()))
            }
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }

    pub fn newest(&self) -> u16 {
        self.regs[1]
    }

    /// Writes raw slot registers for the next sequence and advances it; returns the
    /// sequence. `slot[0]` is overwritten with the sequence.
    pub fn push_raw(&mut self, mut slot: [u16; 10]) -> u16 {
        let seq = self.regs[1].wrapping_add(1);
        slot[0] = seq;
        let at = 100 + 10 * usize::from(seq % 32);
        self.regs[at..at + 10].copy_from_slice(&slot);
        self.regs[1] = seq;
        seq
    }

    /// Pushes an event: kind 1..7, direction 0/1, credential type 0..6.
    pub fn push(&mut self, kind: u16, dir: u16, ctype: u16, id: u64, secs: u32) -> u16 {
        self.push_raw(slot(kind, dir, ctype, id, secs))
    }

    /// Overwrites `[0]` of the slot of `seq` with another sequence number.
    pub fn corrupt(&mut self, seq: u16) {
        let at = 100 + 10 * usize::from(seq % 32);
        self.regs[at] = seq.wrapping_add(7);
    }

    pub fn max_read(&self) -> u16 {
        self.reads.iter().map(|r| r.1).max().unwrap_or(0)
    }
}

pub fn slot(kind: u16, dir: u16, ctype: u16, id: u64, secs: u32) -> [u16; 10] {
    [
        0,
        kind,
        dir,
        ctype,
        (id >> 48) as u16,
        (id >> 32) as u16,
        (id >> 16) as u16,
        id as u16,
        (secs >> 16) as u16,
        secs as u16,
    ]
}

struct Svc(Arc<Mutex<State>>);

impl Service for Svc {
    type Request = SlaveRequest<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = Ready<Result<Response, ExceptionCode>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        ready(state.answer(req.request))
    }
}

/// The device and its server task; `stop` takes it off the network, `restart` brings it
/// back on the same address with the same registers.
pub struct Device {
    state: Arc<Mutex<State>>,
    pub addr: SocketAddr,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Device {
    /// A device with profile version 1 and newest sequence `newest` (empty ring).
    pub async fn start(newest: u16) -> Device {
        let mut regs = vec![0; REGISTERS];
        regs[0] = 1;
        regs[1] = newest;
        let state = Arc::new(Mutex::new(State {
            regs,
            contact: false,
            tamper: false,
            reads: Vec::new(),
            polls: 0,
        }));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let task = spawn_server(listener, state.clone());
        Device {
            state,
            addr,
            task: Mutex::new(Some(task)),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the listener and every connection.
    pub async fn stop(&self) {
        let task = self.task.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    pub async fn restart(&self) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    eprintln!("rebinding {}: {e}", self.addr);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot rebind {}: {e}", self.addr),
            }
        };
        *self.task.lock().unwrap() = Some(spawn_server(listener, self.state.clone()));
    }

    /// Waits until the connector has polled `n` more times.
    pub async fn wait_polls(&self, n: usize) {
        let target = self.state().polls + n;
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while self.state().polls < target {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the connector did not poll {n} more times"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn spawn_server(listener: TcpListener, state: Arc<Mutex<State>>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let server = Server::new(listener);
        let on_connected = move |stream, socket_addr| {
            let state = state.clone();
            async move {
                accept_tcp_connection(stream, socket_addr, move |_| Ok(Some(Svc(state.clone()))))
            }
        };
        if let Err(e) = server
            .serve(&on_connected, |e| eprintln!("test device: {e}"))
            .await
        {
            eprintln!("test device stopped: {e}");
        }
    })
}
