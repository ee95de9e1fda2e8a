//! The store on PostgreSQL (`[server] database = "postgres://…"`): the hub migrates an
//! empty database, judges and keeps what it acknowledged across a killed process, serves
//! the dashboard and the audit trail from it, and PostgreSQL itself refuses to change the
//! audit trail. Needs `MONBAN_TEST_POSTGRES_URL` (`.ci/run` sets it); skips with a printed
//! reason without it. `.ci/run` also runs the store-heavy suites with every hub on
//! PostgreSQL (`MONBAN_E2E_STORE=postgres`).
//!
//! A database lost while the hub runs (a relay between them is cut) makes ingest answer
//! `503 store_unavailable` without acknowledging anything, MQTT messages stay unacked at
//! the broker, and once the database is back every event is stored exactly once.
//!
//! A database that cannot be reached is refused at start with a message that names it;
//! that test needs no server.

use crate::broker::{start_rumqttd, Publisher};
use crate::harness::*;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;
use tokio::sync::watch;

const WARD_PC: &str = "ward3-pc01";

/// Whether there is no PostgreSQL server to test against (then says `test` is skipped).
fn skip_without_postgres(test: &str) -> bool {
    let skip = postgres_url().is_none();
    if skip {
        eprintln!(
            "skipped {test}: MONBAN_TEST_POSTGRES_URL is not set (for example \
             postgres://postgres@127.0.0.1:5432/test; .ci/run sets it)"
        );
    }
    skip
}

/// A hub on a fresh PostgreSQL database, or `None` (printed) without a server.
async fn hub_on_postgres(test: &str) -> Option<Hub> {
    if skip_without_postgres(test) {
        return None;
    }
    let url = fresh_postgres_database().await;
    Some(spawn_hub(HubOptions::default().database(&url)).await)
}

fn database_of(hub: &Hub) -> String {
    hub.opts.database.clone().expect("a PostgreSQL hub")
}

#[tokio::test]
async fn a_hub_on_postgres_judges_and_keeps_what_it_acknowledged() {
    let Some(mut hub) =
        hub_on_postgres("a_hub_on_postgres_judges_and_keeps_what_it_acknowledged").await
    else {
        return;
    };
    let b = Base::new();
    let e = entry("ward3-main", "pg-d-1", &b.at(0, 9), "card", "04A1B2C3");
    hub.door_ok(&e).await;
    let l = ehr_login("pg-l-1", &b.at(5, 9), "nurse01", WARD_PC, &["password"]);
    assert_reply(
        &hub.login_ok(&l).await,
        "pg-l-1",
        "combined_measures",
        &[],
        false,
    );
    let gap = ehr_login(
        "pg-l-2",
        &b.at(6, 9),
        "pharm02",
        "pharmacy-pc01",
        &["password"],
    );
    assert_reply(
        &hub.login_ok(&gap).await,
        "pg-l-2",
        "not_met",
        &["no_presence"],
        false,
    );
    // A bad payload is a dead letter in the same store.
    let (status, _) = hub
        .post_raw("/api/v1/door-events", Some(&hub.tokens.doors), "{")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Killed without warning and started again: everything acknowledged is there, and a
    // repeat is recognised as one.
    hub.kill9();
    hub.start().await;
    assert_verdict(
        &hub.login_view("pg-l-1").await,
        "combined_measures",
        &[],
        evidence("pg-d-1", "ward3-main", &b.z(0), "card"),
    );
    let (status, _) = hub.post_door_event(&e).await;
    assert_eq!(status, StatusCode::OK, "the repeated door event");
    let (status, reply) = hub.post_login(&l).await;
    assert_eq!(status, StatusCode::OK, "the repeated login: {reply}");
    assert_eq!(reply["verdict"], "combined_measures");

    // The compliance report counts from the store.
    let (status, report) = hub.compliance(None, None).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let ehr = report["systems"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == "ehr"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(ehr["logins"]["combined_measures"], 1, "{report}");
    assert_eq!(ehr["logins"]["not_met"], 1, "{report}");
    assert_eq!(ehr["status"], "gap", "{report}");

    // The dashboard reads the same store: every page renders.
    for path in [
        "/",
        "/systems/ehr",
        "/logins/pg-l-1",
        "/rooms",
        "/dead-letters",
        "/inventory",
        "/export",
        "/audit",
    ] {
        let res = hub.read_get(hub.url(path)).await.expect("GET page");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let html = res.text().await.expect("html");
        assert!(html.contains("</html>"), "{path} rendered");
    }
    let overview = hub
        .read_get(hub.url("/"))
        .await
        .expect("GET /")
        .text()
        .await
        .expect("html");
    assert!(
        overview.contains("data-system-id=\"ehr\""),
        "the ehr system on the overview"
    );
}

#[tokio::test]
async fn the_audit_trail_on_postgres_is_append_only() {
    let Some(hub) = hub_on_postgres("the_audit_trail_on_postgres_is_append_only").await else {
        return;
    };
    // A sign-in (through `monban user invite` and a passkey) is audited.
    let officer = hub.officer().await;
    let res = officer.get(&hub, "/audit").await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "officers do not read the audit trail"
    );
    let url = database_of(&hub);
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&mut conn)
        .await
        .expect("count audit rows");
    assert!(n >= 2, "the invite and the sign-in are audited ({n} rows)");
    for statement in [
        "UPDATE audit SET actor_name = 'someone else'",
        "DELETE FROM audit",
        "TRUNCATE audit",
    ] {
        let err = sqlx::query(statement)
            .execute(&mut conn)
            .await
            .expect_err(statement);
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit")
        .fetch_one(&mut conn)
        .await
        .expect("count audit rows");
    assert_eq!(after, n, "nothing changed");
    let _ = conn.close().await;
}

/// A store that cannot be reached stops the hub at start with a message naming it
/// (no PostgreSQL server needed: nothing listens on port 1).
#[tokio::test]
async fn an_unreachable_database_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("monban.toml");
    let opts = HubOptions::default().database("postgres://monban@127.0.0.1:1/monban");
    std::fs::write(&config, config_text(&opts, free_port())).expect("write monban.toml");
    let out = monban(&config, &["serve"]);
    assert!(
        !out.status.success(),
        "serve without its database must fail"
    );
    assert!(
        out.stderr.contains("127.0.0.1:1") || out.stderr.contains("database"),
        "the error names the database: {}",
        out.stderr
    );
}

/// A TCP relay between the hub and PostgreSQL that can be cut (every connection dropped,
/// new ones refused) and restored: the database server lost and back.
struct Link {
    url: String,
    up: watch::Sender<bool>,
}

impl Link {
    /// A relay to the server of `database_url`; its URL names the same database.
    async fn to(database_url: &str) -> Link {
        let upstream = url::Url::parse(database_url).expect("database URL");
        let target = format!(
            "{}:{}",
            upstream.host_str().unwrap_or("127.0.0.1"),
            upstream.port().unwrap_or(5432)
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the relay");
        let port = listener.local_addr().expect("relay address").port();
        let (up, watch) = watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut watch = watch.clone();
                if !*watch.borrow() {
                    continue; // cut: refused (dropped at once)
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        let mut url = upstream.clone();
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(port)).expect("port");
        Link {
            url: url.to_string(),
            up,
        }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

async fn healthz(hub: &Hub) -> StatusCode {
    hub.get_with("/healthz", None).await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_fails_closed_and_loses_nothing() {
    if skip_without_postgres("a_lost_database_fails_closed_and_loses_nothing") {
        return;
    }
    let database = fresh_postgres_database().await;
    let link = Link::to(&database).await;
    let broker = start_rumqttd();
    let hub = spawn_hub(HubOptions::default().database(&link.url).mqtt(&broker)).await;
    hub.wait_mqtt_connected().await;
    let mut publisher = Publisher::connect(&broker).await;
    let b = Base::new();
    hub.door_ok(&entry(
        "ward3-main",
        "pg-in",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;

    link.cut();
    wait_for("/healthz to report the store lost", DEADLINE, || async {
        (healthz(&hub).await == StatusCode::SERVICE_UNAVAILABLE).then_some(())
    })
    .await;
    // Over HTTP: refused with the error body, nothing acknowledged.
    let technician = entry(
        "pharmacy-door",
        "pg-http",
        &b.at(1, 9),
        "biometric",
        "B0004",
    );
    let reply = hub.post_door_event(&technician).await;
    assert_eq!(reply.0, StatusCode::SERVICE_UNAVAILABLE, "{:?}", reply.1);
    assert_eq!(
        assert_error_body(&reply.1, "a door event while the store is lost"),
        "store_unavailable"
    );
    // Over MQTT: published at QoS 1 while the store is lost; the hub cannot store it, so
    // it does not acknowledge it and the broker keeps it.
    let doctor = entry("ward3-back", "pg-mqtt", &b.at(2, 9), "card_pin", "CP0003");
    publisher
        .publish(
            &format!("monban/{}/door/ward3-back/event", hub.opts.site),
            mqtt_payload(&doctor),
            false,
        )
        .await;

    link.restore();
    wait_for("/healthz to report the store back", DEADLINE, || async {
        (healthz(&hub).await == StatusCode::OK).then_some(())
    })
    .await;
    // The HTTP sender retries: stored now, once.
    hub.door_ok(&technician).await;
    // The broker redelivers the MQTT event once the hub reconnects.
    let url = database.clone();
    let stored = wait_for("both events to be stored", DEADLINE, || async {
        let mut conn = sqlx::PgConnection::connect(&url).await.ok()?;
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT event_id, COUNT(*) FROM door_events WHERE event_id LIKE 'pg-%' \
             GROUP BY event_id ORDER BY event_id",
        )
        .fetch_all(&mut conn)
        .await
        .ok()?;
        let _ = conn.close().await;
        (rows.len() == 3).then_some(rows)
    })
    .await;
    assert_eq!(
        stored,
        vec![
            ("pg-http".to_string(), 1),
            ("pg-in".to_string(), 1),
            ("pg-mqtt".to_string(), 1)
        ],
        "every event exactly once"
    );
    // And the engine judges with them: the technician's entry (a fingerprint) makes her
    // password login in the pharmacy combined measures.
    let l = ehr_login(
        "pg-l-tech",
        &b.at(3, 9),
        "tech04",
        "pharmacy-pc01",
        &["password"],
    );
    let reply = hub.login_ok(&l).await;
    assert_eq!(reply["verdict"], "combined_measures", "{reply}");
}
