//! The harness: starts the real `monban` binary on a fresh site and talks to it over HTTP.
//!
//! [`spawn_hub`] writes a `monban.toml` for a small hospital into a temporary directory,
//! picks a free port, issues tokens with the real command line (`token issue`), starts
//! `monban serve` as a child process with its log captured to `hub.log`, and waits for
//! `/healthz` with a deadline. The returned [`Hub`] has typed helpers for the API and
//! kills the child when dropped; when the test is failing, the hub's log is printed.
//!
//! # The hospital ([`HOSPITAL`])
//!
//! | room | controlled | max_presence | alarm_hold | doors | terminals |
//! |---|---|---|---|---|---|
//! | `ward3` | yes | 12h | 15m | `ward3-main`, `ward3-back` | `ward3-pc01` |
//! | `pharmacy` | yes | 1h | 10m | `pharmacy-door` | `pharmacy-pc01` |
//! | `lobby` | no | — | — | — | `lobby-kiosk` |
//!
//! Systems: `ehr` (no native MFA), `vpn` (native MFA), `pacs` (never logs anyone in).
//! People: `p0001` nurse (card `04A1B2C3`, biometric `P0001`; ehr `nurse01`, vpn
//! `nurse01`), `p0002` pharmacist (pin `7788`; ehr `pharm02`), `p0003` doctor (card_pin
//! `CP0003`; ehr `doc03`), `p0004` technician (biometric `B0004`; ehr `tech04`), `p0005`
//! clerk (mobile `M0005`; no account).
//!
//! # Time
//!
//! Event times are built from [`Base`], an hour boundary a day before the test runs, so
//! that tests do not depend on the calendar and stay well inside the hub's memory horizon.
//! [`Base::at`] renders a time with any offset (`+09:00`, `Z`, `-05:00`); [`Base::z`]
//! the UTC form the hub must answer with.

use chrono::{
    DateTime, Duration as ChronoDuration, FixedOffset, SecondsFormat, TimeZone, Timelike, Utc,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a condition may take to come true (a hub to start, a message to arrive): generous,
/// for a loaded 2-core CI machine; a passing test never waits for it.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The binary under test: `$MONBAN_BIN`, else `target/debug/monban` of this workspace.
pub fn monban_bin() -> PathBuf {
    let path = std::env::var_os("MONBAN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/debug/monban"
            ))
        });
    assert!(
        path.exists(),
        "the monban binary is missing at {}: build it first: cargo build -p monban-server",
        path.display()
    );
    path
}

/// A short random suffix, so tests never share sites, client ids or MQTT sessions.
pub fn unique(prefix: &str) -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.write_u32(std::process::id());
    format!("{prefix}-{:08x}", h.finish() as u32)
}

/// `MONBAN_TEST_POSTGRES_URL`: a PostgreSQL server on which the tests may create and
/// drop databases (`.ci/run` sets it to the machine's server). Unset: PostgreSQL tests
/// skip with a printed reason.
pub fn postgres_url() -> Option<String> {
    std::env::var("MONBAN_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Whether every hub of this run keeps its store on PostgreSQL: `MONBAN_E2E_STORE=postgres`
/// (with `MONBAN_TEST_POSTGRES_URL`); `.ci/run` runs the store-heavy suites so a second
/// time.
pub fn hubs_on_postgres() -> bool {
    std::env::var("MONBAN_E2E_STORE").as_deref() == Ok("postgres")
}

/// `url` with its database (the path) replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let mut u = url::Url::parse(url)
        .unwrap_or_else(|e| panic!("MONBAN_TEST_POSTGRES_URL {url:?} is not a URL: {e}"));
    u.set_path(&format!("/{database}"));
    u.to_string()
}

/// Creates an empty database for one hub on the server of [`postgres_url`]; returns its
/// URL. Dropped again when the hub is.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let admin = postgres_url().expect(
        "MONBAN_E2E_STORE=postgres needs MONBAN_TEST_POSTGRES_URL (for example \
         postgres://postgres@127.0.0.1:5432/test)",
    );
    let name = unique("monban_e2e").replace('-', "_");
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("connect to {admin}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let _ = conn.close().await;
    with_database(&admin, &name)
}

/// Drops a database made by [`fresh_postgres_database`] (best effort: a failing test
/// still cleans up; a leftover is named `monban_e2e_*`).
fn drop_postgres_database(url: &str) {
    use sqlx::Connection;
    let (Some(admin), Ok(u)) = (postgres_url(), url::Url::parse(url)) else {
        return;
    };
    let name = u.path().trim_start_matches('/').to_string();
    if !name.starts_with("monban_e2e_") {
        return;
    }
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    rt.block_on(async {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    });
}

/// A free TCP port on 127.0.0.1 (bound, read and released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `deadline`.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < until,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------- time

/// The origin of a test's event times: an hour boundary a day ago (UTC).
#[derive(Debug, Clone, Copy)]
pub struct Base(DateTime<Utc>);

impl Base {
    /// An hour boundary a day before now.
    pub fn new() -> Base {
        Base::days_ago(1)
    }

    /// An hour boundary `days` days before now.
    pub fn days_ago(days: i64) -> Base {
        let t = Utc::now() - ChronoDuration::days(days);
        let t = t
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .expect("an hour boundary");
        Base(t)
    }

    /// An arbitrary instant as the base (e.g. "now" for bare status words).
    pub fn from_instant(t: DateTime<Utc>) -> Base {
        Base(t)
    }

    fn instant(self, seconds: i64) -> DateTime<Utc> {
        self.0 + ChronoDuration::seconds(seconds)
    }

    /// The instant `seconds` after the base.
    #[allow(dead_code)] // used by the browser tests, which share this file
    pub fn instant_at(self, seconds: i64) -> DateTime<Utc> {
        self.instant(seconds)
    }

    /// `minutes` after the base, written with a UTC offset of `offset_hours`
    /// (`9` → `+09:00`, `0` → `Z`, `-5` → `-05:00`).
    pub fn at(self, minutes: i64, offset_hours: i32) -> String {
        self.at_secs(minutes * 60, offset_hours)
    }

    /// Like [`Base::at`], to the second.
    pub fn at_secs(self, seconds: i64, offset_hours: i32) -> String {
        let t = self.instant(seconds);
        if offset_hours == 0 {
            return t.to_rfc3339_opts(SecondsFormat::Secs, true);
        }
        let tz = FixedOffset::east_opt(offset_hours * 3600).expect("a valid offset");
        tz.from_utc_datetime(&t.naive_utc())
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    }

    /// `minutes` after the base in the hub's answer form: UTC with `Z`.
    pub fn z(self, minutes: i64) -> String {
        self.z_secs(minutes * 60)
    }

    pub fn z_secs(self, seconds: i64) -> String {
        self.instant(seconds)
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// Parses an RFC 3339 time, so answers can be compared as instants.
pub fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s:?} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------- payloads

/// An `access_granted` event (CONTRACT §5) for HTTP, with `door`.
pub fn access(
    door: &str,
    event_id: &str,
    ts: &str,
    direction: &str,
    cred_type: &str,
    cred_id: &str,
) -> Value {
    json!({
        "door": door, "event_id": event_id, "ts": ts, "kind": "access_granted",
        "direction": direction, "credential": {"type": cred_type, "id": cred_id}
    })
}

/// An entry (`access_granted`, direction `in`).
pub fn entry(door: &str, event_id: &str, ts: &str, cred_type: &str, cred_id: &str) -> Value {
    access(door, event_id, ts, "in", cred_type, cred_id)
}

/// A door event of a kind without a credential (`door_forced`, `tamper`, …).
pub fn door_event(door: &str, event_id: &str, ts: &str, kind: &str) -> Value {
    json!({"door": door, "event_id": event_id, "ts": ts, "kind": kind})
}

/// A login (CONTRACT §7).
pub fn login(
    event_id: &str,
    ts: &str,
    system: &str,
    account: &str,
    terminal: &str,
    factors: &[&str],
    outcome: &str,
) -> Value {
    json!({
        "event_id": event_id, "ts": ts, "system": system, "account": account,
        "terminal": terminal, "factors": factors, "outcome": outcome
    })
}

/// A successful ehr login.
pub fn ehr_login(
    event_id: &str,
    ts: &str,
    account: &str,
    terminal: &str,
    factors: &[&str],
) -> Value {
    login(event_id, ts, "ehr", account, terminal, factors, "success")
}

/// The body of the MQTT form of a door event: the HTTP form without `door`.
pub fn mqtt_payload(event: &Value) -> Vec<u8> {
    let mut e = event.clone();
    if let Some(o) = e.as_object_mut() {
        o.remove("door");
    }
    serde_json::to_vec(&e).expect("json")
}

// ---------------------------------------------------------------- configuration

/// The inventory of the test hospital (see the module docs).
pub const HOSPITAL: &str = r#"
[[rooms]]
id = "ward3"
name = "3F ナースステーション"
controlled = true
max_presence = "12h"
alarm_hold = "15m"

[[rooms]]
id = "pharmacy"
name = "薬剤部"
controlled = true
max_presence = "1h"
alarm_hold = "10m"

[[rooms]]
id = "lobby"
name = "1F ロビー"
controlled = false

[[doors]]
id = "ward3-main"
room = "ward3"

[[doors]]
id = "ward3-back"
room = "ward3"

[[doors]]
id = "pharmacy-door"
room = "pharmacy"

[[terminals]]
id = "ward3-pc01"
room = "ward3"

[[terminals]]
id = "pharmacy-pc01"
room = "pharmacy"

[[terminals]]
id = "lobby-kiosk"
room = "lobby"

[[systems]]
id = "ehr"
name = "電子カルテ"
category = "ehr"
native_mfa = false
renewal = "2027-04"

[[systems]]
id = "vpn"
name = "リモート保守VPN"
category = "vpn"
native_mfa = true

[[systems]]
id = "pacs"
name = "画像システム"
category = "departmental"
native_mfa = false

[[people]]
id = "p0001"
name = "看護師 一郎"
credentials = ["card:04A1B2C3", "biometric:P0001"]
accounts = { ehr = "nurse01", vpn = "nurse01" }

[[people]]
id = "p0002"
name = "薬剤師 二郎"
credentials = ["pin:7788"]
accounts = { ehr = "pharm02" }

[[people]]
id = "p0003"
name = "医師 三郎"
credentials = ["card_pin:CP0003"]
accounts = { ehr = "doc03" }

[[people]]
id = "p0004"
name = "技師 四郎"
credentials = ["biometric:B0004"]
accounts = { ehr = "tech04" }

[[people]]
id = "p0005"
name = "事務 五郎"
credentials = ["mobile:M0005"]
"#;

/// How to start a hub.
#[derive(Debug, Clone)]
pub struct HubOptions {
    /// `[server] grace`.
    pub grace: String,
    /// `[mqtt] url`; `None` leaves MQTT out.
    pub mqtt_url: Option<String>,
    /// `[site] id` (also the MQTT topic segment); unique per test.
    pub site: String,
    /// `[mqtt] client_id`; unique per test.
    pub client_id: String,
    /// TOML appended after the hospital (more `[[doors]]`, `[[modbus]]`,
    /// `[[mqtt.sources]]`, …).
    pub extra: String,
    /// `[limits] signin_per_minute`: high by default, since every test signs in from
    /// 127.0.0.1; the rate-limit test sets it low.
    pub signin_per_minute: u32,
    /// `[server] database`: `None` is `sqlite://monban.db` in the hub's directory, or a
    /// fresh PostgreSQL database when the run says so ([`hubs_on_postgres`]).
    pub database: Option<String>,
    /// More keys of `[server]` (e.g. `trusted_proxies = ["127.0.0.1"]`).
    pub server_extra: String,
    /// More keys of `[site]` (e.g. `timezone = "+09:00"`).
    pub site_extra: String,
    /// More keys of `[limits]` (e.g. `header_read_timeout = "1s"`).
    pub limits_extra: String,
    /// Environment variables of `monban serve`, set after the harness's own (so
    /// `RUST_LOG` may be overridden); e.g. the MQTT password of `[mqtt] password_env`.
    pub env: Vec<(String, String)>,
}

impl Default for HubOptions {
    fn default() -> Self {
        HubOptions {
            grace: "10m".into(),
            mqtt_url: None,
            site: unique("site"),
            client_id: unique("hub"),
            extra: String::new(),
            signin_per_minute: 100_000,
            database: None,
            server_extra: String::new(),
            site_extra: String::new(),
            limits_extra: String::new(),
            env: Vec::new(),
        }
    }
}

impl HubOptions {
    pub fn grace(mut self, grace: &str) -> Self {
        self.grace = grace.into();
        self
    }
    pub fn mqtt(mut self, url: &str) -> Self {
        self.mqtt_url = Some(url.into());
        self
    }
    /// `[server] database`.
    pub fn database(mut self, url: &str) -> Self {
        self.database = Some(url.into());
        self
    }
    /// Sets an environment variable of `monban serve`.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }
    /// Appends TOML to the configuration.
    pub fn extra(mut self, toml: &str) -> Self {
        self.extra.push('\n');
        self.extra.push_str(toml);
        self
    }
}

/// The whole `monban.toml` for these options.
pub fn config_text(opts: &HubOptions, port: u16) -> String {
    let mut s = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndatabase = \"{}\"\ngrace = \"{}\"\n{}\n\n",
        opts.database.as_deref().unwrap_or("sqlite://monban.db"),
        opts.grace,
        opts.server_extra
    );
    if let Some(url) = &opts.mqtt_url {
        s.push_str(&format!(
            "[mqtt]\nurl = \"{url}\"\nclient_id = \"{}\"\n\n",
            opts.client_id
        ));
    }
    s.push_str(&format!(
        "[limits]\nsignin_per_minute = {}\n{}\n\n",
        opts.signin_per_minute, opts.limits_extra
    ));
    s.push_str(&format!(
        "[site]\nid = \"{}\"\nname = \"テスト総合病院\"\n{}\n",
        opts.site, opts.site_extra
    ));
    s.push_str(HOSPITAL);
    s.push_str(&opts.extra);
    s
}

// ---------------------------------------------------------------- the command line

/// What a `monban` command printed.
#[derive(Debug)]
pub struct CliOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `monban --config FILE ARGS…` to completion.
pub fn monban(config: &Path, args: &[&str]) -> CliOutput {
    let out = Command::new(monban_bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("MONBAN_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run monban");
    CliOutput {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Issues a token with the command line and returns it (the single line on stdout).
pub fn issue_token(config: &Path, args: &[&str]) -> String {
    let mut full = vec!["token", "issue"];
    full.extend_from_slice(args);
    let out = monban(config, &full);
    assert!(out.status.success(), "token issue {args:?} failed: {out:?}");
    out.stdout.trim_end_matches('\n').to_string()
}

/// The tokens a test hub is given.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub ehr: String,
    pub vpn: String,
    pub pacs: String,
    pub doors: String,
    pub auditor: String,
}

// ---------------------------------------------------------------- the hub

/// A running `monban serve` (or one between a stop and a start).
pub struct Hub {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub opts: HubOptions,
    pub base_url: String,
    pub tokens: Tokens,
    http: reqwest::Client,
    child: Option<Child>,
    starts: usize,
    /// Processes that feed this hub (simulators); killed with it.
    pub feeders: Vec<Child>,
    /// A signed-in officer, made on first use (see [`Hub::officer`]).
    officer: tokio::sync::OnceCell<crate::passkeys::Session>,
}

/// Starts a hub with the given options and waits until it is healthy.
pub async fn spawn_hub(mut opts: HubOptions) -> Hub {
    if opts.database.is_none() && hubs_on_postgres() {
        opts.database = Some(fresh_postgres_database().await);
    }
    let dir = tempfile::Builder::new()
        .prefix("monban-e2e-")
        .tempdir()
        .expect("temp dir");
    let port = free_port();
    let config = dir.path().join("monban.toml");
    std::fs::write(&config, config_text(&opts, port)).expect("write monban.toml");
    let tokens = Tokens {
        ehr: issue_token(&config, &["--system", "ehr"]),
        vpn: issue_token(&config, &["--system", "vpn"]),
        pacs: issue_token(&config, &["--system", "pacs"]),
        doors: issue_token(&config, &["--doors"]),
        auditor: issue_token(&config, &["--role", "auditor"]),
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        // Shorter than the hub's `header_read_timeout` (10 s), after which it closes an
        // idle keep-alive connection: the client lets go first, never reusing one that
        // the hub is closing at that moment.
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .expect("http client");
    let mut hub = Hub {
        dir,
        config,
        opts,
        base_url: format!("http://127.0.0.1:{port}"),
        tokens,
        http,
        child: None,
        starts: 0,
        feeders: Vec::new(),
        officer: tokio::sync::OnceCell::new(),
    };
    hub.start().await;
    hub
}

/// A reply: status and JSON body (`Value::Null` when the body is not JSON).
pub type Reply = (StatusCode, Value);

impl Hub {
    /// The log of every start of this hub.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("hub.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Starts `monban serve` (again) on the same configuration and database and waits
    /// for `/healthz`.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "the hub is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open hub.log");
        self.starts += 1;
        let child = Command::new(monban_bin())
            .arg("--config")
            .arg(&self.config)
            .arg("serve")
            // Not the config's directory: relative database paths must follow the file.
            .current_dir(std::env::temp_dir())
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info,sqlx=warn")
            .env_remove("MONBAN_CONFIG")
            .envs(self.opts.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn monban serve");
        self.child = Some(child);
        let until = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "monban serve exited with {status} before it was healthy; log:\n{}",
                    self.log()
                );
            }
            if let Ok(r) = self.http.get(self.url("/healthz")).send().await {
                if r.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(
                Instant::now() < until,
                "monban serve was not healthy within {DEADLINE:?}; log:\n{}",
                self.log()
            );
            // Often: the first healthy answer is the earliest moment an integrator acts.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Kills the hub with SIGKILL (`kill -9`): no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits (at most `within`) for the process to exit; returns how it
    /// exited and how long it took.
    pub fn terminate(&mut self, within: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        self.signal("TERM");
        (self.wait_exit(within), started.elapsed())
    }

    /// Sends a signal (`"TERM"`, `"INT"`) to the running hub.
    pub fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("the hub is running").id();
        let sent = Command::new("kill")
            .args([format!("-{name}"), pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{name} {pid} failed");
    }

    /// Waits (at most `within`) for the hub to exit by itself; kills it and panics when
    /// it does not.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("the hub is running");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait for the hub") {
                return status;
            }
            if started.elapsed() > within {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the hub did not exit within {within:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// The address a browser opens: `localhost`, the host passkeys are bound to (the
    /// hub's default `[auth] origin`). Used by the browser tests.
    #[allow(dead_code)]
    pub fn page_url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.base_url.replace("127.0.0.1", "localhost"),
            path
        )
    }

    /// The login token of a system of the test hospital.
    pub fn login_token(&self, system: &str) -> &str {
        match system {
            "ehr" => &self.tokens.ehr,
            "vpn" => &self.tokens.vpn,
            "pacs" => &self.tokens.pacs,
            other => panic!("no login token for system {other:?}"),
        }
    }

    /// Any request; `token` goes into `Authorization: Bearer`.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("request to {path} failed: {e}; log:\n{}", self.log()));
        let status = res.status();
        let bytes = res.bytes().await.expect("response body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Into<Vec<u8>>,
    ) -> Reply {
        self.request(reqwest::Method::POST, path, token, Some(body.into()))
            .await
    }

    pub async fn get_with(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(reqwest::Method::GET, path, token, None).await
    }

    /// POST /api/v1/logins with the token of the login's own system.
    pub async fn post_login(&self, login: &Value) -> Reply {
        let system = login["system"].as_str().expect("login.system");
        self.post_login_with(self.login_token(system), login).await
    }

    pub async fn post_login_with(&self, token: &str, login: &Value) -> Reply {
        self.post_raw(
            "/api/v1/logins",
            Some(token),
            serde_json::to_vec(login).expect("json"),
        )
        .await
    }

    /// POST /api/v1/logins expecting 202; returns the reply body.
    pub async fn login_ok(&self, login: &Value) -> Value {
        let (status, body) = self.post_login(login).await;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "login {login} was not accepted: {body}"
        );
        body
    }

    /// POST /api/v1/door-events with the door token.
    pub async fn post_door_event(&self, event: &Value) -> Reply {
        self.post_raw(
            "/api/v1/door-events",
            Some(&self.tokens.doors),
            serde_json::to_vec(event).expect("json"),
        )
        .await
    }

    /// POST /api/v1/door-events expecting 202.
    pub async fn door_ok(&self, event: &Value) {
        let (status, body) = self.post_door_event(event).await;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "door event {event} was not accepted: {body}"
        );
        assert_eq!(
            body,
            json!({"door": event["door"], "event_id": event["event_id"]})
        );
    }

    /// GET /api/v1/logins/{id} with the read token.
    pub async fn get_login(&self, event_id: &str) -> Reply {
        self.get_with(
            &format!("/api/v1/logins/{event_id}"),
            Some(&self.tokens.auditor),
        )
        .await
    }

    /// GET /api/v1/logins/{id}, expecting 200.
    pub async fn login_view(&self, event_id: &str) -> Value {
        let (status, body) = self.get_login(event_id).await;
        assert_eq!(status, StatusCode::OK, "GET login {event_id}: {body}");
        body
    }

    /// GET /api/v1/compliance?from&to (either may be omitted).
    pub async fn compliance(&self, from: Option<&str>, to: Option<&str>) -> Reply {
        let mut q = Vec::new();
        if let Some(f) = from {
            q.push(format!("from={}", encode_query(f)));
        }
        if let Some(t) = to {
            q.push(format!("to={}", encode_query(t)));
        }
        let path = if q.is_empty() {
            "/api/v1/compliance".to_string()
        } else {
            format!("/api/v1/compliance?{}", q.join("&"))
        };
        self.get_with(&path, Some(&self.tokens.auditor)).await
    }

    /// The dead letters (GET /api/v1/dead-letters).
    pub async fn dead_letters(&self) -> Vec<Value> {
        let (status, body) = self
            .get_with("/api/v1/dead-letters", Some(&self.tokens.auditor))
            .await;
        assert_eq!(status, StatusCode::OK, "dead letters: {body}");
        body["dead_letters"]
            .as_array()
            .cloned()
            .expect("dead_letters array")
    }

    /// `GET /api/v1/doors` (connector health) with the auditor's read token.
    pub async fn doors(&self) -> Value {
        let (status, body) = self
            .get_with("/api/v1/doors", Some(&self.tokens.auditor))
            .await;
        assert_eq!(status, StatusCode::OK, "GET /api/v1/doors: {body}");
        body
    }

    /// One door's entry of [`Hub::doors`].
    pub async fn door_health(&self, door: &str) -> Value {
        let all = self.doors().await;
        all["doors"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["door"] == door))
            .cloned()
            .unwrap_or_else(|| panic!("door {door} not in /api/v1/doors: {all}"))
    }

    /// GET with the auditor's read token (the dashboard's pages accept read tokens for
    /// what their role may read).
    pub async fn read_get(&self, url: String) -> reqwest::Result<reqwest::Response> {
        self.http
            .get(url)
            .bearer_auth(&self.tokens.auditor)
            .send()
            .await
    }

    /// An officer signed in with a passkey (enrolled through `monban user invite`), for
    /// the dashboard's forms.
    pub async fn officer(&self) -> &crate::passkeys::Session {
        self.officer
            .get_or_init(|| async {
                crate::passkeys::user(self, "officer", &unique("officer"))
                    .await
                    .1
            })
            .await
    }

    /// The Prometheus text of /metrics.
    pub async fn metrics(&self) -> String {
        let res = self
            .http
            .get(self.url("/metrics"))
            .bearer_auth(&self.tokens.auditor)
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.expect("metrics text")
    }

    /// The value of one sample, e.g. `monban_dead_letters_total{source="mqtt"}`; 0 when
    /// the series does not exist yet.
    pub async fn metric(&self, series: &str) -> f64 {
        metric_value(&self.metrics().await, series)
    }

    /// Waits until the MQTT connector reports itself connected (both subscriptions
    /// acknowledged), so that what is published next reaches the hub.
    pub async fn wait_mqtt_connected(&self) {
        wait_for("the MQTT connector to connect", DEADLINE, || async {
            (self.metric("monban_connector_up{connector=\"mqtt\"}").await == 1.0).then_some(())
        })
        .await
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        for f in &mut self.feeders {
            let _ = f.kill();
            let _ = f.wait();
        }
        self.kill9();
        // Leave nothing on a shared broker, also when the test failed: the hub's
        // persistent session (and whatever is queued in it) goes.
        if let Some(url) = self.opts.mqtt_url.clone() {
            let client_id = self.opts.client_id.clone();
            let cleanup = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(crate::broker::forget_session(&url, &client_id));
                }
            });
            let _ = cleanup.join();
        }
        if let Some(url) = self.opts.database.clone() {
            if url.starts_with("postgres") {
                let _ = std::thread::spawn(move || drop_postgres_database(&url)).join();
            }
        }
        if std::thread::panicking() {
            eprintln!(
                "---- monban log ({} start(s), {}):\n{}\n----",
                self.starts,
                self.log_path().display(),
                self.log()
            );
        }
    }
}

/// Percent-encodes a query value (enough for RFC 3339 times: `+` and `:`).
pub fn encode_query(s: &str) -> String {
    s.replace('%', "%25")
        .replace('+', "%2B")
        .replace(':', "%3A")
}

/// The value of a sample line `series value` in Prometheus text, 0 when absent.
pub fn metric_value(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let rest = l.strip_prefix(series)?;
            let rest = rest.strip_prefix(' ')?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(0.0)
}

/// Asserts the contract's error body: `{"error": {"code": snake_case, "message": text}}`.
pub fn assert_error_body(body: &Value, context: &str) -> String {
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{context}: no error.code in {body}"));
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{context}: no error.message in {body}"));
    assert!(
        !code.is_empty()
            && code.starts_with(|c: char| c.is_ascii_lowercase())
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
        "{context}: error code {code:?} is not snake_case"
    );
    assert!(!message.trim().is_empty(), "{context}: empty error message");
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(1),
        "{context}: extra top-level fields in {body}"
    );
    code.to_string()
}

/// Asserts a status and the contract's error body; returns the code.
pub fn assert_error(reply: &Reply, status: StatusCode, context: &str) -> String {
    assert_eq!(
        reply.0, status,
        "{context}: expected {status}, got {} {}",
        reply.0, reply.1
    );
    assert_error_body(&reply.1, context)
}

/// Asserts the short verdict reply of POST /logins (CONTRACT §7: with its `flags`, none
/// for the test hospital's own staff).
pub fn assert_reply(
    reply: &Value,
    event_id: &str,
    verdict: &str,
    reasons: &[&str],
    is_final: bool,
) {
    assert_eq!(
        reply,
        &json!({"event_id": event_id, "verdict": verdict, "reasons": reasons, "final": is_final,
            "flags": []}),
        "verdict reply of {event_id}"
    );
}

/// Asserts verdict, reasons and evidence of a login view (GET /logins/{id}).
pub fn assert_verdict(view: &Value, verdict: &str, reasons: &[&str], evidence: Value) {
    let id = &view["event_id"];
    assert_eq!(view["verdict"], verdict, "verdict of {id}: {view}");
    assert_eq!(view["reasons"], json!(reasons), "reasons of {id}: {view}");
    assert_eq!(view["evidence"], evidence, "evidence of {id}: {view}");
}

/// The evidence object of CONTRACT §7.
pub fn evidence(
    entry_event_id: &str,
    door: &str,
    entered_at: &str,
    credential_type: &str,
) -> Value {
    json!({"entry_event_id": entry_event_id, "door": door, "entered_at": entered_at, "credential_type": credential_type})
}
