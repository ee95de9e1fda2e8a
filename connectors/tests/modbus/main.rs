//! Integration tests of the Modbus TCP connector against a real Modbus TCP server (a
//! tokio-modbus `Service` implementing profile `monban-door-v1`, see `device`).
//!
//! Each test runs its own device on a free port; conditions are awaited with a deadline
//! (polling the sink double), never with fixed sleeps.
#![allow(clippy::unwrap_used)]

mod device;
// The in-memory sink of the MQTT tests; only part of that file is used here.
#[allow(dead_code)]
#[path = "../mqtt/support.rs"]
mod support;

use device::{slot, Device};
use monban_connectors::modbus::{self, ModbusDevice};
use monban_connectors::ConnectorState;
use monban_core::health::OutageCause;
use monban_core::{CredentialType, Direction, DoorEventKind, DoorId, DoorStatus, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use support::{MemorySink, Recorded, DEADLINE};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const DOOR: &str = "server-room-main";
/// 2026-11-21T00:00:00Z.
const T: u32 = 1_795_219_200;

struct Running {
    cancel: CancellationToken,
    join: JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(DEADLINE, self.join)
            .await
            .expect("the connector stops when cancelled")
            .expect("connector task");
    }
}

fn settings(device: &Device) -> ModbusDevice {
    let mut s = ModbusDevice::new(
        DoorId::parse(DOOR).unwrap(),
        device.addr.to_string(),
        1,
        Duration::from_millis(50),
    );
    s.held_open_after = Duration::from_millis(400);
    s.timeout = Duration::from_secs(1);
    s.max_backoff = Duration::from_millis(500);
    s
}

fn start(settings: ModbusDevice, sink: &Arc<MemorySink>) -> Running {
    let cancel = CancellationToken::new();
    let join = tokio::spawn(modbus::run(settings, sink.clone(), cancel.clone()));
    Running { cancel, join }
}

fn ids(r: &Recorded) -> Vec<String> {
    r.stored.iter().map(|e| e.event_id.clone()).collect()
}

fn count_kind(r: &Recorded, kind: DoorEventKind) -> usize {
    r.stored.iter().filter(|e| e.kind == kind).count()
}

fn online(r: &Recorded) -> bool {
    r.statuses.last().map(|s| s.status) == Some(DoorStatus::Online)
}

fn assert_reads_within_limit(device: &Device) {
    let max = device.state().max_read();
    assert!(max <= 125, "a request read {max} registers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_read_once_and_converted_exactly() {
    let device = Device::start(0).await;
    {
        let mut s = device.state();
        s.push(1, 1, 1, 0x04A1_B2C3, T);
        s.push(2, 0, 4, 0xAB, T + 1);
        s.push(5, 0, 0, 0, T + 2);
    }
    let sink = MemorySink::new();
    let run = start(settings(&device), &sink);
    sink.wait_for("the ring's three events", |r| r.stored.len() == 3)
        .await;
    {
        let r = sink.recorded();
        let e = &r.stored[0];
        assert_eq!(e.door.as_str(), DOOR);
        assert!(
            e.event_id.starts_with(&format!("mb-{T}-1-")),
            "{}",
            e.event_id
        );
        assert_eq!(e.ts, Timestamp::from_millis(i64::from(T) * 1000));
        assert_eq!(e.kind, DoorEventKind::AccessGranted);
        assert_eq!(e.direction, Direction::Out);
        let c = e.credential.as_ref().unwrap();
        assert_eq!((c.kind, c.id.as_str()), (CredentialType::Card, "04A1B2C3"));
        let e = &r.stored[1];
        assert_eq!(e.kind, DoorEventKind::AccessDenied);
        assert_eq!(e.direction, Direction::In);
        let c = e.credential.as_ref().unwrap();
        assert_eq!(
            (c.kind, c.id.as_str()),
            (CredentialType::Biometric, "000000AB")
        );
        let e = &r.stored[2];
        assert_eq!(
            (e.kind, e.credential.clone()),
            (DoorEventKind::DoorForced, None)
        );
        assert!(online(&r));
        assert!(r.is_connected());
    }
    // A burst of 30 needs several requests (300 registers).
    {
        let mut s = device.state();
        for i in 0..30 {
            s.push(1, 0, 1, u64::from(i), T + 10 + i);
        }
    }
    sink.wait_for("the burst", |r| r.stored.len() == 33).await;
    device.wait_polls(5).await;
    {
        let r = sink.recorded();
        for id in ids(&r) {
            assert_eq!(r.delivered(DOOR, &id), 1, "{id} delivered more than once");
        }
        assert!(r.outages.is_empty(), "{:?}", r.outages);
        assert!(r.dead_letters.is_empty(), "{:?}", r.dead_letters);
    }
    assert_reads_within_limit(&device);
    let reads = device.state().reads.clone();
    assert!(
        reads.iter().any(|&(a, n)| a >= 100 && n == 120),
        "expected full 12-slot reads, saw {reads:?}"
    );
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_wraps_around() {
    let device = Device::start(65530).await;
    let sink = MemorySink::new();
    let run = start(settings(&device), &sink);
    sink.wait_for("connected", |r| r.is_connected()).await;
    {
        let mut s = device.state();
        for i in 0..10 {
            s.push(1, 0, 1, 1, T + i);
        }
        assert_eq!(s.newest(), 4);
    }
    sink.wait_for("ten events across the wrap", |r| r.stored.len() == 10)
        .await;
    device.state().push(2, 0, 1, 1, T + 100);
    sink.wait_for("one more", |r| r.stored.len() == 11).await;
    let r = sink.recorded().clone();
    let seqs: Vec<String> = ids(&r)
        .iter()
        .map(|id| id.split('-').nth(2).unwrap().to_string())
        .collect();
    assert_eq!(
        seqs,
        ["65531", "65532", "65533", "65534", "65535", "0", "1", "2", "3", "4", "5"]
    );
    assert!(r.outages.is_empty(), "{:?}", r.outages);
    assert_reads_within_limit(&device);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overrun_is_an_outage_and_the_survivors_are_kept() {
    let device = Device::start(0).await;
    device.state().push(1, 0, 1, 1, T);
    let sink = MemorySink::new();
    let run = start(settings(&device), &sink);
    sink.wait_for("the first event", |r| r.stored.len() == 1)
        .await;
    let before = support::now();
    {
        let mut s = device.state();
        for i in 1..=40 {
            s.push(1, 0, 1, 1, T + i);
        }
        assert_eq!(s.newest(), 41);
    }
    sink.wait_for("an outage and the 32 survivors", |r| {
        !r.outages.is_empty() && stored(r, &format!("mb-{}-41", T + 40)) == 1
    })
    .await;
    device.wait_polls(3).await;
    let r = sink.recorded().clone();
    // Sequences 10..=41 survive in the ring; 2..=9 were overwritten.
    for seq in 10..=41u32 {
        let id = format!("mb-{}-{seq}", T + seq - 1);
        assert_eq!(stored(&r, &id), 1, "{id}");
    }
    for seq in 2..=9u32 {
        let id = format!("mb-{}-{seq}", T + seq - 1);
        assert_eq!(stored(&r, &id), 0, "{id} cannot have been read");
    }
    assert_eq!(r.stored.len(), 33);
    let (door, from, to, cause, reason) = &r.outages[0];
    assert_eq!(door, DOOR);
    assert!(
        *from <= before && before <= *to,
        "{from} .. {to} vs {before}"
    );
    assert_eq!(*cause, OutageCause::ModbusOverrun, "{reason}");
    assert_reads_within_limit(&device);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_slot_counts_as_lost() {
    let device = Device::start(100).await;
    device.state().push(1, 0, 1, 1, T);
    let sink = MemorySink::new();
    let run = start(settings(&device), &sink);
    sink.wait_for("the first event", |r| r.stored.len() == 1)
        .await;
    {
        let mut s = device.state();
        s.push(1, 0, 1, 2, T + 1);
        let bad = s.push(1, 0, 1, 3, T + 2);
        s.push(1, 0, 1, 4, T + 3);
        s.corrupt(bad);
    }
    sink.wait_for("the two good events and an outage", |r| {
        r.stored.len() == 3 && r.outages.len() == 1
    })
    .await;
    device.wait_polls(3).await;
    let r = sink.recorded().clone();
    assert_eq!(stored(&r, &format!("mb-{}-102", T + 1)), 1);
    assert_eq!(stored(&r, &format!("mb-{}-104", T + 3)), 1);
    assert_eq!(r.stored.len(), 3);
    assert_eq!(r.outages.len(), 1, "{:?}", r.outages);
    assert!(r.outages[0].1 <= r.outages[0].2);
    assert_eq!(r.outages[0].3, OutageCause::ModbusOverrun);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_and_tamper_edges_become_events() {
    let device = Device::start(0).await;
    let sink = MemorySink::new();
    let run = start(settings(&device), &sink);
    sink.wait_for("connected", |r| r.is_connected()).await;
    device.state().contact = true;
    sink.wait_for("door_opened", |r| {
        count_kind(r, DoorEventKind::DoorOpened) == 1
    })
    .await;
    sink.wait_for("door_held_open", |r| {
        count_kind(r, DoorEventKind::DoorHeldOpen) == 1
    })
    .await;
    device.wait_polls(10).await;
    assert_eq!(count_kind(&sink.recorded(), DoorEventKind::DoorHeldOpen), 1);
    device.state().contact = false;
    sink.wait_for("door_closed", |r| {
        count_kind(r, DoorEventKind::DoorClosed) == 1
    })
    .await;
    device.state().tamper = true;
    sink.wait_for("tamper", |r| count_kind(r, DoorEventKind::Tamper) == 1)
        .await;
    device.wait_polls(5).await;
    let r = sink.recorded().clone();
    assert_eq!(count_kind(&r, DoorEventKind::Tamper), 1);
    assert_eq!(count_kind(&r, DoorEventKind::DoorOpened), 1);
    assert_eq!(r.stored.len(), 4);
    let opened = &r.stored[0];
    let held = &r.stored[1];
    assert!(held.ts.as_millis() - opened.ts.as_millis() >= 400);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_device_is_offline_until_it_answers_again() {
    let device = Device::start(0).await;
    device.state().push(1, 0, 1, 1, T);
    let sink = MemorySink::new();
    let run = start(settings(&device), &sink);
    sink.wait_for("the event and online", |r| r.stored.len() == 1 && online(r))
        .await;
    device.stop().await;
    sink.wait_for("offline", |r| {
        r.statuses.last().map(|s| s.status) == Some(DoorStatus::Offline)
    })
    .await;
    assert!(matches!(
        sink.recorded().states.last(),
        Some(ConnectorState::Disconnected { .. })
    ));
    // Written while the hub cannot see the device.
    device.state().push(2, 1, 1, 2, T + 1);
    device.restart().await;
    sink.wait_for("online again and the event", |r| {
        online(r) && r.stored.len() == 2 && r.is_connected()
    })
    .await;
    let r = sink.recorded().clone();
    let st: Vec<DoorStatus> = r.statuses.iter().map(|s| s.status).collect();
    assert_eq!(
        st,
        [DoorStatus::Online, DoorStatus::Offline, DoorStatus::Online]
    );
    assert!(r.statuses[1].ts <= r.statuses[2].ts);
    assert!(r.outages.is_empty(), "{:?}", r.outages);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_codes_are_dead_letters_and_polling_goes_on() {
    let device = Device::start(0).await;
    let sink = MemorySink::new();
    let run = start(settings(&device), &sink);
    sink.wait_for("connected", |r| r.is_connected()).await;
    {
        let mut s = device.state();
        s.push_raw(slot(9, 0, 1, 1, T));
        s.push_raw(slot(1, 0, 8, 1, T + 1));
        s.push(1, 0, 1, 1, T + 2);
    }
    sink.wait_for("two dead letters and the good event", |r| {
        r.dead_letters.len() == 2 && r.stored.len() == 1
    })
    .await;
    device.state().push(1, 0, 1, 1, T + 3);
    sink.wait_for("the next event", |r| r.stored.len() == 2)
        .await;
    let r = sink.recorded().clone();
    assert_eq!(
        r.dead_letter_codes(),
        ["unknown_credential_type", "unknown_event_kind"]
    );
    let d = &r.dead_letters[0];
    assert_eq!(d.source, "modbus");
    assert!(d.origin.contains("slot 1"), "{}", d.origin);
    assert!(String::from_utf8_lossy(&d.payload).starts_with("1 9 0 1"));
    assert!(r.outages.is_empty());
    assert!(r.is_connected());
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_profile_version_is_reported_not_guessed() {
    let device = Device::start(0).await;
    {
        let mut s = device.state();
        s.regs[0] = 2;
        s.push(1, 0, 1, 1, T);
    }
    let sink = MemorySink::new();
    let run = start(settings(&device), &sink);
    sink.wait_for("a dead letter and the door offline", |r| {
        r.dead_letter_codes() == ["misconfigured_device"]
            && r.statuses.last().map(|s| s.status) == Some(DoorStatus::Offline)
    })
    .await;
    device.wait_polls(2).await;
    assert!(sink.recorded().stored.is_empty());
    assert_eq!(sink.recorded().dead_letters.len(), 1, "reported once");
    device.state().regs[0] = 1;
    sink.wait_for("online and the event", |r| online(r) && r.stored.len() == 1)
        .await;
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_device_is_offline_and_cancel_stops_the_retries() {
    let device = Device::start(0).await;
    device.stop().await;
    let sink = MemorySink::new();
    let run = start(settings(&device), &sink);
    sink.wait_for("offline and disconnected", |r| {
        r.statuses.last().map(|s| s.status) == Some(DoorStatus::Offline)
            && matches!(r.states.last(), Some(ConnectorState::Disconnected { error, .. }) if error.starts_with("transport"))
    })
    .await;
    assert_eq!(sink.recorded().states[0], ConnectorState::Connecting);
    run.stop().await;
}

/// How many events of the door are stored under the slot id `mb-{secs}-{seq}` (the
/// connector appends a digest of the slot's contents).
fn stored(r: &Recorded, secs_seq: &str) -> usize {
    let prefix = format!("{secs_seq}-");
    r.stored
        .iter()
        .filter(|e| e.door.as_str() == DOOR && e.event_id.starts_with(&prefix))
        .count()
}
