//! `monban demo`: the one command with no files and no outside services. Runs the real
//! binary at a high simulation speed and checks that the dashboard shows every demo
//! system with a status and coverage computed from real verdicts — the same figures as
//! the compliance API — and that the demo stops cleanly on SIGTERM.

use crate::harness::{free_port, monban_bin, wait_for};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The attribute `name` of the first tag that contains `marker`.
fn attr_of_tag(html: &str, marker: &str, name: &str) -> Option<String> {
    let at = html.find(marker)?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let key = format!("{name}=\"");
    let v = tag.find(&key)? + key.len();
    Some(tag[v..v + tag[v..].find('"')?].to_string())
}

#[tokio::test]
async fn demo_serves_a_dashboard_of_real_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("demo.log")).unwrap();
    let mut child = Command::new(monban_bin())
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--speed",
            "5000",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let token_file = dir.path().join("data/read-token.txt");
    let token = wait_for("the demo's read token", Duration::from_secs(60), || {
        let f = token_file.clone();
        async move {
            std::fs::read_to_string(f)
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        }
    })
    .await;

    // The accelerated day reaches every system and its deliberate failures (the day is
    // about 20 s at this speed; a slow machine takes longer).
    let compliance: Value = wait_for(
        "every demo system to have logins and a deliberate failure",
        Duration::from_secs(240),
        || {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            async move {
                let r = http
                    .get(format!("{base}/api/v1/compliance"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .ok()?;
                let v: Value = r.json().await.ok()?;
                let systems = v["systems"].as_array()?;
                // Every system has logins and at least one deliberate failure has
                // been judged (the deliberate cases are spread over the day).
                // Five systems: four fed over the API, the 検体検査システム (`lab`) only
                // by its imported access log.
                let all = systems.len() == 5
                    && systems
                        .iter()
                        .all(|s| s["logins"]["successful"].as_u64() > Some(0))
                    && systems.iter().any(|s| s["status"] == "gap");
                all.then_some(v)
            }
        },
    )
    .await;

    // The simulation is still running, so a status may change between two readings: read
    // the API, the page and the API again until both API readings agree, and compare the
    // page with them.
    let (html, now) = wait_for(
        "a page rendered between two equal API readings",
        Duration::from_secs(120),
        || {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            async move {
                let statuses = |v: &Value| -> Option<Vec<(String, String)>> {
                    v["systems"]
                        .as_array()?
                        .iter()
                        .map(|s| {
                            Some((
                                s["id"].as_str()?.to_string(),
                                s["status"].as_str()?.to_string(),
                            ))
                        })
                        .collect()
                };
                let read = || async {
                    let r = http
                        .get(format!("{base}/api/v1/compliance"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .ok()?;
                    r.json::<Value>().await.ok()
                };
                let before = read().await?;
                let html = http
                    .get(format!("{base}/"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()?;
                let after = read().await?;
                (statuses(&before)? == statuses(&after)?).then_some((html, after))
            }
        },
    )
    .await;
    let systems = compliance["systems"].as_array().unwrap();
    assert!(
        systems
            .iter()
            .any(|s| s["native_mfa"] == true && s["status"] == "direct"),
        "{compliance:#}"
    );
    assert!(
        systems.iter().any(|s| s["status"] == "gap"),
        "the deliberate failures show as gaps: {compliance:#}"
    );
    for s in now["systems"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        let marker = format!("data-system-id=\"{id}\"");
        let status = attr_of_tag(&html, &marker, "data-status");
        assert_eq!(
            status.as_deref(),
            s["status"].as_str(),
            "status of {id} on the dashboard"
        );
        assert!(
            html.contains(s["name"].as_str().unwrap()),
            "{id}'s name on the dashboard"
        );
    }
    assert!(
        html.contains("data-testid=\"login-row\""),
        "latest logins on the dashboard"
    );

    // The 検体検査システム's logins came from its access log, imported through the hub:
    // the record says so, and its accounts show the leaver, a dormant and an unmapped one.
    let imports: Value = http
        .get(format!("{base}/api/v1/imports"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lab = &imports["imports"][0];
    assert_eq!(
        (&lab["system"], &lab["status"], &lab["via"]),
        (
            &Value::from("lab"),
            &Value::from("imported"),
            &Value::from("demo")
        ),
        "{imports:#}"
    );
    assert!(lab["stored"].as_u64() > Some(0), "{imports:#}");
    let accounts: Value = http
        .get(format!("{base}/api/v1/accounts?system=lab"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = accounts["accounts"].as_array().unwrap();
    for finding in ["leaver", "dormant", "unmapped"] {
        assert!(
            rows.iter().any(|r| r["findings"]
                .as_array()
                .is_some_and(|f| f.iter().any(|x| x == finding))),
            "a {finding} account of lab: {accounts:#}"
        );
    }

    // The inspection report of the demo's period, opened from the overview: every system
    // with its measured status (lab's from its imported log), and the evidence head.
    assert!(
        html.contains("data-testid=\"overview-inspection\""),
        "the overview links to the inspection report"
    );
    let report = http
        .get(format!("{base}/inspection"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for s in now["systems"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        assert!(
            report.contains(&format!("data-testid=\"insp-system\" data-system=\"{id}\"")),
            "{id} in the inspection report"
        );
    }
    let lab_status = attr_of_tag(
        &report,
        "data-testid=\"insp-system\" data-system=\"lab\"",
        "data-status",
    );
    assert!(
        lab_status.as_deref().is_some_and(|s| s != "no_data"),
        "lab is measured from its imported log: {lab_status:?}"
    );
    assert!(report.contains("data-testid=\"insp-head\" data-seq="));

    // SIGTERM stops the demo cleanly.
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the demo did not stop within 20 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        status.success(),
        "exit status {status:?}; log:\n{}",
        std::fs::read_to_string(dir.path().join("demo.log")).unwrap_or_default()
    );
}
