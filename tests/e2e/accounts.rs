//! The account review (CONTRACT §12) and the leaver's last day (§3, §7) against the real
//! hub: every status and finding, in the contract's order, with `dormant_after = "1d"`;
//! a person whose `until` day ends at midnight on the site's calendar (`+09:00`) while
//! the events are written with other offsets.

use crate::harness::*;
use chrono::{Duration as ChronoDuration, NaiveDate, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Vendor staff, a leaver and `[accounts] dormant_after = "1d"`.
const PEOPLE: &str = r#"
[[vendors]]
id = "acme-med"
name = "アクメ医療システム株式会社"

[[vendors.maintains]]
system = "ehr"
remote = true

[[people]]
id = "v001"
name = "保守 太郎"
vendor = "acme-med"
credentials = ["card:0A0B0C0D"]
accounts = { ehr = "acme-maint01" }

[[people]]
id = "p0009"
name = "退職 九郎"
until = "2020-03-31"
credentials = ["card:09090909"]
accounts = { ehr = "gone09" }

[accounts]
dormant_after = "1d"
"#;

async fn accounts(hub: &Hub, system: &str) -> Value {
    let (status, body) = hub
        .get_with(
            &format!("/api/v1/accounts?system={system}"),
            Some(&hub.tokens.auditor),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "GET accounts of {system}: {body}");
    assert_eq!(body["system"], system);
    body
}

fn row<'a>(body: &'a Value, account: &str) -> &'a Value {
    body["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|r| r["account"] == account)
        .unwrap_or_else(|| panic!("no account {account:?} in {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_and_findings_in_order() {
    let hub = spawn_hub(HubOptions::default().extra(PEOPLE)).await;
    // A day ago at an hour boundary; `dormant_after` is one day.
    let base = Base::new();
    let long_ago = Base::days_ago(100);
    let week_ago = Base::days_ago(5);
    let ok =
        |id: &str, ts: &str, account: &str| ehr_login(id, ts, account, "ward3-pc01", &["password"]);
    // nurse01: two logins within the day (with offsets of their own) and one 100 days ago.
    hub.login_ok(&ok("a-1", &base.at(23 * 60, 9), "nurse01"))
        .await;
    hub.login_ok(&ok("a-2", &base.at(22 * 60, -5), "nurse01"))
        .await;
    hub.login_ok(&ok("a-3", &long_ago.at(0, 0), "nurse01"))
        .await;
    // pharm02: last successful login five days ago → dormant.
    hub.login_ok(&ok("a-4", &week_ago.at(0, 9), "pharm02"))
        .await;
    // doc03: only a failed login → dormant, no last login.
    hub.login_ok(&login(
        "a-5",
        &base.at(23 * 60, 9),
        "ehr",
        "doc03",
        "ward3-pc01",
        &["password"],
        "failure",
    ))
    .await;
    // tech04: never logged in → dormant. gone09: left in 2020, logged in today → leaver.
    hub.login_ok(&ok("a-6", &base.at(23 * 60, 9), "gone09"))
        .await;
    // The vendor's staff.
    hub.login_ok(&ok("a-7", &base.at(23 * 60, 9), "acme-maint01"))
        .await;
    // Unmapped: a shared account that got in, and a typo that only failed.
    hub.login_ok(&ok("a-8", &base.at(23 * 60, 9), "shared01"))
        .await;
    hub.login_ok(&ok("a-9", &long_ago.at(10, 9), "shared01"))
        .await;
    hub.login_ok(&login(
        "a-10",
        &base.at(23 * 60, 9),
        "ehr",
        "nurse1",
        "ward3-pc01",
        &["password"],
        "failure",
    ))
    .await;

    let body = accounts(&hub, "ehr").await;
    let names: Vec<&str> = body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["account"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "acme-maint01",
            "doc03",
            "gone09",
            "nurse01",
            "nurse1",
            "pharm02",
            "shared01",
            "tech04"
        ],
        "every mapped or seen account, in order: {body}"
    );
    let expect = [
        ("acme-maint01", json!("v001"), json!("vendor"), 1, json!([])),
        (
            "doc03",
            json!("p0003"),
            json!("active"),
            0,
            json!(["dormant"]),
        ),
        (
            "gone09",
            json!("p0009"),
            json!("left"),
            1,
            json!(["leaver"]),
        ),
        ("nurse01", json!("p0001"), json!("active"), 2, json!([])),
        ("nurse1", Value::Null, Value::Null, 0, json!([])),
        (
            "pharm02",
            json!("p0002"),
            json!("active"),
            1,
            json!(["dormant"]),
        ),
        ("shared01", Value::Null, Value::Null, 1, json!(["unmapped"])),
        (
            "tech04",
            json!("p0004"),
            json!("active"),
            0,
            json!(["dormant"]),
        ),
    ];
    for (account, person, status, n, findings) in expect {
        let r = row(&body, account);
        assert_eq!(r["person"], person, "{account}: {r}");
        assert_eq!(r["person_status"], status, "{account}: {r}");
        assert_eq!(r["logins_90d"], n, "{account}: {r}");
        assert_eq!(r["findings"], findings, "{account}: {r}");
    }
    // last_login: the last successful one, whatever offset it was written with.
    assert_eq!(
        instant(row(&body, "nurse01")["last_login"].as_str().unwrap()),
        instant(&base.z(23 * 60))
    );
    assert_eq!(
        instant(row(&body, "pharm02")["last_login"].as_str().unwrap()),
        instant(&week_ago.z(0))
    );
    assert_eq!(row(&body, "doc03")["last_login"], Value::Null);
    assert_eq!(row(&body, "tech04")["last_login"], Value::Null);
    assert_eq!(
        row(&body, "nurse1")
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        [
            "account",
            "findings",
            "last_login",
            "logins_90d",
            "person",
            "person_status"
        ]
    );

    // Another system: vpn maps only nurse01, who never logged in there.
    let vpn = accounts(&hub, "vpn").await;
    assert_eq!(
        vpn["accounts"],
        json!([{"account": "nurse01", "person": "p0001", "person_status": "active",
                "last_login": null, "logins_90d": 0, "findings": ["dormant"]}])
    );

    // Errors: the contract's body.
    let (status, body) = hub
        .get_with("/api/v1/accounts", Some(&hub.tokens.auditor))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(assert_error_body(&body, "no system"), "invalid_query");
    let (status, body) = hub
        .get_with("/api/v1/accounts?system=nope", Some(&hub.tokens.auditor))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(assert_error_body(&body, "unknown system"), "unknown_system");
    let (status, _) = hub.get_with("/api/v1/accounts?system=ehr", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = hub
        .get_with("/api/v1/accounts?system=ehr", Some(&hub.tokens.ehr))
        .await;
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
        "an ingest token does not read: {status}"
    );
}

/// The site's day two days ago (`+09:00`), as `YYYY-MM-DD`.
fn site_day_before_yesterday() -> NaiveDate {
    (Utc::now() + ChronoDuration::hours(9)).date_naive() - ChronoDuration::days(2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leavers_last_day_ends_at_midnight_on_the_sites_calendar() {
    let until = site_day_before_yesterday();
    let leaver = format!(
        r#"
[[people]]
id = "p0010"
name = "退職 十郎"
until = "{until}"
credentials = ["card:0C0C0C0C"]
accounts = {{ ehr = "leaver10" }}
"#
    );
    let mut opts = HubOptions::default().extra(&leaver);
    opts.site_extra = "timezone = \"+09:00\"".into();
    let hub = spawn_hub(opts).await;
    // Midnight at the end of the `until` day, +09:00, as an instant.
    let midnight = until
        .succ_opt()
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        - ChronoDuration::hours(9);
    let at = Base::from_instant(midnight);

    // 23:59 on the last day (written in UTC): the card still admits the person.
    hub.door_ok(&entry(
        "ward3-main",
        "d-1",
        &at.at_secs(-60, 0),
        "card",
        "0C0C0C0C",
    ))
    .await;
    // A password login at 23:59:30 (written at -05:00): combined measures, no flag.
    let last = hub
        .login_ok(&ehr_login(
            "l-1",
            &at.at_secs(-30, -5),
            "leaver10",
            "ward3-pc01",
            &["password"],
        ))
        .await;
    assert_eq!(last["verdict"], "combined_measures", "{last}");
    assert_eq!(last["flags"], json!([]), "{last}");
    // Out at 23:59:50, back in at 00:01 the next day (written at +01:00): no presence.
    hub.door_ok(&access(
        "ward3-main",
        "d-2",
        &at.at_secs(-10, 0),
        "out",
        "card",
        "0C0C0C0C",
    ))
    .await;
    hub.door_ok(&entry(
        "ward3-main",
        "d-3",
        &at.at_secs(60, 1),
        "card",
        "0C0C0C0C",
    ))
    .await;
    let after = hub
        .login_ok(&ehr_login(
            "l-2",
            &at.at_secs(120, 1),
            "leaver10",
            "ward3-pc01",
            &["password"],
        ))
        .await;
    assert_eq!(after["verdict"], "not_met", "{after}");
    assert_eq!(after["reasons"], json!(["no_presence"]), "{after}");
    assert_eq!(after["flags"], json!(["account_of_leaver"]), "{after}");
    // A login 1 s after midnight is flagged, 1 s before is not — even if it failed.
    let (_, before) = hub
        .post_login(&login(
            "l-3",
            &at.at_secs(-1, 9),
            "ehr",
            "leaver10",
            "ward3-pc01",
            &["password"],
            "failure",
        ))
        .await;
    assert_eq!(before["flags"], json!([]), "{before}");
    let (_, past) = hub
        .post_login(&login(
            "l-4",
            &at.at_secs(1, -5),
            "ehr",
            "leaver10",
            "ward3-pc01",
            &["password"],
            "failure",
        ))
        .await;
    assert_eq!(past["flags"], json!(["account_of_leaver"]), "{past}");
    // Reads show the same.
    assert_eq!(hub.login_view("l-1").await["flags"], json!([]));
    assert_eq!(
        hub.login_view("l-2").await["flags"],
        json!(["account_of_leaver"])
    );

    // And the account review lists the account as a leaver's.
    let body = accounts(&hub, "ehr").await;
    let r = row(&body, "leaver10");
    assert_eq!(r["person_status"], "left", "{r}");
    assert_eq!(r["findings"], json!(["leaver"]), "{r}");
    assert_eq!(r["logins_90d"], 2, "{r}");
}

// ---- the review campaign (棚卸し) ------------------------------------------------------

/// `PEOPLE` with a review due every few seconds, so the test sees it fall due.
fn review_people() -> String {
    PEOPLE.replace(
        "dormant_after = \"1d\"",
        "dormant_after = \"1d\"\nreview_every = \"6s\"",
    )
}

async fn reviews(hub: &Hub, system: &str) -> Value {
    let (status, body) = hub
        .get_with(
            &format!("/api/v1/accounts/reviews?system={system}"),
            Some(&hub.tokens.auditor),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "GET reviews of {system}: {body}");
    assert_eq!(body["system"], system);
    body
}

/// One mark per account of `body`: `keep`, but `remove` for leavers and `map` to `p0005`
/// for unmapped accounts that got in.
fn marks_for(body: &Value) -> Vec<Value> {
    body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let account = r["account"].as_str().unwrap();
            let findings = r["findings"].as_array().unwrap();
            if findings.iter().any(|f| f == "leaver") {
                json!({"account": account, "decision": "remove", "note": "退職済み"})
            } else if findings.iter().any(|f| f == "unmapped") {
                json!({"account": account, "decision": "map", "person": "p0005"})
            } else {
                json!({"account": account, "decision": "keep"})
            }
        })
        .collect()
}

/// Starts a review; the start's reply when it is refused, else the finish's with an
/// assertion of `user`'s key (or `credential` when given).
async fn review(
    hub: &Hub,
    user: &mut crate::passkeys::SoftUser,
    session: &crate::passkeys::Session,
    system: &str,
    marks: &[Value],
    finish_marks: Option<&[Value]>,
    credential: Option<Value>,
) -> (StatusCode, Value) {
    use crate::passkeys::post_json;
    let (status, start, _) = post_json(
        hub,
        "/api/v1/accounts/reviews/start",
        Some(session),
        &json!({"system": system, "marks": marks}),
    )
    .await;
    if status != StatusCode::OK {
        return (status, start);
    }
    let credential = match credential {
        Some(c) => c,
        None => user.assertion(hub, &start["options"]),
    };
    let (status, body, _) = post_json(
        hub,
        "/api/v1/accounts/reviews/finish",
        Some(session),
        &json!({"ceremony": start["ceremony"], "credential": credential,
                "system": system, "marks": finish_marks.unwrap_or(marks)}),
    )
    .await;
    (status, body)
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

async fn review_scenario(opts: HubOptions) {
    use crate::passkeys::{bogus_assertion, post_json, user, Session};
    let hub = spawn_hub(opts.extra(&review_people())).await;
    let base = Base::new();
    let ok = |id: &str, account: &str| {
        ehr_login(
            id,
            &base.at(23 * 60, 9),
            account,
            "ward3-pc01",
            &["password"],
        )
    };
    hub.login_ok(&ok("r-1", "nurse01")).await;
    hub.login_ok(&ok("r-2", "gone09")).await;
    hub.login_ok(&ok("r-3", "shared01")).await;
    let list = accounts(&hub, "ehr").await;
    let marks = marks_for(&list);
    assert!(marks.len() >= 5, "{list}");

    // Never reviewed: due (要棚卸し).
    let before = reviews(&hub, "ehr").await;
    assert_eq!(before["overdue"], true, "{before}");
    assert_eq!(before["last_review"], Value::Null);
    assert_eq!(before["reviews"], json!([]));
    assert_eq!(before["review_every"], "6s");

    let (mut officer, session) = user(&hub, "officer", &unique("kanri")).await;

    // Refusals, before any passkey is asked for.
    let without = |account: &str| -> Vec<Value> {
        marks
            .iter()
            .filter(|m| m["account"] != account)
            .cloned()
            .collect()
    };
    let (status, body) = review(
        &hub,
        &mut officer,
        &session,
        "ehr",
        &without("nurse01"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "undecided_accounts"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nurse01"),
        "{body}"
    );
    let mut unknown_person = without("shared01");
    unknown_person.push(json!({"account": "shared01", "decision": "map", "person": "p9999"}));
    let (status, body) = review(
        &hub,
        &mut officer,
        &session,
        "ehr",
        &unknown_person,
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_person"),
        "{body}"
    );
    let mut ghost = marks.clone();
    ghost.push(json!({"account": "ghost", "decision": "keep"}));
    let (status, body) = review(&hub, &mut officer, &session, "ehr", &ghost, None, None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_account"),
        "{body}"
    );
    let (status, body) = review(&hub, &mut officer, &session, "nope", &marks, None, None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_system"),
        "{body}"
    );
    // Without the session's CSRF token.
    let no_csrf = Session {
        cookie: session.cookie.clone(),
        csrf: "wrong".into(),
    };
    let (status, body, _) = post_json(
        &hub,
        "/api/v1/accounts/reviews/start",
        Some(&no_csrf),
        &json!({"system": "ehr", "marks": marks}),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "csrf_failed"),
        "{body}"
    );
    // A role that may read the accounts but not confirm a review.
    let (mut auditor, auditor_session) = user(&hub, "auditor", &unique("kansa")).await;
    let (status, body) = review(
        &hub,
        &mut auditor,
        &auditor_session,
        "ehr",
        &marks,
        None,
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{body}"
    );
    // A read token may not either: tokens only read (the gate answers 401).
    let (status, body) = hub
        .request(
            reqwest::Method::POST,
            "/api/v1/accounts/reviews/start",
            Some(&hub.tokens.auditor),
            Some(
                json!({"system": "ehr", "marks": marks})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized"),
        "{body}"
    );
    // An assertion no passkey made.
    let (status, body) = review(
        &hub,
        &mut officer,
        &session,
        "ehr",
        &marks,
        None,
        Some(bogus_assertion()),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "passkey_rejected"),
        "{body}"
    );
    // Marks changed between start and finish: the ceremony was for others.
    let mut changed = marks.clone();
    for m in changed.iter_mut() {
        if m["account"] == "nurse01" {
            *m = json!({"account": "nurse01", "decision": "remove"});
        }
    }
    let (status, body) = review(
        &hub,
        &mut officer,
        &session,
        "ehr",
        &marks,
        Some(&changed),
        None,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "ceremony_expired"),
        "{body}"
    );
    assert_eq!(reviews(&hub, "ehr").await["reviews"], json!([]));

    // The review, confirmed with the officer's passkey.
    let (status, done) = review(&hub, &mut officer, &session, "ehr", &marks, None, None).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done["system"], "ehr");
    assert_eq!(done["by"], officer.name);
    assert_eq!(done["counts"]["remove"], 1, "{done}");
    assert_eq!(done["counts"]["map"], 1, "{done}");
    assert_eq!(
        done["counts"]["keep"].as_u64().unwrap() as usize,
        marks.len() - 2
    );
    let gone = done["marks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["account"] == "gone09")
        .unwrap();
    assert_eq!(
        gone,
        &json!({"account": "gone09", "decision": "remove", "person": null, "note": "退職済み"})
    );

    let after = reviews(&hub, "ehr").await;
    assert_eq!(after["overdue"], false, "{after}");
    assert_eq!(after["last_review"]["by"], officer.name);
    assert_eq!(after["last_review"]["id"], done["id"]);
    assert_eq!(after["last_review"]["completed_at"], done["completed_at"]);
    assert_eq!(after["reviews"].as_array().unwrap().len(), 1);
    // shared01 was mapped to p0005, which the inventory does not say yet.
    assert_eq!(
        after["follow_up"],
        json!([{"account": "shared01", "follow_up": "not_in_inventory"}])
    );
    // gone09 was to be removed, and logs in again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    hub.login_ok(&ehr_login(
        "r-4",
        &now,
        "gone09",
        "ward3-pc01",
        &["password"],
    ))
    .await;
    let later = reviews(&hub, "ehr").await;
    assert_eq!(
        later["follow_up"],
        json!([{"account": "gone09", "follow_up": "login_after_removal"},
               {"account": "shared01", "follow_up": "not_in_inventory"}]),
        "{later}"
    );

    // The audit trail and the evidence chain hold the review.
    let store_url = crate::evidence::store_url(&hub);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&store_url).await.expect("the store");
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit WHERE action LIKE 'accounts.%' ORDER BY seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(
        actions.contains(&"accounts.review".to_string())
            && actions.contains(&"accounts.review_refused".to_string()),
        "{actions:?}"
    );
    let chained: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM evidence WHERE kind = 'account_review'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(chained, 1);
    crate::evidence::verify_ok(&hub);
    // A mark edited in the database is found, and restoring it heals the chain.
    let id = done["id"].as_i64().unwrap();
    let stored: String = sqlx::query_scalar(&format!(
        "SELECT marks FROM account_reviews WHERE seq = {id}"
    ))
    .fetch_one(&pool)
    .await
    .unwrap();
    let forged = stored.replace("\"remove\"", "\"keep\"");
    assert_ne!(forged, stored);
    let set = |marks: String| {
        let pool = pool.clone();
        async move {
            sqlx::query(&format!(
                "UPDATE account_reviews SET marks = $1 WHERE seq = {id}"
            ))
            .bind(marks)
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    set(forged).await;
    crate::evidence::verify_finds(&hub, &format!("changed: account_review {id} "));
    set(stored).await;
    crate::evidence::verify_ok(&hub);
    // A review deleted from the database is found too.
    sqlx::query(&format!("DELETE FROM account_reviews WHERE seq = {id}"))
        .execute(&pool)
        .await
        .unwrap();
    crate::evidence::verify_finds(&hub, &format!("removed: account_review {id} "));
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_campaign_is_confirmed_with_a_passkey_and_kept_as_evidence() {
    review_scenario(HubOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_campaign_on_postgres() {
    if postgres_url().is_none() {
        eprintln!("skipped a_review_campaign_on_postgres: MONBAN_TEST_POSTGRES_URL is not set");
        return;
    }
    let url = fresh_postgres_database().await;
    review_scenario(HubOptions::default().database(&url)).await;
}

/// `review_every` passes after a review: the system is due again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_falls_due_after_review_every() {
    let hub = spawn_hub(HubOptions::default().extra(&review_people())).await;
    hub.login_ok(&ehr_login(
        "o-1",
        &Base::new().at(23 * 60, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    ))
    .await;
    let marks = marks_for(&accounts(&hub, "ehr").await);
    let (mut officer, session) = crate::passkeys::user(&hub, "admin", &unique("admin")).await;
    let (status, done) = review(&hub, &mut officer, &session, "ehr", &marks, None, None).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    let r = reviews(&hub, "ehr").await;
    assert_eq!(r["overdue"], false, "{r}");
    let due = instant(r["due_at"].as_str().unwrap());
    assert_eq!(
        due - instant(done["completed_at"].as_str().unwrap()),
        ChronoDuration::seconds(6)
    );
    // Another system, never reviewed, is due.
    assert_eq!(reviews(&hub, "vpn").await["overdue"], true);
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    let r = reviews(&hub, "ehr").await;
    assert_eq!(r["overdue"], true, "{r}");
    assert_eq!(r["last_review"]["id"], done["id"]);
}
