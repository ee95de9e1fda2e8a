//! The hub every browser test starts from: the test hospital with MQTT (an embedded
//! rumqttd), fed by the testers' simulators — a card entry by `monban-sim mqtt-door`
//! (a native-format door controller) through the hub's real MQTT connector and a login
//! by `monban-sim login` — and further logins over HTTP of every verdict.

use crate::broker::start_rumqttd;
use crate::harness::*;
use std::process::{Command, Stdio};

/// The simulators' binary next to the hub's.
fn sim_bin() -> std::path::PathBuf {
    let p = monban_bin().with_file_name("monban-sim");
    assert!(
        p.exists(),
        "monban-sim is missing at {}: build it first: cargo build -p monban-sim",
        p.display()
    );
    p
}

/// Runs `monban-sim ARGS…` to completion and asserts it succeeded.
fn sim(args: &[&str]) {
    let out = Command::new(sim_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run monban-sim");
    assert!(
        out.status.success(),
        "monban-sim {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const WARD_PC: &str = "ward3-pc01";
const PHARMACY_PC: &str = "pharmacy-pc01";

/// A hub with MQTT (embedded rumqttd) and a small day: a card entry to ward 3 over MQTT
/// through the real connector, then logins over HTTP of every kind: direct 2FA (vpn),
/// combined measures (ehr after the entry), not met (pharmacy without an entry), failed.
/// Returns the hub and the ids of the logins.
pub async fn fed_hub() -> (Hub, Vec<String>) {
    let url = start_rumqttd();
    let hub = spawn_hub(HubOptions::default().mqtt(&url)).await;
    hub.wait_mqtt_connected().await;
    // The nurse badges in at ward 3's main door: a simulated door controller. It stays
    // switched on for the whole test (switching it off fires its last will, `offline`,
    // and the ward would rightly fail closed) and is killed with the hub.
    let script = hub.dir.path().join("door.script");
    std::fs::write(&script, "badge card 04A1B2C3 in\n").expect("write the script");
    let mut hub = hub;
    let door = Command::new(sim_bin())
        .args([
            "mqtt-door",
            "--format",
            "native",
            "--broker",
            &url,
            "--site",
        ])
        .arg(&hub.opts.site)
        .args(["--door", "ward3-main", "--script"])
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start monban-sim mqtt-door");
    hub.feeders.push(door);
    wait_for("the MQTT entry to be stored", DEADLINE, || async {
        (hub.metric("monban_door_events_ingested_total{source=\"mqtt\",result=\"new\"}")
            .await
            >= 1.0)
            .then_some(())
    })
    .await;
    // The simulator stamps the entry with its own clock when it acts, which a slow start
    // may delay: the logins are timed from after the entry is stored, so they follow it.
    let b = Base::from_instant(chrono::Utc::now());

    let logins = vec![
        login(
            "b-vpn",
            &b.at_secs(1, 9),
            "vpn",
            "nurse01",
            "lobby-kiosk",
            &["password", "totp"],
            "success",
        ),
        ehr_login(
            "b-ehr-gap",
            &b.at_secs(3, 9),
            "pharm02",
            PHARMACY_PC,
            &["password"],
        ),
        login(
            "b-ehr-fail",
            &b.at_secs(4, -5),
            "ehr",
            "doc03",
            WARD_PC,
            &["password"],
            "failure",
        ),
    ];
    // A password login on the ward's terminal by the simulated login source.
    sim(&[
        "login",
        "--hub",
        &hub.url(""),
        "--token",
        &hub.tokens.ehr,
        "--system",
        "ehr",
        "--account",
        "nurse01",
        "--terminal",
        WARD_PC,
        "--ts",
        &b.at_secs(2, 0),
        "--event-id",
        "b-ehr-ok",
        "--expect",
        "combined_measures",
    ]);
    let mut ids = vec!["b-ehr-ok".to_string()];
    for l in &logins {
        hub.login_ok(l).await;
        ids.push(l["event_id"].as_str().unwrap().to_string());
    }
    // The logins happened seconds after the entry; the pages show periods up to now.
    let last = b.instant_at(5);
    wait_for("the logins' times to be in the past", DEADLINE, || async {
        (chrono::Utc::now() >= last).then_some(())
    })
    .await;
    (hub, ids)
}

/// The text the overview shows for a coverage (`labels::coverage`).
pub fn coverage_text(coverage: f64, successful: u64) -> String {
    if successful == 0 {
        "—".to_string()
    } else {
        format!("{:.1}%", (coverage * 100.0).clamp(0.0, 100.0))
    }
}
