//! The testers' commissioning tool against the real hub: `monban-sim scenario` plays each
//! example scenario (`simulators/scenarios/*.toml`: ward, 調剤室, 放射線管理区域, サーバ室)
//! through the real connectors — door events over MQTT via `monban broker`, logins over
//! HTTP — against `monban serve` on the generated hospital, and every expected verdict
//! must hold.

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

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn example_scenarios_pass_against_the_hub() {
    let dir = tempfile::tempdir().unwrap();
    let mqtt_port = free_port();
    let _broker = Kill(
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
         [mqtt]\nurl = \"mqtt://127.0.0.1:{mqtt_port}\"\nclient_id = \"monban-scenarios\"\n\n{}",
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
    let read = issue_token(&config, &["--role", "auditor"]);
    let log = std::fs::File::create(dir.path().join("hub.log")).unwrap();
    let _hub = Kill(
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

    let scenarios = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../simulators/scenarios"
    ));
    for name in ["ward", "pharmacy", "radiology", "server-room"] {
        let out = Command::new(sim_bin())
            .arg("scenario")
            .arg(scenarios.join(format!("{name}.toml")))
            .args(["--hub", &format!("http://127.0.0.1:{hub_port}")])
            .args(["--mqtt", &format!("mqtt://127.0.0.1:{mqtt_port}")])
            .args(&tokens)
            .args(["--read-token", &read])
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "scenario {name} failed:\n{report}\n{}\nhub log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.path().join("hub.log")).unwrap_or_default()
        );
        assert!(
            report.contains("PASS") && !report.contains("FAIL"),
            "{name}:\n{report}"
        );
    }
}
