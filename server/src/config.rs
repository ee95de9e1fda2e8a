//! `monban.toml`: runtime settings and the declarative site inventory (CONTRACT §4).
//!
//! Every problem names the file, the line and what is wrong, e.g.
//! `monban.toml:42: door "ward3-main" names room "ward9", which is not in [[rooms]]`.
//! Unknown keys are errors too (a typo such as `controled` must not silently leave a
//! room uncontrolled). Relative SQLite paths are resolved against the file's directory,
//! so the hub finds the same database whatever directory it is started from.

use monban_core::inventory::parse_renewal;
use monban_core::{
    Credential, Door, DoorId, Inventory, Person, PersonId, Room, RoomId, SiteId, Span, System,
    SystemCategory, SystemId, Terminal, TerminalId,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A configuration problem, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.file, l, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// All problems found in one file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// `sqlite://path` or `postgres://...`.
    pub database: String,
    pub grace: Span,
}

#[derive(Debug, Clone)]
pub struct MqttSettings {
    pub url: String,
    pub client_id: String,
}

/// A Modbus TCP door controller (CONTRACT §6), polled by `monban_connectors::modbus`.
#[derive(Debug, Clone)]
pub struct ModbusDevice {
    pub door: DoorId,
    pub address: String,
    pub unit: u8,
    pub poll: Span,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerSettings,
    pub mqtt: Option<MqttSettings>,
    pub site: SiteId,
    pub site_name: String,
    pub inventory: Inventory,
    pub modbus: Vec<ModbusDevice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: Option<Spanned<RawServer>>,
    #[serde(default)]
    mqtt: Option<Spanned<RawMqtt>>,
    #[serde(default)]
    site: Option<Spanned<RawSite>>,
    #[serde(default)]
    rooms: Vec<Spanned<RawRoom>>,
    #[serde(default)]
    doors: Vec<Spanned<RawDoor>>,
    #[serde(default)]
    terminals: Vec<Spanned<RawTerminal>>,
    #[serde(default)]
    systems: Vec<Spanned<RawSystem>>,
    #[serde(default)]
    people: Vec<Spanned<RawPerson>>,
    #[serde(default)]
    modbus: Vec<Spanned<RawModbus>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    database: Option<String>,
    grace: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMqtt {
    url: String,
    client_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    id: String,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoom {
    id: String,
    name: Option<String>,
    controlled: bool,
    max_presence: Option<String>,
    alarm_hold: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoor {
    id: String,
    room: String,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerminal {
    id: String,
    room: String,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystem {
    id: String,
    name: Option<String>,
    category: String,
    #[serde(default)]
    native_mfa: bool,
    renewal: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    id: String,
    name: Option<String>,
    #[serde(default)]
    credentials: Vec<String>,
    #[serde(default)]
    accounts: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModbus {
    door: String,
    address: String,
    #[serde(default = "default_unit")]
    unit: u8,
    poll: Option<String>,
}

fn default_unit() -> u8 {
    1
}

struct Ctx<'a> {
    file: String,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .bytes()
            .filter(|&b| b == b'\n')
            .count()
            + 1
    }
    /// Reports at the line of `key = …` inside the entry `span` (the entry's first line
    /// when the key is not found).
    fn err_key(&mut self, span: std::ops::Range<usize>, key: &str, message: impl Into<String>) {
        let start = span.start.min(self.text.len());
        let end = span.end.min(self.text.len()).max(start);
        let mut offset = start;
        let mut at = start;
        for line in self.text[start..end].split_inclusive('\n') {
            let t = line.trim_start();
            if t.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
            {
                at = offset;
                break;
            }
            offset += line.len();
        }
        self.err(at..at, message);
    }

    fn err(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let line = Some(self.line_of(span.start));
        self.errors.push(ConfigError {
            file: self.file.clone(),
            line,
            message: message.into(),
        });
    }
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigErrors> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                file: file.clone(),
                line: None,
                message: format!("cannot read the file: {e}"),
            }])
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::parse(&text, &file, &base)
    }

    /// Parses configuration text. `file` names it in errors; `base` is the directory
    /// relative SQLite paths are resolved against.
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<Config, ConfigErrors> {
        let mut cx = Ctx {
            file: file.to_string(),
            text,
            errors: Vec::new(),
        };
        let raw: RawConfig = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let line = e.span().map(|s| cx.line_of(s.start));
                return Err(ConfigErrors(vec![ConfigError {
                    file: file.to_string(),
                    line,
                    message: e.message().trim().to_string(),
                }]));
            }
        };

        let server = match &raw.server {
            None => ServerSettings {
                listen: default_listen(),
                database: "sqlite://monban.db".into(),
                grace: Span::from_secs(60),
            },
            Some(s) => {
                let span = s.span();
                let s = s.get_ref();
                let listen = match &s.listen {
                    None => default_listen(),
                    Some(l) => l.parse().unwrap_or_else(|_| {
                        cx.err_key(span.clone(), "listen", format!("[server] listen {l:?} is not an address such as \"127.0.0.1:8080\""));
                        default_listen()
                    }),
                };
                let grace = parse_span(
                    &mut cx,
                    span.clone(),
                    "[server] grace",
                    s.grace.as_deref(),
                    Span::from_secs(60),
                );
                let database = s
                    .database
                    .clone()
                    .unwrap_or_else(|| "sqlite://monban.db".into());
                if !(database.starts_with("sqlite:")
                    || database.starts_with("postgres://")
                    || database.starts_with("postgresql://"))
                {
                    cx.err_key(span, "database", format!("[server] database {database:?} must start with sqlite:// or postgres://"));
                }
                ServerSettings {
                    listen,
                    database,
                    grace,
                }
            }
        };
        let server = ServerSettings {
            database: resolve_sqlite(&server.database, base),
            ..server
        };

        let mqtt = raw.mqtt.as_ref().map(|m| {
            let span = m.span();
            let m = m.get_ref();
            if !(m.url.starts_with("mqtt://") || m.url.starts_with("tcp://")) {
                cx.err(
                    span,
                    format!(
                        "[mqtt] url {:?} must look like \"mqtt://127.0.0.1:1883\"",
                        m.url
                    ),
                );
            }
            MqttSettings {
                url: m.url.clone(),
                client_id: m.client_id.clone().unwrap_or_else(|| "monban-hub".into()),
            }
        });

        let (site, site_name) = match &raw.site {
            None => {
                cx.errors.push(ConfigError {
                    file: file.to_string(),
                    line: None,
                    message: "[site] is missing: give it an id (used in MQTT topics) and a name"
                        .into(),
                });
                (
                    SiteId::parse("site").unwrap_or_else(|_| unreachable_site()),
                    String::new(),
                )
            }
            Some(s) => {
                let span = s.span();
                let s = s.get_ref();
                let id = SiteId::parse(s.id.clone()).unwrap_or_else(|e| {
                    cx.err(span, format!("[site] {e}"));
                    unreachable_site()
                });
                (id, s.name.clone().unwrap_or_else(|| s.id.clone()))
            }
        };

        let mut rooms = Vec::new();
        let mut spans: BTreeMap<(&'static str, usize), std::ops::Range<usize>> = BTreeMap::new();
        for r in &raw.rooms {
            let span = r.span();
            let r = r.get_ref();
            let Some(id) = parse_id(&mut cx, span.clone(), RoomId::parse(r.id.clone())) else {
                continue;
            };
            let max_presence = parse_span(
                &mut cx,
                span.clone(),
                "max_presence",
                r.max_presence.as_deref(),
                Room::DEFAULT_MAX_PRESENCE,
            );
            let alarm_hold = parse_span(
                &mut cx,
                span.clone(),
                "alarm_hold",
                r.alarm_hold.as_deref(),
                Room::DEFAULT_ALARM_HOLD,
            );
            spans.insert(("rooms", rooms.len()), span);
            rooms.push(Room {
                name: r.name.clone().unwrap_or_else(|| r.id.clone()),
                id,
                controlled: r.controlled,
                max_presence,
                alarm_hold,
            });
        }
        let mut doors = Vec::new();
        for d in &raw.doors {
            let span = d.span();
            let d = d.get_ref();
            let (Some(id), Some(room)) = (
                parse_id(&mut cx, span.clone(), DoorId::parse(d.id.clone())),
                parse_id(&mut cx, span.clone(), RoomId::parse(d.room.clone())),
            ) else {
                continue;
            };
            spans.insert(("doors", doors.len()), span);
            doors.push(Door {
                id,
                room,
                name: d.name.clone().unwrap_or_default(),
            });
        }
        let mut terminals = Vec::new();
        for t in &raw.terminals {
            let span = t.span();
            let t = t.get_ref();
            let (Some(id), Some(room)) = (
                parse_id(&mut cx, span.clone(), TerminalId::parse(t.id.clone())),
                parse_id(&mut cx, span.clone(), RoomId::parse(t.room.clone())),
            ) else {
                continue;
            };
            spans.insert(("terminals", terminals.len()), span);
            terminals.push(Terminal {
                id,
                room,
                name: t.name.clone().unwrap_or_default(),
            });
        }
        let mut systems = Vec::new();
        for s in &raw.systems {
            let span = s.span();
            let s = s.get_ref();
            let Some(id) = parse_id(&mut cx, span.clone(), SystemId::parse(s.id.clone())) else {
                continue;
            };
            let category = match s.category.parse::<SystemCategory>() {
                Ok(c) => c,
                Err(m) => {
                    cx.err_key(span, "category", m);
                    continue;
                }
            };
            let renewal = match s.renewal.as_deref().map(parse_renewal) {
                None => None,
                Some(Ok(r)) => Some(r),
                Some(Err(m)) => {
                    cx.err_key(span, "renewal", m);
                    continue;
                }
            };
            spans.insert(("systems", systems.len()), span);
            systems.push(System {
                name: s.name.clone().unwrap_or_else(|| s.id.clone()),
                id,
                category,
                native_mfa: s.native_mfa,
                renewal,
            });
        }
        let mut people = Vec::new();
        for p in &raw.people {
            let span = p.span();
            let p = p.get_ref();
            let Some(id) = parse_id(&mut cx, span.clone(), PersonId::parse(p.id.clone())) else {
                continue;
            };
            let mut credentials = Vec::new();
            for c in &p.credentials {
                match c.parse::<Credential>() {
                    Ok(c) => credentials.push(c),
                    Err(m) => cx.err_key(
                        span.clone(),
                        "credentials",
                        format!("person {:?}: {m}", p.id),
                    ),
                }
            }
            let mut accounts = BTreeMap::new();
            for (system, account) in &p.accounts {
                match SystemId::parse(system.clone()) {
                    Ok(s) => {
                        accounts.insert(s, account.clone());
                    }
                    Err(e) => {
                        cx.err_key(span.clone(), "accounts", format!("person {:?}: {e}", p.id))
                    }
                }
            }
            spans.insert(("people", people.len()), span);
            people.push(Person {
                name: p.name.clone().unwrap_or_else(|| p.id.clone()),
                id,
                credentials,
                accounts,
            });
        }

        let mut modbus = Vec::new();
        for m in &raw.modbus {
            let span = m.span();
            let m = m.get_ref();
            let Some(door) = parse_id(&mut cx, span.clone(), DoorId::parse(m.door.clone())) else {
                continue;
            };
            if !doors.iter().any(|d| d.id == door) {
                cx.err(
                    span.clone(),
                    format!(
                        "[[modbus]] names door {:?}, which is not in [[doors]]",
                        m.door
                    ),
                );
            }
            if m.address.parse::<SocketAddr>().is_err() && !m.address.contains(':') {
                cx.err(
                    span.clone(),
                    format!(
                        "[[modbus]] address {:?} must be host:port, e.g. \"127.0.0.1:5020\"",
                        m.address
                    ),
                );
            }
            let poll = parse_span(
                &mut cx,
                span,
                "poll",
                m.poll.as_deref(),
                Span::from_millis(500),
            );
            modbus.push(ModbusDevice {
                door,
                address: m.address.clone(),
                unit: m.unit,
                poll,
            });
        }

        let site_pair = Some((site.clone(), site_name.clone()));
        match Inventory::new(site_pair, rooms, doors, terminals, systems, people) {
            Ok(inventory) if cx.errors.is_empty() => Ok(Config {
                server,
                mqtt,
                site,
                site_name,
                inventory,
                modbus,
            }),
            Ok(_) => Err(ConfigErrors(cx.errors)),
            Err(inv_errors) => {
                for e in inv_errors {
                    let line = spans.get(&(e.table, e.index)).map(|s| cx.line_of(s.start));
                    cx.errors.push(ConfigError {
                        file: file.to_string(),
                        line,
                        message: e.message,
                    });
                }
                cx.errors.sort_by_key(|e| e.line);
                Err(ConfigErrors(cx.errors))
            }
        }
    }
}

fn unreachable_site() -> SiteId {
    // "site" is a valid id; this only avoids an unwrap on a constant.
    SiteId::parse("site").unwrap_or_else(|_| panic!("constant site id is valid"))
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn parse_id<T>(
    cx: &mut Ctx<'_>,
    span: std::ops::Range<usize>,
    r: Result<T, monban_core::IdError>,
) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            cx.err(span, e.to_string());
            None
        }
    }
}

fn parse_span(
    cx: &mut Ctx<'_>,
    span: std::ops::Range<usize>,
    what: &str,
    value: Option<&str>,
    default: Span,
) -> Span {
    match value {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|m| {
            let key = what.rsplit(' ').next().unwrap_or(what);
            cx.err_key(span, key, format!("{what}: {m}"));
            default
        }),
    }
}

/// Resolves `sqlite://relative.db` against `base`; other URLs pass through.
pub fn resolve_sqlite(url: &str, base: &Path) -> String {
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return url.to_string();
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty()
        || path == ":memory:"
        || Path::new(path).is_absolute()
        || base.as_os_str().is_empty()
    {
        return url.to_string();
    }
    let full: PathBuf = base.join(path);
    match query {
        Some(q) => format!("sqlite://{}?{q}", full.display()),
        None => format!("sqlite://{}", full.display()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const EXAMPLE: &str = r#"
[server]
listen = "127.0.0.1:8080"
database = "sqlite://monban.db"
grace = "60s"

[mqtt]
url = "mqtt://127.0.0.1:1883"
client_id = "monban-hub"

[site]
id = "tokyo-general"
name = "東京総合病院"

[[rooms]]
id = "ward3"
name = "3F ナースステーション"
controlled = true
max_presence = "12h"
alarm_hold = "15m"

[[doors]]
id = "ward3-main"
room = "ward3"

[[terminals]]
id = "ward3-pc01"
room = "ward3"

[[systems]]
id = "ehr"
name = "電子カルテ"
category = "ehr"
native_mfa = false
renewal = "2027-04"

[[people]]
id = "p0001"
name = "看護師 一郎"
credentials = ["card:04A1B2C3", "biometric:P0001"]
accounts = { ehr = "nurse01" }
"#;

    #[test]
    fn contract_example_parses() {
        let c = Config::parse(EXAMPLE, "monban.toml", Path::new("/etc/monban")).unwrap();
        assert_eq!(c.server.database, "sqlite:///etc/monban/monban.db");
        assert_eq!(c.server.grace.as_millis(), 60_000);
        assert_eq!(c.site.as_str(), "tokyo-general");
        assert_eq!(c.inventory.rooms().len(), 1);
        assert_eq!(c.inventory.people()[0].credentials.len(), 2);
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let bad = EXAMPLE.replace(
            "room = \"ward3\"\n\n[[terminals]]",
            "room = \"ward9\"\n\n[[terminals]]",
        );
        let e = Config::parse(&bad, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("monban.toml:22:"), "{e}");
        assert!(e.contains("ward9"), "{e}");

        let typo = EXAMPLE.replace("controlled = true", "controled = true");
        let e = Config::parse(&typo, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("monban.toml:") && e.contains("controled"), "{e}");

        let dur = EXAMPLE.replace("\"15m\"", "\"15 fortnights\"");
        let e = Config::parse(&dur, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("alarm_hold") && e.contains("monban.toml:20:"),
            "{e}"
        );

        let cred = EXAMPLE.replace("card:04A1B2C3", "badge:04A1B2C3");
        let e = Config::parse(&cred, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown credential type") && e.contains("monban.toml:40:"),
            "{e}"
        );

        let syntax = "[server\nlisten=1";
        let e = Config::parse(syntax, "x.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.toml:1:"), "{e}");
    }

    #[test]
    fn missing_site_is_an_error() {
        let e = Config::parse("", "m.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("[site] is missing"), "{e}");
    }
}
