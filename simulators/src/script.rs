//! The line script that drives a simulated door controller: `monban-sim modbus-door` and
//! `monban-sim mqtt-door` both play a `--script FILE` first and then read the same lines
//! from standard input.
//!
//! ```text
//! # comments and blank lines are ignored
//! badge card 04A1B2C3 in        # access_granted; direction in (default) or out
//! deny card_pin 04765F5F        # access_denied (`denied` is accepted too)
//! event door_forced             # any CONTRACT §5 kind without a credential
//! contact open                  # the door contact: open | closed
//! tamper on                     # the tamper switch: on | off
//! wait 2s                       # pause the script (a humantime duration, one word: 1m30s)
//! offline                       # leave the network until `online`
//! offline 10s                   # leave the network for 10 s, then come back
//! online                        # come back
//! heartbeat                     # send a heartbeat now (devices that have one)
//! quit                          # stop the simulator
//! ```
//!
//! Parsing is pure: [`parse_line`] and [`parse_script`] turn text into [`Line`]s; each
//! device decides what a line means for its protocol (and which lines it cannot carry).
//! Credential ids are kept as text here — the Modbus profile needs hexadecimal, uhppoted
//! decimal — so each device checks them itself.

use monban_core::{Credential, Direction, DoorEventKind};
use std::fmt;
use std::time::Duration;

/// One parsed script line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A door event; `credential` is set for `badge` and `deny`.
    Event {
        kind: DoorEventKind,
        direction: Direction,
        credential: Option<Credential>,
    },
    /// The door contact: `true` = open.
    Contact(bool),
    /// The tamper switch: `true` = active.
    Tamper(bool),
    /// Pause the script.
    Wait(Duration),
    /// Leave the network; with a duration, come back after it.
    Offline(Option<Duration>),
    /// Come back on the network.
    Online,
    /// Send a heartbeat now.
    Heartbeat,
    /// Stop the simulator.
    Quit,
}

impl fmt::Display for Line {
    /// The canonical text of the line (what [`parse_line`] reads back).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let open_closed = |b: bool| if b { "open" } else { "closed" };
        match self {
            Line::Event {
                kind,
                direction,
                credential: Some(c),
            } => {
                let verb = if *kind == DoorEventKind::AccessDenied {
                    "deny"
                } else {
                    "badge"
                };
                write!(
                    f,
                    "{verb} {} {} {}",
                    c.kind.as_str(),
                    c.id,
                    direction.as_str()
                )
            }
            Line::Event { kind, .. } => write!(f, "event {}", kind.as_str()),
            Line::Contact(open) => write!(f, "contact {}", open_closed(*open)),
            Line::Tamper(on) => write!(f, "tamper {}", if *on { "on" } else { "off" }),
            Line::Wait(d) => write!(f, "wait {}", humantime(*d)),
            Line::Offline(None) => f.write_str("offline"),
            Line::Offline(Some(d)) => write!(f, "offline {}", humantime(*d)),
            Line::Online => f.write_str("online"),
            Line::Heartbeat => f.write_str("heartbeat"),
            Line::Quit => f.write_str("quit"),
        }
    }
}

fn humantime(d: Duration) -> String {
    let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    monban_core::Span::from_millis(ms).to_string()
}

/// A line of a script file, with its line number (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbered {
    pub line: usize,
    pub action: Line,
}

/// A script that cannot be used: the line (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

/// Parses one line; `Ok(None)` for a blank or comment line.
pub fn parse_line(line: &str) -> Result<Option<Line>, String> {
    let line = line.split('#').next().unwrap_or_default().trim();
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&verb, args)) = words.split_first() else {
        return Ok(None);
    };
    let duration = |d: &str| -> Result<Duration, String> {
        d.parse::<monban_core::Span>()
            .map(|s| s.as_std())
            .map_err(|e| format!("{verb}: {e}"))
    };
    let on_off = |args: &[&str], on: &str, off: &str| -> Result<bool, String> {
        match args {
            [w] if *w == on => Ok(true),
            [w] if *w == off => Ok(false),
            _ => Err(format!("{verb} takes `{on}` or `{off}`")),
        }
    };
    let no_args = |line: Line| -> Result<Line, String> {
        if args.is_empty() {
            Ok(line)
        } else {
            Err(format!("{verb} takes nothing after it"))
        }
    };
    let parsed = match verb {
        "badge" | "deny" | "denied" => {
            let (ctype, id, direction) = match args {
                [t, id] => (t, id, Direction::In),
                [t, id, d] => (t, id, d.parse::<Direction>()?),
                _ => {
                    return Err(format!(
                        "{verb} takes a credential type, an id and optionally in|out, e.g. `{verb} card 04A1B2C3 in`"
                    ))
                }
            };
            Line::Event {
                kind: if verb == "badge" {
                    DoorEventKind::AccessGranted
                } else {
                    DoorEventKind::AccessDenied
                },
                direction,
                credential: Some(Credential::new(ctype.parse()?, id)?),
            }
        }
        "event" => match args {
            [k] => {
                let kind: DoorEventKind = k.parse()?;
                if matches!(
                    kind,
                    DoorEventKind::AccessGranted | DoorEventKind::AccessDenied
                ) {
                    return Err(format!(
                        "{k} carries a credential: write `badge card 04A1B2C3` or `deny card 04A1B2C3`"
                    ));
                }
                Line::Event {
                    kind,
                    direction: Direction::In,
                    credential: None,
                }
            }
            _ => return Err("event takes one kind, e.g. `event door_forced`".into()),
        },
        "contact" => Line::Contact(on_off(args, "open", "closed")?),
        "tamper" => Line::Tamper(on_off(args, "on", "off")?),
        "wait" => match args {
            [d] => Line::Wait(duration(d)?),
            _ => return Err("wait takes one duration, e.g. `wait 5s`".into()),
        },
        "offline" => match args {
            [] => Line::Offline(None),
            [d] => Line::Offline(Some(duration(d)?)),
            _ => {
                return Err(
                    "offline takes nothing (until `online`) or a duration, e.g. `offline 10s`"
                        .into(),
                )
            }
        },
        "online" => no_args(Line::Online)?,
        "heartbeat" => no_args(Line::Heartbeat)?,
        "quit" | "exit" => no_args(Line::Quit)?,
        other => {
            return Err(format!(
                "unknown command {other:?}; expected badge, deny, event, contact, tamper, wait, offline, online, heartbeat or quit"
            ))
        }
    };
    Ok(Some(parsed))
}

/// Parses a whole script; an error names the line number (from 1).
pub fn parse_script(text: &str) -> Result<Vec<Numbered>, ScriptError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Some(action)) => out.push(Numbered {
                line: n + 1,
                action,
            }),
            Ok(None) => {}
            Err(message) => {
                return Err(ScriptError {
                    line: n + 1,
                    message,
                })
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use monban_core::CredentialType;

    fn cred(kind: CredentialType, id: &str) -> Option<Credential> {
        Credential::new(kind, id).ok()
    }

    #[test]
    fn every_verb_parses() {
        assert_eq!(parse_line("  # note").ok(), Some(None));
        assert_eq!(parse_line("").ok(), Some(None));
        assert_eq!(
            parse_line("badge card 04A1B2C3 out # leaving").ok(),
            Some(Some(Line::Event {
                kind: DoorEventKind::AccessGranted,
                direction: Direction::Out,
                credential: cred(CredentialType::Card, "04A1B2C3"),
            }))
        );
        for verb in ["deny", "denied"] {
            assert_eq!(
                parse_line(&format!("{verb} card_pin 04765F5F")).ok(),
                Some(Some(Line::Event {
                    kind: DoorEventKind::AccessDenied,
                    direction: Direction::In,
                    credential: cred(CredentialType::CardPin, "04765F5F"),
                })),
                "{verb}"
            );
        }
        assert_eq!(
            parse_line("badge biometric P0017").ok(),
            Some(Some(Line::Event {
                kind: DoorEventKind::AccessGranted,
                direction: Direction::In,
                credential: cred(CredentialType::Biometric, "P0017"),
            }))
        );
        assert_eq!(
            parse_line("event door_held_open").ok(),
            Some(Some(Line::Event {
                kind: DoorEventKind::DoorHeldOpen,
                direction: Direction::In,
                credential: None,
            }))
        );
        let simple = [
            ("contact open", Line::Contact(true)),
            ("contact closed", Line::Contact(false)),
            ("tamper on", Line::Tamper(true)),
            ("tamper off", Line::Tamper(false)),
            ("wait 500ms", Line::Wait(Duration::from_millis(500))),
            ("wait 1m30s", Line::Wait(Duration::from_secs(90))),
            ("offline", Line::Offline(None)),
            ("offline 3s", Line::Offline(Some(Duration::from_secs(3)))),
            ("online", Line::Online),
            ("heartbeat", Line::Heartbeat),
            ("quit", Line::Quit),
            ("exit", Line::Quit),
        ];
        for (text, line) in simple {
            assert_eq!(parse_line(text).ok(), Some(Some(line)), "{text}");
        }
    }

    #[test]
    fn bad_lines_say_why() {
        for (bad, words) in [
            ("badge card", "credential type"),
            ("badge lizard 01", "credential type"),
            ("badge card 01 sideways", "direction"),
            ("event door_exploded", "door event kind"),
            ("event access_granted", "carries a credential"),
            ("event", "one kind"),
            ("contact ajar", "`open` or `closed`"),
            ("tamper", "`on` or `off`"),
            ("wait soon", "duration"),
            ("wait", "one duration"),
            ("offline 1s 2s", "offline takes"),
            ("online now", "nothing after"),
            ("dance", "unknown command"),
        ] {
            let err = parse_line(bad).expect_err(bad);
            assert!(err.contains(words), "{bad}: {err}");
        }
    }

    #[test]
    fn a_script_keeps_line_numbers_and_errors_name_the_line() {
        let s = parse_script("# start\ncontact open\n\nbadge card ab\nquit\n").expect("parses");
        assert_eq!(s.iter().map(|n| n.line).collect::<Vec<_>>(), vec![2, 4, 5]);
        let err = parse_script("contact open\n\nwait 1x\n").expect_err("bad");
        assert_eq!(err.line, 3);
        assert!(err.to_string().starts_with("line 3: wait:"), "{err}");
    }

    #[test]
    fn display_reads_back() {
        for text in [
            "badge card 04A1B2C3 out",
            "deny pin 7018 in",
            "event door_forced",
            "contact closed",
            "tamper on",
            "wait 2s",
            "offline",
            "offline 10s",
            "online",
            "heartbeat",
            "quit",
        ] {
            let line = parse_line(text).ok().flatten().expect(text);
            assert_eq!(line.to_string(), text);
            assert_eq!(parse_line(&line.to_string()).ok().flatten(), Some(line));
        }
    }
}
