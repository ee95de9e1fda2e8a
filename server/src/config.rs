//! `monban.toml`: runtime settings and the declarative site inventory (CONTRACT §4).
//!
//! Every problem names the file, the line and what is wrong, e.g.
//! `monban.toml:42: door "ward3-main" names room "ward9", which is not in [[rooms]]`.
//! Unknown keys are errors too (a typo such as `controled` must not silently leave a
//! room uncontrolled). Relative SQLite paths, and the TLS certificate and key files, are
//! resolved against the file's directory, so the hub finds the same files whatever
//! directory it is started from.

use monban_connectors::modbus::Transport;
use monban_core::inventory::rows::{
    DoorRow, MaintainsRow, PersonRow, RoomRow, SystemRow, TerminalRow, VendorRow,
};
use monban_core::maintenance::MaintenanceSettings;
use monban_core::{DoorFeed, DoorId, Inventory, InventoryRows, SiteId, SiteOffset, Span, Table};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use toml::Spanned;

pub mod imports;
pub mod notify;
pub use imports::ImportSpec;
pub use notify::NotifySettings;

/// `[auth]`, with defaults for what it leaves out.
fn parse_auth(cx: &mut Ctx<'_>, raw: Option<&Spanned<RawAuth>>) -> AuthSettings {
    let d = AuthSettings::default();
    let Some(a) = raw else { return d };
    let span = a.span();
    let a = a.get_ref();
    let origin = a.origin.as_deref().and_then(|o| {
        match url::Url::parse(o) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some()
                    && u.path() == "/"
                    && u.query().is_none() =>
            {
                Some(u)
            }
            _ => {
                cx.err_key(
                    span.clone(),
                    "origin",
                    format!("[auth] origin {o:?} must be a scheme and host such as \"https://monban.example.jp\" (no path)"),
                );
                None
            }
        }
    });
    let mut span_of = |key: &str, v: Option<&str>, default: Span| {
        let s = parse_span(cx, span.clone(), &format!("[auth] {key}"), v, default);
        if s.as_millis() <= 0 {
            cx.err_key(
                span.clone(),
                key,
                format!("[auth] {key} must be longer than zero"),
            );
        }
        s
    };
    AuthSettings {
        origin,
        session_idle: span_of("session_idle", a.session_idle.as_deref(), d.session_idle),
        session_max: span_of("session_max", a.session_max.as_deref(), d.session_max),
        invite_ttl: span_of("invite_ttl", a.invite_ttl.as_deref(), d.invite_ttl),
        step_up_ttl: span_of("step_up_ttl", a.step_up_ttl.as_deref(), d.step_up_ttl),
    }
}

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
    /// `tls_cert` and `tls_key`: the hub serves HTTPS itself when set.
    pub tls: Option<TlsFiles>,
    /// `trusted_proxies`: peers whose `X-Forwarded-For` names the client (for the rate
    /// limits). Empty: the peer address is the client, whatever the header says.
    pub trusted_proxies: Vec<IpAddr>,
}

impl ServerSettings {
    /// Whether the hub serves TLS itself (so cookies may be `Secure` and HSTS is sent).
    pub fn tls_enabled(&self) -> bool {
        self.tls.is_some()
    }
}

/// The PEM files of `[server] tls_cert` and `tls_key`, resolved against the
/// configuration file's directory. They are read when the hub starts serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// `[limits]`: per client address token buckets (0 turns a limit off), and the
/// connection limits that keep slow or idle clients from holding the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Requests to `/auth/*` (passkey sign-in) per minute; bursts of a third of it.
    pub signin_per_minute: u32,
    /// Ingest requests (door events, logins, step-up) per second; bursts of twice it.
    pub ingest_per_second: u32,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: u32,
    /// How long a client may take to send a request's headers (slowloris).
    pub header_read_timeout: Span,
    /// The largest access log uploaded on `/imports` (`POST /api/v1/imports/{system}`),
    /// in bytes (`import_max_bytes`; default 64 MiB). Larger logs: `monban import logins`.
    pub import_max_bytes: u64,
}

impl Default for LimitSettings {
    fn default() -> LimitSettings {
        LimitSettings {
            signin_per_minute: 30,
            ingest_per_second: 1000,
            max_connections: 1024,
            header_read_timeout: Span::from_secs(10),
            import_max_bytes: 64 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone)]
pub struct MqttSettings {
    /// `mqtt://host:port`, or `mqtts://host:port` for TLS (then `ca_file` is needed).
    pub url: String,
    pub client_id: String,
    /// `[[mqtt.sources]]`: vendor formats (esp-rfid, uhppoted, Tasmota, ESPHome, Shelly,
    /// generic mappings), compiled; see docs/CONNECTORS.md.
    pub sources: Vec<monban_connectors::mqtt::Source>,
    /// `ca_file`, and `client_cert` with `client_key`: PEM files resolved against the
    /// configuration file's directory, read when the hub starts serving.
    pub tls: Option<MqttTlsFiles>,
    /// `username`: the hub's broker user.
    pub username: Option<String>,
    /// `password_env`: the environment variable that holds the broker password (a
    /// password is never written in the file). Read by [`MqttSettings::password`].
    pub password_env: Option<PasswordEnv>,
}

/// `[mqtt] ca_file`, `client_cert` and `client_key`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttTlsFiles {
    /// The CA that signed the broker's certificate.
    pub ca: PathBuf,
    /// The hub's own certificate and key, for a broker that requires one.
    pub client: Option<TlsFiles>,
}

/// `[mqtt] password_env`, with where it was written (for the error when it is not set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordEnv {
    /// The variable's name, e.g. `MONBAN_MQTT_PASSWORD`.
    pub name: String,
    file: String,
    line: Option<usize>,
}

impl MqttSettings {
    /// The broker password from the environment (`lookup` is `std::env::var` outside
    /// tests). A variable that is not set, or empty, is a configuration error at the line
    /// of `password_env`: the hub must not start without the password it was told to use.
    pub fn password(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<monban_connectors::mqtt::Password>, ConfigError> {
        let Some(env) = &self.password_env else {
            return Ok(None);
        };
        match lookup(&env.name) {
            Some(p) if !p.is_empty() => Ok(Some(monban_connectors::mqtt::Password::new(p))),
            found => Err(ConfigError {
                file: env.file.clone(),
                line: env.line,
                message: format!(
                    "[mqtt] password_env names the environment variable {}, which is {}: set it to the broker password for user {:?} before starting monban",
                    env.name,
                    if found.is_some() { "empty" } else { "not set" },
                    self.username.as_deref().unwrap_or_default(),
                ),
            }),
        }
    }
}

/// A Modbus door controller (CONTRACT §6), polled by `monban_connectors::modbus`: on
/// Modbus TCP (`address = "host:port"`) or Modbus RTU on a serial line (`serial =
/// "/dev/ttyUSB0"`, `baud`, `parity`, `stop_bits`).
#[derive(Debug, Clone)]
pub struct ModbusDevice {
    pub door: DoorId,
    pub transport: monban_connectors::modbus::Transport,
    pub unit: u8,
    pub poll: Span,
    /// A contact open longer than this raises `door_held_open` (default 30 s).
    pub held_open: Span,
    /// Longest wait for the device to answer before the door counts as offline
    /// (default 2 s).
    pub timeout: Span,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerSettings,
    /// `[limits]`: rate limits per client address.
    pub limits: LimitSettings,
    pub mqtt: Option<MqttSettings>,
    pub site: SiteId,
    pub site_name: String,
    pub inventory: Inventory,
    /// `[[modbus]]`: the devices the hub polls (their doors' `feed` is `modbus`).
    pub modbus: Vec<ModbusDevice>,
    /// `[auth]`: passkey sign-in, sessions, invites and step-up.
    pub auth: AuthSettings,
    /// `[site] timezone`: the UTC offset that defines the site's calendar days (`until`,
    /// reports); `+09:00` when not given.
    pub offset: SiteOffset,
    /// `[maintenance]`: the longest window a request may ask for, when a report is due.
    pub maintenance: MaintenanceSettings,
    /// `[accounts]`: when a mapped account counts as dormant (CONTRACT §12).
    pub accounts: AccountSettings,
    /// `[[notify]]` and `[smtp]`: where notifications go (CONTRACT §11).
    pub notify: NotifySettings,
    /// `[[imports]]`: how each system's access log maps onto logins
    /// (`monban import logins`).
    pub imports: Vec<ImportSpec>,
}

/// `[accounts]` (CONTRACT §4, §12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSettings {
    /// A mapped account without a successful login for this long is dormant.
    pub dormant_after: Span,
    /// A system whose last completed account review is older than this (or that never
    /// had one) is due for review (要棚卸し); default 12 months.
    pub review_every: Span,
}

impl Default for AccountSettings {
    fn default() -> AccountSettings {
        AccountSettings {
            dormant_after: Span::from_secs(90 * 24 * 3600),
            review_every: monban_core::account_review::DEFAULT_REVIEW_EVERY,
        }
    }
}

/// `[auth]`: how hub users sign in (passkeys) and how long things last.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSettings {
    /// The address users open the dashboard at, e.g. `https://monban.example-hospital.jp`.
    /// Passkeys are bound to its host name (the WebAuthn relying-party id). `None`: the
    /// hub uses `http://localhost:<port of listen>`.
    pub origin: Option<url::Url>,
    /// A session ends after this long without a request.
    pub session_idle: Span,
    /// A session ends this long after sign-in, however active.
    pub session_max: Span,
    /// An enrollment link works once, for this long.
    pub invite_ttl: Span,
    /// A step-up request waits this long for the person's passkey.
    pub step_up_ttl: Span,
}

impl Default for AuthSettings {
    fn default() -> AuthSettings {
        AuthSettings {
            origin: None,
            session_idle: Span::from_secs(30 * 60),
            session_max: Span::from_secs(12 * 3600),
            invite_ttl: Span::from_secs(72 * 3600),
            step_up_ttl: Span::from_secs(120),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: Option<Spanned<RawServer>>,
    #[serde(default)]
    limits: Option<Spanned<RawLimits>>,
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
    vendors: Vec<Spanned<RawVendor>>,
    #[serde(default)]
    people: Vec<Spanned<RawPerson>>,
    #[serde(default)]
    modbus: Vec<Spanned<RawModbus>>,
    #[serde(default)]
    auth: Option<Spanned<RawAuth>>,
    #[serde(default)]
    maintenance: Option<Spanned<RawMaintenance>>,
    #[serde(default)]
    accounts: Option<Spanned<RawAccounts>>,
    #[serde(default)]
    notify: Vec<Spanned<notify::RawNotify>>,
    #[serde(default)]
    smtp: Option<Spanned<notify::RawSmtp>>,
    #[serde(default)]
    imports: Vec<Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    origin: Option<String>,
    session_idle: Option<String>,
    session_max: Option<String>,
    invite_ttl: Option<String>,
    step_up_ttl: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    database: Option<String>,
    grace: Option<String>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    signin_per_minute: Option<u32>,
    ingest_per_second: Option<u32>,
    max_connections: Option<u32>,
    header_read_timeout: Option<String>,
    import_max_bytes: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMqtt {
    url: String,
    client_id: Option<String>,
    #[serde(default)]
    sources: Vec<Spanned<monban_connectors::mqtt::SourceConfig>>,
    ca_file: Option<String>,
    client_cert: Option<String>,
    client_key: Option<String>,
    username: Option<String>,
    password_env: Option<String>,
    /// Only to refuse it with a pointer to `password_env`.
    password: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    id: String,
    name: Option<String>,
    /// A fixed UTC offset such as `"+09:00"` (CONTRACT §4).
    timezone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaintenance {
    max_window: Option<String>,
    report_due: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccounts {
    dormant_after: Option<String>,
    review_every: Option<String>,
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
    heartbeat_timeout: Option<String>,
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
    plan: Option<String>,
    by: Option<String>,
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
    vendor: Option<String>,
    /// A TOML date (`until = 2027-03-31`) or a string (`until = "2027-03-31"`).
    until: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVendor {
    id: String,
    name: Option<String>,
    #[serde(default)]
    maintains: Vec<RawMaintains>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaintains {
    system: String,
    remote: bool,
    route: Option<String>,
    /// A TOML date or a string, like `until`.
    confirmed: Option<toml::Value>,
}

/// A date as written in TOML, bare (`2027-03-31`) or quoted, as text for core to read.
fn date_text(v: &Option<toml::Value>) -> String {
    match v {
        None => String::new(),
        Some(toml::Value::String(s)) => s.clone(),
        Some(toml::Value::Datetime(d)) => d.to_string(),
        Some(other) => other.to_string(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModbus {
    door: String,
    address: Option<String>,
    serial: Option<String>,
    baud: Option<u32>,
    parity: Option<String>,
    stop_bits: Option<u8>,
    #[serde(default = "default_unit")]
    unit: u8,
    poll: Option<String>,
    held_open: Option<String>,
    timeout: Option<String>,
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
        let at = self.key_offset(span, key);
        self.err(at..at, message);
    }

    /// The offset of the line of `key = …` inside `span` (its start when not found).
    fn key_offset(&self, span: std::ops::Range<usize>, key: &str) -> usize {
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
        at
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

/// `[[notify]]` and `[smtp]` report through the same context (`notify::Report`).
impl notify::Report for Ctx<'_> {
    fn err(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        Ctx::err(self, span, message)
    }
    fn err_key(&mut self, span: std::ops::Range<usize>, key: &str, message: impl Into<String>) {
        Ctx::err_key(self, span, key, message)
    }
    fn line_of_key(&self, span: std::ops::Range<usize>, key: &str) -> usize {
        self.line_of(self.key_offset(span, key))
    }
    fn file(&self) -> String {
        self.file.clone()
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
                tls: None,
                trusted_proxies: Vec::new(),
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
                if !(database.starts_with("sqlite:") || is_postgres(&database)) {
                    cx.err_key(span.clone(), "database", format!("[server] database {database:?} must start with sqlite:// or postgres://"));
                }
                let tls = parse_tls(&mut cx, span.clone(), s, base);
                let mut trusted_proxies = Vec::new();
                for p in &s.trusted_proxies {
                    match p.parse::<IpAddr>() {
                        Ok(ip) => trusted_proxies.push(ip),
                        Err(_) => cx.err_key(
                            span.clone(),
                            "trusted_proxies",
                            format!("[server] trusted_proxies: {p:?} is not an IP address such as \"127.0.0.1\""),
                        ),
                    }
                }
                ServerSettings {
                    listen,
                    database,
                    grace,
                    tls,
                    trusted_proxies,
                }
            }
        };
        let server = ServerSettings {
            database: resolve_sqlite(&server.database, base),
            ..server
        };

        let auth = parse_auth(&mut cx, raw.auth.as_ref());
        let notify = notify::parse(&mut cx, &raw.notify, raw.smtp.as_ref());

        let limits = raw
            .limits
            .as_ref()
            .map_or_else(LimitSettings::default, |l| {
                let span = l.span();
                let l = l.get_ref();
                let d = LimitSettings::default();
                let header_read_timeout = parse_span(
                    &mut cx,
                    span.clone(),
                    "[limits] header_read_timeout",
                    l.header_read_timeout.as_deref(),
                    d.header_read_timeout,
                );
                if header_read_timeout.as_millis() <= 0 {
                    cx.err_key(
                        span.clone(),
                        "header_read_timeout",
                        "[limits] header_read_timeout must be longer than zero",
                    );
                }
                if l.import_max_bytes == Some(0) {
                    cx.err_key(
                        span.clone(),
                        "import_max_bytes",
                        "[limits] import_max_bytes must be at least 1",
                    );
                }
                if l.max_connections == Some(0) {
                    cx.err_key(
                        span,
                        "max_connections",
                        "[limits] max_connections must be at least 1",
                    );
                }
                LimitSettings {
                    signin_per_minute: l.signin_per_minute.unwrap_or(d.signin_per_minute),
                    ingest_per_second: l.ingest_per_second.unwrap_or(d.ingest_per_second),
                    max_connections: l.max_connections.unwrap_or(d.max_connections),
                    header_read_timeout,
                    import_max_bytes: l.import_max_bytes.unwrap_or(d.import_max_bytes),
                }
            });

        let mut source_spans = Vec::new();
        let mqtt = raw.mqtt.as_ref().map(|m| {
            let span = m.span();
            let m = m.get_ref();
            let (tls, username, password_env) = parse_mqtt_access(&mut cx, span.clone(), m, base);
            let mut sources = Vec::new();
            for src in &m.sources {
                match src.get_ref().compile() {
                    Ok(compiled) => {
                        source_spans.push(src.span());
                        sources.push(compiled);
                    }
                    Err(e) => cx.err(src.span(), e.to_string()),
                }
            }
            if let Err(e) = monban_connectors::mqtt::mapping::check_names(&sources) {
                cx.err(span, e.to_string());
            }
            MqttSettings {
                url: m.url.clone(),
                client_id: m.client_id.clone().unwrap_or_else(|| "monban-hub".into()),
                sources,
                tls,
                username,
                password_env,
            }
        });

        let mut offset = SiteOffset::default();
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
                    cx.err(span.clone(), format!("[site] {e}"));
                    unreachable_site()
                });
                if let Some(tz) = &s.timezone {
                    match SiteOffset::parse(tz) {
                        Ok(o) => offset = o,
                        Err(e) => cx.err_key(span, "timezone", format!("[site] timezone: {e}")),
                    }
                }
                (id, s.name.clone().unwrap_or_else(|| s.id.clone()))
            }
        };

        let maintenance = match &raw.maintenance {
            None => MaintenanceSettings::default(),
            Some(m) => {
                let span = m.span();
                let m = m.get_ref();
                let max_window = parse_span(
                    &mut cx,
                    span.clone(),
                    "[maintenance] max_window",
                    m.max_window.as_deref(),
                    MaintenanceSettings::DEFAULT_MAX_WINDOW,
                );
                if max_window.as_millis() == 0 {
                    cx.err_key(
                        span.clone(),
                        "max_window",
                        "[maintenance] max_window must be longer than 0",
                    );
                }
                let report_due = parse_span(
                    &mut cx,
                    span,
                    "[maintenance] report_due",
                    m.report_due.as_deref(),
                    MaintenanceSettings::DEFAULT_REPORT_DUE,
                );
                MaintenanceSettings {
                    max_window,
                    report_due,
                }
            }
        };
        let accounts = match &raw.accounts {
            None => AccountSettings::default(),
            Some(a) => {
                let span = a.span();
                let dormant_after = parse_span(
                    &mut cx,
                    span.clone(),
                    "[accounts] dormant_after",
                    a.get_ref().dormant_after.as_deref(),
                    AccountSettings::default().dormant_after,
                );
                let review_every = parse_span(
                    &mut cx,
                    span,
                    "[accounts] review_every",
                    a.get_ref().review_every.as_deref(),
                    AccountSettings::default().review_every,
                );
                AccountSettings {
                    dormant_after,
                    review_every,
                }
            }
        };
        let system_ids: Vec<String> = raw.systems.iter().map(|s| s.get_ref().id.clone()).collect();
        let imports = imports::parse(&mut cx, &raw.imports, &system_ids, offset);

        let mut modbus = Vec::new();
        for m in &raw.modbus {
            let span = m.span();
            let m = m.get_ref();
            let Some(door) = parse_id(&mut cx, span.clone(), DoorId::parse(m.door.clone())) else {
                continue;
            };
            if !raw.doors.iter().any(|d| d.get_ref().id == m.door) {
                cx.err(
                    span.clone(),
                    format!(
                        "[[modbus]] names door {:?}, which is not in [[doors]]",
                        m.door
                    ),
                );
            }
            let transport = modbus_transport(&mut cx, span.clone(), m, &modbus);
            let poll = parse_span(
                &mut cx,
                span.clone(),
                "poll",
                m.poll.as_deref(),
                Span::from_millis(500),
            );
            let held_open = parse_span(
                &mut cx,
                span.clone(),
                "held_open",
                m.held_open.as_deref(),
                Span::from_secs(30),
            );
            let timeout = parse_span(
                &mut cx,
                span,
                "timeout",
                m.timeout.as_deref(),
                Span::from_secs(2),
            );
            let Some(transport) = transport else {
                continue;
            };
            modbus.push(ModbusDevice {
                door,
                transport,
                unit: m.unit,
                poll,
                held_open,
                timeout,
            });
        }

        if let Some(m) = &mqtt {
            for (src, span) in m.sources.iter().zip(&source_spans) {
                for door in src.doors() {
                    if !raw.doors.iter().any(|d| d.get_ref().id == door.as_str()) {
                        cx.err(
                            span.clone(),
                            format!(
                                "[[mqtt.sources]] {:?} names door {:?}, which is not in [[doors]]",
                                src.name(),
                                door.as_str()
                            ),
                        );
                    } else if modbus.iter().any(|d| d.door == door) {
                        cx.err(
                            span.clone(),
                            format!(
                                "[[mqtt.sources]] {:?} names door {:?}, which is a [[modbus]] device's door: a door has one connector",
                                src.name(),
                                door.as_str()
                            ),
                        );
                    }
                }
            }
        }

        // The inventory: the tables as rows of text, read and checked by core
        // (`InventoryRows::parse`); each error points at its entry's `key = …` line.
        let text_of = |v: &Option<String>| v.clone().unwrap_or_default();
        let rows = InventoryRows {
            rooms: raw
                .rooms
                .iter()
                .map(|r| {
                    let r = r.get_ref();
                    RoomRow {
                        id: r.id.clone(),
                        name: text_of(&r.name),
                        controlled: r.controlled.to_string(),
                        max_presence: text_of(&r.max_presence),
                        alarm_hold: text_of(&r.alarm_hold),
                    }
                })
                .collect(),
            doors: raw
                .doors
                .iter()
                .map(|d| {
                    let d = d.get_ref();
                    let wired = modbus.iter().any(|m| m.door.as_str() == d.id);
                    DoorRow {
                        id: d.id.clone(),
                        room: d.room.clone(),
                        name: text_of(&d.name),
                        heartbeat_timeout: text_of(&d.heartbeat_timeout),
                        feed: if wired {
                            DoorFeed::Modbus
                        } else {
                            DoorFeed::Mqtt
                        }
                        .as_str()
                        .to_string(),
                    }
                })
                .collect(),
            terminals: raw
                .terminals
                .iter()
                .map(|t| {
                    let t = t.get_ref();
                    TerminalRow {
                        id: t.id.clone(),
                        room: t.room.clone(),
                        name: text_of(&t.name),
                    }
                })
                .collect(),
            systems: raw
                .systems
                .iter()
                .map(|s| {
                    let s = s.get_ref();
                    SystemRow {
                        id: s.id.clone(),
                        name: text_of(&s.name),
                        category: s.category.clone(),
                        native_mfa: s.native_mfa.to_string(),
                        renewal: text_of(&s.renewal),
                        plan: text_of(&s.plan),
                        by: text_of(&s.by),
                    }
                })
                .collect(),
            vendors: raw
                .vendors
                .iter()
                .map(|v| {
                    let v = v.get_ref();
                    VendorRow {
                        id: v.id.clone(),
                        name: text_of(&v.name),
                        maintains: v
                            .maintains
                            .iter()
                            .map(|m| MaintainsRow {
                                system: m.system.clone(),
                                remote: m.remote.to_string(),
                                route: text_of(&m.route),
                                confirmed: date_text(&m.confirmed),
                            })
                            .collect(),
                    }
                })
                .collect(),
            people: raw
                .people
                .iter()
                .map(|p| {
                    let p = p.get_ref();
                    PersonRow {
                        id: p.id.clone(),
                        name: text_of(&p.name),
                        credentials: p.credentials.clone(),
                        accounts: p
                            .accounts
                            .iter()
                            .map(|(s, a)| (s.clone(), a.clone()))
                            .collect(),
                        vendor: text_of(&p.vendor),
                        until: date_text(&p.until),
                    }
                })
                .collect(),
        };
        let span_of = |table: Table, index: usize| {
            let spans: Vec<std::ops::Range<usize>> = match table {
                Table::Rooms => raw.rooms.iter().map(Spanned::span).collect(),
                Table::Doors => raw.doors.iter().map(Spanned::span).collect(),
                Table::Terminals => raw.terminals.iter().map(Spanned::span).collect(),
                Table::Systems => raw.systems.iter().map(Spanned::span).collect(),
                Table::Vendors => raw.vendors.iter().map(Spanned::span).collect(),
                Table::People => raw.people.iter().map(Spanned::span).collect(),
            };
            spans.get(index).cloned()
        };

        let inventory = match rows.parse(Some((site.clone(), site_name.clone()))) {
            Ok(inventory) => Some(inventory),
            Err(errors) => {
                for e in errors {
                    let message = format!("[[{}]] {}", e.table, e.message());
                    match span_of(e.table, e.index) {
                        Some(span) => cx.err_key(span, e.field, message),
                        None => cx.errors.push(ConfigError {
                            file: file.to_string(),
                            line: None,
                            message,
                        }),
                    }
                }
                None
            }
        };
        match inventory {
            Some(inventory) if cx.errors.is_empty() => Ok(Config {
                server,
                limits,
                mqtt,
                site,
                site_name,
                inventory: inventory.with_offset(offset),
                modbus,
                auth,
                offset,
                maintenance,
                accounts,
                notify,
                imports,
            }),
            _ => {
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

/// `[mqtt]` url, TLS files, user and password variable: checked together, since they
/// must agree (`mqtts://` needs `ca_file`, a client key needs its certificate, a
/// password needs a user and never appears in the file).
fn parse_mqtt_access(
    cx: &mut Ctx<'_>,
    span: std::ops::Range<usize>,
    m: &RawMqtt,
    base: &Path,
) -> (Option<MqttTlsFiles>, Option<String>, Option<PasswordEnv>) {
    let tls_url = m.url.starts_with("mqtts://") || m.url.starts_with("ssl://");
    if !(tls_url || m.url.starts_with("mqtt://") || m.url.starts_with("tcp://")) {
        cx.err_key(
            span.clone(),
            "url",
            format!(
                "[mqtt] url {:?} must look like \"mqtt://127.0.0.1:1883\" (or \"mqtts://broker.example.jp:8883\" for TLS)",
                m.url
            ),
        );
    }
    let url_user = url::Url::parse(&m.url)
        .ok()
        .map(|u| (u.username().to_string(), u.password().is_some()));
    if let Some((user, has_password)) = &url_user {
        if *has_password {
            cx.err_key(
                span.clone(),
                "url",
                "[mqtt] url must not hold a password: put the user in username and the password in an environment variable named by password_env",
            );
        } else if !user.is_empty() && m.username.is_some() {
            cx.err_key(
                span.clone(),
                "username",
                "[mqtt] the user is given both in url and as username: give it once (username)",
            );
        }
    }
    if m.password.is_some() {
        cx.err_key(
            span.clone(),
            "password",
            "[mqtt] password is not read from the file (it would sit in a readable file and in backups): set password_env = \"MONBAN_MQTT_PASSWORD\" and put the password in that environment variable",
        );
    }
    let path = |cx: &mut Ctx<'_>, key: &str, v: &Option<String>| -> Option<PathBuf> {
        let v = v.as_deref()?;
        if v.trim().is_empty() {
            cx.err_key(
                span.clone(),
                key,
                format!("[mqtt] {key} must name a PEM file"),
            );
            return None;
        }
        let p = Path::new(v);
        Some(if p.is_absolute() || base.as_os_str().is_empty() {
            p.to_path_buf()
        } else {
            base.join(p)
        })
    };
    let ca = path(cx, "ca_file", &m.ca_file);
    let cert = path(cx, "client_cert", &m.client_cert);
    let key = path(cx, "client_key", &m.client_key);
    let client = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        (Some(_), None) => {
            cx.err_key(span.clone(), "client_cert", "[mqtt] client_cert is set but client_key is not: give both (PEM files), or neither");
            None
        }
        (None, Some(_)) => {
            cx.err_key(span.clone(), "client_key", "[mqtt] client_key is set but client_cert is not: give both (PEM files), or neither");
            None
        }
    };
    let tls = match (tls_url, ca) {
        (true, Some(ca)) => Some(MqttTlsFiles { ca, client }),
        (true, None) => {
            if m.ca_file.is_none() {
                cx.err_key(span.clone(), "url", "[mqtt] url is mqtts:// but ca_file is not set: give the CA certificate (PEM) that signed the broker's certificate");
            }
            None
        }
        (false, ca) => {
            if ca.is_some() || client.is_some() {
                let key = if ca.is_some() {
                    "ca_file"
                } else {
                    "client_cert"
                };
                cx.err_key(
                    span.clone(),
                    key,
                    format!("[mqtt] {key} is set but url is not TLS: use mqtts://host:8883"),
                );
            }
            None
        }
    };
    if let Some(u) = &m.username {
        if u.is_empty() || u.chars().any(char::is_control) {
            cx.err_key(
                span.clone(),
                "username",
                "[mqtt] username must be a user name without control characters",
            );
        }
    }
    let password_env = m.password_env.as_ref().and_then(|name| {
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            cx.err_key(span.clone(), "password_env", format!("[mqtt] password_env {name:?} must be the name of an environment variable, such as \"MONBAN_MQTT_PASSWORD\" (letters, digits and _), not the password"));
            return None;
        }
        if m.username.is_none() {
            cx.err_key(span.clone(), "password_env", "[mqtt] password_env is set but username is not: the broker checks a password for a user");
        }
        let line = Some(cx.line_of(cx.key_offset(span.clone(), "password_env")));
        Some(PasswordEnv { name: name.clone(), file: cx.file.clone(), line })
    });
    (tls, m.username.clone(), password_env)
}

/// `[server] tls_cert` and `tls_key`: both or neither, resolved against `base`.
fn parse_tls(
    cx: &mut Ctx<'_>,
    span: std::ops::Range<usize>,
    s: &RawServer,
    base: &Path,
) -> Option<TlsFiles> {
    let resolve = |p: &str| {
        let p = Path::new(p);
        if p.is_absolute() || base.as_os_str().is_empty() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    match (&s.tls_cert, &s.tls_key) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            for (k, v) in [("tls_cert", cert), ("tls_key", key)] {
                if v.trim().is_empty() {
                    cx.err_key(
                        span.clone(),
                        k,
                        format!("[server] {k} must name a PEM file"),
                    );
                    return None;
                }
            }
            Some(TlsFiles {
                cert: resolve(cert),
                key: resolve(key),
            })
        }
        (Some(_), None) => {
            cx.err_key(
                span,
                "tls_cert",
                "[server] tls_cert is set but tls_key is not: give both (PEM files) to serve HTTPS, or neither",
            );
            None
        }
        (None, Some(_)) => {
            cx.err_key(
                span,
                "tls_key",
                "[server] tls_key is set but tls_cert is not: give both (PEM files) to serve HTTPS, or neither",
            );
            None
        }
    }
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

/// The transport of a `[[modbus]]` entry: exactly one of `address` (TCP) and `serial`
/// (RTU, with `baud`, `parity`, `stop_bits`). `None` after reporting what is wrong.
fn modbus_transport(
    cx: &mut Ctx<'_>,
    span: std::ops::Range<usize>,
    m: &RawModbus,
    earlier: &[ModbusDevice],
) -> Option<Transport> {
    use monban_connectors::modbus::{Parity, SerialLine, StopBits};
    match (&m.address, &m.serial) {
        (Some(_), Some(_)) => {
            cx.err_key(
                span,
                "serial",
                format!(
                    "[[modbus]] for door {:?} has both address and serial: a device is on Modbus TCP (address = \"host:port\") or on a serial line (serial = \"/dev/ttyUSB0\"), not both",
                    m.door
                ),
            );
            None
        }
        (None, None) => {
            cx.err(
                span,
                format!(
                    "[[modbus]] for door {:?} needs address = \"host:port\" (Modbus TCP) or serial = \"/dev/ttyUSB0\" (Modbus RTU)",
                    m.door
                ),
            );
            None
        }
        (Some(address), None) => {
            let mut ok = true;
            if address.parse::<SocketAddr>().is_err() && !address.contains(':') {
                cx.err_key(
                    span.clone(),
                    "address",
                    format!(
                        "[[modbus]] address {address:?} must be host:port, e.g. \"127.0.0.1:5020\""
                    ),
                );
                ok = false;
            }
            for (key, set) in [
                ("baud", m.baud.is_some()),
                ("parity", m.parity.is_some()),
                ("stop_bits", m.stop_bits.is_some()),
            ] {
                if set {
                    cx.err_key(
                        span.clone(),
                        key,
                        format!(
                            "[[modbus]] {key} applies to a serial line (serial = \"...\"), not to Modbus TCP (address = {address:?})"
                        ),
                    );
                    ok = false;
                }
            }
            ok.then(|| Transport::Tcp {
                address: address.clone(),
            })
        }
        (None, Some(path)) => {
            let mut ok = true;
            if path.trim().is_empty() {
                cx.err_key(
                    span.clone(),
                    "serial",
                    "[[modbus]] serial must name the port, e.g. \"/dev/ttyUSB0\"",
                );
                ok = false;
            } else if earlier
                .iter()
                .any(|d| matches!(&d.transport, Transport::Rtu(l) if l.path == *path))
            {
                cx.err_key(
                    span.clone(),
                    "serial",
                    format!(
                        "[[modbus]] serial port {path:?} is already another [[modbus]] device's: one device per serial line (several units on one RS-485 bus are not supported)"
                    ),
                );
                ok = false;
            }
            let baud = m.baud.unwrap_or(9600);
            if baud == 0 {
                cx.err_key(
                    span.clone(),
                    "baud",
                    "[[modbus]] baud must be above 0, e.g. 9600",
                );
                ok = false;
            }
            let parity = match m.parity.as_deref().map(str::parse::<Parity>) {
                None => Parity::None,
                Some(Ok(p)) => p,
                Some(Err(e)) => {
                    cx.err_key(span.clone(), "parity", format!("[[modbus]] {e}"));
                    ok = false;
                    Parity::None
                }
            };
            let stop_bits = match m.stop_bits {
                None | Some(1) => StopBits::One,
                Some(2) => StopBits::Two,
                Some(n) => {
                    cx.err_key(
                        span,
                        "stop_bits",
                        format!("[[modbus]] stop_bits {n} must be 1 or 2"),
                    );
                    ok = false;
                    StopBits::One
                }
            };
            ok.then(|| {
                Transport::Rtu(SerialLine {
                    path: path.clone(),
                    baud,
                    parity,
                    stop_bits,
                })
            })
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

/// Whether `url` (`[server] database`) names a PostgreSQL server.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
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

    /// CONTRACT §4: vendors with the systems they maintain, a person's vendor and last
    /// day (quoted or as a bare TOML date); a vendor naming an unknown system, a person
    /// naming an unknown vendor and a bad date point at their lines.
    #[test]
    fn vendors_and_last_days() {
        let vendors = r#"
[[vendors]]
id = "acme-med"
name = "アクメ医療システム株式会社"

[[vendors.maintains]]
system = "ehr"
remote = true
route = "保守用VPN (IPsec)"
confirmed = "2026-10-01"

[[people]]
id = "v001"
name = "保守 太郎"
vendor = "acme-med"
until = 2027-03-31
credentials = ["card:0A0B0C0D"]
accounts = { ehr = "acme-maint01" }
"#;
        let text = format!("{EXAMPLE}{vendors}");
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        let v = &c.inventory.vendors()[0];
        assert_eq!(v.id.as_str(), "acme-med");
        assert_eq!(v.maintains[0].route.as_deref(), Some("保守用VPN (IPsec)"));
        assert_eq!(
            v.maintains[0].confirmed.map(|d| d.to_string()).as_deref(),
            Some("2026-10-01")
        );
        let p = &c.inventory.people()[1];
        assert_eq!(p.vendor.as_ref(), Some(&v.id));
        assert_eq!(
            p.until.map(|d| d.to_string()).as_deref(),
            Some("2027-03-31")
        );

        for (from, to, wanted) in [
            (
                "system = \"ehr\"\nremote",
                "system = \"pacs\"\nremote",
                "pacs",
            ),
            ("vendor = \"acme-med\"", "vendor = \"acme\"", "acme"),
            ("until = 2027-03-31", "until = \"2027-02-30\"", "2027-02-30"),
        ] {
            let bad = text.replace(from, to);
            let e = Config::parse(&bad, "monban.toml", Path::new(""))
                .unwrap_err()
                .to_string();
            assert!(e.contains(wanted) && e.starts_with("monban.toml:"), "{e}");
        }
    }

    /// CONTRACT §4: a system's `plan` and `by` (optional); a bad value points at its line.
    #[test]
    fn system_plan_and_month() {
        let c = Config::parse(EXAMPLE, "monban.toml", Path::new("")).unwrap();
        let s = &c.inventory.systems()[0];
        assert_eq!((s.plan, s.by), (None, None));
        let text = EXAMPLE.replace(
            "renewal = \"2027-04\"",
            "renewal = \"2027-04\"\nplan = \"combined_measures\"\nby = \"2027-03\"",
        );
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        let s = &c.inventory.systems()[0];
        assert_eq!(s.plan, Some(monban_core::Plan::CombinedMeasures));
        assert_eq!(s.by.map(|b| b.to_string()).as_deref(), Some("2027-03"));
        let line_of = |needle: &str| text.lines().position(|l| l == needle).unwrap() + 1;
        for (from, to, line) in [
            (
                "plan = \"combined_measures\"",
                "plan = \"mfa\"",
                "plan = \"combined_measures\"",
            ),
            ("by = \"2027-03\"", "by = \"2027-3\"", "by = \"2027-03\""),
        ] {
            let e = Config::parse(&text.replace(from, to), "monban.toml", Path::new(""))
                .unwrap_err()
                .to_string();
            let at = format!("monban.toml:{}:", line_of(line));
            assert!(e.contains(&at), "{e} (wanted {at})");
        }
    }

    /// CONTRACT §4: `[site] timezone`, `[maintenance]` and `[accounts]`, their defaults,
    /// and mistakes in them pointing at their lines.
    #[test]
    fn timezone_maintenance_and_accounts() {
        let c = Config::parse(EXAMPLE, "monban.toml", Path::new("")).unwrap();
        assert_eq!(c.offset.to_string(), "+09:00");
        assert_eq!(c.maintenance, MaintenanceSettings::default());
        assert_eq!(c.accounts.dormant_after.as_millis(), 90 * 86_400_000);
        assert_eq!(
            c.accounts.review_every,
            monban_core::account_review::DEFAULT_REVIEW_EVERY
        );
        let text = EXAMPLE.replace(
            "name = \"東京総合病院\"",
            "name = \"東京総合病院\"\ntimezone = \"+07:00\"",
        ) + "\n[maintenance]\nmax_window = \"12h\"\nreport_due = \"3d\"\n\n[accounts]\ndormant_after = \"30d\"\nreview_every = \"6months\"\n";
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        assert_eq!(c.offset.to_string(), "+07:00");
        assert_eq!(c.inventory.offset(), c.offset);
        assert_eq!(c.maintenance.max_window.as_millis(), 12 * 3_600_000);
        assert_eq!(c.maintenance.report_due.as_millis(), 3 * 86_400_000);
        assert_eq!(c.accounts.dormant_after.as_millis(), 30 * 86_400_000);
        assert_eq!(c.accounts.review_every.as_millis(), 6 * 2_630_016_000);
        for (from, to, wanted) in [
            ("\"+07:00\"", "\"JST\"", "[site] timezone"),
            ("\"12h\"", "\"soon\"", "[maintenance] max_window"),
            ("\"3d\"", "\"-1d\"", "[maintenance] report_due"),
            ("\"30d\"", "\"30\"", "[accounts] dormant_after"),
            ("\"6months\"", "\"half a year\"", "[accounts] review_every"),
            ("report_due", "report_after", "report_after"),
        ] {
            let e = Config::parse(&text.replace(from, to), "monban.toml", Path::new(""))
                .unwrap_err()
                .to_string();
            assert!(e.contains(wanted) && e.starts_with("monban.toml:"), "{e}");
        }
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
        // The line of the field itself (`room = "ward9"`), from core's structured error.
        assert!(e.starts_with("monban.toml:24:"), "{e}");
        assert!(e.contains("ward9") && e.contains("[[doors]]"), "{e}");

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

    /// EXAMPLE with a `[[modbus]]` entry for ward3-main appended; also the line of
    /// the key after `door`.
    fn with_modbus(keys: &str) -> (String, usize) {
        let text = format!("{EXAMPLE}\n[[modbus]]\ndoor = \"ward3-main\"\n{keys}");
        let line = EXAMPLE.lines().count() + 4;
        (text, line)
    }

    fn modbus_error(keys: &str) -> (String, usize) {
        let (text, line) = with_modbus(keys);
        let e = Config::parse(&text, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        (e, line)
    }

    #[test]
    fn modbus_tcp_and_rtu_parse() {
        use monban_connectors::modbus::{Parity, SerialLine, StopBits};
        let (text, _) = with_modbus("address = \"10.0.0.5:502\"\nunit = 3\n");
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        assert_eq!(
            c.modbus[0].transport,
            Transport::Tcp {
                address: "10.0.0.5:502".into()
            }
        );
        assert_eq!(c.modbus[0].unit, 3);

        let (text, _) = with_modbus("serial = \"/dev/ttyUSB0\"\n");
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        assert_eq!(
            c.modbus[0].transport,
            Transport::Rtu(SerialLine::new("/dev/ttyUSB0", 9600))
        );
        assert_eq!(c.modbus[0].unit, 1);
        assert_eq!(c.modbus[0].timeout.as_millis(), 2000);

        let (text, _) = with_modbus(
            "serial = \"/dev/ttyS1\"\nbaud = 19200\nparity = \"even\"\nstop_bits = 2\nunit = 7\npoll = \"250ms\"\n",
        );
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        assert_eq!(
            c.modbus[0].transport,
            Transport::Rtu(SerialLine {
                path: "/dev/ttyS1".into(),
                baud: 19200,
                parity: Parity::Even,
                stop_bits: StopBits::Two,
            })
        );
        assert_eq!(c.modbus[0].unit, 7);
        assert_eq!(c.modbus[0].poll.as_millis(), 250);
        let (text, _) = with_modbus("serial = \"/dev/ttyS1\"\nparity = \"odd\"\n");
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        assert!(matches!(&c.modbus[0].transport, Transport::Rtu(l) if l.parity == Parity::Odd));
    }

    #[test]
    fn modbus_transport_errors_name_their_lines() {
        // Exactly one of address and serial.
        let (e, line) = modbus_error("address = \"10.0.0.5:502\"\nserial = \"/dev/ttyUSB0\"\n");
        assert!(
            e.contains(&format!("monban.toml:{}:", line + 1)) && e.contains("not both"),
            "{e}"
        );
        let (e, line) = modbus_error("unit = 2\n");
        assert!(
            e.contains(&format!("monban.toml:{}:", line - 2))
                && e.contains("needs address = \"host:port\" (Modbus TCP) or serial ="),
            "{e}"
        );
        // Serial settings on a TCP device.
        let (e, line) = modbus_error("address = \"10.0.0.5:502\"\nbaud = 9600\n");
        assert!(
            e.contains(&format!("monban.toml:{}:", line + 1))
                && e.contains("baud applies to a serial line"),
            "{e}"
        );
        // Bad serial settings, each at its own line.
        let (e, line) =
            modbus_error("serial = \"/dev/ttyUSB0\"\nparity = \"mark\"\nstop_bits = 3\nbaud = 0\n");
        assert!(
            e.contains(&format!("monban.toml:{}:", line + 1))
                && e.contains("parity \"mark\" must be none, even or odd"),
            "{e}"
        );
        assert!(
            e.contains(&format!("monban.toml:{}:", line + 2))
                && e.contains("stop_bits 3 must be 1 or 2"),
            "{e}"
        );
        assert!(
            e.contains(&format!("monban.toml:{}:", line + 3)) && e.contains("baud must be above 0"),
            "{e}"
        );
        let (e, _) = modbus_error("serial = \" \"\n");
        assert!(e.contains("serial must name the port"), "{e}");
        let (e, line) = modbus_error("serial = \"/dev/ttyUSB0\"\nbaud = \"fast\"\n");
        assert!(
            e.contains(&format!("monban.toml:{}:", line + 1)) && e.contains("expected u32"),
            "{e}"
        );
        // The address check still applies.
        let (e, line) = modbus_error("address = \"nowhere\"\n");
        assert!(
            e.contains(&format!("monban.toml:{line}:")) && e.contains("must be host:port"),
            "{e}"
        );
    }

    #[test]
    fn a_serial_line_carries_one_modbus_device() {
        let text = EXAMPLE.replace(
            "[[terminals]]",
            "[[doors]]\nid = \"ward3-back\"\nroom = \"ward3\"\n\n[[terminals]]",
        );
        let text = format!(
            "{text}\n[[modbus]]\ndoor = \"ward3-main\"\nserial = \"/dev/ttyUSB0\"\n\n[[modbus]]\ndoor = \"ward3-back\"\nserial = \"/dev/ttyUSB0\"\nunit = 2\n"
        );
        let e = Config::parse(&text, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        let line = text.lines().count() - 1;
        assert!(
            e.contains(&format!("monban.toml:{line}:")) && e.contains("one device per serial line"),
            "{e}"
        );
    }

    /// EXAMPLE with `[mqtt]` url and the keys after `client_id` (line 10 on).
    fn with_mqtt(url: &str, keys: &str) -> String {
        EXAMPLE
            .replace(
                "url = \"mqtt://127.0.0.1:1883\"",
                &format!("url = \"{url}\""),
            )
            .replace(
                "client_id = \"monban-hub\"\n",
                &format!("client_id = \"monban-hub\"\n{keys}"),
            )
    }

    fn mqtt_error(url: &str, keys: &str) -> String {
        Config::parse(
            &with_mqtt(url, keys),
            "monban.toml",
            Path::new("/etc/monban"),
        )
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn mqtt_tls_and_login_keys() {
        let c = Config::parse(EXAMPLE, "monban.toml", Path::new("/etc/monban")).unwrap();
        let m = c.mqtt.unwrap();
        assert_eq!((m.tls, m.username, m.password_env), (None, None, None));

        let text = with_mqtt(
            "mqtts://broker.example.jp:8883",
            "ca_file = \"tls/ca.pem\"\nclient_cert = \"/secure/hub.pem\"\nclient_key = \"hub.key\"\nusername = \"monban-hub\"\npassword_env = \"MONBAN_MQTT_PASSWORD\"\n",
        );
        let c = Config::parse(&text, "monban.toml", Path::new("/etc/monban")).unwrap();
        let m = c.mqtt.unwrap();
        assert_eq!(
            m.tls,
            Some(MqttTlsFiles {
                ca: PathBuf::from("/etc/monban/tls/ca.pem"),
                client: Some(TlsFiles {
                    cert: PathBuf::from("/secure/hub.pem"),
                    key: PathBuf::from("/etc/monban/hub.key"),
                }),
            })
        );
        assert_eq!(m.username.as_deref(), Some("monban-hub"));
        let env = |name: &str| (name == "MONBAN_MQTT_PASSWORD").then(|| "s3cret".to_string());
        assert_eq!(m.password(env).unwrap().unwrap().expose(), "s3cret");
        // Not set, or empty: an error at the line of password_env that names the
        // variable, never a password.
        let e = m.password(|_| None).unwrap_err().to_string();
        assert!(
            e.starts_with("monban.toml:14:")
                && e.contains("MONBAN_MQTT_PASSWORD")
                && e.contains("not set"),
            "{e}"
        );
        let e = m.password(|_| Some(String::new())).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        // A CA alone is enough for TLS; ssl:// is mqtts://.
        let text = with_mqtt("ssl://broker:8883", "ca_file = \"ca.pem\"\n");
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        assert_eq!(c.mqtt.unwrap().tls.unwrap().ca, PathBuf::from("ca.pem"));
    }

    #[test]
    fn mqtt_tls_and_login_mistakes_are_located() {
        let tls = "mqtts://broker:8883";
        for (url, keys, line, says) in [
            // A password in the file, in either form, points to password_env.
            (
                tls,
                "ca_file = \"ca.pem\"\npassword = \"s3cret\"\n",
                11,
                "password_env",
            ),
            ("mqtt://hub:s3cret@broker:1883", "", 8, "password_env"),
            (tls, "", 8, "ca_file is not set"),
            (
                "mqtt://broker:1883",
                "ca_file = \"ca.pem\"\n",
                10,
                "use mqtts://",
            ),
            (
                tls,
                "ca_file = \"ca.pem\"\nclient_cert = \"hub.pem\"\n",
                11,
                "client_key is not",
            ),
            (
                tls,
                "ca_file = \"ca.pem\"\nclient_key = \"hub.key\"\n",
                11,
                "client_cert is not",
            ),
            (tls, "ca_file = \"\"\n", 10, "must name a PEM file"),
            (
                tls,
                "ca_file = \"ca.pem\"\npassword_env = \"MONBAN_MQTT_PASSWORD\"\n",
                11,
                "username is not",
            ),
            (
                tls,
                "ca_file = \"ca.pem\"\nusername = \"hub\"\npassword_env = \"hunter 2\"\n",
                12,
                "name of an environment variable",
            ),
            (
                "mqtt://hub@broker",
                "username = \"hub\"\n",
                10,
                "both in url and as username",
            ),
            ("http://broker", "", 8, "must look like"),
            (
                tls,
                "ca_file = \"ca.pem\"\ncafile = \"ca.pem\"\n",
                11,
                "unknown field `cafile`",
            ),
        ] {
            let e = mqtt_error(url, keys);
            assert!(
                e.contains(&format!("monban.toml:{line}:")) && e.contains(says),
                "{url} {keys:?}: expected line {line} and {says:?}: {e}"
            );
            assert!(!e.contains("s3cret"), "the password is echoed: {e}");
        }
    }

    #[test]
    fn tls_files_resolve_against_the_config_directory() {
        let c = Config::parse(EXAMPLE, "monban.toml", Path::new("/etc/monban")).unwrap();
        assert_eq!(c.server.tls, None);
        assert!(!c.server.tls_enabled());
        assert!(c.server.trusted_proxies.is_empty());

        let text = EXAMPLE.replace(
            "grace = \"60s\"\n",
            "grace = \"60s\"\ntls_cert = \"tls/cert.pem\"\ntls_key = \"/secure/key.pem\"\ntrusted_proxies = [\"127.0.0.1\", \"::1\"]\n",
        );
        let c = Config::parse(&text, "monban.toml", Path::new("/etc/monban")).unwrap();
        assert!(c.server.tls_enabled());
        assert_eq!(
            c.server.tls,
            Some(TlsFiles {
                cert: PathBuf::from("/etc/monban/tls/cert.pem"),
                key: PathBuf::from("/secure/key.pem"),
            })
        );
        assert_eq!(
            c.server.trusted_proxies,
            vec![
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse::<IpAddr>().unwrap()
            ]
        );
    }

    #[test]
    fn tls_needs_both_files_and_proxies_must_be_addresses() {
        let text = EXAMPLE.replace(
            "grace = \"60s\"\n",
            "grace = \"60s\"\ntls_cert = \"cert.pem\"\n",
        );
        let e = Config::parse(&text, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("monban.toml:6:") && e.contains("tls_cert is set but tls_key is not"),
            "{e}"
        );
        let text = EXAMPLE.replace(
            "grace = \"60s\"\n",
            "grace = \"60s\"\ntls_key = \"key.pem\"\n",
        );
        let e = Config::parse(&text, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("monban.toml:6:") && e.contains("tls_key is set but tls_cert is not"),
            "{e}"
        );
        let text = EXAMPLE.replace(
            "grace = \"60s\"\n",
            "grace = \"60s\"\ntrusted_proxies = [\"proxy.local\"]\n",
        );
        let e = Config::parse(&text, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("monban.toml:6:") && e.contains("\"proxy.local\" is not an IP address"),
            "{e}"
        );
        let text = EXAMPLE.replace("grace = \"60s\"\n", "grace = \"60s\"\ntls = true\n");
        let e = Config::parse(&text, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("monban.toml:") && e.contains("tls"), "{e}");
    }

    #[test]
    fn auth_defaults_settings_and_errors() {
        let c = Config::parse(EXAMPLE, "monban.toml", Path::new("")).unwrap();
        assert_eq!(c.auth, AuthSettings::default());
        assert_eq!(c.auth.session_idle, Span::from_secs(1800));
        let text = format!(
            "{EXAMPLE}\n[auth]\norigin = \"https://monban.example.jp\"\nsession_idle = \"10m\"\nsession_max = \"8h\"\ninvite_ttl = \"1h\"\nstep_up_ttl = \"90s\"\n"
        );
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        assert_eq!(
            c.auth.origin.as_ref().map(|u| u.as_str()),
            Some("https://monban.example.jp/")
        );
        assert_eq!(c.auth.session_max, Span::from_secs(8 * 3600));
        assert_eq!(c.auth.step_up_ttl, Span::from_secs(90));
        for bad in [
            "origin = \"monban.example.jp\"",
            "origin = \"https://monban.example.jp/dashboard\"",
            "session_idle = \"soon\"",
            "session_max = \"0s\"",
            "password = \"x\"",
        ] {
            let text = format!("{EXAMPLE}\n[auth]\n{bad}\n");
            let e = Config::parse(&text, "monban.toml", Path::new(""))
                .unwrap_err()
                .to_string();
            assert!(e.contains("monban.toml:"), "{bad}: {e}");
        }
    }

    #[test]
    fn limits_default_parse_and_reject_unknown_keys() {
        let c = Config::parse(EXAMPLE, "monban.toml", Path::new("")).unwrap();
        assert_eq!(c.limits, LimitSettings::default());
        assert_eq!(c.limits.signin_per_minute, 30);
        assert_eq!(c.limits.ingest_per_second, 1000);

        let text = format!("{EXAMPLE}\n[limits]\nsignin_per_minute = 5\ningest_per_second = 0\n");
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        assert_eq!(
            c.limits,
            LimitSettings {
                signin_per_minute: 5,
                ingest_per_second: 0,
                ..LimitSettings::default()
            }
        );
        let text = format!("{EXAMPLE}\n[limits]\nsignin_per_minute = 5\n");
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        assert_eq!(c.limits.ingest_per_second, 1000);
        let text =
            format!("{EXAMPLE}\n[limits]\nmax_connections = 16\nheader_read_timeout = \"2s\"\n");
        let c = Config::parse(&text, "monban.toml", Path::new("")).unwrap();
        assert_eq!(c.limits.max_connections, 16);
        assert_eq!(c.limits.header_read_timeout, Span::from_secs(2));
        for bad in ["max_connections = 0", "header_read_timeout = \"soon\""] {
            let text = format!("{EXAMPLE}\n[limits]\n{bad}\n");
            let e = Config::parse(&text, "monban.toml", Path::new(""))
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(e.to_string().contains("[limits]"), "{e}");
        }

        let line = EXAMPLE.lines().count() + 4;
        let text = format!("{EXAMPLE}\n[limits]\nsignin_per_minute = 5\nlogin_per_second = 3\n");
        let e = Config::parse(&text, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("monban.toml:{line}:")) && e.contains("login_per_second"),
            "{e}"
        );
        let text = format!("{EXAMPLE}\n[limits]\ningest_per_second = -1\n");
        let e = Config::parse(&text, "monban.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("monban.toml:{}:", line - 1)), "{e}");
    }

    #[test]
    fn missing_site_is_an_error() {
        let e = Config::parse("", "m.toml", Path::new(""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("[site] is missing"), "{e}");
    }
}
