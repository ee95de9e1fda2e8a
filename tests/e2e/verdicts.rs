//! Every verdict and every reason of CONTRACT §3, through door events and logins posted
//! over HTTP with mixed time-zone offsets (`+09:00`, `Z`, `-05:00`).
//!
//! `door_offline` needs a door status, which only MQTT carries (there is no HTTP status
//! endpoint): that test runs against the embedded broker.
//!
//! Each test has its own hub; within a test, cases use separate stretches of time so
//! that one case's entries and alarms cannot cover another's logins.

use crate::broker::{start_rumqttd, Publisher};
use crate::harness::*;
use serde_json::{json, Value};

const WARD_PC: &str = "ward3-pc01";
const PHARMACY_PC: &str = "pharmacy-pc01";

/// Posts a login and checks the immediate reply and the stored view.
async fn expect(hub: &Hub, login: Value, verdict: &str, reasons: &[&str], evidence_: Value) {
    let id = login["event_id"].as_str().expect("event_id").to_string();
    let reply = hub.login_ok(&login).await;
    assert_reply(&reply, &id, verdict, reasons, false);
    let view = hub.login_view(&id).await;
    assert_verdict(&view, verdict, reasons, evidence_);
}

#[tokio::test]
async fn direct_2fa_needs_no_room() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();

    // password + totp: knowledge + possession, on a known terminal of a mapped account.
    let l = ehr_login(
        "l-d1",
        &b.at(60, 9),
        "nurse01",
        WARD_PC,
        &["password", "totp"],
    );
    let reply = hub.login_ok(&l).await;
    assert_reply(&reply, "l-d1", "direct_2fa", &[], false);
    assert_eq!(
        hub.login_view("l-d1").await,
        json!({
            "event_id": "l-d1", "system": "ehr", "account": "nurse01", "terminal": WARD_PC,
            "ts": b.z(60), "factors": ["password", "totp"], "outcome": "success",
            "verdict": "direct_2fa", "reasons": [], "evidence": null, "final": false,
            "flags": []
        })
    );

    // webauthn_uv alone spans possession and inherence; terminal and account need not
    // be known.
    let l = ehr_login(
        "l-d2",
        &b.at(61, -5),
        "contractor77",
        "ghost-pc",
        &["webauthn_uv"],
    );
    expect(&hub, l, "direct_2fa", &[], Value::Null).await;
    // Fractional seconds survive, in UTC.
    let l = ehr_login(
        "l-d5",
        &format!("{}.250+09:00", &b.at(64, 9)[..19]),
        "nurse01",
        WARD_PC,
        &["password", "sms_otp"],
    );
    expect(&hub, l, "direct_2fa", &[], Value::Null).await;
    assert_eq!(
        hub.login_view("l-d5").await["ts"],
        format!("{}.250Z", &b.z(64)[..19])
    );
    // A native-MFA system works the same way.
    let l = login(
        "l-d3",
        &b.at(62, 0),
        "vpn",
        "nurse01",
        "home-laptop",
        &["password", "push"],
        "success",
    );
    expect(&hub, l, "direct_2fa", &[], Value::Null).await;
    // inherence + knowledge, in an uncontrolled room.
    let l = ehr_login(
        "l-d4",
        &b.at(63, 9),
        "nurse01",
        "lobby-kiosk",
        &["fingerprint", "pin"],
    );
    expect(&hub, l, "direct_2fa", &[], Value::Null).await;
}

#[tokio::test]
async fn combined_measures_carry_their_evidence() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();

    // A card entry (possession) at 09:00+09:00 and a password login (knowledge) written
    // with -05:00: one instant, two offsets.
    hub.door_ok(&entry(
        "ward3-main",
        "d-card-1",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    let l = ehr_login("l-c1", &b.at(5, -5), "nurse01", WARD_PC, &["password"]);
    assert_reply(
        &hub.login_ok(&l).await,
        "l-c1",
        "combined_measures",
        &[],
        false,
    );
    assert_eq!(
        hub.login_view("l-c1").await,
        json!({
            "event_id": "l-c1", "system": "ehr", "account": "nurse01", "terminal": WARD_PC,
            "ts": b.z(5), "factors": ["password"], "outcome": "success",
            "verdict": "combined_measures", "reasons": [],
            "evidence": {"entry_event_id": "d-card-1", "door": "ward3-main",
                         "entered_at": b.z(0), "credential_type": "card"},
            "final": false, "flags": []
        })
    );
    // A login at exactly the entry's time is covered (start <= T).
    let l = ehr_login("l-c1b", &b.at(0, 0), "nurse01", WARD_PC, &["password"]);
    expect(
        &hub,
        l,
        "combined_measures",
        &[],
        evidence("d-card-1", "ward3-main", &b.z(0), "card"),
    )
    .await;

    // A biometric entry (inherence) by the other door plus a pin login (knowledge).
    hub.door_ok(&entry(
        "ward3-back",
        "d-bio-1",
        &b.at(10, 0),
        "biometric",
        "B0004",
    ))
    .await;
    let l = ehr_login("l-c2", &b.at(12, 9), "tech04", WARD_PC, &["pin"]);
    expect(
        &hub,
        l,
        "combined_measures",
        &[],
        evidence("d-bio-1", "ward3-back", &b.z(10), "biometric"),
    )
    .await;
    // A totp login (possession) with the same biometric entry.
    let l = ehr_login("l-c3", &b.at(13, -5), "tech04", WARD_PC, &["totp"]);
    expect(
        &hub,
        l,
        "combined_measures",
        &[],
        evidence("d-bio-1", "ward3-back", &b.z(10), "biometric"),
    )
    .await;

    // card_pin is possession + knowledge: it completes a password login on its own.
    hub.door_ok(&entry(
        "ward3-main",
        "d-cp-1",
        &b.at(20, -5),
        "card_pin",
        "CP0003",
    ))
    .await;
    let l = ehr_login("l-c4", &b.at(21, 9), "doc03", WARD_PC, &["password"]);
    expect(
        &hub,
        l,
        "combined_measures",
        &[],
        evidence("d-cp-1", "ward3-main", &b.z(20), "card_pin"),
    )
    .await;

    // `direction` defaults to `in`.
    let mut e = entry("ward3-back", "d-nodir", &b.at(40, 9), "card", "04A1B2C3");
    e.as_object_mut().expect("object").remove("direction");
    hub.door_ok(&e).await;
    let l = ehr_login("l-c6", &b.at(41, 0), "nurse01", WARD_PC, &["password"]);
    expect(
        &hub,
        l,
        "combined_measures",
        &[],
        evidence("d-nodir", "ward3-back", &b.z(40), "card"),
    )
    .await;

    // Credential ids match without regard to hex case (card readers disagree).
    hub.door_ok(&entry(
        "pharmacy-door",
        "d-card-2",
        &b.at(30, 0),
        "card",
        "04a1b2c3",
    ))
    .await;
    let l = ehr_login("l-c5", &b.at(31, 0), "nurse01", PHARMACY_PC, &["pin"]);
    expect(
        &hub,
        l,
        "combined_measures",
        &[],
        evidence("d-card-2", "pharmacy-door", &b.z(30), "card"),
    )
    .await;
}

#[tokio::test]
async fn failed_login_is_not_applicable() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    hub.door_ok(&entry("ward3-main", "d-1", &b.at(0, 9), "card", "04A1B2C3"))
        .await;
    for (id, factors, terminal) in [
        ("l-f1", &["password"][..], WARD_PC),
        ("l-f2", &["password", "totp"][..], WARD_PC),
        ("l-f3", &["password"][..], "ghost-pc"),
    ] {
        let l = login(
            id,
            &b.at(5, -5),
            "ehr",
            "nurse01",
            terminal,
            factors,
            "failure",
        );
        expect(&hub, l, "not_applicable", &[], Value::Null).await;
        assert_eq!(hub.login_view(id).await["outcome"], "failure");
    }
}

#[tokio::test]
async fn unknown_terminal_uncontrolled_room_and_unmapped_account() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    hub.door_ok(&entry("ward3-main", "d-1", &b.at(0, 9), "card", "04A1B2C3"))
        .await;

    let pw = &["password"][..];
    // A terminal not in the inventory: no room, so nothing else about rooms is checked.
    expect(
        &hub,
        ehr_login("l-u1", &b.at(5, 0), "nurse01", "ghost-pc", pw),
        "not_met",
        &["unknown_terminal"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-u2", &b.at(5, -5), "temp99", "ghost-pc", pw),
        "not_met",
        &["unknown_terminal", "unmapped_account"],
        Value::Null,
    )
    .await;
    // An uncontrolled room: the nurse is in ward3, not in the lobby.
    expect(
        &hub,
        ehr_login("l-u3", &b.at(5, 9), "nurse01", "lobby-kiosk", pw),
        "not_met",
        &["uncontrolled_room", "no_presence"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-u4", &b.at(6, 9), "temp99", "lobby-kiosk", pw),
        "not_met",
        &["uncontrolled_room", "unmapped_account"],
        Value::Null,
    )
    .await;
    // An unmapped account in a controlled room.
    expect(
        &hub,
        ehr_login("l-u5", &b.at(7, 0), "temp99", WARD_PC, pw),
        "not_met",
        &["unmapped_account"],
        Value::Null,
    )
    .await;
    // Accounts map per system: pharm02 is an ehr account, not a vpn one; nurse01 is both.
    let l = login(
        "l-u6",
        &b.at(8, -5),
        "vpn",
        "pharm02",
        WARD_PC,
        pw,
        "success",
    );
    expect(&hub, l, "not_met", &["unmapped_account"], Value::Null).await;
    let l = login(
        "l-u7",
        &b.at(9, -5),
        "vpn",
        "nurse01",
        WARD_PC,
        pw,
        "success",
    );
    expect(
        &hub,
        l,
        "combined_measures",
        &[],
        evidence("d-1", "ward3-main", &b.z(0), "card"),
    )
    .await;
}

#[tokio::test]
async fn integrity_alarms_void_credit_for_alarm_hold() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let pw = &["password"][..];
    let card = || evidence("d-in", "ward3-main", &b.z(0), "card");
    // The nurse is in ward3 for the whole test (12 h presence, no exit).
    hub.door_ok(&entry(
        "ward3-main",
        "d-in",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;

    // door_forced at +10 min on the back door; ward3 holds alarms for 15 min: [10, 25).
    hub.door_ok(&door_event(
        "ward3-back",
        "a-forced",
        &b.at(10, 0),
        "door_forced",
    ))
    .await;
    expect(
        &hub,
        ehr_login("l-a1", &b.at_secs(599, 9), "nurse01", WARD_PC, pw),
        "combined_measures",
        &[],
        card(),
    )
    .await;
    expect(
        &hub,
        ehr_login("l-a2", &b.at(10, -5), "nurse01", WARD_PC, pw),
        "not_met",
        &["room_alarm"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-a3", &b.at_secs(25 * 60 - 1, 0), "nurse01", WARD_PC, pw),
        "not_met",
        &["room_alarm"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-a4", &b.at(25, 9), "nurse01", WARD_PC, pw),
        "combined_measures",
        &[],
        card(),
    )
    .await;
    // The alarm is reported alongside the other failed checks, in contract order.
    expect(
        &hub,
        ehr_login("l-a5", &b.at(12, 0), "pharm02", WARD_PC, pw),
        "not_met",
        &["room_alarm", "no_presence"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-a6", &b.at(12, 0), "temp99", WARD_PC, pw),
        "not_met",
        &["unmapped_account", "room_alarm"],
        Value::Null,
    )
    .await;

    // tamper on the main door.
    hub.door_ok(&door_event(
        "ward3-main",
        "a-tamper",
        &b.at(40, -5),
        "tamper",
    ))
    .await;
    expect(
        &hub,
        ehr_login("l-a7", &b.at(41, 9), "nurse01", WARD_PC, pw),
        "not_met",
        &["room_alarm"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-a8", &b.at(55, 9), "nurse01", WARD_PC, pw),
        "combined_measures",
        &[],
        card(),
    )
    .await;

    // door_held_open.
    hub.door_ok(&door_event(
        "ward3-back",
        "a-held",
        &b.at(70, 9),
        "door_held_open",
    ))
    .await;
    expect(
        &hub,
        ehr_login("l-a9", &b.at(80, 0), "nurse01", WARD_PC, pw),
        "not_met",
        &["room_alarm"],
        Value::Null,
    )
    .await;

    // An alarm in another room does not touch ward3; ordinary door events are no alarms.
    hub.door_ok(&door_event(
        "pharmacy-door",
        "a-pharm",
        &b.at(100, 0),
        "door_forced",
    ))
    .await;
    hub.door_ok(&door_event(
        "ward3-main",
        "o-open",
        &b.at(100, 0),
        "door_opened",
    ))
    .await;
    hub.door_ok(&door_event(
        "ward3-main",
        "o-close",
        &b.at(100, 9),
        "door_closed",
    ))
    .await;
    let denied = json!({"door": "ward3-main", "event_id": "o-denied", "ts": b.at(100, -5), "kind": "access_denied",
                        "direction": "in", "credential": {"type": "pin", "id": "0000"}});
    hub.door_ok(&denied).await;
    expect(
        &hub,
        ehr_login("l-a10", &b.at(101, -5), "nurse01", WARD_PC, pw),
        "combined_measures",
        &[],
        card(),
    )
    .await;
}

#[tokio::test]
async fn presence_ends_and_must_cover_the_login() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    let pw = &["password"][..];

    // Nobody entered at all.
    expect(
        &hub,
        ehr_login("l-p0", &b.at(1, 0), "pharm02", WARD_PC, pw),
        "not_met",
        &["no_presence"],
        Value::Null,
    )
    .await;

    // Exit: the nurse enters ward3 at 0 and leaves by the back door at 30.
    hub.door_ok(&entry(
        "ward3-main",
        "d-n-in",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    hub.door_ok(&access(
        "ward3-back",
        "d-n-out",
        &b.at(30, -5),
        "out",
        "card",
        "04A1B2C3",
    ))
    .await;
    let nurse_in = evidence("d-n-in", "ward3-main", &b.z(0), "card");
    expect(
        &hub,
        ehr_login("l-p1", &b.at_secs(30 * 60 - 1, 0), "nurse01", WARD_PC, pw),
        "combined_measures",
        &[],
        nurse_in,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-p2", &b.at(30, 9), "nurse01", WARD_PC, pw),
        "not_met",
        &["no_presence"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-p3", &b.at(31, -5), "nurse01", WARD_PC, pw),
        "not_met",
        &["no_presence"],
        Value::Null,
    )
    .await;
    // An entry after the login does not cover it.
    hub.door_ok(&entry(
        "pharmacy-door",
        "d-n-late",
        &b.at(500, 0),
        "card",
        "04A1B2C3",
    ))
    .await;
    expect(
        &hub,
        ehr_login("l-p4", &b.at(499, 0), "nurse01", PHARMACY_PC, pw),
        "not_met",
        &["no_presence"],
        Value::Null,
    )
    .await;

    // Entry into another room: the doctor goes from ward3 (0) to the pharmacy (60).
    hub.door_ok(&entry(
        "ward3-main",
        "d-d-ward",
        &b.at(0, 0),
        "card_pin",
        "CP0003",
    ))
    .await;
    hub.door_ok(&entry(
        "pharmacy-door",
        "d-d-pharm",
        &b.at(60, 9),
        "card_pin",
        "CP0003",
    ))
    .await;
    let ward = evidence("d-d-ward", "ward3-main", &b.z(0), "card_pin");
    expect(
        &hub,
        ehr_login("l-p5", &b.at(59, -5), "doc03", WARD_PC, pw),
        "combined_measures",
        &[],
        ward,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-p6", &b.at(61, -5), "doc03", WARD_PC, pw),
        "not_met",
        &["no_presence"],
        Value::Null,
    )
    .await;
    let pharm = evidence("d-d-pharm", "pharmacy-door", &b.z(60), "card_pin");
    expect(
        &hub,
        ehr_login("l-p7", &b.at(61, 0), "doc03", PHARMACY_PC, pw),
        "combined_measures",
        &[],
        pharm,
    )
    .await;

    // max_presence: the pharmacy keeps presence for 1 h.
    hub.door_ok(&entry(
        "pharmacy-door",
        "d-t-in",
        &b.at(200, 0),
        "biometric",
        "B0004",
    ))
    .await;
    let tech = evidence("d-t-in", "pharmacy-door", &b.z(200), "biometric");
    expect(
        &hub,
        ehr_login("l-p8", &b.at(259, 9), "tech04", PHARMACY_PC, &["pin"]),
        "combined_measures",
        &[],
        tech,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-p9", &b.at(260, 9), "tech04", PHARMACY_PC, &["pin"]),
        "not_met",
        &["no_presence"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-p10", &b.at(261, 0), "tech04", PHARMACY_PC, &["pin"]),
        "not_met",
        &["no_presence"],
        Value::Null,
    )
    .await;

    // access_denied admits nobody; someone else's credential is not the nurse's.
    let denied = json!({"door": "ward3-main", "event_id": "d-n-denied", "ts": b.at(300, 0), "kind": "access_denied",
                        "direction": "in", "credential": {"type": "card", "id": "04A1B2C3"}});
    hub.door_ok(&denied).await;
    hub.door_ok(&entry(
        "ward3-main",
        "d-clerk",
        &b.at(300, 9),
        "mobile",
        "M0005",
    ))
    .await;
    hub.door_ok(&entry(
        "ward3-main",
        "d-nobody",
        &b.at(300, -5),
        "card",
        "FFFFFFFF",
    ))
    .await;
    expect(
        &hub,
        ehr_login("l-p11", &b.at(301, 0), "nurse01", WARD_PC, pw),
        "not_met",
        &["no_presence"],
        Value::Null,
    )
    .await;
}

#[tokio::test]
async fn same_category_entry_earns_no_credit() {
    let hub = spawn_hub(HubOptions::default()).await;
    let b = Base::new();
    // A pin entry is knowledge; a password login is knowledge too.
    hub.door_ok(&entry("ward3-main", "d-pin", &b.at(0, 9), "pin", "7788"))
        .await;
    let l = ehr_login("l-s1", &b.at(5, -5), "pharm02", WARD_PC, &["password"]);
    expect(&hub, l, "not_met", &["same_category"], Value::Null).await;
    let l = ehr_login(
        "l-s2",
        &b.at(6, 0),
        "pharm02",
        WARD_PC,
        &["password", "pin"],
    );
    expect(&hub, l, "not_met", &["same_category"], Value::Null).await;
    // With a possession factor the same entry completes two categories.
    let l = ehr_login("l-s3", &b.at(7, 9), "pharm02", WARD_PC, &["totp"]);
    expect(
        &hub,
        l,
        "combined_measures",
        &[],
        evidence("d-pin", "ward3-main", &b.z(0), "pin"),
    )
    .await;
    // biometric entry + face login: inherence twice.
    hub.door_ok(&entry(
        "pharmacy-door",
        "d-bio",
        &b.at(10, -5),
        "biometric",
        "B0004",
    ))
    .await;
    let l = ehr_login("l-s4", &b.at(11, 9), "tech04", PHARMACY_PC, &["face"]);
    expect(&hub, l, "not_met", &["same_category"], Value::Null).await;
}

#[tokio::test]
async fn offline_door_fails_closed() {
    let url = start_rumqttd();
    let hub = spawn_hub(HubOptions::default().mqtt(&url)).await;
    hub.wait_mqtt_connected().await;
    let b = Base::new();
    let pw = &["password"][..];
    let status_topic = |door: &str| format!("monban/{}/door/{door}/status", hub.opts.site);
    let mut publisher = Publisher::connect(&url).await;

    hub.door_ok(&entry(
        "ward3-main",
        "d-in",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    hub.door_ok(&entry(
        "pharmacy-door",
        "d-tech",
        &b.at(20, 0),
        "biometric",
        "B0004",
    ))
    .await;
    // ward3-back is offline from 30 to 40 (JSON statuses carry their own time).
    let offline = json!({"state": "offline", "ts": b.at(30, 9)}).to_string();
    let online = json!({"state": "online", "ts": b.at(40, -5)}).to_string();
    publisher
        .publish(&status_topic("ward3-back"), offline, false)
        .await;
    publisher
        .publish(&status_topic("ward3-back"), online, false)
        .await;
    let series = "monban_door_status_changes_total{source=\"mqtt\"}";
    wait_for("two status changes", DEADLINE, || async {
        (hub.metric(series).await >= 2.0).then_some(())
    })
    .await;

    let card = || evidence("d-in", "ward3-main", &b.z(0), "card");
    expect(
        &hub,
        ehr_login("l-o1", &b.at(29, 0), "nurse01", WARD_PC, pw),
        "combined_measures",
        &[],
        card(),
    )
    .await;
    expect(
        &hub,
        ehr_login("l-o2", &b.at(30, -5), "nurse01", WARD_PC, pw),
        "not_met",
        &["door_offline"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-o3", &b.at(35, 9), "nurse01", WARD_PC, pw),
        "not_met",
        &["door_offline"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        ehr_login("l-o4", &b.at(40, 0), "nurse01", WARD_PC, pw),
        "combined_measures",
        &[],
        card(),
    )
    .await;
    // Another room's door is not this room's.
    let tech = evidence("d-tech", "pharmacy-door", &b.z(20), "biometric");
    expect(
        &hub,
        ehr_login("l-o5", &b.at(35, 0), "tech04", PHARMACY_PC, &["pin"]),
        "combined_measures",
        &[],
        tech,
    )
    .await;

    // Everything at once, in contract order: offline from 100, a tamper at 101.
    publisher
        .publish(
            &status_topic("ward3-main"),
            json!({"state": "offline", "ts": b.at(100, 0)}).to_string(),
            false,
        )
        .await;
    wait_for("a third status change", DEADLINE, || async {
        (hub.metric(series).await >= 3.0).then_some(())
    })
    .await;
    hub.door_ok(&door_event(
        "ward3-back",
        "a-tamper",
        &b.at(101, 9),
        "tamper",
    ))
    .await;
    hub.door_ok(&entry("ward3-back", "d-pin", &b.at(90, -5), "pin", "7788"))
        .await;
    let all = |id: &str, account: &str, terminal: &str| {
        ehr_login(id, &b.at(102, -5), account, terminal, pw)
    };
    expect(
        &hub,
        all("l-o6", "temp99", WARD_PC),
        "not_met",
        &["unmapped_account", "door_offline", "room_alarm"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        all("l-o7", "doc03", WARD_PC),
        "not_met",
        &["door_offline", "room_alarm", "no_presence"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        all("l-o8", "pharm02", WARD_PC),
        "not_met",
        &["door_offline", "room_alarm", "same_category"],
        Value::Null,
    )
    .await;
    expect(
        &hub,
        all("l-o9", "temp99", "ghost-pc"),
        "not_met",
        &["unknown_terminal", "unmapped_account"],
        Value::Null,
    )
    .await;
}
