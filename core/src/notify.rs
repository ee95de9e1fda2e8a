//! Notifications (通知, CONTRACT §11) as data: the events the hub tells people about,
//! which configured targets want which events, the retry schedule, and the text of an
//! e-mail (Japanese first, then English). Sending, storing and signing are the server's.
//!
//! Every event names what to do, because a notification nobody can act on is noise: the
//! sentence of [`EventKind::action`] is the same in the e-mail, the documentation and
//! anything else that explains an event.

use crate::time::{span_const, Span};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// An event the hub notifies about (CONTRACT §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A maintenance request was filed: a decision is needed.
    MaintenanceRequested,
    /// A maintenance login that no request covers.
    MaintenanceUnapprovedLogin,
    /// A work report is overdue.
    MaintenanceReportOverdue,
    /// A login to an account of a person who has left.
    LoginAccountOfLeaver,
    /// A door's status became offline (reported, lost device, heartbeat timeout).
    DoorOffline,
    /// An integrity alarm in a room: door forced, held open, tamper.
    RoomAlarm,
}

/// A language of the texts: Japanese first, then English, wherever both are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

/// An event name that is none of [`EventKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event {0:?}: use \"*\" or one of {names}", names = EventKind::names())]
pub struct UnknownEvent(pub String);

impl EventKind {
    pub const ALL: [EventKind; 6] = [
        EventKind::MaintenanceRequested,
        EventKind::MaintenanceUnapprovedLogin,
        EventKind::MaintenanceReportOverdue,
        EventKind::LoginAccountOfLeaver,
        EventKind::DoorOffline,
        EventKind::RoomAlarm,
    ];

    /// The wire name: the webhook body's `type`, the configuration's `events`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::MaintenanceRequested => "maintenance.requested",
            EventKind::MaintenanceUnapprovedLogin => "maintenance.unapproved_login",
            EventKind::MaintenanceReportOverdue => "maintenance.report_overdue",
            EventKind::LoginAccountOfLeaver => "login.account_of_leaver",
            EventKind::DoorOffline => "door.offline",
            EventKind::RoomAlarm => "room.alarm",
        }
    }

    /// Every name, comma-separated (for error messages).
    pub fn names() -> String {
        EventKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What happened, as a short title.
    pub fn label(self, lang: Lang) -> &'static str {
        use EventKind::*;
        match (self, lang) {
            (MaintenanceRequested, Lang::Ja) => "保守作業の申請",
            (MaintenanceRequested, Lang::En) => "Maintenance requested",
            (MaintenanceUnapprovedLogin, Lang::Ja) => "承認のない保守ログイン",
            (MaintenanceUnapprovedLogin, Lang::En) => "Unapproved maintenance login",
            (MaintenanceReportOverdue, Lang::Ja) => "保守作業報告の期限超過",
            (MaintenanceReportOverdue, Lang::En) => "Maintenance report overdue",
            (LoginAccountOfLeaver, Lang::Ja) => "退職者・契約終了者のアカウントでのログイン",
            (LoginAccountOfLeaver, Lang::En) => "Login to the account of a leaver",
            (DoorOffline, Lang::Ja) => "扉がオフライン",
            (DoorOffline, Lang::En) => "Door offline",
            (RoomAlarm, Lang::Ja) => "部屋の警報（こじ開け・開放放置・改ざん）",
            (RoomAlarm, Lang::En) => "Room alarm (forced, held open, tamper)",
        }
    }

    /// What the reader should do about it.
    pub fn action(self, lang: Lang) -> &'static str {
        use EventKind::*;
        match (self, lang) {
            (MaintenanceRequested, Lang::Ja) => {
                "申請内容（作業計画書・対象システム・作業者・時間帯）を確認し、申請者以外の企画管理者または管理者が承認または却下してください。"
            }
            (MaintenanceRequested, Lang::En) => {
                "Review the request (work plan, system, staff, window); an officer or admin other than the requester approves or denies it."
            }
            (MaintenanceUnapprovedLogin, Lang::Ja) => {
                "保守事業者に作業の有無と目的を確認し、必要なら緊急申請の事後承認を行うか、アカウントを停止してください。"
            }
            (MaintenanceUnapprovedLogin, Lang::En) => {
                "Ask the vendor what the work was and why; approve an emergency request after the fact if it was justified, otherwise disable the account."
            }
            (MaintenanceReportOverdue, Lang::Ja) => {
                "保守事業者に作業報告の提出を求め、提出後に内容を確認してください。"
            }
            (MaintenanceReportOverdue, Lang::En) => {
                "Ask the vendor to submit the work report, then review and confirm it."
            }
            (LoginAccountOfLeaver, Lang::Ja) => {
                "アカウントを直ちに停止し、ログインした者と目的を確認してください。"
            }
            (LoginAccountOfLeaver, Lang::En) => {
                "Disable the account now and find out who logged in and why."
            }
            (DoorOffline, Lang::Ja) => {
                "扉の制御装置の電源と通信を確認してください。オフラインの間、その部屋での入室による二要素認証の代替は認められません。"
            }
            (DoorOffline, Lang::En) => {
                "Check the door controller's power and network. While it is offline, room entries there cannot stand in for a second factor."
            }
            (RoomAlarm, Lang::Ja) => {
                "現地で扉と部屋の状況を確認し、不審な点があれば情報セキュリティ担当に報告してください。警報の間、その部屋での入室による二要素認証の代替は認められません。"
            }
            (RoomAlarm, Lang::En) => {
                "Check the door and the room on site and report anything suspicious to the security officer. During the alarm, room entries there cannot stand in for a second factor."
            }
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = UnknownEvent;
    fn from_str(s: &str) -> Result<EventKind, UnknownEvent> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownEvent(s.to_string()))
    }
}

/// The events a target wants: `["*"]` for all, or a list of names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Events {
    All,
    Only(Vec<EventKind>),
}

impl Events {
    /// Parses the configuration's `events`: names of [`EventKind`] or `"*"` (alone).
    /// An empty list is an error too: such a target would never be sent anything.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Events, EventsError> {
        if names.is_empty() {
            return Err(EventsError::Empty);
        }
        if names.iter().any(|n| n.as_ref() == "*") {
            return if names.len() == 1 {
                Ok(Events::All)
            } else {
                Err(EventsError::StarWithOthers)
            };
        }
        let mut kinds = Vec::new();
        for n in names {
            let k = n
                .as_ref()
                .parse::<EventKind>()
                .map_err(EventsError::Unknown)?;
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        Ok(Events::Only(kinds))
    }

    pub fn matches(&self, kind: EventKind) -> bool {
        match self {
            Events::All => true,
            Events::Only(kinds) => kinds.contains(&kind),
        }
    }
}

/// Why `events` cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventsError {
    #[error("{0}")]
    Unknown(UnknownEvent),
    #[error("events is empty: list the events to send, or \"*\" for all of them")]
    Empty,
    #[error("events has \"*\" with other names: \"*\" already means every event")]
    StarWithOthers,
}

/// The first retry's delay.
pub const RETRY_FIRST: Span = span_const(1_000);
/// The longest delay between two attempts.
pub const RETRY_CAP: Span = span_const(600_000);

/// How long to wait before the next attempt after `attempts` failed ones (1 or more):
/// 1 s, 2 s, 4 s, … doubling up to [`RETRY_CAP`] (10 minutes). Delivery never gives up:
/// a receiver that is down for a day gets the event when it is back, within 10 minutes.
pub fn retry_delay(attempts: u32) -> Span {
    let exp = attempts.saturating_sub(1).min(30);
    let ms = RETRY_FIRST.as_millis().saturating_mul(1_i64 << exp);
    Span::from_millis(ms.min(RETRY_CAP.as_millis()))
}

/// An e-mail's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailText {
    pub subject: String,
    pub body: String,
}

/// The e-mail for a notification: the subject names the event and the site in both
/// languages; the body says what happened, where, what to do and the event's data,
/// Japanese first, then English. `at` is the notification's time as shown (RFC 3339).
pub fn mail_text(
    kind: EventKind,
    id: &str,
    site_id: &str,
    site_name: &str,
    at: &str,
    data: &Value,
) -> MailText {
    let site = if site_name.is_empty() || site_name == site_id {
        site_id.to_string()
    } else {
        format!("{site_name} ({site_id})")
    };
    let subject = format!(
        "[monban] {} / {} — {site}",
        kind.label(Lang::Ja),
        kind.label(Lang::En)
    );
    let details = detail_lines(data);
    let mut body = String::new();
    body.push_str(&format!(
        "【{}】\n施設: {site}\n日時: {at}\n種別: {}\n\n対応: {}\n",
        kind.label(Lang::Ja),
        kind.as_str(),
        kind.action(Lang::Ja)
    ));
    if !details.is_empty() {
        body.push_str("\n詳細:\n");
        body.push_str(&details);
    }
    body.push_str("\n----------------------------------------\n\n");
    body.push_str(&format!(
        "[{}]\nSite: {site}\nAt: {at}\nEvent: {}\n\nWhat to do: {}\n",
        kind.label(Lang::En),
        kind.as_str(),
        kind.action(Lang::En)
    ));
    if !details.is_empty() {
        body.push_str("\nDetails:\n");
        body.push_str(&details);
    }
    body.push_str(&format!(
        "\n-- \nmonban (門番) notification {id}: sent until delivered; the same id may arrive twice.\n"
    ));
    MailText { subject, body }
}

/// `  key: value` lines of an event's data (one level; nested values as JSON).
fn detail_lines(data: &Value) -> String {
    let mut out = String::new();
    match data {
        Value::Object(map) => {
            for (k, v) in map {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => "-".into(),
                    other => other.to_string(),
                };
                out.push_str(&format!("  {k}: {v}\n"));
            }
        }
        Value::Null => {}
        other => out.push_str(&format!("  {other}\n")),
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(k));
            for lang in [Lang::Ja, Lang::En] {
                assert!(!k.label(lang).is_empty());
                assert!(k.action(lang).len() > 20);
            }
        }
        let e = "door.ofline".parse::<EventKind>().unwrap_err();
        assert!(e.to_string().contains("door.offline"), "{e}");
    }

    #[test]
    fn events_lists() {
        assert_eq!(Events::parse(&["*"]), Ok(Events::All));
        assert_eq!(
            Events::parse(&["door.offline", "room.alarm", "door.offline"]),
            Ok(Events::Only(vec![
                EventKind::DoorOffline,
                EventKind::RoomAlarm
            ]))
        );
        assert!(Events::All.matches(EventKind::RoomAlarm));
        let only = Events::parse(&["room.alarm"]).unwrap();
        assert!(only.matches(EventKind::RoomAlarm));
        assert!(!only.matches(EventKind::DoorOffline));
        assert_eq!(Events::parse::<&str>(&[]), Err(EventsError::Empty));
        assert_eq!(
            Events::parse(&["*", "room.alarm"]),
            Err(EventsError::StarWithOthers)
        );
        assert!(matches!(
            Events::parse(&["room.alarms"]),
            Err(EventsError::Unknown(UnknownEvent(n))) if n == "room.alarms"
        ));
    }

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        let secs = |n| retry_delay(n).as_millis() / 1000;
        let table = [
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 4),
            (4, 8),
            (10, 512),
            (11, 600),
            (12, 600),
            (1000, 600),
            (u32::MAX, 600),
        ];
        for (attempts, want) in table {
            assert_eq!(secs(attempts), want, "after {attempts} attempts");
        }
    }

    #[test]
    fn mail_is_japanese_first_then_english() {
        let m = mail_text(
            EventKind::DoorOffline,
            "msg_1",
            "tokyo-general",
            "東京総合病院",
            "2026-12-10T20:00:00Z",
            &json!({"door": "ward3-main", "room": "ward3", "since": "2026-12-10T19:59:00Z"}),
        );
        assert_eq!(
            m.subject,
            "[monban] 扉がオフライン / Door offline — 東京総合病院 (tokyo-general)"
        );
        let ja = m.body.find("対応:").unwrap();
        let en = m.body.find("What to do:").unwrap();
        assert!(ja < en, "{}", m.body);
        assert!(m.body.contains("door: ward3-main"), "{}", m.body);
        assert!(m.body.contains("door.offline"));
        assert!(m.body.contains(EventKind::DoorOffline.action(Lang::Ja)));
        assert!(m.body.contains(EventKind::DoorOffline.action(Lang::En)));
    }
}
