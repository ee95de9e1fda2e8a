//! Notifications (CONTRACT §11) in process: `[[notify]]` and `[smtp]` read through
//! `Config::parse` (every problem at its file and line, secrets at start), and the outbox
//! of the store on SQLite and, when configured, PostgreSQL.

#![allow(clippy::unwrap_used)]

use crate::support::{postgres_url, Backend};
use monban_core::notify::EventKind;
use monban_core::Timestamp;
use monban_server::config::notify::{Sink, SMTP_PASSWORD_ENV, SMTP_USER_ENV};
use monban_server::config::{Config, ConfigErrors};
use monban_server::store::notify::{DeliveryStatus, NewNotification};
use monban_server::store::Store;
use std::path::Path;

const BASE: &str = "[site]\nid = \"t\"\n";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn parse(extra: &str) -> Result<Config, ConfigErrors> {
    Config::parse(&format!("{BASE}{extra}"), "monban.toml", Path::new(""))
}

fn errors(extra: &str) -> String {
    parse(extra).unwrap_err().to_string()
}

#[test]
fn a_webhook_and_an_email_target() {
    let c = parse(
        r#"
[[notify]]
url = "https://hooks.example.jp/monban?x=1"
secret_env = "HOOK_SECRET"
events = ["door.offline", "room.alarm"]

[[notify]]
email = ["security@example.jp", "facilities@example.jp"]
events = ["*"]

[smtp]
url = "smtp://127.0.0.1:2525"
from = "monban <monban@example.jp>"
"#,
    )
    .unwrap();
    let r = c
        .notify
        .resolve(|name| (name == "HOOK_SECRET").then(|| SECRET.to_string()))
        .unwrap();
    assert_eq!(r.targets.len(), 2);
    assert_eq!(
        r.targets[0].id,
        "webhook:https://hooks.example.jp/monban?x=1"
    );
    assert_eq!(
        r.targets[1].id,
        "email:security@example.jp,facilities@example.jp"
    );
    assert!(r.targets[0].events.matches(EventKind::RoomAlarm));
    assert!(!r.targets[0].events.matches(EventKind::MaintenanceRequested));
    assert!(r.targets[1].events.matches(EventKind::MaintenanceRequested));
    match &r.targets[0].sink {
        Sink::Webhook { key, .. } => assert_eq!(key.len(), 24),
        Sink::Email { .. } => panic!("a webhook"),
    }
    assert!(r.smtp.unwrap().credentials.is_none());
    // No tables: nothing to resolve, nothing needed from the environment.
    assert!(parse("")
        .unwrap()
        .notify
        .resolve(|_| None)
        .unwrap()
        .targets
        .is_empty());
}

#[test]
fn problems_in_the_file_name_their_line() {
    let table = [
        (
            "[[notify]]\nurl = \"https://h.example.jp/\"\nsecret_env = \"S\"\nevents = [\"door.ofline\"]\n",
            "monban.toml:6: [[notify]] unknown event \"door.ofline\"",
        ),
        (
            "[[notify]]\nurl = \"https://h.example.jp/\"\nevents = [\"*\"]\n",
            "monban.toml:4: [[notify]] a webhook needs secret_env",
        ),
        (
            "[[notify]]\nemail = [\"a@example.jp\"]\nevents = [\"*\"]\n",
            "monban.toml:4: [[notify]] email needs [smtp]",
        ),
        (
            "[[notify]]\nurl = \"ftp://h/\"\nsecret_env = \"S\"\nevents = [\"*\"]\n",
            "monban.toml:4: [[notify]] url \"ftp://h/\" must be an http",
        ),
        (
            "[[notify]]\nurl = \"https://h.example.jp/\"\nsecret_env = \"S\"\nemail = [\"a@example.jp\"]\nevents = [\"*\"]\n",
            "monban.toml:6: [[notify]] has both url and email",
        ),
        ("[[notify]]\nevents = [\"*\"]\n", "[[notify]] needs url"),
        (
            "[[notify]]\nurl = \"https://h.example.jp/\"\nsecret_env = \"S\"\n",
            "[[notify]] needs events",
        ),
        (
            "[[notify]]\nurl = \"https://h.example.jp/\"\nsecret_env = \"S\"\nevents = []\n",
            "monban.toml:6: [[notify]] events is empty",
        ),
        (
            "[[notify]]\nurl = \"https://h.example.jp/\"\nsecret_env = \"whsec_abc=\"\nevents = [\"*\"]\n",
            "monban.toml:5: [[notify]] secret_env \"whsec_abc=\" must be the name of an environment variable",
        ),
        (
            "[smtp]\nurl = \"http://mail\"\nfrom = \"m@example.jp\"\n",
            "monban.toml:4: [smtp] url",
        ),
        (
            "[smtp]\nurl = \"smtp://mail:25\"\nfrom = \"not an address\"\n",
            "monban.toml:5: [smtp] from",
        ),
        (
            "[smtp]\nurl = \"smtp://mail:25\"\nfrom = \"m@example.jp\"\npassword = \"x\"\n",
            "monban.toml:6: [smtp] password is not read from the file",
        ),
        (
            "[[notify]]\nemail = [\"nope\"]\nevents = [\"*\"]\n[smtp]\nurl = \"smtp://m:25\"\nfrom = \"m@example.jp\"\n",
            "monban.toml:4: [[notify]] email \"nope\" is not an e-mail address",
        ),
        (
            "[[notify]]\nurl = \"https://h.example.jp/\"\nsecret_env = \"S\"\nevents = [\"*\"]\n[[notify]]\nurl = \"https://h.example.jp/\"\nsecret_env = \"T\"\nevents = [\"room.alarm\"]\n",
            "https://h.example.jp/ is configured twice",
        ),
        (
            "[[notify]]\nurl = \"https://h.example.jp/\"\nsecret_env = \"S\"\nevents = [\"*\"]\ncolour = \"red\"\n",
            "unknown field `colour`",
        ),
    ];
    for (extra, want) in table {
        let e = errors(extra);
        assert!(e.contains(want), "{extra}\nwanted {want:?}, got:\n{e}");
    }
}

#[test]
fn secrets_are_read_at_start_and_never_shown() {
    let c = parse(
        "[[notify]]\nurl = \"https://h.example.jp/\"\nsecret_env = \"HOOK\"\nevents = [\"*\"]\n",
    )
    .unwrap();
    let e = c.notify.resolve(|_| None).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "monban.toml:5: [[notify]] secret_env names the environment variable HOOK, which is not set"
        ),
        "{e}"
    );
    let e = c
        .notify
        .resolve(|_| Some("whsec_c2hvcnQ=".into()))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("monban.toml:5: [[notify]] the secret in HOOK is 5 bytes long"),
        "{e}"
    );

    let c = parse("[smtp]\nurl = \"smtp://m:25\"\nfrom = \"m@example.jp\"\n").unwrap();
    let e = c
        .notify
        .resolve(|n| (n == SMTP_USER_ENV).then(|| "u".to_string()))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("monban.toml:4: [smtp]") && e.contains(SMTP_PASSWORD_ENV),
        "{e}"
    );
    let r = c.notify.resolve(|_| Some("x".to_string())).unwrap();
    assert_eq!(r.smtp.unwrap().credentials, Some(("x".into(), "x".into())));
}

/// Runs `case` on SQLite and on PostgreSQL (when configured).
async fn on_both<F, Fut>(name: &str, case: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut backends = vec![Backend::sqlite()];
    if let Some(admin) = postgres_url(name) {
        backends.push(Backend::postgres(&admin).await);
    }
    for b in backends {
        let store = Store::open(&b.url()).await.unwrap();
        case(store.clone()).await;
        store.close().await;
        b.close().await;
    }
}

#[tokio::test]
async fn the_outbox_keeps_each_event_once_until_delivered() {
    on_both("the_outbox", |store| async move {
        let t = |s: i64| Timestamp::from_millis(1_800_000_000_000 + s * 1000);
        let targets = vec![
            "webhook:https://a.example.jp/".to_string(),
            "email:x@example.jp".to_string(),
        ];
        let n = NewNotification {
            id: "msg_1",
            kind: EventKind::RoomAlarm,
            key: "room.alarm:d1:e1",
            at: t(0),
            site: "tokyo",
            data: r#"{"door":"d1"}"#,
        };
        assert!(store.insert_notification(&n, &targets).await.unwrap());
        // The same kind and key again (another id): nothing is written.
        let again = NewNotification {
            id: "msg_2",
            ..n.clone()
        };
        assert!(!store.insert_notification(&again, &targets).await.unwrap());
        // The same key for another kind is another event.
        let other = NewNotification {
            id: "msg_3",
            kind: EventKind::DoorOffline,
            key: "room.alarm:d1:e1",
            ..n.clone()
        };
        assert!(store
            .insert_notification(&other, &targets[..1])
            .await
            .unwrap());

        let due = store.due_deliveries(t(0), 10).await.unwrap();
        assert_eq!(due.len(), 3);
        assert!(due
            .iter()
            .all(|d| d.delivery.status == DeliveryStatus::Pending));
        assert_eq!(due[0].notification.data, r#"{"door":"d1"}"#);

        // One fails, one is delivered, one is dropped.
        let long_error = "x".repeat(2000);
        store
            .delivery_failed("msg_1", &targets[0], 1, t(1), &long_error)
            .await
            .unwrap();
        store
            .delivery_delivered("msg_1", &targets[1], 1, t(0))
            .await
            .unwrap();
        store
            .delivery_dropped("msg_3", &targets[0], "gone")
            .await
            .unwrap();
        assert!(store.due_deliveries(t(0), 10).await.unwrap().is_empty());
        assert_eq!(store.next_delivery_at().await.unwrap(), Some(t(1)));
        let due = store.due_deliveries(t(1), 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].delivery.status, DeliveryStatus::Retrying);
        assert_eq!(due[0].delivery.attempts, 1);
        assert_eq!(
            due[0].delivery.last_error.as_ref().unwrap().chars().count(),
            500
        );

        // At start, what waits is due at once.
        store
            .delivery_failed("msg_1", &targets[0], 2, t(100), "HTTP 500")
            .await
            .unwrap();
        assert_eq!(store.deliveries_due_now(t(2)).await.unwrap(), 1);
        assert_eq!(store.due_deliveries(t(2), 10).await.unwrap().len(), 1);

        // The log: newest first, each with its deliveries.
        let log = store.notifications(10).await.unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].0.id, "msg_3");
        assert_eq!(log[0].1[0].status, DeliveryStatus::Dropped);
        assert_eq!(log[1].0.id, "msg_1");
        let statuses: Vec<_> = log[1].1.iter().map(|d| d.status).collect();
        assert_eq!(
            statuses,
            [DeliveryStatus::Delivered, DeliveryStatus::Retrying]
        );
        assert_eq!(log[1].1[0].delivered_at, Some(t(0)));
        assert_eq!(store.notifications(1).await.unwrap().len(), 1);

        // The scanner's cursors.
        assert_eq!(store.notify_cursor("door_status").await.unwrap(), None);
        store.set_notify_cursor("door_status", 7).await.unwrap();
        store.set_notify_cursor("door_status", 9).await.unwrap();
        assert_eq!(store.notify_cursor("door_status").await.unwrap(), Some(9));
    })
    .await;
}
