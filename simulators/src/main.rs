//! `monban-sim`: the hospital simulator for testers.
//!
//! - `monban-sim hospital [--seed N] [--with-settings]` prints the inventory (CONTRACT
//!   §4) of the generated hospital; import it into the hub.
//! - `monban-sim day --mqtt mqtt://127.0.0.1:1883 --hub http://127.0.0.1:8080
//!   --token ehr=T --token pharmacy=T --token ris=T --token vpn=T [--speed 144]
//!   [--seed N] [--start RFC3339] [--until RFC3339] [--read-token T] [--dry-run]`
//!   [--vendor-token medisys=T --vendor-token towa-mt=T]
//!   plays a day against the hub and prints what was sent; with `--read-token` it then
//!   asks the hub for the verdict of every deliberate case and prints PASS or FAIL
//!   (exit status 1 on any FAIL).
//!
//! - `monban-sim modbus-door --listen 127.0.0.1:5020 [--script FILE]` runs a Modbus TCP
//!   door controller (profile `monban-door-v1`, CONTRACT §6). It plays the script, then
//!   reads more lines from standard input until it ends (or Ctrl-C); the line format is
//!   documented in `monban_sim::modbus_device::ScriptLine`.
//! - `monban-sim mqtt-door --format native|esp-rfid|uhppoted|tasmota|esphome|shelly
//!   --broker mqtt://127.0.0.1:1883 [identifiers] [--script FILE]` runs an MQTT door
//!   controller in that format, with the vendor's last will and heartbeats; it plays the
//!   script, then standard input (same lines as `modbus-door`, plus `online`, `heartbeat`
//!   and `quit`), printing one line per thing it does. See `monban_sim::mqtt_door`.
//! - `monban-sim login --hub URL --token T --system ehr --account nurse01 --terminal
//!   ward3-pc01 [--factor password …] [--outcome success] [--expect VERDICT]` posts one
//!   login (§7) and prints the verdict; with `--expect`, exit status 1 when it differs.
//! - `monban-sim scenario FILE --hub URL --mqtt URL --token SYSTEM=TOKEN …
//!   [--vendor-token VENDOR=TOKEN …] [--read-token T] [--deadline 15s] [--dry-run]`
//!   sends a scenario (format: `monban_sim::scenario`, examples in
//!   `simulators/scenarios/`) and prints PASS or FAIL per checked login and request (exit
//!   status 1 on any FAIL).
//! - `monban-sim maintenance request --hub URL --token VENDOR_TOKEN (--file body.json |
//!   --request-id ID --system S --person P … --work-plan WP --start T --end T [--purpose
//!   …] [--on-site] [--emergency])` files a maintenance request (CONTRACT §10);
//!   `monban-sim maintenance report --hub URL --token T --id ID --summary …
//!   [--recording-sha256 HEX --recording-uri URI]` submits a work report. Each prints the
//!   hub's answer, or its error body with exit status 1.
//!
//! Use the same `--seed` for `hospital` and `day`: the seed decides the people and their
//! credentials as well as the day.

use anyhow::{bail, Context as _};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use monban_core::maintenance::{Recording, ReportBody, RequestBody};
use monban_sim::day::{self, PlayOptions, DEFAULT_SPEED};
use monban_sim::hospital::{self, Hospital};
use monban_sim::mqtt_door::{self, Format, Profile};
use monban_sim::schedule::{self, Action, Expectation};
use monban_sim::script::Line;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "monban-sim",
    version,
    about = "Simulated hospital (東京総合病院) for the monban hub"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the generated hospital's inventory ([site], [[rooms]], … [[people]]).
    Hospital {
        /// Seed of the generated people and credentials.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The day the dates are relative to (the leaver's `until`, the vendors'
        /// `confirmed`), YYYY-MM-DD; default today (JST).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
        today: Option<monban_core::SiteDay>,
        /// Also print a [server] and [mqtt] section, making a complete monban.toml.
        #[arg(long)]
        with_settings: bool,
        /// Add the 検体検査システム (`lab`), whose logins come only from its access log
        /// (`monban-sim access-log --system lab`), as in `monban demo`.
        #[arg(long)]
        with_lab: bool,
    },
    /// Write a system's access log (CSV, UTF-8 or Shift_JIS) from the generated hospital,
    /// for `monban import logins` or the upload on /imports; --with-mapping prints the
    /// `[[imports]]` table that reads it. Streams: --rows 10000000 takes no memory.
    AccessLog(AccessLogArgs),
    /// Play a hospital day against a hub: door events over MQTT, logins over HTTP.
    Day(DayArgs),
    /// Measure a hub: door events per second (MQTT → stored) and login verdicts per
    /// second (HTTP), with latency percentiles. The hub must hold the generated
    /// hospital's inventory (same --seed).
    Load(LoadArgs),
    /// Run a simulated Modbus TCP door controller (profile monban-door-v1).
    ModbusDoor(ModbusDoorArgs),
    /// Run a simulated MQTT door controller in a vendor's format (or the native one).
    MqttDoor(MqttDoorArgs),
    /// Post one login to the hub and print its verdict.
    Login(LoginArgs),
    /// Send a scenario file to a hub and check the verdict of each login.
    Scenario(ScenarioArgs),
    /// File a maintenance request or submit a work report as a vendor (CONTRACT §10).
    #[command(subcommand)]
    Maintenance(MaintenanceCommand),
}

#[derive(Subcommand, Debug, PartialEq)]
enum MaintenanceCommand {
    /// File a maintenance request (POST /api/v1/maintenance) with a vendor token; prints
    /// the hub's answer.
    Request(RequestArgs),
    /// Submit a work report (POST /api/v1/maintenance/{id}/report) with a vendor token;
    /// prints the hub's answer.
    Report(ReportArgs),
}

#[derive(Args, Debug, PartialEq)]
struct RequestArgs {
    /// The hub's base URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    hub: String,
    /// The vendor's token (monban token issue --vendor ID).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MONBAN_VENDOR_TOKEN",
        hide_env_values = true
    )]
    token: String,
    /// The request as JSON (CONTRACT §10); `-` reads standard input. Instead of the
    /// flags below.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["request_id", "system", "people", "work_plan", "purpose", "start", "end", "remote", "on_site", "emergency"])]
    file: Option<std::path::PathBuf>,
    /// The request's id, e.g. acme-2026-0042.
    #[arg(long, value_name = "ID", required_unless_present = "file")]
    request_id: Option<String>,
    /// The system to maintain.
    #[arg(long, required_unless_present = "file")]
    system: Option<String>,
    /// A person who will do the work (vendor staff id); repeat for several.
    #[arg(long = "person", value_name = "ID", required_unless_present = "file")]
    people: Vec<String>,
    /// The work plan number (作業計画書), 3 to 128 characters.
    #[arg(long, required_unless_present = "file")]
    work_plan: Option<String>,
    /// What the work is for.
    #[arg(long, default_value = "")]
    purpose: String,
    /// The window's start (RFC 3339 with an offset).
    #[arg(long, value_name = "RFC3339", required_unless_present = "file")]
    start: Option<String>,
    /// The window's end (RFC 3339 with an offset).
    #[arg(long, value_name = "RFC3339", required_unless_present = "file")]
    end: Option<String>,
    /// Remote maintenance (the default).
    #[arg(long, conflicts_with = "on_site")]
    remote: bool,
    /// On-site maintenance (来訪保守).
    #[arg(long)]
    on_site: bool,
    /// An emergency request (緊急, 事後承認).
    #[arg(long)]
    emergency: bool,
}

#[derive(Args, Debug, PartialEq)]
struct ReportArgs {
    /// The hub's base URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    hub: String,
    /// The vendor's token.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MONBAN_VENDOR_TOKEN",
        hide_env_values = true
    )]
    token: String,
    /// The request reported on.
    #[arg(long, value_name = "REQUEST_ID")]
    id: String,
    /// What was done.
    #[arg(long)]
    summary: String,
    /// The SHA-256 of the session recording (64 hex digits).
    #[arg(long, value_name = "HEX", requires = "recording_uri")]
    recording_sha256: Option<String>,
    /// Where the session recording is kept.
    #[arg(long, value_name = "URI", requires = "recording_sha256")]
    recording_uri: Option<String>,
}

impl RequestArgs {
    /// The request body: the file's, or the flags'.
    fn body(&self) -> anyhow::Result<RequestBody> {
        if let Some(path) = &self.file {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
            } else {
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?
            };
            return serde_json::from_str(&text)
                .with_context(|| format!("{} is not a request body", path.display()));
        }
        let need = |v: &Option<String>, flag: &str| {
            v.clone()
                .with_context(|| format!("--{flag} is required without --file"))
        };
        Ok(RequestBody {
            request_id: need(&self.request_id, "request-id")?,
            vendor: None,
            system: need(&self.system, "system")?,
            people: self.people.clone(),
            work_plan: need(&self.work_plan, "work-plan")?,
            purpose: self.purpose.clone(),
            start: need(&self.start, "start")?,
            end: need(&self.end, "end")?,
            remote: self.remote || !self.on_site,
            emergency: self.emergency,
        })
    }
}

impl ReportArgs {
    fn body(&self) -> ReportBody {
        ReportBody {
            summary: self.summary.clone(),
            recording: match (&self.recording_sha256, &self.recording_uri) {
                (Some(sha256), Some(uri)) => Some(Recording {
                    sha256: sha256.clone(),
                    uri: uri.clone(),
                }),
                _ => None,
            },
        }
    }
}

#[derive(Args)]
struct ModbusDoorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5020")]
    listen: std::net::SocketAddr,
    /// A script to play first (lines like `badge card 04A1B2C3 in`, `wait 2s`,
    /// `event door_forced`, `contact open`, `tamper on`, `offline 10s`); then standard
    /// input is read the same way.
    #[arg(long, value_name = "FILE")]
    script: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct MqttDoorArgs {
    /// The device's format: native (CONTRACT §5), esp-rfid, uhppoted (uhppoted-mqtt),
    /// tasmota, esphome or shelly (a Gen1 Door/Window 2).
    #[arg(long)]
    format: Format,
    /// The MQTT broker the hub listens to.
    #[arg(long, value_name = "URL", default_value = "mqtt://127.0.0.1:1883", value_parser = parse_mqtt)]
    broker: (String, u16),
    /// native: the site id (default tokyo-general).
    #[arg(long)]
    site: Option<String>,
    /// native: the door id.
    #[arg(long)]
    door: Option<String>,
    /// esp-rfid: its MQTT topic; tasmota: its %topic%; esphome: its topic prefix; shelly:
    /// its device id (shellydw2-…); uhppoted: its events topic (default
    /// uhppoted/gateway/events).
    #[arg(long)]
    topic: Option<String>,
    /// esp-rfid: the device's hostname, sent as `door` (default esp-rfid).
    #[arg(long)]
    hostname: Option<String>,
    /// esp-rfid: what the reader reads, as the hub's source says (default card).
    #[arg(long)]
    credential_type: Option<String>,
    /// uhppoted: the controller's serial number.
    #[arg(long)]
    device_id: Option<u32>,
    /// uhppoted: the door on the controller, 1 to 4.
    #[arg(long)]
    door_number: Option<u8>,
    /// uhppoted: the controller's time zone for `timestamp` (default +09:00).
    #[arg(long)]
    utc_offset: Option<String>,
    /// tasmota: the switch wired to the contact (default Switch1).
    #[arg(long)]
    switch: Option<String>,
    /// esphome: the binary_sensor's object id (default door).
    #[arg(long)]
    sensor: Option<String>,
    /// tasmota, esphome: the word that means open, ON or OFF (default ON).
    #[arg(long)]
    open: Option<String>,
    /// Publish events at this QoS (0, 1 or 2) instead of the device's own.
    #[arg(long, value_parser = parse_qos)]
    qos: Option<rumqttc::QoS>,
    /// Heartbeat interval (default: the device's own, esp-rfid 180s, tasmota 300s; 0s for
    /// none).
    #[arg(long)]
    heartbeat: Option<monban_core::Span>,
    /// Number events (native event_id, uhppoted event-id) from here (default: tenths of
    /// a second since 2023-11-14, so a restart continues above the ids used before).
    #[arg(long)]
    first_event_id: Option<u64>,
    /// Publish events without the retain flag even where the device sets it (uhppoted).
    #[arg(long)]
    no_retain: bool,
    /// MQTT client id (default monban-sim-{format}-{door, topic or device-door}).
    #[arg(long)]
    client_id: Option<String>,
    /// A script to play first (`badge card 04A1B2C3 in`, `deny card 04A1B2C3`, `contact
    /// open`, `event door_forced`, `tamper on`, `wait 2s`, `offline`, `online`,
    /// `heartbeat`, `quit`); then standard input is read the same way.
    #[arg(long, value_name = "FILE")]
    script: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct LoginArgs {
    /// The hub's base URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    hub: String,
    /// The system's login-ingest token.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MONBAN_LOGIN_TOKEN",
        hide_env_values = true
    )]
    token: String,
    /// The system logged in to.
    #[arg(long)]
    system: String,
    /// The account.
    #[arg(long)]
    account: String,
    /// The terminal.
    #[arg(long)]
    terminal: String,
    /// A factor of the login; repeat for several (default password).
    #[arg(long = "factor", value_name = "FACTOR")]
    factors: Vec<monban_core::Factor>,
    /// success or failure.
    #[arg(long, default_value = "success")]
    outcome: monban_core::Outcome,
    /// When the login happened (RFC 3339); default now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    ts: Option<DateTime<Utc>>,
    /// The login's event id; default sim-login-{milliseconds}.
    #[arg(long)]
    event_id: Option<String>,
    /// The verdict the hub must give (direct_2fa, combined_measures, not_met,
    /// not_applicable); exit status 1, with the hub's reasons, when it differs.
    #[arg(long, value_name = "VERDICT")]
    expect: Option<monban_core::VerdictKind>,
}

#[derive(Args)]
struct ScenarioArgs {
    /// The scenario file (TOML).
    file: std::path::PathBuf,
    /// The MQTT broker the hub listens to.
    #[arg(long, value_name = "URL", default_value = "mqtt://127.0.0.1:1883", value_parser = parse_mqtt)]
    mqtt: (String, u16),
    /// The hub's base URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    hub: String,
    /// A login-ingest token, as SYSTEM=TOKEN; one per system the scenario logs in to.
    #[arg(long = "token", value_name = "SYSTEM=TOKEN", value_parser = parse_token)]
    tokens: Vec<(String, String)>,
    /// A vendor token, as VENDOR=TOKEN; one per vendor whose requests or reports the
    /// scenario sends.
    #[arg(long = "vendor-token", value_name = "VENDOR=TOKEN", value_parser = parse_token)]
    vendor_tokens: Vec<(String, String)>,
    /// A read token (auditor) to check the verdicts; without it the scenario is only sent.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MONBAN_READ_TOKEN",
        hide_env_values = true
    )]
    read_token: Option<String>,
    /// How long to wait for each verdict to come out as expected.
    #[arg(long, default_value = "15s")]
    deadline: monban_core::Span,
    /// Check the scenario's doors, terminals and accounts against the hospital of this
    /// seed (a warning only).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// MQTT client id.
    #[arg(long, default_value = "monban-sim-scenario")]
    client_id: String,
    /// Print the plan instead of sending it.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args)]
struct LoadArgs {
    /// The MQTT broker the hub listens to.
    #[arg(long, value_name = "URL", default_value = "mqtt://127.0.0.1:1883", value_parser = parse_mqtt)]
    mqtt: (String, u16),
    /// The hub's base URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    hub: String,
    /// Seed of the hospital the hub holds.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A login-ingest token for the ehr system.
    #[arg(long, value_name = "TOKEN")]
    login_token: String,
    /// A read token (`monban token issue --role auditor`) for the hub's live feed.
    #[arg(long, value_name = "TOKEN")]
    read_token: Option<String>,
    /// How many door events to publish.
    #[arg(long, default_value_t = 5000)]
    door_events: u64,
    /// Door events per second (0: as fast as possible, a saturation run).
    #[arg(long, default_value_t = 0.0)]
    door_rate: f64,
    /// How many logins to post.
    #[arg(long, default_value_t = 2000)]
    logins: u64,
    /// Parallel HTTP clients for the logins.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

#[derive(Args)]
struct DayArgs {
    /// The MQTT broker the hub listens to.
    #[arg(long, value_name = "URL", default_value = "mqtt://127.0.0.1:1883", value_parser = parse_mqtt)]
    mqtt: (String, u16),
    /// The hub's base URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    hub: String,
    /// A login-ingest token, as SYSTEM=TOKEN; one per system (ehr, pharmacy, ris, vpn).
    #[arg(long = "token", value_name = "SYSTEM=TOKEN", value_parser = parse_token)]
    tokens: Vec<(String, String)>,
    /// A vendor token, as VENDOR=TOKEN (medisys, towa-mt), for the day's maintenance
    /// requests and reports; a vendor without one files nothing.
    #[arg(long = "vendor-token", value_name = "VENDOR=TOKEN", value_parser = parse_token)]
    vendor_tokens: Vec<(String, String)>,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = DEFAULT_SPEED)]
    speed: f64,
    /// Seed of the hospital and of the day (use the one given to `hospital`).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated start time (RFC 3339, e.g. 2026-11-20T09:00:00+09:00); default: 24
    /// hours ago.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    start: Option<DateTime<Utc>>,
    /// Simulated end time (RFC 3339); default: 24 hours after the start.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    until: Option<DateTime<Utc>>,
    /// A read token (auditor): after the day, check each deliberate case's verdict.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MONBAN_READ_TOKEN",
        hide_env_values = true
    )]
    read_token: Option<String>,
    /// MQTT client id.
    #[arg(long, default_value = "monban-sim")]
    client_id: String,
    /// Print the schedule instead of sending it.
    #[arg(long)]
    dry_run: bool,
}

fn parse_mqtt(s: &str) -> Result<(String, u16), String> {
    let url = reqwest::Url::parse(s)
        .map_err(|e| format!("{s:?} is not a URL ({e}); write it like mqtt://127.0.0.1:1883"))?;
    if !matches!(url.scheme(), "mqtt" | "tcp") {
        return Err(format!(
            "{s:?}: the scheme must be mqtt:// (or tcp://); TLS is not supported"
        ));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("{s:?} names no host"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    Ok((host, url.port().unwrap_or(1883)))
}

fn parse_qos(s: &str) -> Result<rumqttc::QoS, String> {
    match s {
        "0" => Ok(rumqttc::QoS::AtMostOnce),
        "1" => Ok(rumqttc::QoS::AtLeastOnce),
        "2" => Ok(rumqttc::QoS::ExactlyOnce),
        _ => Err(format!("{s:?}: a QoS is 0, 1 or 2")),
    }
}

fn parse_token(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((system, token)) if !system.trim().is_empty() && !token.trim().is_empty() => {
            Ok((system.trim().to_string(), token.trim().to_string()))
        }
        _ => Err(format!(
            "{s:?} must be written SYSTEM=TOKEN, e.g. ehr=mb_xxx"
        )),
    }
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{s:?} is not an RFC 3339 time with an offset ({e})"))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Hospital {
            seed,
            today,
            with_settings,
            with_lab,
        } => {
            let mut h = hospital::generate_on(
                seed,
                today.unwrap_or_else(|| hospital::site_day(Utc::now())),
            );
            if with_lab {
                h = h.with_lab();
            }
            if with_settings {
                println!(
                    "[server]\nlisten = \"127.0.0.1:8080\"\ndatabase = \"sqlite://monban.db\"\ngrace = \"60s\"\n\n\
                     [mqtt]\nurl = \"mqtt://127.0.0.1:1883\"\nclient_id = \"monban-hub\"\n"
                );
            }
            print!("{}", h.inventory_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Day(args) => day_command(args).await,
        Command::Load(args) => load_command(args).await,
        Command::ModbusDoor(args) => modbus_door_command(args).await,
        Command::MqttDoor(args) => mqtt_door_command(args).await,
        Command::Login(args) => login_command(args).await,
        Command::Scenario(args) => scenario_command(args).await,
        Command::Maintenance(cmd) => maintenance_command(cmd).await,
        Command::AccessLog(args) => access_log_command(args),
    }
}

/// Prints the hub's answer; exit status 1 (with the hub's error body on standard
/// error) when it refused.
async fn maintenance_command(cmd: MaintenanceCommand) -> anyhow::Result<ExitCode> {
    let reply = match &cmd {
        MaintenanceCommand::Request(args) => {
            let body = args.body()?;
            monban_sim::maintenance::Hub::new(&args.hub)?
                .file_request(&args.token, &body)
                .await?
        }
        MaintenanceCommand::Report(args) => {
            monban_sim::maintenance::Hub::new(&args.hub)?
                .submit_report(&args.token, &args.id, &args.body())
                .await?
        }
    };
    if reply.is_success() {
        println!("{}", reply.body);
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("the hub refused it ({}): {}", reply.status, reply.body);
        Ok(ExitCode::from(1))
    }
}

#[derive(Args, Debug)]
struct AccessLogArgs {
    /// The system whose log it is (`lab` adds the 検体検査システム to the hospital).
    #[arg(long)]
    system: String,
    /// `utf8` (RFC 3339 times, OK/NG, its own log ids) or `sjis` (Shift_JIS,
    /// `%Y/%m/%d %H:%M:%S`, 成功/失敗, ids derived by the hub).
    #[arg(long, default_value = "utf8", value_parser = parse_log_format)]
    format: monban_sim::access_log::Format,
    /// Seed of the hospital and of the log.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Days of log, ending at --end.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// The end of the period (RFC 3339); default now.
    #[arg(long)]
    end: Option<chrono::DateTime<Utc>>,
    /// Exactly this many rows spread over the period (benchmarks), without the cases.
    #[arg(long)]
    rows: Option<u64>,
    /// Write here instead of stdout.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
    /// Print the `[[imports]]` table that reads this format (to stderr when the log goes
    /// to stdout), and which rows hold the cases.
    #[arg(long)]
    with_mapping: bool,
}

fn parse_log_format(s: &str) -> Result<monban_sim::access_log::Format, String> {
    monban_sim::access_log::Format::parse(s).ok_or_else(|| format!("{s:?}: use utf8 or sjis"))
}

fn access_log_command(args: AccessLogArgs) -> anyhow::Result<ExitCode> {
    use monban_sim::access_log::{write, Options};
    let end = args.end.unwrap_or_else(Utc::now);
    let h = hospital::generate_on(args.seed, hospital::site_day(end)).with_lab();
    let opts = Options {
        system: args.system.clone(),
        format: args.format,
        end,
        days: args.days,
        seed: args.seed,
        rows: args.rows,
    };
    let written = match &args.output {
        Some(path) => write(&h, &opts, std::fs::File::create(path)?)?,
        None => write(&h, &opts, std::io::stdout().lock())?,
    };
    if args.with_mapping {
        let mut text = args.format.mapping(&args.system);
        for (what, case) in [
            ("failure", &written.failure),
            ("leaver", &written.leaver),
            ("unmapped", &written.unmapped),
            ("dormant", &written.dormant),
        ] {
            if let Some((account, row)) = case {
                text.push_str(&format!("# {what}: {account} (line {})\n", row + 1));
            }
        }
        text.push_str(&format!("# {} rows\n", written.rows));
        if args.output.is_some() {
            print!("{text}");
        } else {
            eprint!("{text}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_day(s: &str) -> Result<monban_core::SiteDay, String> {
    monban_core::SiteDay::parse(s)
}

async fn day_command(args: DayArgs) -> anyhow::Result<ExitCode> {
    let h = hospital::generate_on(args.seed, hospital::site_day(Utc::now()));
    let mut tokens = BTreeMap::new();
    for (system, token) in &args.tokens {
        if tokens.insert(system.clone(), token.clone()).is_some() {
            bail!("--token {system}=… is given twice");
        }
    }
    let start = args
        .start
        .unwrap_or_else(|| Utc::now() - schedule::day_length());
    if args.dry_run {
        print_schedule(&h, &schedule::build(&h, start, args.until, args.seed));
        return Ok(ExitCode::SUCCESS);
    }
    let opts = PlayOptions {
        mqtt_host: args.mqtt.0.clone(),
        mqtt_port: args.mqtt.1,
        client_id: args.client_id.clone(),
        hub_url: args.hub.clone(),
        login_tokens: tokens,
        start,
        speed: args.speed,
        seed: args.seed,
        until: args.until,
        vendor_tokens: args.vendor_tokens.iter().cloned().collect(),
        decide: None,
    };
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: finishing the messages in flight");
                cancel.cancel();
            }
        });
    }
    let report = day::play(&h, opts, cancel).await?;
    println!(
        "sent {} door events, {} door status changes and {} logins ({} skipped, {} refused by the hub, {} not acknowledged by the broker){}",
        report.door_events,
        report.status_changes,
        report.logins,
        report.skipped,
        report.rejected,
        report.mqtt_unacked,
        if report.cancelled { " — interrupted" } else { "" }
    );
    println!(
        "maintenance: {} requests and reports accepted, {} refused, {} skipped",
        report.maintenance_sent, report.maintenance_refused, report.maintenance_skipped
    );
    if !report.decisions_not_made.is_empty() {
        println!("decisions an officer must make for the day's requests to reach their states:");
        for d in &report.decisions_not_made {
            println!(
                "  {:<8} {:<28} {}",
                d.decision.as_str(),
                d.request_id,
                d.note
            );
        }
    }
    println!("\ndeliberate cases ({}):", report.expected.len());
    let Some(read_token) = args.read_token else {
        for e in &report.expected {
            println!(
                "  {:<18} {:<22} {}",
                e.case.as_str(),
                e.event_id,
                expected_text(e)
            );
            println!("  {:<18} {}", "", e.description);
        }
        println!("\n(give --read-token to check the hub's verdicts)");
        return Ok(ExitCode::SUCCESS);
    };

    // Let the hub take in the last messages.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut failed = 0;
    for e in &report.expected {
        let url = format!(
            "{}/api/v1/logins/{}",
            args.hub.trim_end_matches('/'),
            e.event_id
        );
        let said = match monban_sim::scenario::fetch_verdict(&http, &url, &read_token).await {
            Ok((verdict, reasons)) => {
                let ok = e.is_met_by(&verdict, &reasons);
                if !ok {
                    failed += 1;
                }
                (ok, format!("{verdict} [{}]", reasons.join(", ")))
            }
            Err(err) => {
                failed += 1;
                (false, format!("error: {err:#}"))
            }
        };
        println!(
            "  {} {:<18} {:<22} expected {:<40} hub: {}",
            if said.0 { "PASS" } else { "FAIL" },
            e.case.as_str(),
            e.event_id,
            expected_text(e),
            said.1
        );
    }
    println!(
        "\n{} of {} cases as expected",
        report.expected.len() - failed,
        report.expected.len()
    );
    failed += check_maintenance(&args.hub, &read_token, &report.maintenance).await?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Asks the hub about each maintenance case the day played and prints PASS or FAIL;
/// returns the number of failures.
async fn check_maintenance(
    hub_url: &str,
    read_token: &str,
    cases: &[schedule::MaintenanceExpectation],
) -> anyhow::Result<usize> {
    if cases.is_empty() {
        return Ok(0);
    }
    let hub = monban_sim::maintenance::Hub::new(hub_url)?;
    let mut failed = 0;
    println!("\nmaintenance cases ({}):", cases.len());
    for m in cases {
        if let Some(id) = &m.request_id {
            let said = match hub.request(read_token, id).await {
                Ok(r) if r.is_success() => {
                    match monban_sim::maintenance::RequestState::parse(&r.json()) {
                        Ok(st) => (
                            Some(st.status.as_str()) == m.status.as_deref()
                                && st.findings == m.findings
                                && (m.supervised.is_none() || st.supervised == m.supervised),
                            format!("{} findings [{}]", st.status, st.findings.join(", ")),
                        ),
                        Err(e) => (false, format!("error: {e:#}")),
                    }
                }
                Ok(r) => (false, format!("{} {}", r.status, r.body)),
                Err(e) => (false, format!("error: {e:#}")),
            };
            if !said.0 {
                failed += 1;
            }
            println!(
                "  {} {:<22} {:<28} expected {} findings [{}]  hub: {}",
                if said.0 { "PASS" } else { "FAIL" },
                m.case.as_str(),
                id,
                m.status.as_deref().unwrap_or("-"),
                m.findings.join(", "),
                said.1
            );
        }
        for login in &m.logins {
            let said = match hub.login(read_token, login).await {
                Ok(r) if r.is_success() => {
                    match monban_sim::maintenance::LoginState::parse(&r.json()) {
                        Ok(st) => (
                            st.flags == m.login_flags
                                && st.maintenance.as_deref() == m.login_maintenance.as_deref(),
                            format!(
                                "flags [{}] maintenance {}",
                                st.flags.join(", "),
                                st.maintenance.as_deref().unwrap_or("none")
                            ),
                        ),
                        Err(e) => (false, format!("error: {e:#}")),
                    }
                }
                Ok(r) => (false, format!("{} {}", r.status, r.body)),
                Err(e) => (false, format!("error: {e:#}")),
            };
            if !said.0 {
                failed += 1;
            }
            println!(
                "  {} {:<22} {:<28} expected flags [{}] maintenance {}  hub: {}",
                if said.0 { "PASS" } else { "FAIL" },
                m.case.as_str(),
                login,
                m.login_flags.join(", "),
                m.login_maintenance.as_deref().unwrap_or("none"),
                said.1
            );
        }
    }
    println!(
        "(report_overdue shows only when the hub's [maintenance] report_due is at most 20 h; monban demo sets {})",
        schedule::maintenance::DEMO_REPORT_DUE
    );
    Ok(failed)
}

fn expected_text(e: &Expectation) -> String {
    match &e.expected_reason {
        Some(r) => format!("{} incl. {r}", e.expected_verdict),
        None => e.expected_verdict.clone(),
    }
}

fn print_schedule(h: &Hospital, s: &schedule::Schedule) {
    println!(
        "# {} — {} .. {} ({} items, tag {})",
        h.site_name,
        s.start,
        s.end,
        s.items.len(),
        s.tag
    );
    for item in &s.items {
        let late = if item.late_by.is_zero() {
            String::new()
        } else {
            format!(" (sent {:?} late)", item.late_by)
        };
        match &item.action {
            Action::Door(m) => println!(
                "{}  {}{late}  {}",
                schedule::rfc3339(m.ts),
                m.topic(&h.site_id),
                m.payload()
            ),
            Action::Status(m) => println!(
                "{}  {}  {}",
                schedule::rfc3339(m.ts),
                m.topic(&h.site_id),
                m.payload()
            ),
            Action::Login(m) => println!(
                "{}  POST /api/v1/logins  {}",
                schedule::rfc3339(m.ts),
                m.body()
            ),
            Action::Maintenance(m) => match &m.kind {
                schedule::MaintenanceKind::Request(body) => println!(
                    "{}  POST /api/v1/maintenance ({})  {}",
                    schedule::rfc3339(m.ts),
                    m.vendor,
                    serde_json::to_string(body).unwrap_or_default()
                ),
                schedule::MaintenanceKind::Report { body, .. } => println!(
                    "{}  POST /api/v1/maintenance/{}/report ({})  {}",
                    schedule::rfc3339(m.ts),
                    m.request_id,
                    m.vendor,
                    serde_json::to_string(body).unwrap_or_default()
                ),
                schedule::MaintenanceKind::Decision { decision, note } => println!(
                    "{}  (an officer decides) {} {}  {note}",
                    schedule::rfc3339(m.ts),
                    decision.as_str(),
                    m.request_id
                ),
            },
        }
    }
    println!("\n# maintenance cases");
    for m in &s.maintenance {
        println!(
            "{:<22} {:<28} {:<10} findings [{}] logins [{}] flags [{}]  {}",
            m.case.as_str(),
            m.request_id.as_deref().unwrap_or("-"),
            m.status.as_deref().unwrap_or("-"),
            m.findings.join(", "),
            m.logins.join(", "),
            m.login_flags.join(", "),
            m.description
        );
    }
    println!("\n# deliberate cases");
    for e in &s.expectations {
        println!(
            "{:<18} {:<22} {}  {}",
            e.case.as_str(),
            e.event_id,
            expected_text(e),
            e.description
        );
    }
}

async fn load_command(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let h = hospital::generate(args.seed);
    // A person with a card who has an ehr account, a door and a terminal of their room.
    let staff = h
        .staff
        .iter()
        .find(|s| {
            s.usual_credential.kind == monban_core::CredentialType::Card
                && s.person
                    .accounts
                    .keys()
                    .any(|k| k.as_str() == hospital::ids::EHR)
                && !h.doors_of(&s.home).is_empty()
                && !h.terminals_in(&s.home).is_empty()
        })
        .context("the generated hospital has no card holder with an ehr account")?;
    let door = h.doors_of(&staff.home)[0].id.to_string();
    let terminal = h.terminals_in(&staff.home)[0].id.to_string();
    let account = staff
        .person
        .accounts
        .iter()
        .find(|(k, _)| k.as_str() == hospital::ids::EHR)
        .map(|(_, a)| a.clone())
        .unwrap_or_default();
    let opts = monban_sim::load::LoadOptions {
        mqtt_host: args.mqtt.0,
        mqtt_port: args.mqtt.1,
        hub_url: args.hub.trim_end_matches('/').to_string(),
        site: h.site_id.to_string(),
        door,
        credential_type: staff.usual_credential.kind.as_str().to_string(),
        credential_id: staff.usual_credential.id.clone(),
        door_events: args.door_events,
        door_rate: args.door_rate,
        system: hospital::ids::EHR.to_string(),
        login_token: args.login_token,
        read_token: args.read_token,
        account,
        terminal,
        logins: args.logins,
        concurrency: args.concurrency,
        run_id: format!("{:x}", chrono::Utc::now().timestamp_millis()),
    };
    let report = monban_sim::load::run(&opts).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

async fn modbus_door_command(args: ModbusDoorArgs) -> anyhow::Result<ExitCode> {
    use monban_sim::modbus_device::{self, ModbusDoor};
    use tokio::io::AsyncBufReadExt as _;
    let script = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            modbus_device::parse_script(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => Vec::new(),
    };
    let door = ModbusDoor::start(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!(
        "modbus door (monban-door-v1) listening on {}; type lines like `badge card 04A1B2C3 in`",
        door.addr()
    );
    let now = || u32::try_from(Utc::now().timestamp()).unwrap_or(u32::MAX);
    for line in &script {
        if line.action == Line::Quit {
            door.stop().await;
            return Ok(ExitCode::SUCCESS);
        }
        modbus_device::apply(&door, &line.action, now()).await?;
    }
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            line = lines.next_line() => match line? {
                None => {
                    // Standard input ended: keep serving until Ctrl-C.
                    let _ = tokio::signal::ctrl_c().await;
                    break;
                }
                Some(line) => match monban_sim::script::parse_line(&line) {
                    Ok(Some(Line::Quit)) => break,
                    Ok(Some(l)) => {
                        if let Err(e) = modbus_device::apply(&door, &l, now()).await {
                            eprintln!("error: {e}");
                        }
                    }
                    Ok(None) => {}
                    Err(e) => eprintln!("error: {e}"),
                },
            },
        }
    }
    door.stop().await;
    Ok(ExitCode::SUCCESS)
}

async fn mqtt_door_command(args: MqttDoorArgs) -> anyhow::Result<ExitCode> {
    use monban_sim::mqtt_door::{DeviceOptions, Happening, MqttDoor, Stamp};
    use tokio::io::AsyncBufReadExt as _;
    let spec = mqtt_door::Spec {
        site: args.site,
        door: args.door,
        topic: args.topic,
        hostname: args.hostname,
        device_id: args.device_id,
        door_number: args.door_number,
        credential_type: args.credential_type,
        utc_offset: args.utc_offset,
        switch: args.switch,
        sensor: args.sensor,
        open: args.open,
    };
    let profile = Profile::from_spec(args.format, &spec).map_err(|e| {
        anyhow::anyhow!("{e} (flags are the same words with dashes, e.g. --device-id)")
    })?;
    let now = Utc::now();
    let mut opts = DeviceOptions::new(profile.clone(), &args.broker.0, args.broker.1, now);
    if let Some(h) = args.heartbeat {
        if h.as_std().is_zero() {
            opts.heartbeat = None;
        } else if profile.default_heartbeat().is_none() {
            bail!("--heartbeat: a {} device sends no heartbeat", args.format);
        } else {
            opts.heartbeat = Some(h.as_std());
        }
    }
    opts.qos = args.qos;
    opts.retain_events = !args.no_retain;
    if let Some(id) = args.first_event_id {
        opts.first_event_id = id;
    }
    if let Some(c) = args.client_id {
        opts.client_id = c;
    }
    // A script file is checked whole before anything is sent.
    let script = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let lines = monban_sim::script::parse_script(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let stamp = Stamp {
                at: now,
                event_id: opts.first_event_id,
                late: false,
            };
            for l in &lines {
                if let Some(h) = Happening::from_line(&l.action) {
                    if let Err(e) = profile.encode(&h, &stamp) {
                        bail!("{}: line {}: {e}", path.display(), l.line);
                    }
                }
                if l.action == Line::Heartbeat
                    && profile.heartbeat(now, &Default::default()).is_none()
                {
                    bail!(
                        "{}: line {}: a {} device sends no heartbeat",
                        path.display(),
                        l.line,
                        args.format
                    );
                }
            }
            lines.into_iter().map(|l| l.action).collect()
        }
        None => Vec::new(),
    };
    let door = MqttDoor::new(
        opts,
        Box::new(|line: &str| {
            let t = Utc::now().with_timezone(&schedule::rfc3339_offset());
            println!("{} {line}", t.format("%H:%M:%S"));
        }),
    );
    eprintln!(
        "{} door simulator; type lines like `badge card 04A1B2C3 in`, `contact open`, `offline`, `online`, `quit`",
        args.format
    );
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).await.is_err() {
                break;
            }
        }
    });
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    mqtt_door::run(door, script, rx, cancel).await?;
    Ok(ExitCode::SUCCESS)
}

async fn login_command(args: LoginArgs) -> anyhow::Result<ExitCode> {
    use monban_sim::login::{self, Sent};
    let now = Utc::now();
    let message = schedule::LoginMessage {
        event_id: args
            .event_id
            .unwrap_or_else(|| format!("sim-login-{}", now.timestamp_millis())),
        ts: args
            .ts
            .unwrap_or(now)
            .with_timezone(&schedule::rfc3339_offset()),
        system: monban_core::SystemId::parse(args.system.clone())
            .map_err(|e| anyhow::anyhow!("--system {:?}: {e}", args.system))?,
        account: args.account,
        terminal: args.terminal,
        factors: if args.factors.is_empty() {
            vec![monban_core::Factor::Password]
        } else {
            args.factors
        },
        outcome: args.outcome,
    };
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    match login::send(&args.hub, &args.token, &message, &cancel).await? {
        Sent::Refused { status, body } => {
            println!("{} refused by the hub: {status} {body}", message.event_id);
            Ok(ExitCode::from(1))
        }
        Sent::Judged(v) => {
            let fin = match v.is_final {
                Some(true) => " (final)",
                Some(false) => " (may change within the grace period)",
                None => "",
            };
            println!("{} {v}{fin}", message.event_id);
            match args.expect {
                Some(want) if want.as_str() != v.verdict => {
                    eprintln!(
                        "expected {}, the hub said {} (reasons: {})",
                        want.as_str(),
                        v.verdict,
                        if v.reasons.is_empty() {
                            "none".to_string()
                        } else {
                            v.reasons.join(", ")
                        }
                    );
                    Ok(ExitCode::from(1))
                }
                _ => Ok(ExitCode::SUCCESS),
            }
        }
    }
}

async fn scenario_command(args: ScenarioArgs) -> anyhow::Result<ExitCode> {
    use monban_sim::scenario::{self, SendAction};
    let path = args.file.display().to_string();
    let text =
        std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {path}"))?;
    let parsed = scenario::parse(&text).map_err(|e| match e.line {
        Some(l) => anyhow::anyhow!("{path}:{l}: {}", e.message),
        None => anyhow::anyhow!("{path}: {}", e.message),
    })?;
    for problem in scenario::check_references(&parsed, &hospital::generate(args.seed)) {
        eprintln!(
            "warning: {path}: {problem} (in the hospital of seed {})",
            args.seed
        );
    }
    let run_id = format!("{:x}", Utc::now().timestamp_millis());
    let plan = scenario::plan(&parsed, Utc::now(), &run_id).map_err(|e| match e.line {
        Some(l) => anyhow::anyhow!("{path}:{l}: {}", e.message),
        None => anyhow::anyhow!("{path}: {}", e.message),
    })?;
    if args.dry_run {
        println!("# {} — start {}", plan.name, schedule::rfc3339(plan.start));
        for (door, profile) in &plan.doors {
            println!(
                "door {door}: {} device, client {}-{door}; last will {}",
                profile.format(),
                args.client_id,
                profile
                    .last_will()
                    .map(|w| w.to_string())
                    .unwrap_or_else(|| "none (the device sets none)".into())
            );
        }
        for s in &plan.sends {
            let delay = if s.after.is_zero() {
                String::new()
            } else if plan.realtime {
                format!(" (at +{:?})", s.after)
            } else {
                format!(" (sent {:?} late)", s.after)
            };
            let line = s.line;
            match &s.action {
                SendAction::Hub(Action::Door(m)) => {
                    println!("line {line}{delay}: {} {}", m.topic(&plan.site), m.payload())
                }
                SendAction::Hub(Action::Status(m)) => {
                    println!("line {line}{delay}: {} {}", m.topic(&plan.site), m.payload())
                }
                SendAction::Hub(Action::Login(m)) => {
                    println!("line {line}{delay}: POST /api/v1/logins {}", m.body())
                }
                SendAction::Hub(Action::Maintenance(m)) => match &m.kind {
                    schedule::MaintenanceKind::Request(body) => println!(
                        "line {line}{delay}: POST /api/v1/maintenance ({}) {}",
                        m.vendor,
                        serde_json::to_string(body).unwrap_or_default()
                    ),
                    schedule::MaintenanceKind::Report { body, .. } => println!(
                        "line {line}{delay}: POST /api/v1/maintenance/{}/report ({}) {}",
                        m.request_id,
                        m.vendor,
                        serde_json::to_string(body).unwrap_or_default()
                    ),
                    schedule::MaintenanceKind::Decision { .. } => {}
                },
                SendAction::Vendor { door, publications } => {
                    for p in publications {
                        println!("line {line}{delay}: [{door}] {p}");
                    }
                }
                SendAction::Connection { door, online: false } => println!(
                    "line {line}{delay}: [{door}] connection dropped without DISCONNECT: the broker publishes the last will"
                ),
                SendAction::Connection { door, online: true } => {
                    println!("line {line}{delay}: [{door}] reconnects and sends its birth messages")
                }
            }
        }
        for c in &plan.checks {
            println!("check line {}: {} expect {}", c.line, c.event_id, c.expect);
        }
        for c in &plan.request_checks {
            println!(
                "check line {}: {} expect {}",
                c.line, c.request_id, c.expect
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut tokens = BTreeMap::new();
    for (system, token) in &args.tokens {
        if tokens.insert(system.clone(), token.clone()).is_some() {
            bail!("--token {system}=… is given twice");
        }
    }
    let mut vendor_tokens = BTreeMap::new();
    for (vendor, token) in &args.vendor_tokens {
        if vendor_tokens
            .insert(vendor.clone(), token.clone())
            .is_some()
        {
            bail!("--vendor-token {vendor}=… is given twice");
        }
    }
    let opts = scenario::RunOptions {
        mqtt_host: args.mqtt.0,
        mqtt_port: args.mqtt.1,
        client_id: format!("{}-{run_id}", args.client_id),
        hub_url: args.hub,
        login_tokens: tokens,
        vendor_tokens,
        read_token: args.read_token.clone(),
        deadline: args.deadline.as_std(),
    };
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    let report = scenario::run(&plan, &opts, cancel).await?;
    println!("{report}");
    if args.read_token.is_none() {
        println!("(give --read-token to check the hub's verdicts)");
    }
    Ok(if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maintenance(args: &[&str]) -> Result<MaintenanceCommand, clap::Error> {
        let mut argv = vec!["monban-sim", "maintenance"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::Maintenance(m) => m,
            _ => panic!("not a maintenance command"),
        })
    }

    #[test]
    fn a_request_from_flags() {
        let MaintenanceCommand::Request(args) = maintenance(&[
            "request",
            "--hub",
            "http://127.0.0.1:9",
            "--token",
            "T",
            "--request-id",
            "acme-2026-0042",
            "--system",
            "ehr",
            "--person",
            "v001",
            "--person",
            "v002",
            "--work-plan",
            "WP-2026-118",
            "--start",
            "2026-12-10T20:00:00+09:00",
            "--end",
            "2026-12-10T23:00:00+09:00",
            "--emergency",
        ])
        .expect("parses") else {
            panic!("a request");
        };
        let body = args.body().expect("body");
        assert_eq!(body.request_id, "acme-2026-0042");
        assert_eq!(body.people, vec!["v001", "v002"]);
        assert!(body.remote && body.emergency && body.vendor.is_none());
        assert_eq!(body.purpose, "");

        let MaintenanceCommand::Request(on_site) = maintenance(&[
            "request",
            "--token",
            "T",
            "--request-id",
            "r",
            "--system",
            "pharmacy",
            "--person",
            "p0029",
            "--work-plan",
            "WP-1",
            "--start",
            "2026-12-10T10:00:00+09:00",
            "--end",
            "2026-12-10T12:00:00+09:00",
            "--on-site",
        ])
        .expect("parses") else {
            panic!("a request");
        };
        assert!(!on_site.body().expect("body").remote);
    }

    #[test]
    fn a_request_from_a_file_and_what_is_refused() {
        let dir = std::env::temp_dir().join(format!("monban-sim-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("body.json");
        std::fs::write(
            &file,
            r#"{"request_id": "acme-1", "system": "ehr", "people": ["v001"], "work_plan": "WP-1",
                "start": "2026-12-10T20:00:00+09:00", "end": "2026-12-10T23:00:00+09:00",
                "remote": true}"#,
        )
        .expect("write");
        let path = file.display().to_string();
        let MaintenanceCommand::Request(args) =
            maintenance(&["request", "--token", "T", "--file", &path]).expect("parses")
        else {
            panic!("a request");
        };
        assert_eq!(args.body().expect("body").request_id, "acme-1");
        std::fs::write(&file, r#"{"request_id": "acme-1", "colour": "red"}"#).expect("write");
        assert!(args.body().is_err(), "an unknown field is refused");
        std::fs::remove_dir_all(&dir).ok();

        // --file or the fields, not both; the fields are required without it.
        assert!(
            maintenance(&["request", "--token", "T", "--file", "b.json", "--system", "ehr"])
                .is_err()
        );
        assert!(maintenance(&["request", "--token", "T", "--system", "ehr"]).is_err());
        assert!(maintenance(&[
            "request",
            "--token",
            "T",
            "--file",
            "b.json",
            "--remote",
            "--on-site"
        ])
        .is_err());
    }

    #[test]
    fn a_report_with_and_without_a_recording() {
        let MaintenanceCommand::Report(args) = maintenance(&[
            "report",
            "--token",
            "T",
            "--id",
            "acme-1",
            "--summary",
            "パッチ適用完了",
            "--recording-sha256",
            &"ab".repeat(32),
            "--recording-uri",
            "https://pam.example/r/1",
        ])
        .expect("parses") else {
            panic!("a report");
        };
        let body = args.body();
        assert_eq!(body.summary, "パッチ適用完了");
        assert_eq!(
            body.recording.map(|r| r.uri),
            Some("https://pam.example/r/1".to_string())
        );
        let MaintenanceCommand::Report(plain) =
            maintenance(&["report", "--token", "T", "--id", "a", "--summary", "s"])
                .expect("parses")
        else {
            panic!("a report");
        };
        assert_eq!(plain.body().recording, None);
        // A recording needs both its hash and its place.
        assert!(maintenance(&[
            "report",
            "--token",
            "T",
            "--id",
            "a",
            "--summary",
            "s",
            "--recording-uri",
            "x"
        ])
        .is_err());
    }

    #[test]
    fn the_day_and_the_hospital_take_their_new_options() {
        let cli = Cli::try_parse_from([
            "monban-sim",
            "day",
            "--vendor-token",
            "medisys=A",
            "--vendor-token",
            "towa-mt=B",
        ])
        .expect("parses");
        let Command::Day(day) = cli.command else {
            panic!("day");
        };
        assert_eq!(
            day.vendor_tokens,
            vec![
                ("medisys".to_string(), "A".to_string()),
                ("towa-mt".to_string(), "B".to_string())
            ]
        );
        let cli = Cli::try_parse_from(["monban-sim", "hospital", "--today", "2027-01-31"])
            .expect("parses");
        let Command::Hospital { today, .. } = cli.command else {
            panic!("hospital");
        };
        assert_eq!(today.map(|d| d.to_string()).as_deref(), Some("2027-01-31"));
        assert!(Cli::try_parse_from(["monban-sim", "hospital", "--today", "31/01/2027"]).is_err());
    }
}
