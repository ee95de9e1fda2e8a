//! The verdict rules of CONTRACT §3 and the evidence they produce.
//!
//! [`evaluate`] is a pure function of the inventory, the timeline and one login. The
//! checks for `combined_measures` are evaluated in the contract's order; a check whose
//! subject does not exist is not evaluated (an unknown terminal has no room whose doors
//! could be offline; an unmapped account has no person who could be present), so every
//! reason listed is a fact an officer can act on.

use crate::event::{Login, Outcome};
use crate::factor::{CredentialType, Factor};
use crate::ids::{DoorId, PersonId, RoomId};
use crate::inventory::Inventory;
use crate::time::Timestamp;
use crate::timeline::Timeline;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// 直接二要素: the login's own factors span two categories.
    Direct2fa,
    /// 複合対策で充足: one category at login plus an authenticated room entry.
    CombinedMeasures,
    /// 未達.
    NotMet,
    /// A failed login: stored, not counted.
    NotApplicable,
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 4] = [
        VerdictKind::Direct2fa,
        VerdictKind::CombinedMeasures,
        VerdictKind::NotMet,
        VerdictKind::NotApplicable,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Direct2fa => "direct_2fa",
            VerdictKind::CombinedMeasures => "combined_measures",
            VerdictKind::NotMet => "not_met",
            VerdictKind::NotApplicable => "not_applicable",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            VerdictKind::Direct2fa => "直接二要素",
            VerdictKind::CombinedMeasures => "複合対策",
            VerdictKind::NotMet => "未達",
            VerdictKind::NotApplicable => "対象外（失敗）",
        }
    }
    /// The English label (the dashboard with `?lang=en`).
    pub fn label_en(self) -> &'static str {
        match self {
            VerdictKind::Direct2fa => "Direct 2FA",
            VerdictKind::CombinedMeasures => "Combined measures",
            VerdictKind::NotMet => "Not met",
            VerdictKind::NotApplicable => "Not applicable (failed)",
        }
    }
}

impl FromStr for VerdictKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        VerdictKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown verdict {s:?}"))
    }
}

impl fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed check, in the contract's order (the derive of `Ord` follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    UnknownTerminal,
    UncontrolledRoom,
    UnmappedAccount,
    DoorOffline,
    RoomAlarm,
    NoPresence,
    SameCategory,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::UnknownTerminal,
        Reason::UncontrolledRoom,
        Reason::UnmappedAccount,
        Reason::DoorOffline,
        Reason::RoomAlarm,
        Reason::NoPresence,
        Reason::SameCategory,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownTerminal => "unknown_terminal",
            Reason::UncontrolledRoom => "uncontrolled_room",
            Reason::UnmappedAccount => "unmapped_account",
            Reason::DoorOffline => "door_offline",
            Reason::RoomAlarm => "room_alarm",
            Reason::NoPresence => "no_presence",
            Reason::SameCategory => "same_category",
        }
    }
    /// What the reason means, for officers.
    pub fn label_ja(self) -> &'static str {
        match self {
            Reason::UnknownTerminal => "端末が台帳にない",
            Reason::UncontrolledRoom => "入室管理のない部屋",
            Reason::UnmappedAccount => "アカウントが職員に紐付いていない",
            Reason::DoorOffline => "扉がオフライン",
            Reason::RoomAlarm => "部屋で警報発生中",
            Reason::NoPresence => "入室記録なし",
            Reason::SameCategory => "入室と同じ要素の種類",
        }
    }
}

impl FromStr for Reason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Reason::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown reason {s:?}"))
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a `combined_measures` verdict holds: the entry that put the person in the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub entry_event_id: String,
    pub door: DoorId,
    pub entered_at: Timestamp,
    pub credential_type: CredentialType,
    pub person: PersonId,
    pub room: RoomId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub reasons: Vec<Reason>,
    pub evidence: Option<Evidence>,
}

impl Verdict {
    fn plain(kind: VerdictKind) -> Verdict {
        Verdict {
            kind,
            reasons: Vec::new(),
            evidence: None,
        }
    }
}

/// Judges one login against the site and the facts known now (CONTRACT §3).
pub fn evaluate(inv: &Inventory, timeline: &Timeline, login: &Login) -> Verdict {
    if login.outcome == Outcome::Failure {
        return Verdict::plain(VerdictKind::NotApplicable);
    }
    let login_categories = Factor::categories_of(&login.factors);
    if login_categories.spans_two() {
        return Verdict::plain(VerdictKind::Direct2fa);
    }

    let mut reasons = Vec::new();
    let t = login.ts;
    let room = inv
        .terminal_by_str(&login.terminal)
        .and_then(|term| inv.room(&term.room));
    let person = inv.person_by_account(&login.system, &login.account);

    match room {
        None => reasons.push(Reason::UnknownTerminal),
        Some(r) if !r.controlled => reasons.push(Reason::UncontrolledRoom),
        Some(_) => {}
    }
    if person.is_none() {
        reasons.push(Reason::UnmappedAccount);
    }
    let mut evidence = None;
    if let Some(room) = room {
        if timeline.offline_door_at(inv, &room.id, t).is_some() {
            reasons.push(Reason::DoorOffline);
        }
        if timeline.alarm_at(room, t).is_some() {
            reasons.push(Reason::RoomAlarm);
        }
        if let Some(person) = person {
            let entries = timeline.covering_entries(person, room, t);
            if entries.is_empty() {
                reasons.push(Reason::NoPresence);
            } else {
                // Prefer the latest entry whose credential completes a second category.
                let spanning = entries.iter().find(|a| {
                    login_categories
                        .union(a.credential_type.categories())
                        .spans_two()
                });
                match spanning {
                    None => reasons.push(Reason::SameCategory),
                    Some(a) => {
                        evidence = Some(Evidence {
                            entry_event_id: a.event_id.clone(),
                            door: a.door.clone(),
                            entered_at: a.ts,
                            credential_type: a.credential_type,
                            person: person.clone(),
                            room: room.id.clone(),
                        })
                    }
                }
            }
        }
    }
    if reasons.is_empty() {
        Verdict {
            kind: VerdictKind::CombinedMeasures,
            reasons,
            evidence,
        }
    } else {
        Verdict {
            kind: VerdictKind::NotMet,
            reasons,
            evidence: None,
        }
    }
}

/// When the verdict of a login becomes final: `received + grace`.
pub fn final_at(received: Timestamp, grace: crate::time::Span) -> Timestamp {
    received.saturating_add(grace)
}
