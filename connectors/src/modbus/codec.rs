//! The pure side of profile `monban-door-v1` (CONTRACT §6): which registers to read,
//! what an event slot means, and which edges of the discrete inputs are events. No
//! socket, no clock: the poll's time comes in as an argument.

use monban_core::{
    Credential, CredentialType, Direction, DoorEvent, DoorEventKind, DoorId, Span, Timestamp,
};

/// The only profile version this hub speaks (input register 0).
pub const PROFILE_VERSION: u16 = 1;
/// Input register 0: the profile version; register 1: the newest sequence number.
pub const HEADER_ADDRESS: u16 = 0;
/// Registers of the header (version, newest sequence).
pub const HEADER_REGISTERS: u16 = 2;
/// Discrete input 0 is the door contact (1 = open), 1 the tamper switch (1 = active).
pub const INPUTS_ADDRESS: u16 = 0;
/// Discrete inputs read per poll.
pub const INPUTS: u16 = 2;
/// Slots in the ring; slot k holds the event whose sequence is k modulo this.
pub const RING_SLOTS: u16 = 32;
/// The first input register of slot 0.
pub const SLOT_BASE: u16 = 100;
/// Registers per slot.
pub const SLOT_REGISTERS: u16 = 10;
/// The most registers one request may read (CONTRACT §6; also Modbus' own limit for
/// function 0x04).
pub const MAX_REGISTERS_PER_READ: u16 = 125;
/// Whole slots that fit in one request (12 slots = 120 registers).
pub const SLOTS_PER_READ: u16 = MAX_REGISTERS_PER_READ / SLOT_REGISTERS;

/// The ring slot of a sequence number. 65536 is a multiple of 32, so this stays right
/// across the u16 wrap.
pub fn slot_of(seq: u16) -> u16 {
    seq % RING_SLOTS
}

/// A contiguous run of slots read by one request: never crosses slot 31 → 0 and never
/// holds more than [`SLOTS_PER_READ`] slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRange {
    pub first: u16,
    pub len: u16,
}

impl SlotRange {
    /// The first input register.
    pub fn address(self) -> u16 {
        SLOT_BASE + SLOT_REGISTERS * self.first
    }
    /// How many registers the request reads.
    pub fn registers(self) -> u16 {
        SLOT_REGISTERS * self.len
    }
    /// The slots it covers, in order.
    pub fn slots(self) -> impl Iterator<Item = u16> {
        self.first..self.first + self.len
    }
}

/// What one poll must read, given what the previous poll saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollPlan {
    /// The sequence numbers to take, oldest first (at most [`RING_SLOTS`]).
    pub wanted: Vec<u16>,
    /// Requests covering exactly the slots of `wanted`.
    pub reads: Vec<SlotRange>,
    /// The sequence advanced by more than the ring holds since the last poll: this many
    /// events were overwritten before we could read them.
    pub overrun: Option<u32>,
    /// No previous sequence is known (first poll after start): `wanted` is the whole
    /// ring, and slots that do not hold their expected sequence were simply never
    /// written (or are older than the ring) — they are not losses.
    pub first: bool,
}

/// Plans a poll. `last` is the newest sequence already taken (`None` on the first poll
/// after start), `newest` the device's input register 1.
///
/// The sequence is a u16 that wraps: the advance is `newest - last` modulo 65536, so a
/// `newest` below `last` is a wrap, not a step back. (A device that restarts its
/// sequence therefore looks like a large advance — an overrun — which fails closed.)
pub fn plan_poll(last: Option<u16>, newest: u16) -> PollPlan {
    let (start, count, overrun, first) = match last {
        None => (newest.wrapping_sub(RING_SLOTS - 1), RING_SLOTS, None, true),
        Some(last) => {
            let advance = newest.wrapping_sub(last);
            if advance <= RING_SLOTS {
                (last.wrapping_add(1), advance, None, false)
            } else {
                (
                    newest.wrapping_sub(RING_SLOTS - 1),
                    RING_SLOTS,
                    Some(u32::from(advance - RING_SLOTS)),
                    false,
                )
            }
        }
    };
    let wanted: Vec<u16> = (0..count).map(|i| start.wrapping_add(i)).collect();
    let mut reads = Vec::new();
    let mut slot = slot_of(start);
    let mut remaining = count;
    while remaining > 0 {
        let len = remaining.min(RING_SLOTS - slot).min(SLOTS_PER_READ);
        reads.push(SlotRange { first: slot, len });
        slot = (slot + len) % RING_SLOTS;
        remaining -= len;
    }
    PollPlan {
        wanted,
        reads,
        overrun,
        first,
    }
}

/// After a reconnect: whether the device's ring shows that it restarted (or reset its
/// ring) while we were away, so that the sequence says nothing about what was missed.
///
/// `mirror[k]` holds slot k's registers as last read; `ring[k]` as read now (empty when
/// not read). If the device did not restart, every slot of a sequence `s` with
/// `s <= last` and `newest - s < 32` still holds exactly what it held: the device only
/// wrote sequences after `last`. Any difference there is evidence of a restart. (When
/// `newest` is more than 32 ahead the plan reports an overrun anyway.)
pub fn restart_evident(
    last: u16,
    newest: u16,
    mirror: &[Option<Vec<u16>>],
    ring: &[Vec<u16>],
) -> bool {
    let advance = newest.wrapping_sub(last);
    if advance >= RING_SLOTS {
        return false;
    }
    (0..RING_SLOTS - advance).any(|back| {
        let s = last.wrapping_sub(back);
        let k = usize::from(slot_of(s));
        match (mirror.get(k), ring.get(k)) {
            (Some(Some(before)), Some(now)) if !now.is_empty() => {
                before.first() == Some(&s) && before != now
            }
            _ => false,
        }
    })
}

/// What an event slot holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// The expected event.
    Event(DoorEvent),
    /// All ten registers are zero: never written since the device started.
    Unwritten,
    /// `[0]` holds another sequence number: the expected event was overwritten (or the
    /// slot is corrupt). Lost, except on a first poll.
    Stale { found: u16 },
    /// The expected sequence, but a value the profile does not define: a dead letter.
    Invalid(SlotError),
}

/// A slot value the profile does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("unknown_event_kind: register [1] = {0}, expected 1..=7")]
    UnknownKind(u16),
    #[error("unknown_direction: register [2] = {0}, expected 0 (in) or 1 (out)")]
    UnknownDirection(u16),
    #[error("unknown_credential_type: register [3] = {0}, expected 0..=6")]
    UnknownCredentialType(u16),
    #[error("wrong_length: a slot has {SLOT_REGISTERS} registers, got {0}")]
    WrongLength(usize),
}

/// The event id of slot event `seq` at Unix time `secs` with the slot's ten registers:
/// `mb-{secs}-{seq}-{digest}`. The sequence alone repeats every 65536 events and starts
/// again when a device restarts; with the event time and a digest of the slot's contents
/// (8 hex digits of SHA-256), a re-read of the same slot gives the same id (idempotent)
/// while another event with the same sequence — later, or after a restart within the
/// same second — gets a new one.
pub fn event_id(secs: u32, seq: u16, regs: &[u16]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for r in regs {
        h.update(r.to_be_bytes());
    }
    let d = h.finalize();
    let digest: String = d.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("mb-{secs}-{seq}-{digest}")
}

fn kind(code: u16) -> Option<DoorEventKind> {
    use DoorEventKind as K;
    Some(match code {
        1 => K::AccessGranted,
        2 => K::AccessDenied,
        3 => K::DoorOpened,
        4 => K::DoorClosed,
        5 => K::DoorForced,
        6 => K::DoorHeldOpen,
        7 => K::Tamper,
        _ => return None,
    })
}

/// Credential type code → type; `Ok(None)` is code 0, "no credential".
fn credential_type(code: u16) -> Result<Option<CredentialType>, SlotError> {
    use CredentialType as C;
    Ok(Some(match code {
        0 => return Ok(None),
        1 => C::Card,
        2 => C::Pin,
        3 => C::CardPin,
        4 => C::Biometric,
        5 => C::CardBiometric,
        6 => C::Mobile,
        other => return Err(SlotError::UnknownCredentialType(other)),
    }))
}

/// Decodes the ten registers of the slot expected to hold event `expected`.
pub fn decode_slot(door: &DoorId, expected: u16, regs: &[u16]) -> Slot {
    if regs.len() != usize::from(SLOT_REGISTERS) {
        return Slot::Invalid(SlotError::WrongLength(regs.len()));
    }
    if regs.iter().all(|&r| r == 0) {
        return Slot::Unwritten;
    }
    if regs[0] != expected {
        return Slot::Stale { found: regs[0] };
    }
    let Some(kind) = kind(regs[1]) else {
        return Slot::Invalid(SlotError::UnknownKind(regs[1]));
    };
    let direction = match regs[2] {
        0 => Direction::In,
        1 => Direction::Out,
        other => return Slot::Invalid(SlotError::UnknownDirection(other)),
    };
    let ctype = match credential_type(regs[3]) {
        Ok(t) => t,
        Err(e) => return Slot::Invalid(e),
    };
    let id = regs[4..8]
        .iter()
        .fold(0u64, |acc, &r| (acc << 16) | u64::from(r));
    let secs = (u32::from(regs[8]) << 16) | u32::from(regs[9]);
    let takes_credential = matches!(
        kind,
        DoorEventKind::AccessGranted | DoorEventKind::AccessDenied
    );
    let credential = match ctype {
        Some(t) if takes_credential => {
            // `{:08X}` of a u64 is never empty, never long, never a control character.
            Credential::new(t, &format!("{id:08X}")).ok()
        }
        _ => None,
    };
    Slot::Event(DoorEvent {
        door: door.clone(),
        event_id: event_id(secs, expected, regs),
        ts: Timestamp::from_millis(i64::from(secs) * 1000),
        kind,
        direction,
        credential,
    })
}

/// The registers of a slot as text, for a dead letter.
pub fn registers_text(regs: &[u16]) -> String {
    let words: Vec<String> = regs.iter().map(u16::to_string).collect();
    words.join(" ")
}

/// The discrete inputs as last seen, turning each poll's reading into edge events.
///
/// Before the first reading the door counts as closed and the tamper switch as
/// inactive, so a door found open (or a switch found active) at start is reported at
/// the first poll: its real start is unknown, and reporting it fails closed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// When the contact was first seen open, while it is open.
    open_since: Option<Timestamp>,
    /// `door_held_open` already reported for this open period.
    held_reported: bool,
    tamper: bool,
}

impl Inputs {
    /// The events of one reading at `now` (the hub's time of the poll). Ids are unique
    /// per edge: the kind and the poll time in milliseconds.
    pub fn observe(
        &mut self,
        door: &DoorId,
        open: bool,
        tamper: bool,
        now: Timestamp,
        held_open_after: Span,
    ) -> Vec<DoorEvent> {
        let ms = now.as_millis();
        let event = |kind: DoorEventKind, tag: &str| DoorEvent {
            door: door.clone(),
            event_id: format!("mb-{tag}-{ms}"),
            ts: now,
            kind,
            direction: Direction::In,
            credential: None,
        };
        let mut out = Vec::new();
        match (self.open_since, open) {
            (None, true) => {
                self.open_since = Some(now);
                self.held_reported = false;
                out.push(event(DoorEventKind::DoorOpened, "opened"));
            }
            (Some(_), false) => {
                self.open_since = None;
                self.held_reported = false;
                out.push(event(DoorEventKind::DoorClosed, "closed"));
            }
            _ => {}
        }
        if let Some(since) = self.open_since {
            if !self.held_reported
                && now.as_millis() - since.as_millis() > held_open_after.as_millis()
            {
                self.held_reported = true;
                out.push(event(DoorEventKind::DoorHeldOpen, "held"));
            }
        }
        if tamper && !self.tamper {
            out.push(event(DoorEventKind::Tamper, "tamper"));
        }
        self.tamper = tamper;
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn door() -> DoorId {
        DoorId::parse("server-room").unwrap()
    }

    fn slot(seq: u16, kind: u16, dir: u16, ctype: u16, id: u64, secs: u32) -> Vec<u16> {
        vec![
            seq,
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

    #[test]
    fn decodes_a_slot_exactly() {
        let regs = slot(7, 1, 1, 1, 0x04A1_B2C3, 1_795_251_600);
        let Slot::Event(e) = decode_slot(&door(), 7, &regs) else {
            panic!("not an event")
        };
        assert!(e.event_id.starts_with("mb-1795251600-7-"), "{}", e.event_id);
        assert_eq!(e.event_id.len(), "mb-1795251600-7-".len() + 8);
        assert_eq!(e.ts, Timestamp::from_millis(1_795_251_600_000));
        assert_eq!(e.kind, DoorEventKind::AccessGranted);
        assert_eq!(e.direction, Direction::Out);
        let c = e.credential.unwrap();
        assert_eq!((c.kind, c.id.as_str()), (CredentialType::Card, "04A1B2C3"));
    }

    #[test]
    fn table_of_codes() {
        use CredentialType as C;
        use DoorEventKind as K;
        let kinds = [
            (1, K::AccessGranted),
            (2, K::AccessDenied),
            (3, K::DoorOpened),
            (4, K::DoorClosed),
            (5, K::DoorForced),
            (6, K::DoorHeldOpen),
            (7, K::Tamper),
        ];
        for (code, k) in kinds {
            let Slot::Event(e) = decode_slot(&door(), 1, &slot(1, code, 0, 1, 5, 9)) else {
                panic!("kind {code}")
            };
            assert_eq!(e.kind, k);
            // Only access events carry a credential (as in CONTRACT §5).
            assert_eq!(e.credential.is_some(), code <= 2, "kind {code}");
        }
        let types = [
            (1, C::Card),
            (2, C::Pin),
            (3, C::CardPin),
            (4, C::Biometric),
            (5, C::CardBiometric),
            (6, C::Mobile),
        ];
        for (code, t) in types {
            let Slot::Event(e) = decode_slot(&door(), 1, &slot(1, 2, 0, code, 5, 9)) else {
                panic!("type {code}")
            };
            assert_eq!(e.credential.unwrap().kind, t);
        }
        let Slot::Event(e) = decode_slot(&door(), 1, &slot(1, 1, 0, 0, 5, 9)) else {
            panic!("type 0")
        };
        assert_eq!(e.credential, None);
    }

    #[test]
    fn credential_ids_render_as_upper_hex_with_at_least_eight_digits() {
        for (id, text) in [
            (0u64, "00000000"),
            (0xAB, "000000AB"),
            (0xDEAD_BEEF, "DEADBEEF"),
            (0x1_0000_0000, "100000000"),
            (u64::MAX, "FFFFFFFFFFFFFFFF"),
        ] {
            let Slot::Event(e) = decode_slot(&door(), 3, &slot(3, 1, 0, 4, id, 1)) else {
                panic!("{id}")
            };
            assert_eq!(e.credential.unwrap().id, text);
        }
    }

    #[test]
    fn bad_values_are_invalid_not_panics() {
        let d = door();
        assert_eq!(
            decode_slot(&d, 1, &slot(1, 8, 0, 1, 1, 1)),
            Slot::Invalid(SlotError::UnknownKind(8))
        );
        assert_eq!(
            decode_slot(&d, 1, &slot(1, 0, 0, 1, 1, 1)),
            Slot::Invalid(SlotError::UnknownKind(0))
        );
        assert_eq!(
            decode_slot(&d, 1, &slot(1, 1, 2, 1, 1, 1)),
            Slot::Invalid(SlotError::UnknownDirection(2))
        );
        assert_eq!(
            decode_slot(&d, 1, &slot(1, 1, 0, 7, 1, 1)),
            Slot::Invalid(SlotError::UnknownCredentialType(7))
        );
        assert_eq!(
            decode_slot(&d, 1, &[1, 1]),
            Slot::Invalid(SlotError::WrongLength(2))
        );
        assert_eq!(
            decode_slot(&d, 33, &slot(1, 1, 0, 1, 1, 1)),
            Slot::Stale { found: 1 }
        );
        assert_eq!(decode_slot(&d, 33, &[0; 10]), Slot::Unwritten);
        assert_eq!(decode_slot(&d, 0, &[0; 10]), Slot::Unwritten);
    }

    #[test]
    fn ids_differ_across_a_wrap_and_repeat_for_a_reread() {
        let a = decode_slot(&door(), 5, &slot(5, 1, 0, 1, 1, 1000));
        let again = decode_slot(&door(), 5, &slot(5, 1, 0, 1, 1, 1000));
        let after_wrap = decode_slot(&door(), 5, &slot(5, 1, 0, 1, 1, 2000));
        let id = |s: Slot| match s {
            Slot::Event(e) => e.event_id,
            other => panic!("{other:?}"),
        };
        let a = id(a);
        assert_eq!(a, id(again));
        assert_ne!(a, id(after_wrap));
    }

    #[test]
    fn plans() {
        let r = |first, len| SlotRange { first, len };
        // Nothing new.
        assert_eq!(plan_poll(Some(9), 9).wanted, Vec::<u16>::new());
        assert!(plan_poll(Some(9), 9).reads.is_empty());
        // A few new events in one request.
        let p = plan_poll(Some(9), 12);
        assert_eq!(
            (p.wanted, p.reads, p.overrun),
            (vec![10, 11, 12], vec![r(10, 3)], None)
        );
        // Across the ring's end (slot 31 → 0) and across the u16 wrap.
        let p = plan_poll(Some(65533), 2);
        assert_eq!(p.wanted, vec![65534, 65535, 0, 1, 2]);
        assert_eq!(p.reads, vec![r(30, 2), r(0, 3)]);
        assert_eq!(p.overrun, None);
        // Exactly a full ring is no overrun.
        let p = plan_poll(Some(0), 32);
        assert_eq!(p.overrun, None);
        assert_eq!(p.reads, vec![r(1, 12), r(13, 12), r(25, 7), r(0, 1)]);
        // One more is.
        let p = plan_poll(Some(0), 33);
        assert_eq!(p.overrun, Some(1));
        assert_eq!(p.wanted.first(), Some(&2));
        // First poll: the whole ring.
        let p = plan_poll(None, 5);
        assert!(p.first);
        assert_eq!(p.wanted.len(), 32);
        assert_eq!(p.wanted.last(), Some(&5));
        assert_eq!(p.wanted.first(), Some(&65510));
    }

    proptest! {
        #[test]
        fn a_plan_reads_each_wanted_slot_once_within_the_limit(
            last in proptest::option::of(any::<u16>()), newest in any::<u16>()
        ) {
            let p = plan_poll(last, newest);
            let advance = last.map(|l| newest.wrapping_sub(l));
            let expected = match advance {
                None => 32,
                Some(a) => a.min(32),
            };
            prop_assert_eq!(p.wanted.len(), usize::from(expected));
            prop_assert_eq!(p.overrun.is_some(), advance.is_some_and(|a| a > 32));
            if let Some(&l) = p.wanted.last() {
                prop_assert_eq!(l, newest);
            }
            let mut slots = Vec::new();
            for read in &p.reads {
                prop_assert!(read.len > 0);
                prop_assert!(read.registers() <= MAX_REGISTERS_PER_READ);
                prop_assert!(read.first + read.len <= RING_SLOTS);
                slots.extend(read.slots());
            }
            let wanted_slots: Vec<u16> = p.wanted.iter().map(|&s| slot_of(s)).collect();
            prop_assert_eq!(slots, wanted_slots);
        }
    }

    #[test]
    fn contact_edges_and_held_open_once() {
        let d = door();
        let held = Span::from_secs(30);
        let t = |s: i64| Timestamp::from_millis(1_000_000 + s * 1000);
        let mut i = Inputs::default();
        let kinds = |v: Vec<DoorEvent>| v.into_iter().map(|e| e.kind).collect::<Vec<_>>();
        assert!(i.observe(&d, false, false, t(0), held).is_empty());
        assert_eq!(
            kinds(i.observe(&d, true, false, t(1), held)),
            vec![DoorEventKind::DoorOpened]
        );
        assert!(i.observe(&d, true, false, t(31), held).is_empty());
        assert_eq!(
            kinds(i.observe(&d, true, false, t(32), held)),
            vec![DoorEventKind::DoorHeldOpen]
        );
        assert!(i.observe(&d, true, false, t(100), held).is_empty());
        assert_eq!(
            kinds(i.observe(&d, false, true, t(101), held)),
            vec![DoorEventKind::DoorClosed, DoorEventKind::Tamper]
        );
        assert!(i.observe(&d, false, true, t(102), held).is_empty());
        assert!(i.observe(&d, false, false, t(103), held).is_empty());
        let evs = i.observe(&d, false, true, t(104), held);
        assert_eq!(evs[0].event_id, format!("mb-tamper-{}", t(104).as_millis()));
        assert_eq!(evs[0].ts, t(104));
    }
}
