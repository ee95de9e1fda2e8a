//! The evidence chain (CONTRACT §13) against the real binary: a hub ingests door events,
//! logins (one re-judged inside grace), a maintenance request and an inventory edit;
//! `monban verify` passes on the untouched store and prints the head the API serves; then
//! each kind of tampering done directly in the database — a login's verdict, an audit
//! line, an evidence hash, a login row added, a door event deleted — makes `verify` exit 1
//! naming that record. On SQLite, and on PostgreSQL when `MONBAN_TEST_POSTGRES_URL` is set.

use crate::harness::*;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

pub fn store_url(hub: &Hub) -> String {
    hub.opts
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", hub.dir.path().join("monban.db").display()))
}

fn verify(hub: &Hub) -> CliOutput {
    monban(&hub.config, &["verify"])
}

/// `verify` passes: its `(seq, hash)`.
pub fn verify_ok(hub: &Hub) -> (i64, String) {
    let out = verify(hub);
    assert!(out.status.success(), "verify failed: {out:?}");
    let line = out.stdout.trim();
    let mut parts = line.split(' ');
    assert_eq!(parts.next(), Some("ok"), "{line}");
    let seq = parts.next().and_then(|s| s.parse().ok()).expect("a seq");
    let hash = parts.next().expect("a hash").to_string();
    assert_eq!(hash.len(), 64, "{line}");
    (seq, hash)
}

/// `verify` fails with a line starting with `want`.
pub fn verify_finds(hub: &Hub, want: &str) {
    let out = verify(hub);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    eprintln!("verify: {}", out.stdout.trim());
    assert!(
        out.stdout.trim().starts_with(want),
        "expected {want:?}, verify printed {:?}",
        out.stdout
    );
}

async fn scenario(opts: HubOptions) {
    let mut hub = spawn_hub(opts.extra(crate::maintenance::VENDORS)).await;
    let b = Base::new();
    // A login judged not_met, then re-judged inside grace by a late entry.
    let l = ehr_login("l-ev1", &b.at(5, 9), "nurse01", "ward3-pc01", &["password"]);
    let reply = hub.login_ok(&l).await;
    assert_eq!(reply["verdict"], "not_met", "{reply}");
    hub.door_ok(&entry(
        "ward3-main",
        "d-ev1",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    let view = hub.login_view("l-ev1").await;
    assert_eq!(view["verdict"], "combined_measures", "{view}");
    hub.door_ok(&door_event(
        "ward3-main",
        "d-ev2",
        &b.at(1, 9),
        "door_opened",
    ))
    .await;
    hub.login_ok(&ehr_login(
        "l-ev2",
        &b.at(6, 9),
        "nurse01",
        "ward3-pc01",
        &["password", "totp"],
    ))
    .await;
    // A maintenance request (with its audit line).
    let vendor = issue_token(&hub.config, &["--vendor", "acme-med"]);
    let start = chrono::Utc::now() + chrono::Duration::hours(1);
    let body = json!({"request_id": "acme-ev-1", "system": "ehr", "people": ["v001"],
        "work_plan": "WP-2026-118", "purpose": "定期パッチ適用",
        "start": start.to_rfc3339(), "end": (start + chrono::Duration::hours(2)).to_rfc3339(),
        "remote": true, "emergency": false});
    let (status, reply) = hub
        .post_raw("/api/v1/maintenance", Some(&vendor), body.to_string())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    // An inventory edit by an officer (applied through the writer).
    let res = hub
        .officer()
        .await
        .post_form(
            &hub,
            "/inventory/row/terminals",
            &[
                ("id", "ward3-pc77"),
                ("room", "ward3"),
                ("name", "増設端末"),
                ("lang", "ja"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("location")
        .to_string();
    let id = to
        .trim_start_matches("/inventory?preview=")
        .split(['&', '#'])
        .next()
        .unwrap_or_default()
        .to_string();
    let res = hub
        .officer()
        .await
        .post_form(
            &hub,
            &format!("/inventory/pending/{id}/apply"),
            &[("lang", "ja")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // The head the API serves is what verify prints.
    let (status, head) = hub
        .get_with("/api/v1/evidence/head", Some(&hub.tokens.auditor))
        .await;
    assert_eq!(status, StatusCode::OK, "{head}");
    let (status, _) = hub.get_with("/api/v1/evidence/head", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Stop the hub: nothing else writes while the store is tampered with.
    let (exit, _) = hub.terminate(Duration::from_secs(20));
    assert!(exit.success(), "{exit:?}");
    let (seq, hash) = verify_ok(&hub);
    assert_eq!(head["seq"], seq, "{head}");
    assert_eq!(head["hash"], hash.as_str(), "{head}");
    assert!(
        seq >= 10,
        "door events, logins, verdict changes, request, audit, inventory: {seq}"
    );
    // A head noted earlier: the chain passes through it, or verify says it does not.
    let out = monban(
        &hub.config,
        &["verify", "--head", &format!("{}:{hash}", seq - 1)],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        out.stdout
            .starts_with("changed: the chain up to evidence seq"),
        "{out:?}"
    );
    let out = monban(&hub.config, &["verify", "--head", &format!("{seq}:{hash}")]);
    assert!(out.status.success(), "{out:?}");

    sqlx::any::install_default_drivers();
    let url = store_url(&hub);
    let sqlite = url.starts_with("sqlite:");
    let pool = sqlx::AnyPool::connect(&url).await.expect("the store");
    let exec = |sql: String| {
        let pool = pool.clone();
        async move {
            sqlx::query(&sql).execute(&pool).await.expect(&sql);
        }
    };
    // Every kind was chained.
    let kinds: Vec<String> = sqlx::query_scalar("SELECT DISTINCT kind FROM evidence ORDER BY kind")
        .fetch_all(&pool)
        .await
        .expect("kinds");
    for k in [
        "audit",
        "door_event",
        "inventory_change",
        "login",
        "maintenance",
        "verdict_change",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} not chained: {kinds:?}");
    }

    // 1. A login's verdict edited in place.
    let verdict: String = sqlx::query_scalar("SELECT verdict FROM logins WHERE event_id = 'l-ev1'")
        .fetch_one(&pool)
        .await
        .expect("verdict");
    exec("UPDATE logins SET verdict = 'direct_2fa' WHERE event_id = 'l-ev1'".into()).await;
    verify_finds(&hub, "changed: login l-ev1 ");
    exec(format!(
        "UPDATE logins SET verdict = '{verdict}' WHERE event_id = 'l-ev1'"
    ))
    .await;
    assert_eq!(verify_ok(&hub), (seq, hash.clone()));

    // 2. An audit line edited (past the append-only trigger, as an intruder would).
    if sqlite {
        exec("DROP TRIGGER audit_no_update".into()).await;
    } else {
        exec("ALTER TABLE audit DISABLE TRIGGER audit_no_update".into()).await;
    }
    let (aseq, actor): (i64, String) =
        sqlx::query_as("SELECT seq, actor_name FROM audit ORDER BY seq LIMIT 1")
            .fetch_one(&pool)
            .await
            .expect("an audit line");
    exec(format!(
        "UPDATE audit SET actor_name = 'nobody' WHERE seq = {aseq}"
    ))
    .await;
    verify_finds(&hub, &format!("changed: audit {aseq} "));
    exec(format!(
        "UPDATE audit SET actor_name = '{actor}' WHERE seq = {aseq}"
    ))
    .await;
    assert_eq!(verify_ok(&hub), (seq, hash.clone()));

    // 3. A login row added without the hub.
    exec("INSERT INTO logins (event_id, system, account, terminal, ts, factors, outcome, received_at, final_at, verdict, reasons, evidence, is_final, updated_at) \
          SELECT 'l-forged', system, account, terminal, ts, factors, outcome, received_at, final_at, verdict, reasons, evidence, is_final, updated_at FROM logins WHERE event_id = 'l-ev2'".into()).await;
    verify_finds(&hub, "inserted: login l-forged ");
    exec("DELETE FROM logins WHERE event_id = 'l-forged'".into()).await;
    assert_eq!(verify_ok(&hub), (seq, hash.clone()));

    // 4. An evidence hash replaced.
    let (key, old): (String, String) =
        sqlx::query_as("SELECT kind || ' ' || key, hash FROM evidence WHERE seq = 3")
            .fetch_one(&pool)
            .await
            .expect("evidence seq 3");
    exec(format!(
        "UPDATE evidence SET hash = '{}' WHERE seq = 3",
        "0".repeat(64)
    ))
    .await;
    verify_finds(&hub, &format!("changed: {key} (evidence seq 3)"));
    exec(format!("UPDATE evidence SET hash = '{old}' WHERE seq = 3")).await;
    assert_eq!(verify_ok(&hub), (seq, hash.clone()));

    // 5. A door event deleted (last: not undone).
    exec("DELETE FROM door_events WHERE event_id = 'd-ev2'".into()).await;
    verify_finds(&hub, "removed: door_event ward3-main/d-ev2 ");
    pool.close().await;
}

#[tokio::test]
async fn verify_finds_every_kind_of_tampering() {
    // The run's store: SQLite unless MONBAN_E2E_STORE=postgres.
    scenario(HubOptions::default()).await;
}

#[tokio::test]
async fn verify_finds_every_kind_of_tampering_on_postgres() {
    if postgres_url().is_none() {
        eprintln!(
            "skipped verify_finds_every_kind_of_tampering_on_postgres: MONBAN_TEST_POSTGRES_URL is not set \
             (for example postgres://postgres@127.0.0.1:5432/test)"
        );
        return;
    }
    let url = fresh_postgres_database().await;
    scenario(HubOptions::default().database(&url)).await;
}

/// Finality after grace, a killed hub and a restart keep the chain whole; a store whose
/// records predate the chain (its `evidence` emptied, as right after the migration) is
/// chained at the next start and verifies.
#[tokio::test]
async fn finality_restarts_and_older_stores_keep_the_chain_whole() {
    let mut hub = spawn_hub(HubOptions::default().grace("2s")).await;
    let b = Base::new();
    let l = ehr_login(
        "l-fin1",
        &b.at(5, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    assert_eq!(hub.login_ok(&l).await["verdict"], "not_met");
    hub.door_ok(&entry(
        "ward3-main",
        "d-fin1",
        &b.at(0, 9),
        "card",
        "04A1B2C3",
    ))
    .await;
    wait_for("l-fin1 final", Duration::from_secs(20), || async {
        let v = hub.login_view("l-fin1").await;
        (v["final"] == true).then_some(())
    })
    .await;
    hub.kill9();
    hub.start().await;
    hub.login_ok(&ehr_login(
        "l-fin2",
        &b.at(7, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    ))
    .await;
    let (exit, _) = hub.terminate(Duration::from_secs(20));
    assert!(exit.success(), "{exit:?}");
    let (seq, _) = verify_ok(&hub);

    // As if the chain had just been added to an older store.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&store_url(&hub))
        .await
        .expect("the store");
    sqlx::query("DELETE FROM evidence")
        .execute(&pool)
        .await
        .expect("empty the chain");
    pool.close().await;
    let out = verify(&hub);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.starts_with("inserted: "), "{out:?}");
    hub.start().await;
    let (exit, _) = hub.terminate(Duration::from_secs(20));
    assert!(exit.success(), "{exit:?}");
    let (again, _) = verify_ok(&hub);
    assert!(again >= seq, "{again} < {seq}");
}
