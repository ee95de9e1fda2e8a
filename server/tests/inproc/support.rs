//! [`TestHub`]: the hub in this process, on port 0, with a clock the test moves.
//!
//! The settings are built in code (a small hospital, as the end-to-end harness has), the
//! store is a fresh SQLite file in a temporary directory or — [`TestHub::start_on`] — a
//! fresh PostgreSQL database, tokens are issued through the library, and the typed
//! helpers talk to the real router over HTTP. No binary, no broker.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use monban_core::Timestamp;
use monban_server::clock::Clock;
use monban_server::config::Config;
use monban_server::store::{Store, TokenScope};
use monban_server::AppState;
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The test hospital: a controlled ward with two doors, an uncontrolled lobby, three
/// systems and four people.
pub const HOSPITAL: &str = r#"
[[rooms]]
id = "ward3"
name = "3F ナースステーション"
controlled = true
max_presence = "12h"
alarm_hold = "15m"

[[rooms]]
id = "lobby"
name = "1F ロビー"
controlled = false

[[doors]]
id = "ward3-main"
room = "ward3"

[[doors]]
id = "ward3-back"
room = "ward3"

[[terminals]]
id = "ward3-pc01"
room = "ward3"

[[terminals]]
id = "lobby-kiosk"
room = "lobby"

[[systems]]
id = "ehr"
name = "電子カルテ"
category = "ehr"
native_mfa = false

[[systems]]
id = "vpn"
name = "リモート保守VPN"
category = "vpn"
native_mfa = true

[[systems]]
id = "pacs"
name = "画像システム"
category = "departmental"
native_mfa = false

[[people]]
id = "p0001"
name = "看護師 一郎"
credentials = ["card:04A1B2C3"]
accounts = { ehr = "nurse01", vpn = "nurse01" }

[[people]]
id = "p0002"
name = "薬剤師 二郎"
credentials = ["pin:7788"]
accounts = { ehr = "pharm02" }

[[people]]
id = "p0003"
name = "医師 三郎"
credentials = ["card:0C0D0E0F"]
accounts = { ehr = "doc03", pacs = "doc03" }

[[people]]
id = "p0004"
name = "技師 四郎"
credentials = ["card:0A0B0C0D"]
accounts = { ehr = "tech04" }
"#;

/// A clock that moves only when the test moves it.
#[derive(Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn at(t: Timestamp) -> TestClock {
        TestClock(Arc::new(AtomicI64::new(t.as_millis())))
    }
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_millis() as i64, Ordering::SeqCst);
    }
    pub fn clock(&self) -> Clock {
        let c = self.0.clone();
        Clock::new(move || Timestamp::from_millis(c.load(Ordering::SeqCst)))
    }
}

/// `MONBAN_TEST_POSTGRES_URL`, or a printed reason to skip.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("MONBAN_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("skipped {test} on PostgreSQL: MONBAN_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// A fresh database on the PostgreSQL server of `admin`; dropped by [`drop_database`].
pub async fn fresh_postgres(admin: &str) -> String {
    use sqlx::Connection;
    let name = format!("monban_inproc_{}_{}", std::process::id(), rand_suffix());
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    let mut u = url::Url::parse(admin).unwrap();
    u.set_path(&format!("/{name}"));
    u.to_string()
}

pub async fn drop_database(admin: &str, url: &str) {
    use sqlx::Connection;
    let name = url::Url::parse(url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_string();
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}

fn rand_suffix() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(std::time::Instant::now().elapsed().as_nanos());
    format!("{:08x}", h.finish() as u32)
}

/// A store of either backend, for the conformance suite.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres { admin: String, url: String },
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }
    pub async fn postgres(admin: &str) -> Backend {
        let url = fresh_postgres(admin).await;
        Backend::Postgres {
            admin: admin.to_string(),
            url,
        }
    }
    pub fn url(&self) -> String {
        match self {
            Backend::Sqlite(dir) => format!("sqlite://{}/monban.db", dir.path().display()),
            Backend::Postgres { url, .. } => url.clone(),
        }
    }
    pub async fn close(self) {
        if let Backend::Postgres { admin, url } = self {
            drop_database(&admin, &url).await;
        }
    }
}

/// The hub, running in this test's process.
pub struct TestHub {
    pub url: String,
    pub state: AppState,
    pub clock: TestClock,
    pub login_token: String,
    pub door_token: String,
    pub read_token: String,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub dir: tempfile::TempDir,
}

/// The settings of a test hub on `database`.
pub fn config(dir: &std::path::Path, database: &str, grace: &str) -> Config {
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ndatabase = \"{database}\"\ngrace = \"{grace}\"\n\n\
         [limits]\ningest_per_second = 0\nsignin_per_minute = 0\n\n\
         [site]\nid = \"inproc\"\nname = \"テスト病院\"\n{HOSPITAL}"
    );
    Config::parse(&text, "monban.toml", dir).unwrap_or_else(|e| panic!("{e}"))
}

impl TestHub {
    /// A hub on a fresh SQLite store, its clock at `t`, grace `grace`.
    pub async fn start(t: Timestamp, grace: &str) -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}/monban.db", dir.path().display());
        TestHub::start_in(dir, &db, TestClock::at(t), grace).await
    }

    /// A hub on the store at `database` (kept by the caller), its clock `clock`.
    pub async fn start_in(
        dir: tempfile::TempDir,
        database: &str,
        clock: TestClock,
        grace: &str,
    ) -> TestHub {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
                .with_test_writer()
                .try_init();
        }
        let config = config(dir.path(), database, grace);
        let state = monban_server::prepare(&config, "test", clock.clock())
            .await
            .unwrap();
        let issue = |scope: TokenScope| {
            let store = state.store.clone();
            let c = clock.clock();
            async move {
                monban_server::issue_token(&store, scope, "test", &c)
                    .await
                    .unwrap()
            }
        };
        let login_token = issue(TokenScope::Login(
            monban_core::SystemId::parse("ehr").unwrap(),
        ))
        .await;
        let door_token = issue(TokenScope::Doors(None)).await;
        let read_token = issue(TokenScope::Read("auditor".into())).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn({
            let state = state.clone();
            async move {
                monban_server::serve(state, &config, listener, async move {
                    let _ = stopped.await;
                })
                .await
            }
        });
        TestHub {
            url,
            state,
            clock,
            login_token,
            door_token,
            read_token,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
            dir,
        }
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// A login-ingest token for another system.
    pub async fn token_for(&self, system: &str) -> String {
        monban_server::issue_token(
            &self.state.store,
            TokenScope::Login(monban_core::SystemId::parse(system).unwrap()),
            "test",
            &self.clock.clock(),
        )
        .await
        .unwrap()
    }

    pub async fn post_login_with(&self, token: &str, body: &Value) -> (StatusCode, Value) {
        let res = self
            .client
            .post(format!("{}/api/v1/logins", self.url))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_login(&self, body: &Value) -> (StatusCode, Value) {
        self.post_login_with(&self.login_token, body).await
    }

    pub async fn post_door(&self, body: &Value) -> (StatusCode, Value) {
        let res = self
            .client
            .post(format!("{}/api/v1/door-events", self.url))
            .bearer_auth(&self.door_token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let res = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.read_token)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let res = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.read_token)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.text().await.unwrap_or_default())
    }

    /// Stops the hub (it must stop within 15 s) and returns its directory.
    pub async fn stop(mut self) -> (tempfile::TempDir, TestClock) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), t)
                .await
                .expect("the hub stops within 15 s")
                .unwrap()
                .unwrap();
        }
        (self.dir, self.clock)
    }
}

/// An RFC 3339 time `s` seconds after `base`.
pub fn at(base: Timestamp, s: i64) -> String {
    Timestamp::from_millis(base.as_millis() + s * 1000).to_rfc3339()
}
