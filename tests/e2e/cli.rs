//! The command line (CONTRACT §4, §9): `token issue` prints the token alone; a broken
//! `monban.toml` stops `check` and `serve` with exit code 2 and a `file:line:` message;
//! importing the same file twice gives the same state.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::PathBuf;

/// A directory with a `monban.toml` of the test hospital (not served).
fn config_dir(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("monban-e2e-cli-")
        .tempdir()
        .expect("temp dir");
    let path = dir.path().join("monban.toml");
    std::fs::write(&path, text).expect("write monban.toml");
    (dir, path)
}

/// The 1-based number of the first line containing `needle` at or after line `from`.
fn line_of(text: &str, needle: &str, from: usize) -> usize {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} is not in the config"))
}

/// The line number of the first `monban.toml:LINE:` in `stderr`.
fn located_line(stderr: &str) -> usize {
    let at = stderr
        .find("monban.toml:")
        .unwrap_or_else(|| panic!("no monban.toml:LINE: in {stderr:?}"));
    let rest = &stderr[at + "monban.toml:".len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    assert!(
        !digits.is_empty() && rest[digits.len()..].starts_with(':'),
        "no monban.toml:LINE: in {stderr:?}"
    );
    digits.parse().expect("line number")
}

#[test]
fn token_issue_prints_only_the_token() {
    let (_dir, config) = config_dir(&config_text(&HubOptions::default(), free_port()));
    let mut seen = Vec::new();
    for args in [
        &["--system", "ehr"][..],
        &["--system", "pacs"][..],
        &["--doors"][..],
        &["--role", "auditor"][..],
        &["--role", "officer"][..],
        &["--role", "admin"][..],
    ] {
        let mut full = vec!["token", "issue"];
        full.extend_from_slice(args);
        let out = monban(&config, &full);
        assert!(out.status.success(), "{args:?}: {out:?}");
        let token = out.stdout.strip_suffix('\n').unwrap_or(&out.stdout);
        assert!(
            !token.is_empty() && !token.contains(char::is_whitespace),
            "{args:?}: stdout {:?}",
            out.stdout
        );
        assert_eq!(
            out.stdout.lines().count(),
            1,
            "{args:?}: stdout {:?}",
            out.stdout
        );
        assert!(token.len() >= 20, "{args:?}: a short token {token:?}");
        assert!(!seen.contains(&token.to_string()), "tokens repeat");
        seen.push(token.to_string());
    }
    // Refusals print nothing on stdout.
    for args in [&["--system", "nope"][..], &["--role", "janitor"][..]] {
        let mut full = vec!["token", "issue"];
        full.extend_from_slice(args);
        let out = monban(&config, &full);
        assert!(!out.status.success(), "{args:?} must fail: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: stdout {:?}", out.stdout);
        assert!(
            !out.stderr.trim().is_empty(),
            "{args:?}: says nothing on stderr"
        );
    }
}

#[tokio::test]
async fn tokens_issued_while_serving_work_at_once() {
    let hub = spawn_hub(HubOptions::default()).await;
    for role in ["officer", "admin"] {
        let token = issue_token(&hub.config, &["--role", role]);
        let (status, body) = hub.get_with("/api/v1/compliance", Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
    }
}

#[test]
fn config_errors_exit_2_with_file_and_line() {
    let base = config_text(&HubOptions::default(), free_port());
    assert!(
        monban(&config_dir(&base).1, &["check"]).status.success(),
        "the base config is valid"
    );

    // A door naming a room that does not exist.
    let text = format!("{base}\n[[doors]]\nid = \"ward9-door\"\nroom = \"ward9\"\n");
    let first = line_of(&text, "id = \"ward9-door\"", 1) - 1;
    let last = line_of(&text, "room = \"ward9\"", first);
    let (_dir, config) = config_dir(&text);
    for cmd in ["check", "serve"] {
        let out = monban(&config, &[cmd]);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {out:?}");
        let line = located_line(&out.stderr);
        assert!(
            (first..=last).contains(&line),
            "{cmd}: line {line} is not in the door's table {first}..={last}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("ward9"),
            "{cmd}: the message names the room: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{cmd}: stdout {:?}", out.stdout);
    }

    // A typo'd key: `controled` would silently leave the room uncontrolled.
    let text = base.replacen("controlled = true", "controled = true", 1);
    let typo = line_of(&text, "controled", 1);
    let header = text
        .lines()
        .take(typo)
        .enumerate()
        .filter(|(_, l)| l.starts_with("[[rooms]]"))
        .map(|(i, _)| i + 1)
        .last();
    let header = header.expect("a [[rooms]] header");
    let (_dir, config) = config_dir(&text);
    for cmd in ["check", "serve"] {
        let out = monban(&config, &[cmd]);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {out:?}");
        let line = located_line(&out.stderr);
        assert!(
            (header..=typo).contains(&line),
            "{cmd}: line {line} is not in the room's table {header}..={typo}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("controled"),
            "{cmd}: the message names the key: {}",
            out.stderr
        );
    }

    // A bad duration.
    let text = base.replacen("\"15m\"", "\"15 fortnights\"", 1);
    let bad = line_of(&text, "15 fortnights", 1);
    let (_dir, config) = config_dir(&text);
    let out = monban(&config, &["check"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let line = located_line(&out.stderr);
    assert!(
        line <= bad && bad - line <= 6,
        "line {line} is not near {bad}: {}",
        out.stderr
    );
}

/// `[[mqtt.sources]]` and `heartbeat_timeout` are checked like the rest: an unknown key,
/// a door that is not in the inventory and a bad duration each name their line.
#[test]
fn connector_settings_are_checked_with_their_lines() {
    let opts = HubOptions::default().mqtt("mqtt://127.0.0.1:1883");
    let base = config_text(&opts, free_port());
    let good = format!(
        "{base}\n[[mqtt.sources]]\npreset = \"esp-rfid\"\ntopic = \"esprfid\"\ndoor = \"ward3-main\"\n"
    );
    let out = monban(&config_dir(&good).1, &["check"]);
    assert!(out.status.success(), "a valid source: {out:?}");

    let text = format!(
        "{base}\n[[mqtt.sources]]\npreset = \"esp-rfid\"\ntopic = \"esprfid\"\ndoor = \"ward3-main\"\ncolour = \"red\"\n"
    );
    let out = monban(&config_dir(&text).1, &["check"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stderr.contains("colour"), "{}", out.stderr);
    let header = line_of(&text, "[[mqtt.sources]]", 1);
    let line = located_line(&out.stderr);
    assert!(
        (header..=header + 4).contains(&line),
        "line {line} vs {header}: {}",
        out.stderr
    );

    let text = format!(
        "{base}\n[[mqtt.sources]]\npreset = \"tasmota\"\ntopic = \"t1\"\ndoor = \"ward9-door\"\n\n[[doors]]\nid = \"ward3-side\"\nroom = \"ward3\"\nheartbeat_timeout = \"soon\"\n"
    );
    let out = monban(&config_dir(&text).1, &["check"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        out.stderr.contains("ward9-door") && out.stderr.contains("not in [[doors]]"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("heartbeat_timeout"), "{}", out.stderr);
    let source_line = line_of(&text, "[[mqtt.sources]]", 1);
    let timeout_line = line_of(&text, "heartbeat_timeout", 1);
    let lines: Vec<usize> = out
        .stderr
        .lines()
        .filter_map(|l| l.split(':').nth(1).and_then(|n| n.parse().ok()))
        .collect();
    assert_eq!(lines, [source_line, timeout_line], "{}", out.stderr);
}

#[tokio::test]
async fn importing_the_same_file_twice_is_idempotent() {
    let mut hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    hub.door_ok(&entry("ward3-main", "d-1", &b.at(0, 9), "card", "04A1B2C3"))
        .await;
    hub.login_ok(&ehr_login(
        "l-1",
        &b.at(5, 0),
        "nurse01",
        "ward3-pc01",
        &["password"],
    ))
    .await;
    let (from, to) = (b.at(0, 0), b.at(60, 0));
    // The relative `sqlite://monban.db` lives next to the file, whatever the working
    // directory of `token issue` (this crate) and `serve` (see the harness) was.
    assert!(
        hub.dir.path().join("monban.db").exists(),
        "no monban.db next to monban.toml"
    );
    let before = compliance_of(&hub, &from, &to).await;
    let check = monban(&hub.config, &["check"]);
    assert!(check.status.success(), "{check:?}");

    // Stop, start with the same file, stop, start again.
    for _ in 0..2 {
        let (status, _) = hub.terminate(DEADLINE);
        assert_eq!(status.code(), Some(0));
        hub.start().await;
        assert_eq!(
            compliance_of(&hub, &from, &to).await,
            before,
            "same file, same state"
        );
        assert_verdict(
            &hub.login_view("l-1").await,
            "combined_measures",
            &[],
            evidence("d-1", "ward3-main", &b.z(0), "card"),
        );
    }
    // Everyone is still mapped exactly once: a new login of each kind behaves as before.
    hub.login_ok(&ehr_login(
        "l-2",
        &b.at(6, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    ))
    .await;
    assert_eq!(hub.login_view("l-2").await["verdict"], "combined_measures");

    // A changed file is imported: a new person with a card and an ehr account.
    let mut text = std::fs::read_to_string(&hub.config).expect("read config");
    text.push_str("\n[[people]]\nid = \"p0006\"\nname = \"看護師 六子\"\ncredentials = [\"card:06060606\"]\naccounts = { ehr = \"nurse06\" }\n");
    std::fs::write(&hub.config, text).expect("write config");
    let (status, _) = hub.terminate(DEADLINE);
    assert_eq!(status.code(), Some(0));
    hub.start().await;
    hub.door_ok(&entry(
        "ward3-back",
        "d-6",
        &b.at(10, 0),
        "card",
        "06060606",
    ))
    .await;
    hub.login_ok(&ehr_login(
        "l-6",
        &b.at(11, -5),
        "nurse06",
        "ward3-pc01",
        &["password"],
    ))
    .await;
    assert_verdict(
        &hub.login_view("l-6").await,
        "combined_measures",
        &[],
        evidence("d-6", "ward3-back", &b.z(10), "card"),
    );
}

async fn compliance_of(hub: &Hub, from: &str, to: &str) -> Value {
    let (status, body) = hub.compliance(Some(from), Some(to)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}
