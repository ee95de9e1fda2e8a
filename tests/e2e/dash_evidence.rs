//! The dashboard's login evidence page (`/logins/:id`): for a `combined_measures` and a
//! `not_met` login the server-rendered page shows what `GET /api/v1/logins/{id}` says
//! (verdict, reasons in order, finality, entry event, door, credential, entry time), in
//! Japanese and English, with the §3 rule in words and the verdict history; an unknown
//! id is a 404 that says "not found".

use crate::harness::*;
use serde_json::Value;

async fn page(hub: &Hub, path: &str) -> (reqwest::StatusCode, String) {
    let res = hub.read_get(hub.url(path)).await.expect("GET page");
    let status = res.status();
    (status, res.text().await.expect("page text"))
}

/// Percent-encodes a path segment.
fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|c| match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (c as char).to_string()
            }
            _ => format!("%{c:02X}"),
        })
        .collect()
}

fn has(html: &str, needle: &str) {
    assert!(html.contains(needle), "page lacks {needle:?}:\n{html}");
}

/// The page's verdict, reasons and finality are the API's.
fn same_as_api(html: &str, api: &Value) {
    let id = api["event_id"].as_str().expect("event_id");
    has(html, &format!("data-event-id=\"{id}\""));
    has(
        html,
        &format!(
            "data-verdict=\"{}\"",
            api["verdict"].as_str().expect("verdict")
        ),
    );
    has(
        html,
        &format!("data-final=\"{}\"", api["final"].as_bool().expect("final")),
    );
    let reasons: Vec<&str> = api["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r.as_str().expect("reason"))
        .collect();
    let shown: Vec<&str> = html
        .match_indices("data-reason=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            &rest[..rest.find('"').expect("closing quote")]
        })
        .collect();
    assert_eq!(shown, reasons, "reasons in the API's order");
    match &api["evidence"] {
        Value::Null => assert!(!html.contains("data-testid=\"evidence-entry\"")),
        e => {
            has(html, "data-testid=\"evidence-entry\"");
            for (attr, key) in [
                ("data-entry-event-id", "entry_event_id"),
                ("data-door", "door"),
                ("data-credential-type", "credential_type"),
                ("data-entered-at", "entered_at"),
            ] {
                has(html, &format!("{attr}=\"{}\"", e[key].as_str().expect(key)));
            }
        }
    }
}

#[tokio::test]
async fn evidence_pages_match_the_api() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    hub.door_ok(&entry(
        "ward3-main",
        "d-ev1",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    hub.login_ok(&ehr_login(
        "l-ev-comb",
        &b.at(5, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    ))
    .await;
    // Nobody entered the pharmacy.
    hub.login_ok(&ehr_login(
        "l-ev-gap",
        &b.at(6, 9),
        "pharm02",
        "pharmacy-pc01",
        &["password"],
    ))
    .await;
    // An account mapped to nobody.
    hub.login_ok(&ehr_login(
        "l-ev-ghost",
        &b.at(7, 9),
        "ghost",
        "ward3-pc01",
        &["password"],
    ))
    .await;

    // combined_measures
    let api = hub.login_view("l-ev-comb").await;
    assert_eq!(api["verdict"], "combined_measures");
    let (status, ja) = page(&hub, "/logins/l-ev-comb").await;
    assert_eq!(status, 200);
    same_as_api(&ja, &api);
    has(&ja, "data-source=\"http\"");
    has(&ja, "04A1B2C3");
    has(&ja, "看護師 一郎");
    has(&ja, "パスワード（知識）");
    has(&ja, "IC カード（所持）");
    has(&ja, "二つの区分 → 複合対策");
    has(&ja, "data-testid=\"verdict-change\"");
    has(&ja, "data-cause=\"received\"");
    // The login time in JST (Base::at(5, 9) is written at +09:00).
    let jst = b.at(5, 9);
    has(&ja, &jst[..19].replace('T', " "));
    let (_, en) = page(&hub, "/logins/l-ev-comb?lang=en").await;
    same_as_api(&en, &api);
    has(&en, "password (knowledge)");
    has(&en, "span two categories → combined measures");
    // Another offset on request.
    let (_, utc) = page(&hub, "/logins/l-ev-comb?tz=Z").await;
    has(&utc, "UTC+00:00");
    has(&utc, &b.z(5)[..19].replace('T', " "));

    // not_met
    let api = hub.login_view("l-ev-gap").await;
    assert_eq!(api["verdict"], "not_met");
    assert_eq!(api["reasons"], serde_json::json!(["no_presence"]), "{api}");
    let (status, ja) = page(&hub, "/logins/l-ev-gap").await;
    assert_eq!(status, 200);
    same_as_api(&ja, &api);
    has(&ja, "入室していた記録がありません");
    has(&ja, "薬剤師 二郎");
    has(&ja, "未達");
    let (_, en) = page(&hub, "/logins/l-ev-gap?lang=en").await;
    same_as_api(&en, &api);
    has(&en, "no record of this person being in the terminal");
    has(&en, "→ not met");
    let api = hub.login_view("l-ev-ghost").await;
    assert_eq!(api["verdict"], "not_met");
    let (_, ja) = page(&hub, "/logins/l-ev-ghost").await;
    same_as_api(&ja, &api);
    has(&ja, "職員に紐付いていません");
    let (_, en) = page(&hub, "/logins/l-ev-ghost?lang=en").await;
    same_as_api(&en, &api);
    has(&en, "not mapped to a person");

    // Odd but valid event ids, URL-encoded in the path.
    for id in ["ログイン-0001", "l 42", "l/43", "l?44#x", "l%45"] {
        hub.login_ok(&ehr_login(
            id,
            &b.at(8, 9),
            "nurse01",
            "ward3-pc01",
            &["password", "totp"],
        ))
        .await;
        let (status, html) = page(&hub, &format!("/logins/{}", encode_segment(id))).await;
        assert_eq!(status, 200, "{id:?}");
        let api = hub.login_view(&encode_segment(id)).await;
        assert_eq!(api["event_id"], id);
        has(&html, "data-verdict=\"direct_2fa\"");
        has(&html, "二つ以上の区分 → 直接二要素");
    }

    // unknown
    let (status, html) = page(&hub, "/logins/l-nope").await;
    assert_eq!(status, 404);
    has(&html, "data-testid=\"not-found\"");
    has(&html, "見つかりません");
}
