//! The rules of step-up (docs/STEP-UP.md): a system asks the hub to verify the person's
//! passkey at login time, and the login it then reports carries `webauthn_uv`, a factor
//! the hub itself saw.
//!
//! The server stores step-ups and runs the passkey ceremony; these pure functions decide
//! what a step-up's status shows ([`shown_status`]), whether the person may still verify
//! it ([`is_live`]) and whether it may vouch for a login ([`vouch`]), with a
//! [`StepUpRefusal`] whose message is what the API answers (`422 step_up_invalid`).

use crate::event::Login;
use crate::factor::Factor;
use crate::time::{Span, Timestamp};
use std::fmt;
use std::str::FromStr;

/// How far a login's `ts` may lie before the step-up request or after its verification.
pub const LOGIN_WINDOW: Span = Span::from_millis_const(5 * 60 * 1000);

/// A stored step-up's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepUpStatus {
    /// Waiting for the person (until it expires).
    Pending,
    /// The person verified with a passkey; a login may use it once.
    Verified,
    /// A login used it.
    Used,
    /// The passkey assertion failed.
    Failed,
}

impl StepUpStatus {
    pub const ALL: [StepUpStatus; 4] = [
        StepUpStatus::Pending,
        StepUpStatus::Verified,
        StepUpStatus::Used,
        StepUpStatus::Failed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            StepUpStatus::Pending => "pending",
            StepUpStatus::Verified => "verified",
            StepUpStatus::Used => "used",
            StepUpStatus::Failed => "failed",
        }
    }
}

impl FromStr for StepUpStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        StepUpStatus::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown step-up status {s:?}"))
    }
}

impl fmt::Display for StepUpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status a system (and the person's page) sees: `expired` for a pending step-up
/// past its time, the stored status otherwise.
pub fn shown_status(status: StepUpStatus, expires_at: Timestamp, now: Timestamp) -> &'static str {
    if status == StepUpStatus::Pending && expires_at <= now {
        "expired"
    } else {
        status.as_str()
    }
}

/// Whether the person may still verify the step-up: pending and not expired.
pub fn is_live(status: StepUpStatus, expires_at: Timestamp, now: Timestamp) -> bool {
    status == StepUpStatus::Pending && now < expires_at
}

/// What a step-up holds that decides whether it may vouch for a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepUpFacts<'a> {
    pub id: &'a str,
    pub system: &'a str,
    pub account: &'a str,
    pub status: StepUpStatus,
    pub created_at: Timestamp,
    pub verified_at: Option<Timestamp>,
    /// The login that used it.
    pub login: Option<&'a str>,
}

/// Why a step-up may not vouch for a login; the message is the API's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepUpRefusal {
    #[error("no step-up {id:?}")]
    Unknown { id: String },
    #[error(
        "step-up {id:?} was for account {account:?} of system {system:?}, not {login_account:?} of {login_system:?}"
    )]
    OtherAccount {
        id: String,
        account: String,
        system: String,
        login_account: String,
        login_system: String,
    },
    #[error("step-up {id:?} has already been used by login {login:?}")]
    AlreadyUsed { id: String, login: String },
    #[error("step-up {id:?} has not been verified (yet)")]
    NotVerified { id: String },
    #[error("step-up {id:?} is {status}")]
    Settled { id: String, status: StepUpStatus },
    #[error("the login's ts {} is not within five minutes of step-up {id:?} (requested {}, verified {})", ts.to_rfc3339(), requested.to_rfc3339(), verified.to_rfc3339())]
    OutOfWindow {
        id: String,
        ts: Timestamp,
        requested: Timestamp,
        verified: Timestamp,
    },
    /// Another login consumed it between the check and the use.
    #[error("step-up {id:?} has already been used")]
    Consumed { id: String },
}

/// Checks that the step-up may vouch for `login`, in this order: the same system and
/// account; verified (not pending, used or failed); the login's `ts` no earlier than
/// [`LOGIN_WINDOW`] before the request and no later than [`LOGIN_WINDOW`] after the
/// verification. On success adds `webauthn_uv` to the login's factors (once).
pub fn vouch(s: &StepUpFacts<'_>, login: &mut Login) -> Result<(), StepUpRefusal> {
    let id = || s.id.to_string();
    if s.system != login.system.as_str() || s.account != login.account {
        return Err(StepUpRefusal::OtherAccount {
            id: id(),
            account: s.account.to_string(),
            system: s.system.to_string(),
            login_account: login.account.clone(),
            login_system: login.system.to_string(),
        });
    }
    match s.status {
        StepUpStatus::Verified => {}
        StepUpStatus::Used => {
            return Err(StepUpRefusal::AlreadyUsed {
                id: id(),
                login: s.login.unwrap_or("").to_string(),
            })
        }
        StepUpStatus::Pending => return Err(StepUpRefusal::NotVerified { id: id() }),
        status @ StepUpStatus::Failed => return Err(StepUpRefusal::Settled { id: id(), status }),
    }
    let verified = s.verified_at.unwrap_or(s.created_at);
    let window = LOGIN_WINDOW.as_millis();
    let ts = login.ts.as_millis();
    if ts < s.created_at.as_millis() - window || ts > verified.as_millis() + window {
        return Err(StepUpRefusal::OutOfWindow {
            id: id(),
            ts: login.ts,
            requested: s.created_at,
            verified,
        });
    }
    if !login.factors.contains(&Factor::WebauthnUv) {
        login.factors.push(Factor::WebauthnUv);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::event::Outcome;
    use crate::ids::SystemId;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + secs * 1000)
    }

    fn login(secs: i64, account: &str) -> Login {
        Login {
            event_id: "l-1".into(),
            ts: t(secs),
            system: SystemId::parse("ehr").unwrap(),
            account: account.into(),
            terminal: "pc".into(),
            factors: vec![Factor::Password],
            outcome: Outcome::Success,
        }
    }

    fn verified() -> StepUpFacts<'static> {
        StepUpFacts {
            id: "su-1",
            system: "ehr",
            account: "nurse01",
            status: StepUpStatus::Verified,
            created_at: t(1000),
            verified_at: Some(t(1060)),
            login: None,
        }
    }

    #[test]
    fn statuses_shown() {
        use StepUpStatus::*;
        // (status, expires at, now, shown, live)
        let cases = [
            (Pending, t(10), t(9), "pending", true),
            (Pending, t(10), t(10), "expired", false),
            (Verified, t(10), t(20), "verified", false),
            (Used, t(10), t(5), "used", false),
            (Failed, t(10), t(5), "failed", false),
        ];
        for (status, expires, now, shown, live) in cases {
            assert_eq!(shown_status(status, expires, now), shown, "{status}");
            assert_eq!(is_live(status, expires, now), live, "{status}");
        }
        for s in StepUpStatus::ALL {
            assert_eq!(s.as_str().parse::<StepUpStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("expired".parse::<StepUpStatus>().is_err());
    }

    #[test]
    fn a_verified_step_up_vouches_within_the_window() {
        // (login time, vouches)
        let cases = [
            (1000 - 300, true),
            (1000 - 301, false),
            (1030, true),
            (1060 + 300, true),
            (1060 + 301, false),
        ];
        for (secs, ok) in cases {
            let mut l = login(secs, "nurse01");
            let r = vouch(&verified(), &mut l);
            assert_eq!(r.is_ok(), ok, "{secs}: {r:?}");
            assert_eq!(l.factors.contains(&Factor::WebauthnUv), ok);
        }
        // Without a verification time the window ends five minutes after the request.
        let s = StepUpFacts {
            verified_at: None,
            ..verified()
        };
        assert!(vouch(&s, &mut login(1300, "nurse01")).is_ok());
        assert!(vouch(&s, &mut login(1301, "nurse01")).is_err());
        // webauthn_uv is added once.
        let mut l = login(1030, "nurse01");
        l.factors.push(Factor::WebauthnUv);
        vouch(&verified(), &mut l).unwrap();
        assert_eq!(l.factors, vec![Factor::Password, Factor::WebauthnUv]);
    }

    #[test]
    fn refusals_say_why_in_the_apis_words() {
        let refused =
            |s: StepUpFacts, l: &str| vouch(&s, &mut login(1030, l)).unwrap_err().to_string();
        // (step-up, login account, message)
        let cases = [
            (
                verified(),
                "doctor02",
                "step-up \"su-1\" was for account \"nurse01\" of system \"ehr\", not \"doctor02\" of \"ehr\"",
            ),
            (
                StepUpFacts {
                    status: StepUpStatus::Used,
                    login: Some("l-0"),
                    ..verified()
                },
                "nurse01",
                "step-up \"su-1\" has already been used by login \"l-0\"",
            ),
            (
                StepUpFacts {
                    status: StepUpStatus::Pending,
                    ..verified()
                },
                "nurse01",
                "step-up \"su-1\" has not been verified (yet)",
            ),
            (
                StepUpFacts {
                    status: StepUpStatus::Failed,
                    ..verified()
                },
                "nurse01",
                "step-up \"su-1\" is failed",
            ),
        ];
        for (s, account, message) in cases {
            assert_eq!(refused(s, account), message);
        }
        // Another account is refused before the status is looked at.
        let used_other = StepUpFacts {
            status: StepUpStatus::Used,
            ..verified()
        };
        assert!(refused(used_other, "x").contains("was for account"));
        let late = vouch(&verified(), &mut login(2000, "nurse01")).unwrap_err();
        assert_eq!(
            late.to_string(),
            format!(
                "the login's ts {} is not within five minutes of step-up \"su-1\" (requested {}, verified {})",
                t(2000).to_rfc3339(),
                t(1000).to_rfc3339(),
                t(1060).to_rfc3339()
            )
        );
        assert_eq!(
            StepUpRefusal::Unknown { id: "x".into() }.to_string(),
            "no step-up \"x\""
        );
        assert_eq!(
            StepUpRefusal::Consumed { id: "x".into() }.to_string(),
            "step-up \"x\" has already been used"
        );
    }
}
