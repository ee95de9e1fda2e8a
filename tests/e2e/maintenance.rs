//! Vendor maintenance (CONTRACT §10, §7 flags) against the real hub: requests filed with
//! a vendor token (`token issue --vendor`) and by an officer for a paper request, every
//! `422`/`403`/`409` of the contract, decisions confirmed by a software passkey's fresh
//! assertion (self-approval refused, CSRF required, a used ceremony refused), coverage
//! of maintenance logins on event time — also when the request is approved after the
//! logins, which changes their `flags` and `maintenance` but never their verdict —,
//! vendors' door entries, 立会い from door events, every finding, the work report and
//! its confirmation, and the audit trail.

use crate::harness::*;
use crate::passkeys::{post_json, user};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The test hospital's server room, two vendors, their staff and a leaver.
pub(crate) const VENDORS: &str = r#"
[[rooms]]
id = "server-room"
name = "サーバ室"
controlled = true
max_presence = "12h"
alarm_hold = "15m"

[[doors]]
id = "srv-door"
room = "server-room"

[[vendors]]
id = "acme-med"
name = "アクメ医療システム株式会社"

[[vendors.maintains]]
system = "ehr"
remote = true
route = "保守用VPN (IPsec)"
confirmed = "2026-10-01"

[[vendors.maintains]]
system = "pacs"
remote = false
route = "院内 サーバ室"

[[vendors]]
id = "beta-sys"
name = "ベータシステム株式会社"

[[vendors.maintains]]
system = "pacs"
remote = false

[[people]]
id = "v001"
name = "保守 太郎"
vendor = "acme-med"
credentials = ["card:0A0B0C0D"]
accounts = { ehr = "acme-maint01", pacs = "acme-pacs01" }

[[people]]
id = "v002"
name = "保守 次郎"
vendor = "acme-med"
credentials = ["card:0A0B0C0E"]
accounts = { ehr = "acme-maint02" }

[[people]]
id = "v101"
name = "ベータ 花子"
vendor = "beta-sys"
credentials = ["card:0B0B0B0B"]
accounts = { pacs = "beta01" }

[[people]]
id = "p0009"
name = "退職 九郎"
until = "2020-03-31"
credentials = ["card:09090909"]
accounts = { ehr = "gone09" }

[maintenance]
max_window = "24h"
report_due = "1h"
"#;

async fn hub() -> Hub {
    spawn_hub(HubOptions::default().extra(VENDORS)).await
}

fn vendor_token(hub: &Hub, vendor: &str) -> String {
    issue_token(&hub.config, &["--vendor", vendor])
}

/// A request body of acme-med for `system` with the window `[start, end)` (minutes after
/// the base).
fn request(base: Base, id: &str, system: &str, start: i64, end: i64, remote: bool) -> Value {
    json!({"request_id": id, "system": system, "people": ["v001"],
        "work_plan": "WP-2026-118", "purpose": "定期パッチ適用",
        "start": base.at(start, 9), "end": base.at(end, 9),
        "remote": remote, "emergency": false})
}

async fn file(hub: &Hub, token: &str, body: &Value) -> Reply {
    hub.post_raw("/api/v1/maintenance", Some(token), body.to_string())
        .await
}

async fn read(hub: &Hub, id: &str) -> Value {
    let (status, body) = hub
        .get_with(
            &format!("/api/v1/maintenance/{id}"),
            Some(&hub.tokens.auditor),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn code(reply: &Reply) -> &str {
    reply.1["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filing_answers_every_contract_rule() {
    let hub = hub().await;
    let acme = vendor_token(&hub, "acme-med");
    let base = Base::new();
    let body = request(base, "acme-2026-0042", "ehr", 60, 180, true);

    let first = file(&hub, &acme, &body).await;
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    assert_eq!(
        first.1,
        json!({"request_id": "acme-2026-0042", "status": "requested"})
    );
    // The same body again: 200, filed once; another body under the same id: 409.
    let again = file(&hub, &acme, &body).await;
    assert_eq!(again.0, StatusCode::OK, "{}", again.1);
    let mut other = body.clone();
    other["work_plan"] = json!("WP-2026-119");
    let conflict = file(&hub, &acme, &other).await;
    assert_eq!(conflict.0, StatusCode::CONFLICT);
    assert_eq!(code(&conflict), "request_id_conflict");

    // Each 422 of §10.
    let cases: Vec<(Value, &str)> = vec![
        (
            request(base, "acme-x1", "vpn", 60, 120, true),
            "not_maintained_by_vendor",
        ),
        (
            {
                let mut b = request(base, "acme-x2", "ehr", 60, 120, true);
                b["people"] = json!(["v101"]);
                b
            },
            "not_vendor_staff",
        ),
        (
            {
                let mut b = request(base, "acme-x3", "ehr", 60, 120, true);
                b["people"] = json!(["p0001"]);
                b
            },
            "not_vendor_staff",
        ),
        (
            request(base, "acme-x4", "ehr", 120, 60, true),
            "invalid_window",
        ),
        (
            request(base, "acme-x5", "ehr", 60, 60, true),
            "invalid_window",
        ),
        (
            request(base, "acme-x6", "ehr", 0, 25 * 60, true),
            "invalid_window",
        ),
        (
            {
                let mut b = request(base, "acme-x7", "ehr", 60, 120, true);
                b["work_plan"] = json!("WP");
                b
            },
            "invalid_work_plan",
        ),
        (
            {
                let mut b = request(base, "acme-x8", "ehr", 60, 120, true);
                b["work_plan"] = json!("W".repeat(129));
                b
            },
            "invalid_work_plan",
        ),
        (
            {
                let mut b = request(base, "acme-x9", "ehr", 60, 120, true);
                b["vendor"] = json!("beta-sys");
                b
            },
            "vendor_mismatch",
        ),
    ];
    for (b, wanted) in cases {
        let r = file(&hub, &acme, &b).await;
        assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{b} → {}", r.1);
        assert_eq!(code(&r), wanted, "{b} → {}", r.1);
    }
    // Shapes: 400; no token 401; a login token or a read token 403.
    let mut missing = body.clone();
    missing.as_object_mut().unwrap().remove("work_plan");
    assert_eq!(file(&hub, &acme, &missing).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        hub.post_raw("/api/v1/maintenance", Some(&acme), "{not json")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        hub.post_raw("/api/v1/maintenance", None, body.to_string())
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        file(
            &hub,
            &hub.tokens.ehr,
            &request(base, "acme-y1", "ehr", 60, 120, true)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // Nothing refused was stored.
    let (_, list) = hub
        .get_with(
            &format!(
                "/api/v1/maintenance?from={}&to={}",
                base.z(-60),
                base.z(48 * 60)
            ),
            Some(&hub.tokens.auditor),
        )
        .await;
    let ids: Vec<&str> = list["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme-2026-0042"]);

    let r = read(&hub, "acme-2026-0042").await;
    assert_eq!(r["vendor"], "acme-med");
    assert_eq!(r["requested_by"], "vendor:acme-med");
    assert_eq!(r["status"], "requested");
    assert_eq!(r["people"], json!(["v001"]));
    assert_eq!(instant(r["start"].as_str().unwrap()), base.instant_at(3600));
    assert_eq!(r["supervised"], Value::Null);
    assert_eq!(r["report"], Value::Null);
    // A vendor token reads nothing; an unknown request is 404.
    assert_eq!(
        hub.get_with("/api/v1/maintenance/acme-2026-0042", Some(&acme))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        hub.get_with("/api/v1/maintenance/nope", Some(&hub.tokens.auditor))
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // An officer files a paper request for a vendor, naming it (else 422).
    let (_, officer) = user(&hub, "officer", "kanri").await;
    let mut paper = request(base, "paper-001", "pacs", 60, 120, false);
    let (status, body, _) = post_json(&hub, "/api/v1/maintenance", Some(&officer), &paper).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "vendor_required");
    paper["vendor"] = json!("acme-med");
    let (status, body, _) = post_json(&hub, "/api/v1/maintenance", Some(&officer), &paper).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(read(&hub, "paper-001").await["requested_by"], "user:kanri");
    // Without the CSRF token the session cannot file.
    let res = reqwest::Client::new()
        .post(hub.url("/api/v1/maintenance"))
        .header("cookie", &officer.cookie)
        .header("content-type", "application/json")
        .body(request(base, "paper-002", "pacs", 60, 120, false).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Every filing is in the audit trail.
    let rows = crate::security::audit_rows(&hub).await;
    let filed: Vec<&str> = rows
        .iter()
        .filter(|r| r.0 == "maintenance.request")
        .map(|r| r.2.as_str())
        .collect();
    assert_eq!(filed, ["acme-2026-0042", "paper-001"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_confirmed_by_a_passkey_of_someone_else() {
    let hub = hub().await;
    let base = Base::new();
    let (mut filer, filer_session) = user(&hub, "officer", "filer").await;
    let (mut approver, approver_session) = user(&hub, "officer", "approver").await;
    let (_, auditor_session) = user(&hub, "auditor", "kansa").await;
    let mut paper = request(base, "paper-010", "ehr", 24 * 60, 25 * 60, true);
    paper["vendor"] = json!("acme-med");
    let (status, body, _) =
        post_json(&hub, "/api/v1/maintenance", Some(&filer_session), &paper).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The filer may not decide it, not even start the ceremony.
    let (status, body) = filer
        .decide(&hub, &filer_session, "paper-010", "approve", "")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "self_approval");
    // An auditor may not decide.
    let (status, _, _) = post_json(
        &hub,
        "/api/v1/maintenance/paper-010/decision/start",
        Some(&auditor_session),
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Without the session's CSRF token: refused.
    let res = reqwest::Client::new()
        .post(hub.url("/api/v1/maintenance/paper-010/decision/start"))
        .header("cookie", &approver_session.cookie)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A bogus assertion is not a confirmation.
    let (status, start, _) = post_json(
        &hub,
        "/api/v1/maintenance/paper-010/decision/start",
        Some(&approver_session),
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{start}");
    assert_eq!(
        start["options"]["publicKey"]["userVerification"],
        "required"
    );
    let (status, body, _) = post_json(
        &hub,
        "/api/v1/maintenance/paper-010/decision/finish",
        Some(&approver_session),
        &json!({"ceremony": start["ceremony"], "credential": crate::passkeys::bogus_assertion(),
                "decision": "approve", "note": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(read(&hub, "paper-010").await["status"], "requested");

    // Approved by another officer with a fresh assertion.
    let (status, body) = approver
        .decide(
            &hub,
            &approver_session,
            "paper-010",
            "approve",
            "作業計画書 確認済み",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");
    let d = &body["decisions"][0];
    assert_eq!(d["decision"], "approve");
    assert_eq!(d["by"], "approver");
    assert_eq!(d["note"], "作業計画書 確認済み");
    // The wrong state: 409.
    let (status, body) = approver
        .decide(&hub, &approver_session, "paper-010", "deny", "")
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "invalid_transition");
    let (status, body) = approver
        .decide(&hub, &approver_session, "paper-010", "confirm", "")
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // An unknown decision: 422.
    let (status, body) = approver
        .decide(&hub, &approver_session, "paper-010", "maybe", "")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Cancelled before its end.
    let (status, body) = approver
        .decide(&hub, &approver_session, "paper-010", "cancel", "延期")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "cancelled");

    // A vendor's request, denied.
    let acme = vendor_token(&hub, "acme-med");
    let r = file(
        &hub,
        &acme,
        &request(base, "acme-020", "ehr", 26 * 60, 27 * 60, true),
    )
    .await;
    assert_eq!(r.0, StatusCode::CREATED);
    let (status, body) = filer
        .decide(&hub, &filer_session, "acme-020", "deny", "作業計画書 不備")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "denied");

    // `GET /api/v1/session` gives the CSRF token the dashboard's scripts send.
    let res = reqwest::Client::new()
        .get(hub.url("/api/v1/session"))
        .header("cookie", &approver_session.cookie)
        .send()
        .await
        .unwrap();
    let s: Value = res.json().await.unwrap();
    assert_eq!(s["user"], "approver");
    assert_eq!(s["role"], "officer");
    assert_eq!(s["csrf"], approver_session.csrf.as_str());

    // Every decision is in the audit trail, with the passkey that confirmed it.
    let rows = crate::security::audit_rows(&hub).await;
    let decided: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.0.starts_with("maintenance.") && r.0 != "maintenance.decision_refused")
        .map(|r| (r.0.as_str(), r.2.as_str()))
        .collect();
    assert_eq!(
        decided,
        [
            ("maintenance.request", "paper-010"),
            ("maintenance.approve", "paper-010"),
            ("maintenance.cancel", "paper-010"),
            ("maintenance.request", "acme-020"),
            ("maintenance.deny", "acme-020"),
        ]
    );
    assert!(rows
        .iter()
        .any(|r| r.0 == "maintenance.approve" && r.3.contains("\"passkey\"")));
    // The bogus assertion and the wrong-state decisions were recorded as refused.
    let refused: Vec<&str> = rows
        .iter()
        .filter(|r| r.0 == "maintenance.decision_refused")
        .map(|r| r.3.as_str())
        .collect();
    assert!(
        refused.iter().any(|d| d.contains("passkey_rejected")),
        "{refused:?}"
    );
    assert!(
        refused.iter().any(|d| d.contains("invalid_transition")),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_reconciled_on_event_time_and_after_the_fact() {
    let hub = hub().await;
    let base = Base::new();
    let acme = vendor_token(&hub, "acme-med");
    let (mut officer, session) = user(&hub, "officer", "kanri").await;

    // A vendor login at night with no request: unapproved.
    let night = ehr_login(
        "l-m1",
        &base.at(90, 9),
        "acme-maint01",
        "ward3-pc01",
        &["password", "totp"],
    );
    let reply = hub.login_ok(&night).await;
    assert_eq!(reply["flags"], json!(["maintenance_unapproved"]));
    assert_eq!(
        reply["maintenance"],
        json!({"request_id": null, "status": "unapproved"})
    );
    let verdict = reply["verdict"].clone();
    let period = format!("from={}&to={}", base.z(0), base.z(24 * 60));
    let (_, un) = hub
        .get_with(
            &format!("/api/v1/maintenance/unapproved?{period}"),
            Some(&hub.tokens.auditor),
        )
        .await;
    assert_eq!(un["logins"][0]["event_id"], "l-m1");
    assert_eq!(un["logins"][0]["flags"], json!(["maintenance_unapproved"]));
    // A hospital staff login is no maintenance login: no `maintenance`, no flags.
    let staff = hub
        .login_ok(&ehr_login(
            "l-s1",
            &base.at(91, 9),
            "nurse01",
            "ward3-pc01",
            &["password"],
        ))
        .await;
    assert_eq!(staff["flags"], json!([]));
    assert!(staff.get("maintenance").is_none(), "{staff}");

    // Filed after the fact and approved: the login is covered now; its verdict is not
    // changed.
    let r = file(
        &hub,
        &acme,
        &request(base, "acme-100", "ehr", 60, 180, true),
    )
    .await;
    assert_eq!(r.0, StatusCode::CREATED);
    assert_eq!(
        hub.login_view("l-m1").await["flags"],
        json!(["maintenance_unapproved"])
    );
    let (status, body) = officer
        .decide(&hub, &session, "acme-100", "approve", "事後確認")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = hub.login_view("l-m1").await;
    assert_eq!(after["flags"], json!([]));
    assert_eq!(
        after["maintenance"],
        json!({"request_id": "acme-100", "status": "approved"})
    );
    assert_eq!(after["verdict"], verdict);
    let (_, un) = hub
        .get_with(
            &format!("/api/v1/maintenance/unapproved?{period}"),
            Some(&hub.tokens.auditor),
        )
        .await;
    assert_eq!(un["logins"], json!([]));
    assert_eq!(read(&hub, "acme-100").await["logins"], json!(["l-m1"]));
    // On event time: a login just after the end is not covered; one at the start is.
    let at_end = hub
        .login_ok(&ehr_login(
            "l-m2",
            &base.at(180, 0),
            "acme-maint01",
            "ward3-pc01",
            &["password"],
        ))
        .await;
    assert_eq!(at_end["flags"], json!(["maintenance_unapproved"]));
    let at_start = hub
        .login_ok(&ehr_login(
            "l-m3",
            &base.at(60, 0),
            "acme-maint01",
            "ward3-pc01",
            &["password"],
        ))
        .await;
    assert_eq!(at_start["maintenance"]["status"], "approved");
    // Another person of the vendor, not listed: unapproved.
    let unlisted = hub
        .login_ok(&ehr_login(
            "l-m4",
            &base.at(100, 9),
            "acme-maint02",
            "ward3-pc01",
            &["password"],
        ))
        .await;
    assert_eq!(unlisted["flags"], json!(["maintenance_unapproved"]));
    // A failed login of vendor staff is no maintenance login.
    let (_, failed) = hub
        .post_login(&login(
            "l-m5",
            &base.at(300, 9),
            "ehr",
            "acme-maint01",
            "ward3-pc01",
            &["password"],
            "failure",
        ))
        .await;
    assert_eq!(failed["flags"], json!([]));
    assert!(failed.get("maintenance").is_none());

    // An emergency request awaiting approval: its logins may happen, flagged pending.
    let mut emergency = request(base, "acme-911", "ehr", 400, 460, true);
    emergency["emergency"] = json!(true);
    assert_eq!(file(&hub, &acme, &emergency).await.0, StatusCode::CREATED);
    let urgent = hub
        .login_ok(&ehr_login(
            "l-m6",
            &base.at(410, 9),
            "acme-maint01",
            "ward3-pc01",
            &["password"],
        ))
        .await;
    assert_eq!(urgent["flags"], json!(["maintenance_emergency_pending"]));
    assert_eq!(
        urgent["maintenance"],
        json!({"request_id": "acme-911", "status": "emergency_pending"})
    );
    let (status, _) = officer
        .decide(&hub, &session, "acme-911", "approve", "事後承認")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hub.login_view("l-m6").await["flags"], json!([]));

    // A leaver's account: flagged on any login after the last day, even a failed one.
    let (_, gone) = hub
        .post_login(&login(
            "l-g1",
            &base.at(30, 9),
            "ehr",
            "gone09",
            "ward3-pc01",
            &["password"],
            "failure",
        ))
        .await;
    assert_eq!(gone["flags"], json!(["account_of_leaver"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervision_findings_and_reports() {
    let hub = hub().await;
    // Windows in the past: `report_due` is 1 h, so findings are due now.
    let base = Base::days_ago(1);
    let acme = vendor_token(&hub, "acme-med");
    let beta = vendor_token(&hub, "beta-sys");
    let (mut officer, session) = user(&hub, "officer", "kanri").await;
    let mut approve_all = Vec::new();

    // On-site work in the server room 10:00–12:00, accompanied only from 10:30.
    let onsite = request(base, "acme-200", "pacs", 600, 720, false);
    assert_eq!(file(&hub, &acme, &onsite).await.0, StatusCode::CREATED);
    approve_all.push("acme-200");
    // On-site work 13:00–14:00, accompanied throughout.
    let mut watched = request(base, "beta-300", "pacs", 780, 840, false);
    watched["people"] = json!(["v101"]);
    assert_eq!(file(&hub, &beta, &watched).await.0, StatusCode::CREATED);
    approve_all.push("beta-300");
    // Approved, nobody came: not performed, and no report either.
    let idle = request(base, "acme-400", "ehr", 900, 960, true);
    assert_eq!(file(&hub, &acme, &idle).await.0, StatusCode::CREATED);
    approve_all.push("acme-400");
    // An emergency never approved.
    let mut urgent = request(base, "acme-500", "ehr", 1000, 1030, true);
    urgent["emergency"] = json!(true);
    assert_eq!(file(&hub, &acme, &urgent).await.0, StatusCode::CREATED);
    for id in approve_all {
        let (status, body) = officer.decide(&hub, &session, id, "approve", "").await;
        assert_eq!(status, StatusCode::OK, "{id}: {body}");
    }

    // Door events: the vendor enters at 10:00, a nurse at 10:30; both leave at 12:00.
    for e in [
        entry("srv-door", "d-1", &base.at(600, 9), "card", "0A0B0C0D"),
        entry("srv-door", "d-2", &base.at(630, 9), "card", "04A1B2C3"),
        access(
            "srv-door",
            "d-3",
            &base.at(720, 9),
            "out",
            "card",
            "0A0B0C0D",
        ),
        access(
            "srv-door",
            "d-4",
            &base.at(720, 9),
            "out",
            "card",
            "04A1B2C3",
        ),
        // beta: the nurse is there first, the technician comes and goes inside it.
        entry("srv-door", "d-5", &base.at(770, 9), "card", "04A1B2C3"),
        entry("srv-door", "d-6", &base.at(785, 9), "card", "0B0B0B0B"),
        access(
            "srv-door",
            "d-7",
            &base.at(830, 9),
            "out",
            "card",
            "0B0B0B0B",
        ),
        access(
            "srv-door",
            "d-8",
            &base.at(850, 9),
            "out",
            "card",
            "04A1B2C3",
        ),
    ] {
        hub.door_ok(&e).await;
    }
    hub.login_ok(&login(
        "l-p1",
        &base.at(610, 9),
        "pacs",
        "acme-pacs01",
        "ward3-pc01",
        &["password"],
        "success",
    ))
    .await;

    let a = read(&hub, "acme-200").await;
    assert_eq!(a["supervised"], json!(false), "{a}");
    assert_eq!(a["logins"], json!(["l-p1"]));
    assert_eq!(a["entries"][0]["person"], "v001");
    assert_eq!(a["entries"][0]["door"], "srv-door");
    assert_eq!(a["findings"], json!(["unsupervised", "report_overdue"]));
    let b = read(&hub, "beta-300").await;
    assert_eq!(b["supervised"], json!(true), "{b}");
    assert_eq!(b["findings"], json!(["report_overdue"]));
    let c = read(&hub, "acme-400").await;
    assert_eq!(c["supervised"], Value::Null);
    assert_eq!(c["findings"], json!(["not_performed", "report_overdue"]));
    let d = read(&hub, "acme-500").await;
    assert_eq!(
        d["findings"],
        json!(["report_overdue", "emergency_unapproved"])
    );

    // The vendor reports with a recording reference; once; only its own requests.
    let report = json!({"summary": "パッチ適用、再起動確認",
        "recording": {"sha256": "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
                      "uri": "https://pam.example/sessions/8842"}});
    let r = hub
        .post_raw(
            "/api/v1/maintenance/beta-300/report",
            Some(&acme),
            report.to_string(),
        )
        .await;
    assert_eq!(r.0, StatusCode::FORBIDDEN, "{}", r.1);
    let r = hub
        .post_raw(
            "/api/v1/maintenance/acme-200/report",
            Some(&acme),
            report.to_string(),
        )
        .await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    let r = hub
        .post_raw(
            "/api/v1/maintenance/acme-200/report",
            Some(&acme),
            report.to_string(),
        )
        .await;
    assert_eq!(r.0, StatusCode::CONFLICT);
    assert_eq!(code(&r), "report_exists");
    let bad = json!({"summary": "x", "recording": {"sha256": "abc", "uri": "u"}});
    let r = hub
        .post_raw(
            "/api/v1/maintenance/acme-400/report",
            Some(&acme),
            bad.to_string(),
        )
        .await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&r), "invalid_recording");
    let r = hub
        .post_raw(
            "/api/v1/maintenance/acme-200/report",
            Some(&hub.tokens.ehr),
            report.to_string(),
        )
        .await;
    assert_eq!(r.0, StatusCode::FORBIDDEN);
    let a = read(&hub, "acme-200").await;
    assert_eq!(a["findings"], json!(["unsupervised"]));
    assert_eq!(
        a["report"]["recording"]["sha256"],
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    );
    assert_eq!(a["report"]["confirmed_by"], Value::Null);
    // 企画管理者確認.
    let (status, body) = officer
        .decide(&hub, &session, "acme-200", "confirm", "報告書 確認")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"]["confirmed_by"], "kanri");
    // A report before the window starts is refused.
    let future = request(base, "acme-600", "ehr", 3 * 24 * 60, 3 * 24 * 60 + 60, true);
    assert_eq!(file(&hub, &acme, &future).await.0, StatusCode::CREATED);
    let (status, _) = officer
        .decide(&hub, &session, "acme-600", "approve", "")
        .await;
    assert_eq!(status, StatusCode::OK);
    let r = hub
        .post_raw(
            "/api/v1/maintenance/acme-600/report",
            Some(&acme),
            report.to_string(),
        )
        .await;
    assert_eq!(r.0, StatusCode::CONFLICT);
    assert_eq!(code(&r), "invalid_transition");

    // Newest first over a period.
    let (_, list) = hub
        .request(
            Method::GET,
            &format!(
                "/api/v1/maintenance?from={}&to={}",
                base.z(0),
                base.z(24 * 60)
            ),
            Some(&hub.tokens.auditor),
            None,
        )
        .await;
    let ids: Vec<&str> = list["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme-500", "acme-400", "beta-300", "acme-200"]);
}
