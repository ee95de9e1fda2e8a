//! Modbus doors (CONTRACT §6, profile `monban-door-v1`) through the real
//! `monban serve`, against two servers the hub does not share code with on the device
//! side:
//!
//! - `tests/peers/pymodbus_door.py`, a pymodbus server driven by line commands with an
//!   answer per command (run when `MONBAN_TEST_PYTHON` names a Python with the pinned
//!   pymodbus and pyserial — `scripts/test.sh` installs them into `target/pyenv`;
//!   otherwise each test prints why it is skipped), on Modbus TCP and, in `mod rtu`, as
//!   Modbus RTU on a pseudo-terminal it creates (`serial = "/dev/pts/N"`);
//! - our simulator, `monban-sim modbus-door` (tokio-modbus), for the same happy path.
//!
//! Door events from a Modbus device carry the device's wall-clock time, so logins here
//! are stamped with the real time (not [`Base`]) and posted only after the hub has taken
//! in the events they depend on (`/metrics`), never after a fixed sleep.
//!
//! The harness writes `monban.toml` before the first start and has no `[[modbus]]`
//! option: [`hub_with_modbus`] starts it, stops it, appends the device and starts it
//! again on the same database and tokens.

use crate::harness::*;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const WARD_PC: &str = "ward3-pc01";
/// The Modbus door: ward3's main door (ward3-back has no feed at all, so it stays
/// online and never alarms).
const DOOR: &str = "ward3-main";
/// The nurse's card: hexadecimal, so it survives Modbus' u64 credential ids.
const NURSE_CARD: &str = "04A1B2C3";
const MB_NEW: &str = "monban_door_events_ingested_total{source=\"modbus\",result=\"new\"}";
const MB_STATUS: &str = "monban_door_status_changes_total{source=\"modbus\"}";
const MB_DEAD: &str = "monban_dead_letters_total{source=\"modbus\"}";

fn connector_up() -> String {
    format!("monban_connector_up{{connector=\"modbus:{DOOR}\"}}")
}

// ---------------------------------------------------------------- time

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn now_secs() -> u32 {
    u32::try_from(Utc::now().timestamp()).unwrap()
}

/// Unix milliseconds as the RFC 3339 a login carries.
fn rfc3339_ms(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Unix seconds in the hub's answer form.
fn z_secs(secs: u32) -> String {
    DateTime::<Utc>::from_timestamp(i64::from(secs), 0)
        .unwrap()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

// ---------------------------------------------------------------- the hub

/// A hub whose `ward3-main` is the Modbus TCP device at `address`, polled every
/// `poll`; returns once the connector is up and the door reported online.
async fn hub_with_modbus(address: &str, poll: &str) -> Hub {
    hub_with_modbus_at(&format!("address = \"{address}\""), poll).await
}

/// [`hub_with_modbus`] with the device given by its `[[modbus]]` keys (`address = …` or
/// `serial = …`, …).
async fn hub_with_modbus_at(keys: &str, poll: &str) -> Hub {
    let mut hub = spawn_hub(HubOptions::default()).await;
    hub.kill9();
    let mut text = std::fs::read_to_string(&hub.config).unwrap();
    // A generous answer timeout: on a loaded machine a poll may be slow, and a door the
    // test expects online must not go offline for it (lost devices are seen at once: the
    // connection fails or closes).
    let timeout = if keys.contains("timeout") {
        ""
    } else {
        "timeout = \"10s\"\n"
    };
    text.push_str(&format!(
        "\n[[modbus]]\ndoor = \"{DOOR}\"\n{keys}\nunit = 1\npoll = \"{poll}\"\n{timeout}"
    ));
    std::fs::write(&hub.config, text).unwrap();
    hub.start().await;
    wait_metric(&hub, &connector_up(), 1.0).await;
    wait_metric(&hub, MB_STATUS, 1.0).await;
    hub
}

async fn wait_metric(hub: &Hub, series: &str, at_least: f64) {
    wait_for(&format!("{series} >= {at_least}"), DEADLINE, || async {
        (hub.metric(series).await >= at_least).then_some(())
    })
    .await
}

async fn wait_connector(hub: &Hub, up: bool) {
    let want = if up { 1.0 } else { 0.0 };
    wait_for(
        &format!("{} == {want}", connector_up()),
        DEADLINE,
        || async { (hub.metric(&connector_up()).await == want).then_some(()) },
    )
    .await
}

/// Posts a password login of the nurse on the ward3 terminal at `ts_ms`.
async fn nurse_login(hub: &Hub, id: &str, ts_ms: i64) -> Value {
    let l = ehr_login(id, &rfc3339_ms(ts_ms), "nurse01", WARD_PC, &["password"]);
    hub.login_ok(&l).await
}

/// Waits until the stored verdict of `id` is `verdict` with `reasons` (a late fact may
/// still be on its way into the hub), and returns the view.
async fn wait_verdict(hub: &Hub, id: &str, verdict: &str, reasons: &[&str]) -> Value {
    let want = (json!(verdict), json!(reasons));
    let until = std::time::Instant::now() + DEADLINE;
    loop {
        let view = hub.login_view(id).await;
        if (view["verdict"].clone(), view["reasons"].clone()) == want {
            return view;
        }
        assert!(
            std::time::Instant::now() < until,
            "timed out after {DEADLINE:?} waiting for {id} to be {verdict} {reasons:?}: {view}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the wall clock is in a later second than `ms`, so that an event stamped
/// now (device time has whole seconds) comes strictly after a login at `ms`.
async fn next_second_after(ms: i64) {
    let next = (ms.div_euclid(1000) + 1) * 1000;
    wait_for("the next second", Duration::from_secs(2), || async {
        (now_ms() >= next).then_some(())
    })
    .await
}

/// Asserts `combined_measures` by an entry through the Modbus door with event id
/// `mb-{secs}-{seq}-{digest}` (as the connector names slot events), `secs` within
/// `[lo, hi]`.
fn assert_modbus_entry(view: &Value, seq: u16, lo: u32, hi: u32) {
    assert_eq!(view["verdict"], "combined_measures", "{view}");
    let ev = &view["evidence"];
    assert_eq!(ev["door"], DOOR, "{view}");
    assert_eq!(ev["credential_type"], "card", "{view}");
    let id = ev["entry_event_id"].as_str().unwrap_or_default();
    let parts: Vec<&str> = id
        .strip_prefix("mb-")
        .unwrap_or_default()
        .split('-')
        .collect();
    let secs: u32 = match parts.as_slice() {
        [secs, s, digest] if *s == seq.to_string() && digest.len() == 8 => {
            secs.parse().unwrap_or_default()
        }
        _ => panic!("entry_event_id {id:?} is not mb-<secs>-{seq}-<digest>: {view}"),
    };
    assert!(
        (lo..=hi).contains(&secs),
        "entry time {secs} not in [{lo}, {hi}]: {view}"
    );
    assert_eq!(ev["entered_at"], z_secs(secs), "{view}");
}

// ---------------------------------------------------------------- the peers

/// The pymodbus door (`tests/peers/pymodbus_door.py`): one command, one answer line.
struct PyDoor {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    /// What followed `ready`: the TCP port, or with `--rtu` the pty's path.
    ready: String,
    _dir: tempfile::TempDir,
    stderr_path: PathBuf,
}

impl PyDoor {
    /// Starts the peer on a free port; `None` (with the reason printed) when
    /// `MONBAN_TEST_PYTHON` is not set.
    async fn start() -> Option<PyDoor> {
        let door = Self::spawn(&["--host", "127.0.0.1", "--port", "0", "--unit", "1"]).await?;
        assert!(
            door.ready.parse::<u16>().is_ok(),
            "expected `ready <port>`, got `ready {}`",
            door.ready
        );
        Some(door)
    }

    /// Starts the peer as Modbus RTU on a pty it creates; `None` (with the reason
    /// printed) when `MONBAN_TEST_PYTHON` is not set.
    async fn start_rtu() -> Option<PyDoor> {
        let door = Self::spawn(&["--rtu", "--unit", "1"]).await?;
        assert!(
            door.ready.starts_with('/'),
            "expected `ready <pty path>`, got `ready {}`",
            door.ready
        );
        Some(door)
    }

    async fn spawn(args: &[&str]) -> Option<PyDoor> {
        let Some(python) = std::env::var_os("MONBAN_TEST_PYTHON") else {
            eprintln!(
                "skipped: MONBAN_TEST_PYTHON is not set (scripts/test.sh installs pymodbus and \
                 pyserial into target/pyenv and sets it)"
            );
            return None;
        };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/pymodbus_door.py");
        let dir = tempfile::tempdir().unwrap();
        let stderr_path = dir.path().join("pymodbus.log");
        let mut child = Command::new(&python)
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python:?} {script}: {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut door = PyDoor {
            child,
            stdin,
            stdout,
            ready: String::new(),
            _dir: dir,
            stderr_path,
        };
        let ready = door.read_line("ready").await;
        door.ready = ready
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("expected `ready …`, got {ready:?}"))
            .to_string();
        Some(door)
    }

    /// The TCP peer's `host:port`.
    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.ready)
    }

    /// The RTU peer's serial port (the pty's path).
    fn serial_path(&self) -> &str {
        &self.ready
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    async fn read_line(&mut self, what: &str) -> String {
        match tokio::time::timeout(DEADLINE * 2, self.stdout.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) => {
                let status = self.child.wait().await;
                panic!(
                    "pymodbus door ended ({status:?}) before {what}; stderr:\n{}",
                    self.stderr()
                )
            }
            Ok(Err(e)) => panic!("reading the pymodbus door: {e}"),
            Err(_) => panic!(
                "no answer from the pymodbus door within {:?} ({what}); stderr:\n{}",
                DEADLINE * 2,
                self.stderr()
            ),
        }
    }

    /// Sends one command and returns its `ok …` answer (panics on `error …`).
    async fn send(&mut self, command: &str) -> String {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
        let answer = self.read_line(command).await;
        assert!(
            answer.starts_with("ok"),
            "pymodbus door: {command:?} -> {answer:?}; stderr:\n{}",
            self.stderr()
        );
        answer
    }

    /// Sends an event command and returns the `seq=` and `ts=` of its answer.
    async fn event(&mut self, command: &str) -> (u16, u32) {
        let answer = self.send(command).await;
        (field(&answer, "seq"), field(&answer, "ts"))
    }

    /// Waits until the hub has started another poll (a read of the newest sequence),
    /// returns its Unix milliseconds as the peer saw it.
    async fn next_poll(&mut self) -> i64 {
        field(&self.send("poll").await, "at_ms")
    }
}

/// The value of `key=value` in an answer line.
fn field<T: std::str::FromStr>(answer: &str, key: &str) -> T {
    answer
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
        .unwrap_or_else(|| panic!("no {key}= in {answer:?}"))
}

/// `monban-sim modbus-door`: reads the same kind of lines but answers nothing; the hub's
/// metrics tell when a line took effect.
struct SimDoor {
    _child: Child,
    stdin: ChildStdin,
    address: String,
    pushed: u16,
}

impl SimDoor {
    async fn start() -> SimDoor {
        let sim = monban_bin().with_file_name("monban-sim");
        assert!(
            sim.exists(),
            "monban-sim is missing at {}: build it first: cargo build -p monban-sim",
            sim.display()
        );
        let address = format!("127.0.0.1:{}", free_port());
        let mut child = Command::new(&sim)
            .args(["modbus-door", "--listen", &address])
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        // Keep its standard error (and drain it, so a chatty simulator never blocks on
        // a full pipe) for the failure message.
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let seen = Arc::new(Mutex::new(String::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                log.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        // Ready when it accepts a connection (whatever it prints).
        let until = std::time::Instant::now() + DEADLINE;
        while tokio::net::TcpStream::connect(&address).await.is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "monban-sim modbus-door exited with {status}; stderr:\n{}",
                    seen.lock().unwrap()
                );
            }
            assert!(
                std::time::Instant::now() < until,
                "monban-sim modbus-door did not listen on {address} within {DEADLINE:?}; stderr:\n{}",
                seen.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        SimDoor {
            _child: child,
            stdin,
            address,
            pushed: 0,
        }
    }

    async fn send(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
    }
}

/// Either peer, for the scenario both must pass.
enum Peer {
    Py(PyDoor),
    Sim(SimDoor),
}

impl Peer {
    fn address(&self) -> String {
        match self {
            Peer::Py(p) => p.address(),
            Peer::Sim(s) => s.address.clone(),
        }
    }

    /// A card `access_granted` stamped with the wall clock, waited for until the hub has
    /// stored `stored` Modbus events; returns its sequence number and bounds of its time
    /// in Unix seconds.
    async fn badge(
        &mut self,
        hub: &Hub,
        card: &str,
        direction: &str,
        stored: f64,
    ) -> (u16, u32, u32) {
        match self {
            Peer::Py(p) => {
                let (seq, ts) = p.event(&format!("badge {card} {direction}")).await;
                wait_metric(hub, MB_NEW, stored).await;
                (seq, ts, ts)
            }
            Peer::Sim(s) => {
                let lo = now_secs();
                s.send(&format!("badge card {card} {direction}")).await;
                s.pushed = s.pushed.wrapping_add(1);
                wait_metric(hub, MB_NEW, stored).await;
                // The simulator stamps the event when it reads the line, which is certainly
                // before the hub stored it.
                (s.pushed, lo, now_secs() + 1)
            }
        }
    }

    /// `contact open|closed`, `tamper on|off`: the same line for both.
    async fn input(&mut self, line: &str) {
        match self {
            Peer::Py(p) => {
                p.send(line).await;
            }
            Peer::Sim(s) => s.send(line).await,
        }
    }
}

// ---------------------------------------------------------------- the scenarios

/// The happy path, for both peers: a badge-in read over Modbus earns a password login
/// in the room `combined_measures`; contact and tamper edges are stored, and the tamper
/// raises the room's alarm; nothing is a dead letter.
async fn badge_contact_and_tamper(peer: &mut Peer) -> Hub {
    let hub = hub_with_modbus(&peer.address(), "200ms").await;
    assert_eq!(hub.metric(MB_STATUS).await, 1.0, "online once");

    // Before any entry: no presence (and the door is online).
    nurse_login(&hub, "l-mb-0", now_ms()).await;
    assert_verdict(
        &hub.login_view("l-mb-0").await,
        "not_met",
        &["no_presence"],
        Value::Null,
    );

    let (seq, lo, hi) = peer.badge(&hub, NURSE_CARD, "in", 1.0).await;
    let reply = nurse_login(&hub, "l-mb-1", now_ms()).await;
    assert_reply(&reply, "l-mb-1", "combined_measures", &[], false);
    assert_modbus_entry(&hub.login_view("l-mb-1").await, seq, lo, hi);

    // Discrete inputs: each edge is a stored event (wait for one before the next, or
    // both could fall between two polls and cancel out).
    peer.input("contact open").await;
    wait_metric(&hub, MB_NEW, 2.0).await;
    peer.input("contact closed").await;
    wait_metric(&hub, MB_NEW, 3.0).await;
    // Opening and closing a door is no alarm.
    nurse_login(&hub, "l-mb-2", now_ms()).await;
    assert_verdict(
        &hub.login_view("l-mb-2").await,
        "combined_measures",
        &[],
        hub.login_view("l-mb-1").await["evidence"].clone(),
    );

    peer.input("tamper on").await;
    wait_metric(&hub, MB_NEW, 4.0).await;
    nurse_login(&hub, "l-mb-3", now_ms()).await;
    assert_verdict(
        &hub.login_view("l-mb-3").await,
        "not_met",
        &["room_alarm"],
        Value::Null,
    );
    // A switch that stays active is one tamper, not one per poll.
    peer.input("tamper off").await;
    peer.input("contact open").await;
    wait_metric(&hub, MB_NEW, 5.0).await;
    assert_eq!(hub.metric(MB_NEW).await, 5.0);

    assert_eq!(hub.metric(MB_DEAD).await, 0.0);
    assert_eq!(hub.dead_letters().await, Vec::<Value>::new());
    assert_eq!(hub.metric(MB_STATUS).await, 1.0, "never offline");
    hub
}

mod pymodbus {
    use super::*;

    #[tokio::test]
    async fn badge_in_earns_credit_and_contact_and_tamper_are_stored() {
        let Some(door) = PyDoor::start().await else {
            return;
        };
        let mut peer = Peer::Py(door);
        let hub = badge_contact_and_tamper(&mut peer).await;
        let Peer::Py(door) = &mut peer else {
            unreachable!()
        };

        // A slot with a kind the profile does not define is a dead letter naming the
        // slot; the connector goes on.
        let (seq, _) = door.event("event 9").await;
        wait_metric(&hub, MB_DEAD, 1.0).await;
        let letters = hub.dead_letters().await;
        assert_eq!(letters.len(), 1, "{letters:?}");
        let letter = &letters[0];
        assert_eq!(letter["source"], "modbus", "{letter}");
        let origin = letter["origin"].as_str().unwrap();
        assert!(
            origin.starts_with(&format!("modbus://{}/1/", door.address()))
                && origin.ends_with(&format!("(seq {seq})")),
            "{letter}"
        );
        assert!(
            letter["reason"]
                .as_str()
                .unwrap()
                .starts_with("unknown_event_kind"),
            "{letter}"
        );
        door.event(&format!("badge {NURSE_CARD} out")).await;
        wait_metric(&hub, MB_NEW, 6.0).await;
    }

    /// The sequence is a u16: events across 65535 → 0 (read in two requests, slots 30,
    /// 31 and 0) are all taken, in order, without an overrun.
    #[tokio::test]
    async fn the_sequence_wraps_around() {
        let Some(mut door) = PyDoor::start().await else {
            return;
        };
        door.send("seq 65533").await;
        let hub = hub_with_modbus(&door.address(), "200ms").await;
        let t = now_secs();
        let (s1, t1) = door
            .event(&format!("badge {NURSE_CARD} in {}", t - 30))
            .await;
        let (s2, _) = door
            .event(&format!("badge {NURSE_CARD} out {}", t - 20))
            .await;
        let (s3, t3) = door
            .event(&format!("badge {NURSE_CARD} in {}", t - 10))
            .await;
        assert_eq!((s1, s2, s3), (65534, 65535, 0));
        wait_metric(&hub, MB_NEW, 3.0).await;

        let at = |secs: u32| i64::from(secs) * 1000;
        nurse_login(&hub, "l-w1", at(t - 25)).await;
        assert_modbus_entry(&hub.login_view("l-w1").await, s1, t1, t1);
        nurse_login(&hub, "l-w2", at(t - 15)).await;
        assert_verdict(
            &hub.login_view("l-w2").await,
            "not_met",
            &["no_presence"],
            Value::Null,
        );
        nurse_login(&hub, "l-w3", at(t - 5)).await;
        assert_modbus_entry(&hub.login_view("l-w3").await, s3, t3, t3);
        nurse_login(&hub, "l-w4", now_ms()).await;
        assert_modbus_entry(&hub.login_view("l-w4").await, s3, t3, t3);
        assert_eq!(hub.metric(MB_NEW).await, 3.0);
        assert_eq!(hub.dead_letters().await, Vec::<Value>::new());
    }

    /// More than 32 events between two polls: the hub cannot know what it missed, so
    /// the span from the last consistent poll to the poll that found the overrun counts
    /// as offline (CONTRACT §6). Before and after it, credit holds.
    #[tokio::test]
    async fn an_overrun_fails_closed_for_the_gap() {
        let Some(mut door) = PyDoor::start().await else {
            return;
        };
        // Slow polls make the gap wide enough to place a login in it.
        let hub = hub_with_modbus(&door.address(), "500ms").await;
        let (seq, ts) = door.event(&format!("badge {NURSE_CARD} in")).await;
        wait_metric(&hub, MB_NEW, 1.0).await;

        // h1: a poll that finds the ring consistent; then 40 events at once; h2: the
        // next poll, which finds the overrun.
        let h1 = door.next_poll().await;
        door.send("burst 40").await;
        let burst = now_ms();
        let h2 = door.next_poll().await;
        assert!(
            h2 - burst >= 100,
            "the poll after the burst came {} ms after it: the gap is too narrow to test",
            h2 - burst
        );

        // Just before the consistent poll: covered.
        nurse_login(&hub, "l-before", h1 - 50).await;
        // Inside the gap: fails closed, whatever the reply said before the overrun
        // was recorded.
        nurse_login(&hub, "l-gap", burst + (h2 - burst) / 2).await;
        let gap = wait_verdict(&hub, "l-gap", "not_met", &["door_offline"]).await;
        assert_eq!(gap["evidence"], Value::Null);
        assert_modbus_entry(&hub.login_view("l-before").await, seq, ts, ts);

        // The 32 events still in the ring are taken; the gap ends at the overrun poll.
        wait_metric(&hub, MB_NEW, 33.0).await;
        assert_eq!(hub.metric(MB_NEW).await, 33.0);
        let reply = nurse_login(&hub, "l-after", now_ms()).await;
        assert_reply(&reply, "l-after", "combined_measures", &[], false);
        assert_modbus_entry(&hub.login_view("l-after").await, seq, ts, ts);
        // An overrun is a gap, not a lost connection.
        assert_eq!(hub.metric(MB_STATUS).await, 1.0);
        assert_eq!(hub.metric(&connector_up()).await, 1.0);
    }

    /// The gap must start where the last consistent poll *read* the sequence, not where
    /// it finished: events written while its slot reads were still on the wire are lost
    /// too. With a slow link (slot answers 1 s late), a login at the time of the lost
    /// events must get no credit.
    #[tokio::test]
    async fn an_overrun_during_a_slow_poll_is_in_the_gap() {
        let Some(mut door) = PyDoor::start().await else {
            return;
        };
        let hub = hub_with_modbus(&door.address(), "500ms").await;
        door.send("delay 1000").await;
        door.event(&format!("badge {NURSE_CARD} in")).await;
        // The poll that takes the badge-in has read the sequence and the slot's values;
        // while the answer is on its way, 40 events overwrite the ring.
        let read = field::<i64>(&door.send("poll slots").await, "at_ms");
        door.send("burst 40").await;
        let burst = now_ms();
        assert!(
            burst - read < 500,
            "the burst came {} ms late",
            burst - read
        );
        door.next_poll().await;
        wait_metric(&hub, MB_NEW, 33.0).await;
        nurse_login(&hub, "l-lost", burst).await;
        // Events were lost at `burst`: no credit may rest on the ring's silence then.
        let view = wait_verdict(&hub, "l-lost", "not_met", &["door_offline"]).await;
        assert_eq!(view["evidence"], Value::Null);
    }

    /// A device restart sets the sequence back to 0. When the new sequence lands within
    /// 32 above the last one the hub took, the sequence alone hides the restart: the
    /// connector must notice it (the last slot it took reads differently) and take the
    /// restarted device's first events (here a tamper) too.
    #[tokio::test]
    async fn events_after_a_device_restart_are_not_lost_silently() {
        let Some(mut door) = PyDoor::start().await else {
            return;
        };
        let hub = hub_with_modbus(&door.address(), "200ms").await;
        door.event(&format!("badge {NURSE_CARD} in")).await;
        door.send("burst 4").await;
        wait_metric(&hub, MB_NEW, 5.0).await;

        // Power cut: the device restarts with an empty ring; before the hub is back, a
        // tamper (seq 1) and six more events (seq 2..7).
        door.send("stop").await;
        wait_metric(&hub, MB_STATUS, 2.0).await;
        door.send("reset").await;
        let (tamper, _) = door.event("event tamper").await;
        assert_eq!(tamper, 1);
        door.send("burst 6").await;
        door.send("start").await;
        wait_metric(&hub, MB_STATUS, 3.0).await;
        door.next_poll().await;
        door.next_poll().await;

        let reply = nurse_login(&hub, "l-after-restart", now_ms()).await;
        assert_ne!(
            reply["verdict"], "combined_measures",
            "the tamper written after the restart was never read: {reply}"
        );
    }

    /// The device goes off the network: the door is offline from the failed poll, a
    /// login then fails closed; when it is back the door is online again, an event
    /// written meanwhile is taken, and a new badge-in earns credit.
    #[tokio::test]
    async fn connection_loss_takes_the_door_offline_until_it_is_back() {
        let Some(mut door) = PyDoor::start().await else {
            return;
        };
        let hub = hub_with_modbus(&door.address(), "200ms").await;
        let (seq, ts) = door.event(&format!("badge {NURSE_CARD} in")).await;
        wait_metric(&hub, MB_NEW, 1.0).await;
        nurse_login(&hub, "l-up", now_ms()).await;
        assert_modbus_entry(&hub.login_view("l-up").await, seq, ts, ts);

        door.send("stop").await;
        wait_metric(&hub, MB_STATUS, 2.0).await;
        wait_connector(&hub, false).await;
        let down = now_ms();
        let reply = nurse_login(&hub, "l-down", down).await;
        assert_reply(&reply, "l-down", "not_met", &["door_offline"], false);
        // The nurse leaves while the hub cannot see the door.
        next_second_after(down).await;
        let (out_seq, out_ts) = door.event(&format!("badge {NURSE_CARD} out")).await;

        door.send("start").await;
        wait_metric(&hub, MB_STATUS, 3.0).await;
        wait_connector(&hub, true).await;
        wait_metric(&hub, MB_NEW, 2.0).await;
        assert_eq!(out_seq, seq.wrapping_add(1));
        let reply = nurse_login(&hub, "l-left", now_ms()).await;
        assert_reply(&reply, "l-left", "not_met", &["no_presence"], false);

        next_second_after(i64::from(out_ts) * 1000).await;
        let (in_seq, in_ts) = door.event(&format!("badge {NURSE_CARD} in")).await;
        wait_metric(&hub, MB_NEW, 3.0).await;
        let reply = nurse_login(&hub, "l-back", now_ms()).await;
        assert_reply(&reply, "l-back", "combined_measures", &[], false);
        assert_modbus_entry(&hub.login_view("l-back").await, in_seq, in_ts, in_ts);

        // Before the loss nothing changed; during it, still offline.
        assert_modbus_entry(&hub.login_view("l-up").await, seq, ts, ts);
        assert_verdict(
            &hub.login_view("l-down").await,
            "not_met",
            &["door_offline"],
            Value::Null,
        );
        assert_eq!(
            hub.metric(MB_STATUS).await,
            3.0,
            "offline once, online twice"
        );
    }

    /// A device that answers but not with profile version 1 is not guessed at: a dead
    /// letter, the door offline; fixed, it is online again.
    #[tokio::test]
    async fn a_wrong_profile_version_is_a_dead_letter_and_the_door_offline() {
        let Some(mut door) = PyDoor::start().await else {
            return;
        };
        let hub = hub_with_modbus(&door.address(), "200ms").await;
        door.event(&format!("badge {NURSE_CARD} in")).await;
        wait_metric(&hub, MB_NEW, 1.0).await;

        door.send("version 2").await;
        wait_metric(&hub, MB_DEAD, 1.0).await;
        wait_metric(&hub, MB_STATUS, 2.0).await;
        let letters = hub.dead_letters().await;
        assert_eq!(letters.len(), 1, "{letters:?}");
        assert!(
            letters[0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("misconfigured_device"),
            "{letters:?}"
        );
        let reply = nurse_login(&hub, "l-v2", now_ms()).await;
        assert_reply(&reply, "l-v2", "not_met", &["door_offline"], false);

        door.send("version 1").await;
        wait_metric(&hub, MB_STATUS, 3.0).await;
        wait_connector(&hub, true).await;
        let reply = nurse_login(&hub, "l-v1", now_ms()).await;
        assert_reply(&reply, "l-v1", "combined_measures", &[], false);
        assert_eq!(hub.metric(MB_DEAD).await, 1.0, "one dead letter per outage");
    }
}

/// Modbus RTU on a serial line: the pymodbus peer serves its RTU server on a pty it
/// creates, the hub opens the pty's other end as `serial = "/dev/pts/N"` (tokio-serial,
/// termios and all) — the same polling as TCP over another transport.
mod rtu {
    use super::*;

    /// A badge-in read over RTU earns credit; a slot the profile does not define is a
    /// dead letter named `modbus-rtu://{path}/{unit}/…`; the peer closing its end of the
    /// line takes the door offline and a login then fails closed.
    #[tokio::test]
    async fn badge_in_over_rtu_earns_credit_and_a_hangup_takes_the_door_offline() {
        let Some(mut door) = PyDoor::start_rtu().await else {
            return;
        };
        let path = door.serial_path().to_string();
        let hub = hub_with_modbus_at(
            &format!("serial = \"{path}\"\nbaud = 9600\nparity = \"none\"\nstop_bits = 1"),
            "200ms",
        )
        .await;
        assert_eq!(hub.metric(MB_STATUS).await, 1.0, "online once");

        let (seq, ts) = door.event(&format!("badge {NURSE_CARD} in")).await;
        wait_metric(&hub, MB_NEW, 1.0).await;
        let reply = nurse_login(&hub, "l-rtu-in", now_ms()).await;
        assert_reply(&reply, "l-rtu-in", "combined_measures", &[], false);
        assert_modbus_entry(&hub.login_view("l-rtu-in").await, seq, ts, ts);

        let (bad, _) = door.event("event 9").await;
        wait_metric(&hub, MB_DEAD, 1.0).await;
        let letters = hub.dead_letters().await;
        assert_eq!(letters.len(), 1, "{letters:?}");
        let origin = letters[0]["origin"].as_str().unwrap_or_default();
        assert!(
            origin.starts_with(&format!("modbus-rtu://{path}/1/slot "))
                && origin.ends_with(&format!("(seq {bad})")),
            "{}",
            letters[0]
        );

        // The peer closes its end of the line: the hub's end hangs up.
        door.send("stop").await;
        wait_metric(&hub, MB_STATUS, 2.0).await;
        wait_connector(&hub, false).await;
        let reply = nurse_login(&hub, "l-rtu-down", now_ms()).await;
        assert_reply(&reply, "l-rtu-down", "not_met", &["door_offline"], false);
        // Before the loss nothing changed.
        assert_modbus_entry(&hub.login_view("l-rtu-in").await, seq, ts, ts);
    }
}

mod monban_sim {
    use super::*;

    #[tokio::test]
    async fn badge_in_earns_credit_and_contact_and_tamper_are_stored() {
        let mut peer = Peer::Sim(SimDoor::start().await);
        badge_contact_and_tamper(&mut peer).await;
    }
}
