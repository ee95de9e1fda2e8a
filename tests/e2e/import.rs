//! `monban import logins` against the real binary and store: a bad row is named by file,
//! line, column and reason and nothing is stored; a good import; a re-import that stores
//! nothing twice (with the log's ids and with ids derived from the rows); the imported
//! logins judged as the same logins sent to the API; refused while the hub runs.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A Japanese EHR's log (its own ids, local times, words for outcomes and factors) and a
/// PACS log without a header or ids (derived from the rows).
const IMPORTS: &str = r#"
[[imports]]
system = "ehr"
time = { column = "日時", format = "%Y/%m/%d %H:%M:%S" }
account = { column = "利用者ID" }
terminal = { column = "端末" }
outcome = { column = "結果", map = { "成功" = "success", "失敗" = "failure" } }
factors = { column = "認証方式", map = { "パスワード" = "password", "ICカード" = "ic_card" } }
event_id = { column = "ログ番号" }

[[imports]]
system = "pacs"
header = false
delimiter = "\t"
time = { column = 1 }
account = { column = 2 }
terminal = "pharmacy-pc01"
outcome = "success"
factors = ["password"]
"#;

/// `minutes` after the base as the EHR writes it: `YYYY/MM/DD hh:mm:ss` at +09:00.
fn local(base: Base, minutes: i64) -> String {
    let t = base.at(minutes, 9);
    t[..19].replace('-', "/").replace('T', " ")
}

fn write(hub: &Hub, name: &str, text: &str) -> PathBuf {
    let path = hub.dir.path().join(name);
    std::fs::write(&path, text).expect("write the log");
    path
}

fn import(hub: &Hub, system: &str, file: &Path) -> CliOutput {
    monban(
        &hub.config,
        &[
            "import",
            "logins",
            "--system",
            system,
            file.to_str().unwrap(),
        ],
    )
}

async fn accounts(hub: &Hub, system: &str) -> Value {
    let (status, body) = hub
        .get_with(
            &format!("/api/v1/accounts?system={system}"),
            Some(&hub.tokens.auditor),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_log_imports_once_with_the_apis_verdicts() {
    let mut hub = spawn_hub(HubOptions::default().extra(IMPORTS)).await;
    let base = Base::new();
    // Door events come first, through the API: nurse01 enters ward3 with a card.
    hub.door_ok(&entry(
        "ward3-main",
        "d-1",
        &base.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    // The same logins as the log's, sent to the API, for comparison.
    let api = [
        ehr_login(
            "api-1",
            &base.at(10, 9),
            "nurse01",
            "ward3-pc01",
            &["password"],
        ),
        ehr_login(
            "api-2",
            &base.at(11, 9),
            "nurse01",
            "lobby-kiosk",
            &["password"],
        ),
        ehr_login(
            "api-3",
            &base.at(12, 9),
            "doc03",
            "ward3-pc01",
            &["ic_card", "password"],
        ),
        login(
            "api-4",
            &base.at(13, 9),
            "ehr",
            "pharm02",
            "ward3-pc01",
            &["password"],
            "failure",
        ),
        ehr_login(
            "api-5",
            &base.at(14, 9),
            "shared09",
            "ward3-pc01",
            &["password"],
        ),
    ];
    for l in &api {
        hub.post_login(l).await;
    }

    let header = "ログ番号,日時,利用者ID,端末,結果,認証方式\n";
    let good = format!(
        "{header}\
         L-1,{},nurse01,ward3-pc01,成功,パスワード\n\
         L-2,{},nurse01,lobby-kiosk,成功,パスワード\n\
         L-3,{},doc03,ward3-pc01,成功,ICカード+パスワード\n\
         L-4,{},pharm02,ward3-pc01,失敗,パスワード\n\
         L-5,{},shared09,ward3-pc01,成功,パスワード\n",
        local(base, 10),
        local(base, 11),
        local(base, 12),
        local(base, 13),
        local(base, 14),
    );
    let good = write(&hub, "ehr.csv", &good);

    // While the hub runs, the import refuses: one writer per store.
    let out = import(&hub, "ehr", &good);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stderr.contains("stop the hub"), "{out:?}");
    hub.terminate(Duration::from_secs(20));

    // A file with bad rows: each is named, and nothing is stored.
    let bad = format!(
        "{header}\
         B-1,{},badfile01,ward3-pc01,成功,パスワード\n\
         B-2,2026-13-45 99:00,badfile01,ward3-pc01,成功,パスワード\n\
         B-3,{},badfile01,ward3-pc01,成功,パスワード\n\
         B-4,{},badfile01,ward3-pc01,不明,パスワード\n\
         B-5,{},badfile01,ward3-pc01,成功,顔パス\n",
        local(base, 20),
        local(base, 21),
        local(base, 22),
        local(base, 23),
    );
    let bad = write(&hub, "bad.csv", &bad);
    let out = import(&hub, "ehr", &bad);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let name = bad.display().to_string();
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "{name}:3: column \"日時\": \"2026-13-45 99:00\" does not match"
        ))),
        "{}",
        out.stderr
    );
    assert!(
        lines.contains(&format!("{name}:5: column \"結果\": \"不明\" is not an outcome: map it in [[imports]] outcome map (mapped: 失敗, 成功)").as_str()),
        "{}", out.stderr
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "{name}:6: column \"認証方式\": \"顔パス\" is not a factor"
        ))),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("3 bad row(s)") && out.stderr.contains("nothing was imported"),
        "{}",
        out.stderr
    );

    // A column the file does not have: line 1.
    let wrong = write(&hub, "wrong.csv", "日付,利用者ID\n2026/12/01 08:00:00,a\n");
    let out = import(&hub, "ehr", &wrong);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "{}:1: column \"日時\": not in the file's header",
            wrong.display()
        )),
        "{}",
        out.stderr
    );

    // The good file, then again: nothing twice.
    let out = import(&hub, "ehr", &good);
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stdout.starts_with("imported 5, already stored 0"),
        "{out:?}"
    );
    let out = import(&hub, "ehr", &good);
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stdout.starts_with("imported 0, already stored 5"),
        "{out:?}"
    );

    // PACS: tab-separated, no header, ids derived from the rows; an overlapping export
    // (the same rows on other lines, one more) stores only the new row.
    let pacs_rows = [
        format!("{}\tpacs01", base.at(30, 9)),
        format!("{}\tpacs01", base.at(31, 0)),
        format!("{}\tpacs02", base.at(32, -5)),
    ];
    let first = write(&hub, "pacs-1.tsv", &(pacs_rows[..2].join("\n") + "\n"));
    let out = import(&hub, "pacs", &first);
    assert!(
        out.stdout.starts_with("imported 2, already stored 0"),
        "{out:?}"
    );
    let overlapping = write(
        &hub,
        "pacs-2.tsv",
        &format!("\n{}\n{}\n{}\n", pacs_rows[2], pacs_rows[1], pacs_rows[0]),
    );
    let out = import(&hub, "pacs", &overlapping);
    assert!(
        out.stdout.starts_with("imported 1, already stored 2"),
        "{out:?}"
    );

    // The log's mapping must name a system it has.
    let out = import(&hub, "vpn", &good);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        out.stderr
            .contains("no [[imports]] table for system \"vpn\""),
        "{out:?}"
    );

    hub.start().await;
    // Verdicts, reasons, evidence and flags as through the API.
    for (i, l) in api.iter().enumerate() {
        let from_api = hub.login_view(l["event_id"].as_str().unwrap()).await;
        let imported = hub.login_view(&format!("L-{}", i + 1)).await;
        for key in [
            "verdict", "reasons", "flags", "factors", "outcome", "account", "terminal",
        ] {
            assert_eq!(
                imported[key],
                from_api[key],
                "L-{} {key}: {imported} vs {from_api}",
                i + 1
            );
        }
        assert_eq!(imported["ts"], from_api["ts"], "L-{}", i + 1);
        assert_eq!(imported["evidence"], from_api["evidence"], "L-{}", i + 1);
    }
    assert_eq!(hub.login_view("L-1").await["verdict"], "combined_measures");
    assert_eq!(
        hub.login_view("L-2").await["reasons"],
        json!(["uncontrolled_room", "no_presence"])
    );
    assert_eq!(hub.login_view("L-3").await["verdict"], "direct_2fa");
    assert_eq!(hub.login_view("L-4").await["verdict"], "not_applicable");
    // Nothing of the bad file; each login once (the API's and the import's).
    let ehr = accounts(&hub, "ehr").await;
    let names: Vec<&str> = ehr["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["account"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"badfile01"), "{ehr}");
    let nurse = ehr["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["account"] == "nurse01")
        .unwrap();
    assert_eq!(nurse["logins_90d"], 4, "{nurse}");
    let pacs = accounts(&hub, "pacs").await;
    assert_eq!(
        pacs["accounts"],
        json!([
            {"account": "pacs01", "person": null, "person_status": null,
             "last_login": base.z(31), "logins_90d": 2, "findings": ["unmapped"]},
            {"account": "pacs02", "person": null, "person_status": null,
             "last_login": base.z(32), "logins_90d": 1, "findings": ["unmapped"]},
        ])
    );
    // The compliance rollup counts each imported login once.
    let (status, c) = hub.compliance(None, None).await;
    assert_eq!(status, StatusCode::OK);
    let ehr_c = c["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "ehr")
        .unwrap();
    assert_eq!(ehr_c["logins"]["successful"], 8, "{ehr_c}");
    assert_eq!(ehr_c["logins"]["failed"], 2, "{ehr_c}");
}

// ------------------------------------------------------------------ the upload

/// `POST /api/v1/imports/{system}?name=…` with a signed-in session (cookie and CSRF).
async fn upload(
    hub: &Hub,
    session: &crate::passkeys::Session,
    system: &str,
    name: &str,
    body: impl Into<Vec<u8>>,
) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(hub.url(&format!("/api/v1/imports/{system}?name={name}")))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .header("content-type", "text/csv")
        .body(body.into())
        .send()
        .await
        .expect("POST the access log");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The upload with a bearer token instead of a session.
async fn upload_with_token(
    hub: &Hub,
    token: &str,
    system: &str,
    body: impl Into<Vec<u8>>,
) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(hub.url(&format!("/api/v1/imports/{system}?name=by-token.csv")))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body.into())
        .send()
        .await
        .expect("POST the access log");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The HTML of a server-rendered page (`GET /api/dash/fragment?…`) for a session.
async fn fragment(hub: &Hub, session: &crate::passkeys::Session, query: &str) -> String {
    let res = reqwest::Client::new()
        .get(hub.url(&format!("/api/dash/fragment?{query}")))
        .header("cookie", &session.cookie)
        .header("accept", "application/json")
        .send()
        .await
        .expect("GET the fragment");
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("the fragment's HTML")
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_access_log_goes_through_the_running_hub_once() {
    let mut opts = HubOptions::default().extra(IMPORTS);
    opts.limits_extra = "import_max_bytes = 8192\n".into();
    let hub = spawn_hub(opts).await;
    let base = Base::new();
    hub.door_ok(&entry(
        "ward3-main",
        "d-up-1",
        &base.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    let officer = hub.officer().await.clone();
    let header = "ログ番号,日時,利用者ID,端末,結果,認証方式\n";
    let good = format!(
        "{header}\
         U-1,{},nurse01,ward3-pc01,成功,パスワード\n\
         U-2,{},pharm02,ward3-pc01,失敗,パスワード\n\
         U-3,{},shared09,ward3-pc01,成功,パスワード\n",
        local(base, 10),
        local(base, 11),
        local(base, 12),
    );

    // Good: stored while the hub runs, judged as the API judges.
    let (status, record) = upload(&hub, &officer, "ehr", "ehr-2026-12.csv", good.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{record}");
    assert_eq!(record["status"], "imported", "{record}");
    assert_eq!(
        (&record["rows"], &record["stored"], &record["already"]),
        (&json!(3), &json!(3), &json!(0)),
        "{record}"
    );
    assert_eq!(record["file"], "ehr-2026-12.csv");
    assert_eq!(record["system"], "ehr");
    assert_eq!(record["sha256"], sha256_hex(good.as_bytes()));
    assert_eq!(record["bytes"], good.len());
    assert!(
        record["actor"].as_str().unwrap().starts_with("user:"),
        "{record}"
    );
    assert_eq!(hub.login_view("U-1").await["verdict"], "combined_measures");
    assert_eq!(hub.login_view("U-2").await["outcome"], "failure");

    // Again: nothing twice.
    let (status, again) = upload(&hub, &officer, "ehr", "ehr-2026-12.csv", good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (&again["stored"], &again["already"]),
        (&json!(0), &json!(3)),
        "{again}"
    );

    // Bad rows: each named, nothing stored (not even the good rows of the file).
    let bad = format!(
        "{header}\
         B-1,{},nurse01,ward3-pc01,成功,パスワード\n\
         B-2,2026-13-45 99:00,nurse01,ward3-pc01,成功,パスワード\n\
         B-3,{},nurse01,ward3-pc01,不明,パスワード\n",
        local(base, 20),
        local(base, 21),
    );
    let (status, refused) = upload(&hub, &officer, "ehr", "bad.csv", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_rows");
    assert_eq!(refused["error"]["bad_rows"], 2, "{refused}");
    let rows = refused["error"]["rows"].as_array().unwrap();
    assert_eq!(rows[0]["line"], 3, "{refused}");
    assert_eq!(rows[0]["column"], "日時", "{refused}");
    assert!(
        rows[0]["reason"]
            .as_str()
            .unwrap()
            .contains("does not match"),
        "{refused}"
    );
    assert_eq!(rows[1]["line"], 4, "{refused}");
    assert_eq!(rows[1]["column"], "結果", "{refused}");
    assert_eq!(hub.get_login("B-1").await.0, StatusCode::NOT_FOUND);

    // Too big: 413 with the contract's body, nothing read.
    let big = format!("{header}{}", "x".repeat(9000));
    let (status, body) = upload(&hub, &officer, "ehr", "big.csv", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");

    // Who may: not facilities, not a read token, not another system's token; the
    // system's own ingest token may.
    let (_, facilities) = crate::passkeys::user(&hub, "facilities", &unique("fac")).await;
    let (status, body) = upload(&hub, &facilities, "ehr", "f.csv", good.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = upload_with_token(&hub, &hub.tokens.auditor, "ehr", good.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = upload_with_token(&hub, &hub.tokens.vpn, "ehr", good.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = upload_with_token(&hub, &hub.tokens.ehr, "ehr", good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["already"], 3, "{body}");
    // A system without [[imports]]: 404.
    let (status, body) = upload(&hub, &officer, "vpn", "v.csv", good.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Without the CSRF token: refused.
    let res = reqwest::Client::new()
        .post(hub.url("/api/v1/imports/ehr"))
        .header("cookie", &officer.cookie)
        .header("content-type", "text/csv")
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The record of every import, newest first, for compliance readers.
    let (status, list) = hub
        .get_with("/api/v1/imports", Some(&hub.tokens.auditor))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list["imports"].as_array().unwrap().clone();
    let statuses: Vec<&str> = list.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["imported", "rejected", "imported", "imported"],
        "{list:?}"
    );
    assert_eq!(list[1]["errors"][0]["line"], 3, "{list:?}");
    assert_eq!(list[3]["id"], record["id"]);
    assert!(
        list[0]["actor"].as_str().unwrap().starts_with("token:"),
        "{list:?}"
    );
    let (status, _) = hub
        .get_with("/api/v1/imports?limit=0", Some(&hub.tokens.auditor))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The page (rendered on the server): the mapping, the upload form, the rejected
    // import's rows.
    let rejected = list[1]["id"].as_i64().unwrap();
    let html = fragment(
        &hub,
        &officer,
        &format!("page=imports&query=result%3D{rejected}&en=false"),
    )
    .await;
    for needle in [
        "data-testid=\"imp-mapping\" data-system=\"ehr\"",
        "data-import-upload=\"ehr\"",
        "data-testid=\"imp-result\"",
        "data-status=\"rejected\"",
        "data-testid=\"imp-error-row\" data-line=\"3\"",
        "アクセスログの取込み",
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    let res = officer.get(&hub, "/imports").await;
    assert_eq!(res.status(), StatusCode::OK);
    // An auditor reads the page, without the upload form.
    let (_, auditor) = crate::passkeys::user(&hub, "auditor", &unique("aud")).await;
    let html = fragment(&hub, &auditor, "page=imports&query=&en=true").await;
    assert!(html.contains("Access-log import"), "{html}");
    assert!(!html.contains("data-import-upload"), "{html}");
    // … and in the audit trail (chained evidence).
    let (_, admin) = crate::passkeys::user(&hub, "admin", &unique("admin")).await;
    let csv = admin.get(&hub, "/audit.csv").await.text().await.unwrap();
    assert_eq!(csv.matches("import.logins").count(), 3, "{csv}");
    assert_eq!(csv.matches("import.rejected").count(), 1, "{csv}");
    assert!(csv.contains("ehr-2026-12.csv"), "{csv}");
}

/// `monban-sim access-log` beside `monban`.
fn sim_bin() -> PathBuf {
    monban_bin().with_file_name("monban-sim")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_shift_jis_log_imports_with_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lab.csv");
    let out = std::process::Command::new(sim_bin())
        .args([
            "access-log",
            "--system",
            "lab",
            "--format",
            "sjis",
            "--days",
            "3",
            "--seed",
            "5",
            "--with-mapping",
            "--output",
            file.to_str().unwrap(),
        ])
        .output()
        .expect("monban-sim access-log");
    assert!(out.status.success(), "{out:?}");
    let mapping = String::from_utf8(out.stdout).unwrap();
    assert!(mapping.contains("encoding = \"shift_jis\""), "{mapping}");
    let rows: u64 = mapping
        .lines()
        .find_map(|l| l.strip_prefix("# ")?.strip_suffix(" rows")?.parse().ok())
        .expect("the row count");
    let bytes = std::fs::read(&file).unwrap();
    assert!(std::str::from_utf8(&bytes).is_err(), "Shift_JIS, not UTF-8");

    let lab = "[[systems]]\nid = \"lab\"\nname = \"検体検査システム\"\ncategory = \"departmental\"\nnative_mfa = false\n";
    let mut hub = spawn_hub(HubOptions::default().extra(lab).extra(&mapping)).await;
    hub.terminate(Duration::from_secs(20));
    let out = import(&hub, "lab", &file);
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stdout
            .starts_with(&format!("imported {rows}, already stored 0")),
        "{out:?}"
    );
    let out = import(&hub, "lab", &file);
    assert!(
        out.stdout
            .starts_with(&format!("imported 0, already stored {rows}")),
        "{out:?}"
    );
    hub.start().await;
    let lab = accounts(&hub, "lab").await;
    let shared = lab["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["account"] == "kensa-shared")
        .cloned()
        .unwrap_or_else(|| panic!("{lab}"));
    assert_eq!(shared["findings"], json!(["unmapped"]), "{shared}");
    // The command's imports are in the record too.
    let (_, list) = hub
        .get_with("/api/v1/imports", Some(&hub.tokens.auditor))
        .await;
    let list = list["imports"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[1]["via"], "cli");
    assert_eq!(list[1]["stored"], rows);
    assert_eq!(list[0]["already"], rows);
}
