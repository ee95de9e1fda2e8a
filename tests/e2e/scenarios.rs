//! The testers' commissioning tool against the real hub: `monban-sim scenario` plays each
//! example scenario (`simulators/scenarios/*.toml`: ward, 調剤室, 放射線管理区域, サーバ室,
//! vendor maintenance filed with vendor tokens, and the vendor-format controllers) through the real connectors — door events over
//! MQTT via `monban broker`, logins over HTTP — against `monban serve` on the generated
//! hospital, and every expected verdict must hold.

use crate::harness::{free_port, issue_token, monban_bin, wait_for};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn sim_bin() -> PathBuf {
    let p = monban_bin().with_file_name("monban-sim");
    assert!(
        p.exists(),
        "monban-sim is missing at {}: build it first: cargo build -p monban-sim",
        p.display()
    );
    p
}

fn scenario_path(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../simulators/scenarios"
    ))
    .join(format!("{name}.toml"))
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `monban broker` and a `monban serve` on the hospital of `monban-sim hospital
/// --seed 1`, with `extra` appended to its configuration.
struct ScenarioHub {
    dir: tempfile::TempDir,
    hub_port: u16,
    mqtt_port: u16,
    /// `--token SYSTEM=TOKEN` arguments for every system of the hospital, and
    /// `--vendor-token VENDOR=TOKEN` for every maintenance vendor.
    tokens: Vec<String>,
    read: String,
    _broker: Kill,
    _hub: Kill,
}

impl ScenarioHub {
    async fn start(extra: &str) -> ScenarioHub {
        let dir = tempfile::tempdir().unwrap();
        let mqtt_port = free_port();
        let broker = Kill(
            Command::new(monban_bin())
                .args(["broker", "--listen", &format!("127.0.0.1:{mqtt_port}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let hub_port = free_port();
        let hospital = Command::new(sim_bin())
            .args(["hospital", "--seed", "1"])
            .output()
            .unwrap();
        assert!(hospital.status.success());
        let config = dir.path().join("monban.toml");
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:{hub_port}\"\ndatabase = \"sqlite://monban.db\"\ngrace = \"60s\"\n\n\
             [mqtt]\nurl = \"mqtt://127.0.0.1:{mqtt_port}\"\nclient_id = \"monban-scenarios\"\n\n{}\n{extra}",
            String::from_utf8_lossy(&hospital.stdout)
        );
        std::fs::write(&config, text).unwrap();
        let mut tokens = Vec::new();
        for system in ["ehr", "pharmacy", "ris", "vpn"] {
            tokens.push("--token".to_string());
            tokens.push(format!(
                "{system}={}",
                issue_token(&config, &["--system", system])
            ));
        }
        for vendor in ["medisys", "towa-mt"] {
            tokens.push("--vendor-token".to_string());
            tokens.push(format!(
                "{vendor}={}",
                issue_token(&config, &["--vendor", vendor])
            ));
        }
        let read = issue_token(&config, &["--role", "auditor"]);
        let log = std::fs::File::create(dir.path().join("hub.log")).unwrap();
        let hub = Kill(
            Command::new(monban_bin())
                .arg("--config")
                .arg(&config)
                .arg("serve")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        let health = format!("http://127.0.0.1:{hub_port}/healthz");
        wait_for(
            "the hub to answer /healthz",
            Duration::from_secs(30),
            || {
                let url = health.clone();
                async move {
                    reqwest::get(url)
                        .await
                        .ok()
                        .filter(|r| r.status().is_success())
                        .map(|_| ())
                }
            },
        )
        .await;
        let metrics = format!("http://127.0.0.1:{hub_port}/metrics");
        wait_for(
            "the hub's MQTT connector to connect",
            Duration::from_secs(30),
            || {
                let url = metrics.clone();
                let read = read.clone();
                async move {
                    let text = reqwest::Client::new()
                        .get(url)
                        .bearer_auth(read)
                        .send()
                        .await
                        .ok()?
                        .text()
                        .await
                        .ok()?;
                    text.lines()
                        .any(|l| l == "monban_connector_up{connector=\"mqtt\"} 1")
                        .then_some(())
                }
            },
        )
        .await;
        ScenarioHub {
            dir,
            hub_port,
            mqtt_port,
            tokens,
            read,
            _broker: broker,
            _hub: hub,
        }
    }

    /// Plays `simulators/scenarios/{name}.toml`; panics with the report and the hub's
    /// log unless every check passed.
    fn play(&self, name: &str) {
        let out = Command::new(sim_bin())
            .arg("scenario")
            .arg(scenario_path(name))
            .args(["--hub", &format!("http://127.0.0.1:{}", self.hub_port)])
            .args(["--mqtt", &format!("mqtt://127.0.0.1:{}", self.mqtt_port)])
            .args(&self.tokens)
            .args(["--read-token", &self.read])
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        println!("{report}");
        assert!(
            out.status.success(),
            "scenario {name} failed:\n{report}\n{}\nhub log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("hub.log")).unwrap_or_default()
        );
        assert!(
            report.contains("PASS") && !report.contains("FAIL"),
            "{name}:\n{report}"
        );
    }
}

#[tokio::test]
async fn example_scenarios_pass_against_the_hub() {
    let hub = ScenarioHub::start("").await;
    for name in [
        "ward",
        "pharmacy",
        "radiology",
        "server-room",
        "maintenance",
    ] {
        hub.play(name);
    }
}

/// The `[[mqtt.sources]]` that the header of a scenario file says the hub needs: its
/// comment lines indented by three spaces.
fn sources_of(name: &str) -> String {
    let text = std::fs::read_to_string(scenario_path(name)).unwrap();
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("#   "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `vendors.toml`: esp-rfid, Tasmota, uhppoted, Shelly and ESPHome devices, each on its
/// own connection with its last will, in real time (about 25 s), against a hub of its
/// own with the sources its header names.
#[tokio::test]
async fn the_vendor_scenario_passes_against_the_hub() {
    let sources = sources_of("vendors");
    assert_eq!(
        sources.matches("[[mqtt.sources]]").count(),
        5,
        "the header of vendors.toml names five sources:\n{sources}"
    );
    let hub = ScenarioHub::start(&sources).await;
    hub.play("vendors");
}
