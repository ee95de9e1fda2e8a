//! Notifications (CONTRACT §11) against the real hub:
//!
//! - a webhook receiver in this test (axum) that checks the Standard Webhooks signature
//!   itself, with the secret and its own HMAC, gets `room.alarm` (a `door_forced` posted
//!   over HTTP) and `door.offline` (a door silent past its heartbeat timeout);
//! - a receiver that answers `500` first gets the same message again (same
//!   `webhook-id`) until it answers `2xx`;
//! - a delivery survives a killed hub: receiver down, event stored, `kill -9`, receiver
//!   up, hub restarted → exactly the pending message arrives;
//! - e-mail through a real SMTP server, `tests/peers/smtp_sink.py` (aiosmtpd, run when
//!   `MONBAN_TEST_PYTHON` names a Python with it — `scripts/test.sh` installs it into
//!   `target/pyenv`; otherwise the test prints why it is skipped), parsed by Python's
//!   e-mail package: the event, the site, Japanese then English;
//! - configuration errors (an unknown event, an unset secret) stop `monban serve`.
//!
//! Every wait has a deadline ([`wait_for`]); the delivery log
//! (`GET /api/v1/notifications`, admin token) says what the hub did.

use crate::harness::*;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The webhook's key, and the secret as the hub reads it from its environment.
const KEY: &[u8] = b"monban e2e webhook key, 32 bytes";

fn secret() -> String {
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(KEY)
    )
}

/// A door whose controller must be heard every 2 s.
const SILENT_DOOR: &str = r#"
[[doors]]
id = "ward3-side"
room = "ward3"
name = "3F 通用口"
heartbeat_timeout = "2s"
"#;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    body: Value,
    /// The signature matched `KEY` and the timestamp is within 5 minutes.
    verified: bool,
}

/// A webhook receiver on 127.0.0.1:`port` that records every request and answers `500`
/// to the first `fail_first` ones, `204` afterwards (always `Connection: close`, so a
/// stopped receiver keeps no connection the hub could still use).
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(port: u16, fail_first: usize) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .unwrap();
        let seen = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let seen = seen.clone();
                async move {
                    let r = check(&headers, &body);
                    let n = {
                        let mut g = seen.lock().unwrap();
                        g.push(r);
                        g.len()
                    };
                    let status = if n <= fail_first {
                        AxumStatus::INTERNAL_SERVER_ERROR
                    } else {
                        AxumStatus::NO_CONTENT
                    };
                    (status, [(axum::http::header::CONNECTION, "close")])
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { got, task }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// The first message of `kind` received, verified or not.
    fn of(&self, kind: &str) -> Option<Received> {
        self.got().into_iter().find(|r| r.body["type"] == kind)
    }

    fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Checks a request as a receiver following Standard Webhooks does, with its own HMAC.
fn check(headers: &HeaderMap, body: &str) -> Received {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let id = header("webhook-id");
    let timestamp = header("webhook-timestamp");
    let signatures = header("webhook-signature");
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|t| (t - chrono::Utc::now().timestamp()).abs() < 300);
    let signed = signatures
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()));
    Received {
        id,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
        verified: fresh && signed && header("content-type") == "application/json",
    }
}

/// `[[notify]]` for a webhook at `port`, with `?token=` that the log must not show.
fn webhook_config(port: u16, env: &str, events: &str) -> String {
    format!(
        "\n[[notify]]\nurl = \"http://127.0.0.1:{port}/hook?token=not-for-the-log\"\nsecret_env = \"{env}\"\nevents = {events}\n"
    )
}

/// A hub with a webhook target at `port` for `events`.
async fn hub_with_webhook(port: u16, events: &str, extra: &str) -> Hub {
    let env = "MONBAN_E2E_WEBHOOK_SECRET";
    spawn_hub(
        HubOptions::default()
            .extra(extra)
            .extra(&webhook_config(port, env, events))
            .env(env, &secret()),
    )
    .await
}

/// The delivery log, read with an admin token.
async fn log(hub: &Hub, admin: &str) -> Vec<Value> {
    let (status, body) = hub.get_with("/api/v1/notifications", Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["notifications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The logged notification of `kind`, once its only delivery has `status`.
async fn logged(hub: &Hub, admin: &str, kind: &str, status: &str) -> Value {
    wait_for(
        &format!("a {kind} notification {status} in the delivery log"),
        DEADLINE,
        || async {
            log(hub, admin)
                .await
                .into_iter()
                .find(|n| n["type"] == kind && n["deliveries"][0]["status"] == status)
        },
    )
    .await
}

fn forced(event_id: &str) -> Value {
    door_event(
        "ward3-main",
        event_id,
        &Base::from_instant(chrono::Utc::now()).at(0, 9),
        "door_forced",
    )
}

#[tokio::test]
async fn webhooks_are_signed_and_carry_the_event() {
    let port = free_port();
    let receiver = Receiver::start(port, 0).await;
    let hub = hub_with_webhook(port, r#"["door.offline", "room.alarm"]"#, SILENT_DOOR).await;
    let admin = issue_token(&hub.config, &["--role", "admin"]);

    // An integrity alarm over HTTP.
    hub.door_ok(&forced("forced-1")).await;
    let alarm = wait_for("room.alarm at the receiver", DEADLINE, || async {
        receiver.of("room.alarm")
    })
    .await;
    assert!(alarm.verified, "the signature must verify: {alarm:?}");
    let b = &alarm.body;
    assert_eq!(b["id"], alarm.id.as_str(), "webhook-id is the body's id");
    assert!(alarm.id.starts_with("msg_"), "{b}");
    assert_eq!(b["site"], hub.opts.site.as_str());
    assert!(b["at"].as_str().is_some_and(|a| a.ends_with('Z')), "{b}");
    assert_eq!(b["data"]["door"], "ward3-main");
    assert_eq!(b["data"]["room"], "ward3");
    assert_eq!(b["data"]["room_name"], "3F ナースステーション");
    assert_eq!(b["data"]["alarm"], "door_forced");
    assert_eq!(b["data"]["event_id"], "forced-1");

    // A door heard once, then silent past its heartbeat timeout.
    hub.door_ok(&door_event(
        "ward3-side",
        "side-1",
        &Base::from_instant(chrono::Utc::now()).at(0, 9),
        "door_closed",
    ))
    .await;
    let offline = wait_for("door.offline at the receiver", DEADLINE, || async {
        receiver.of("door.offline")
    })
    .await;
    assert!(offline.verified, "{offline:?}");
    assert_eq!(offline.body["data"]["door"], "ward3-side");
    assert_eq!(offline.body["data"]["door_name"], "3F 通用口");
    assert_eq!(offline.body["data"]["source"], "watchdog");

    // The delivery log: the URL without its query string, never the secret.
    let n = logged(&hub, &admin, "room.alarm", "delivered").await;
    assert_eq!(n["id"], alarm.id.as_str());
    assert_eq!(n["key"], "room.alarm:ward3-main:forced-1");
    let d = &n["deliveries"][0];
    assert_eq!(d["target"], format!("http://127.0.0.1:{port}/hook"));
    assert_eq!(d["attempts"], 1);
    assert!(
        d["delivered_at"].is_string() && d["next_attempt_at"].is_null(),
        "{d}"
    );
    let (_, whole) = hub.get_with("/api/v1/notifications", Some(&admin)).await;
    let text = whole.to_string();
    assert!(
        !text.contains("not-for-the-log") && !text.contains(&secret()),
        "{text}"
    );

    // Each event once: the same door event again is no new notification.
    let (status, _) = hub.post_door_event(&forced("forced-1")).await;
    assert_eq!(status, StatusCode::OK);
    let alarms = || async {
        receiver
            .got()
            .iter()
            .filter(|r| r.body["type"] == "room.alarm")
            .count()
    };
    assert_eq!(alarms().await, 1);

    // Only an admin reads the log.
    let (status, _) = hub
        .get_with("/api/v1/notifications", Some(&hub.tokens.auditor))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = hub.get_with("/api/v1/notifications", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = hub
        .get_with("/api/v1/notifications?limit=0", Some(&admin))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_until_2xx() {
    let port = free_port();
    let receiver = Receiver::start(port, 1).await;
    let hub = hub_with_webhook(port, r#"["room.alarm"]"#, "").await;
    let admin = issue_token(&hub.config, &["--role", "admin"]);
    hub.door_ok(&forced("retry-1")).await;

    let n = logged(&hub, &admin, "room.alarm", "delivered").await;
    let d = &n["deliveries"][0];
    assert_eq!(d["attempts"], 2, "{n}");
    assert!(
        d["last_error"].as_str().is_some_and(|e| e.contains("500")),
        "the first answer is kept: {n}"
    );
    let got = receiver.got();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].id, got[1].id, "a retry has the same webhook-id");
    assert_eq!(got[0].body, got[1].body);
    assert!(got.iter().all(|r| r.verified), "{got:?}");
}

#[tokio::test]
async fn a_pending_delivery_survives_a_killed_hub() {
    let port = free_port();
    let first = Receiver::start(port, 0).await;
    let mut hub = hub_with_webhook(port, r#"["room.alarm"]"#, "").await;
    let admin = issue_token(&hub.config, &["--role", "admin"]);

    // A is delivered while the receiver is up.
    hub.door_ok(&forced("kill-a")).await;
    let a = logged(&hub, &admin, "room.alarm", "delivered").await;
    first.stop();

    // B is stored while it is down: the hub keeps retrying, then is killed.
    hub.door_ok(&forced("kill-b")).await;
    let b = wait_for("B failing in the delivery log", DEADLINE, || async {
        log(&hub, &admin).await.into_iter().find(|n| {
            n["key"] == "room.alarm:ward3-main:kill-b" && n["deliveries"][0]["status"] == "retrying"
        })
    })
    .await;
    assert!(b["deliveries"][0]["last_error"].is_string(), "{b}");
    hub.kill9();

    // The receiver is back, then the hub: B arrives, A does not again.
    let second = Receiver::start(port, 0).await;
    hub.start().await;
    let got = wait_for("B after the restart", DEADLINE, || async {
        let got = second.got();
        (!got.is_empty()).then_some(got)
    })
    .await;
    wait_for("B delivered in the log", DEADLINE, || async {
        log(&hub, &admin)
            .await
            .into_iter()
            .find(|n| n["id"] == b["id"] && n["deliveries"][0]["status"] == "delivered")
    })
    .await;
    let got_now = second.got();
    assert_eq!(got_now.len(), 1, "exactly the pending one: {got:?}");
    assert_eq!(got_now[0].id, b["id"].as_str().unwrap());
    assert!(got_now[0].verified);
    assert_eq!(first.got().len(), 1);
    assert_eq!(first.got()[0].id, a["id"].as_str().unwrap());
}

/// The aiosmtpd peer: its port and the JSON lines of the messages it received.
struct SmtpSink {
    _child: tokio::process::Child,
    port: u16,
    messages: Arc<Mutex<Vec<Value>>>,
}

impl SmtpSink {
    /// `None` (with the reason printed) when `MONBAN_TEST_PYTHON` is not set.
    async fn start() -> Option<SmtpSink> {
        let Some(python) = std::env::var_os("MONBAN_TEST_PYTHON") else {
            eprintln!(
                "skipped: MONBAN_TEST_PYTHON is not set (scripts/test.sh installs aiosmtpd \
                 into target/pyenv and sets it)"
            );
            return None;
        };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/smtp_sink.py");
        let mut child = tokio::process::Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python:?} {script}: {e}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(DEADLINE, lines.next_line())
            .await
            .expect("the SMTP sink starts")
            .unwrap()
            .unwrap_or_default();
        let port = ready
            .strip_prefix("ready ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("expected `ready <port>` from the SMTP sink, got {ready:?}"));
        let messages: Arc<Mutex<Vec<Value>>> = Arc::default();
        let m = messages.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str(&line) {
                    m.lock().unwrap().push(v);
                }
            }
        });
        Some(SmtpSink {
            _child: child,
            port,
            messages,
        })
    }
}

#[tokio::test]
async fn an_email_names_the_event_in_japanese_then_english() {
    let Some(sink) = SmtpSink::start().await else {
        return;
    };
    let extra = format!(
        "\n[[notify]]\nemail = [\"security@example-hospital.jp\"]\nevents = [\"*\"]\n\n[smtp]\nurl = \"smtp://127.0.0.1:{}\"\nfrom = \"monban@example-hospital.jp\"\n",
        sink.port
    );
    let hub = spawn_hub(HubOptions::default().extra(&extra)).await;
    let admin = issue_token(&hub.config, &["--role", "admin"]);
    hub.door_ok(&forced("mail-1")).await;

    let mail = wait_for("the e-mail at the SMTP server", DEADLINE, || async {
        sink.messages.lock().unwrap().first().cloned()
    })
    .await;
    assert_eq!(mail["mail_from"], "monban@example-hospital.jp");
    assert_eq!(
        mail["rcpt_tos"],
        serde_json::json!(["security@example-hospital.jp"])
    );
    assert_eq!(mail["content_type"], "text/plain");
    let subject = mail["subject"].as_str().unwrap();
    assert!(subject.contains("部屋の警報"), "{subject}");
    assert!(subject.contains("Room alarm"), "{subject}");
    assert!(subject.contains("テスト総合病院"), "{subject}");
    let body = mail["body"].as_str().unwrap();
    let ja = body.find("対応:").expect("Japanese: what to do");
    let en = body.find("What to do:").expect("English: what to do");
    assert!(ja < en, "Japanese first:\n{body}");
    for want in [
        "room.alarm",
        "ward3-main",
        "door_forced",
        "3F ナースステーション",
        "現地で扉と部屋の状況を確認",
        "Check the door and the room on site",
        hub.opts.site.as_str(),
    ] {
        assert!(body.contains(want), "{want:?} in:\n{body}");
    }
    let n = logged(&hub, &admin, "room.alarm", "delivered").await;
    assert_eq!(
        n["deliveries"][0]["target"],
        "email:security@example-hospital.jp"
    );
    assert!(mail["message_id"]
        .as_str()
        .is_some_and(|m| m.contains(n["id"].as_str().unwrap())));
}

#[tokio::test]
async fn configuration_errors_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("monban.toml");
    let write = |extra: &str| {
        let opts = HubOptions::default()
            .database(&format!("sqlite://{}/monban.db", dir.path().display()))
            .extra(extra);
        std::fs::write(&config, config_text(&opts, free_port())).unwrap();
    };

    write(&webhook_config(9, "MONBAN_E2E_SET", r#"["door.ofline"]"#));
    let out = monban(&config, &["serve"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        out.stderr
            .contains("[[notify]] unknown event \"door.ofline\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("monban.toml:"),
        "names the file and line: {}",
        out.stderr
    );

    let unset = "MONBAN_E2E_NEVER_SET_SECRET";
    write(&webhook_config(9, unset, r#"["*"]"#));
    let out = monban(&config, &["serve"]);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "secret_env names the environment variable {unset}, which is not set"
        )),
        "{}",
        out.stderr
    );
    let out = monban(&config, &["check"]);
    assert!(!out.status.success(), "check too: {out:?}");
}

/// The maintenance and account events (CONTRACT §11) reach a webhook, signed: a request
/// waiting for a decision, a maintenance login no request covers, a login to a leaver's
/// account, a report overdue — each once.
#[tokio::test]
async fn maintenance_and_leaver_events_reach_the_webhook() {
    let port = free_port();
    let receiver = Receiver::start(port, 0).await;
    let hub = hub_with_webhook(
        port,
        r#"["maintenance.requested", "maintenance.unapproved_login", "maintenance.report_overdue", "login.account_of_leaver"]"#,
        crate::maintenance::VENDORS,
    )
    .await;
    let acme = issue_token(&hub.config, &["--vendor", "acme-med"]);
    let base = Base::new();

    // A request that waits for a decision.
    let body = json!({"request_id": "acme-n1", "system": "ehr", "people": ["v001"],
        "work_plan": "WP-2026-200", "purpose": "定期保守", "start": base.at(24 * 60, 9),
        "end": base.at(25 * 60, 9), "remote": true});
    let (status, reply) = hub
        .post_raw("/api/v1/maintenance", Some(&acme), body.to_string())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let requested = wait_for("maintenance.requested", DEADLINE, || async {
        receiver.of("maintenance.requested")
    })
    .await;
    assert!(requested.verified, "{requested:?}");
    assert_eq!(requested.body["data"]["request_id"], "acme-n1");
    assert_eq!(requested.body["data"]["work_plan"], "WP-2026-200");

    // A vendor login at night that no request covers.
    hub.login_ok(&ehr_login(
        "l-n1",
        &base.at(120, 9),
        "acme-maint01",
        "ward3-pc01",
        &["password"],
    ))
    .await;
    let unapproved = wait_for("maintenance.unapproved_login", DEADLINE, || async {
        receiver.of("maintenance.unapproved_login")
    })
    .await;
    assert!(unapproved.verified);
    assert_eq!(unapproved.body["data"]["event_id"], "l-n1");
    assert_eq!(unapproved.body["data"]["vendor"], "acme-med");
    assert_eq!(unapproved.body["data"]["person"], "v001");

    // A leaver's account in use.
    hub.post_login(&login(
        "l-n2",
        &base.at(130, 9),
        "ehr",
        "gone09",
        "ward3-pc01",
        &["password"],
        "failure",
    ))
    .await;
    let leaver = wait_for("login.account_of_leaver", DEADLINE, || async {
        receiver.of("login.account_of_leaver")
    })
    .await;
    assert_eq!(leaver.body["data"]["event_id"], "l-n2");
    assert_eq!(leaver.body["data"]["until"], "2020-03-31");

    // Approved work that ended hours ago without a report (`report_due` is 1 h).
    let past = json!({"request_id": "acme-n2", "system": "ehr", "people": ["v001"],
        "work_plan": "WP-2026-201", "start": base.at(60, 9), "end": base.at(90, 9),
        "remote": true});
    let (status, _) = hub
        .post_raw("/api/v1/maintenance", Some(&acme), past.to_string())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (mut officer, session) = crate::passkeys::user(&hub, "officer", "kanri").await;
    let (status, body) = officer
        .decide(&hub, &session, "acme-n2", "approve", "")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let overdue = wait_for("maintenance.report_overdue", DEADLINE, || async {
        receiver.of("maintenance.report_overdue")
    })
    .await;
    assert!(overdue.verified);
    assert_eq!(overdue.body["data"]["request_id"], "acme-n2");

    // Each once, whatever the watcher's sweeps do meanwhile.
    let count = |kind: &str| {
        receiver
            .got()
            .iter()
            .filter(|r| r.body["type"] == kind)
            .count()
    };
    assert_eq!(count("maintenance.unapproved_login"), 1);
    assert_eq!(count("login.account_of_leaver"), 1);
}
