//! Browser tests of the dashboard in real headless Chromium, over WebDriver
//! (`fantoccini` talking to `chromedriver`).
//!
//! Each test starts the real hub (the e2e [`harness`]), feeds it door events over MQTT
//! (an embedded rumqttd, through the hub's real MQTT connector) and logins over the HTTP
//! API, opens the dashboard at 1280×800 and at 375×812, waits for hydration
//! (`data-hydrated="true"`) and compares what the page shows with the JSON API. At
//! 375 px nothing may overflow horizontally (`scrollWidth <= 375`).
//!
//! Every test saves screenshots to `target/browser-screenshots/<test>-<width>.png` and
//! prints their paths to stderr (uncaptured, so they are in the output of passing tests).
//!
//! # Running
//! `scripts/test.sh` installs Debian's `chromium` and `chromium-driver` and exports
//! `MONBAN_TEST_CHROMEDRIVER=/usr/bin/chromedriver`. Without that variable every test
//! prints why it is skipped and passes. `MONBAN_TEST_CHROMIUM` overrides the browser
//! binary (default `/usr/bin/chromium`). The wasm bundle must be built
//! (`scripts/build-web.sh`) for hydration; the hub serves it from `target/site`, or from
//! `MONBAN_SITE_ROOT` (inherited by the hub) — bundle and hub must come from the same
//! source, or hydration fails.
//!
//! One `chromedriver` per test binary, on a free port, started on first use; it is
//! stopped when the test binary exits (a shell holds it and kills it when our end of
//! its stdin closes). Each test has its own Chromium session with a fresh
//! `--user-data-dir`.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "../e2e/harness.rs"]
mod harness;
// The embedded broker and publisher of the e2e tests; only part of that file is used here.
#[allow(dead_code)]
#[path = "../e2e/broker.rs"]
mod broker;
// Software passkeys and sessions of the e2e tests (the harness signs an officer in).
#[allow(dead_code)]
#[path = "../e2e/passkeys.rs"]
mod passkeys;

mod accounts;
mod bundle;
mod fixture;
mod imports;
mod inspection;
mod maintenance;
mod overview;
mod pages;
mod signin;
mod system;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A WebDriver command fantoccini has no method for (cookies without a domain, the
/// WebAuthn virtual authenticator).
#[derive(Debug)]
pub struct RawCommand {
    pub method: http::Method,
    pub path: String,
    pub body: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for RawCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (self.method.clone(), Some(self.body.to_string()))
    }
}

/// How long the page may take to hydrate, follow an update or navigate.
pub const PAGE_DEADLINE: Duration = Duration::from_secs(30);

/// The two sizes every page is checked at: desktop and a small phone.
pub const SIZES: [(u32, u32); 2] = [(1280, 800), (375, 812)];

/// `chromedriver`'s path from `MONBAN_TEST_CHROMEDRIVER`, or `None` after printing why
/// the test is skipped.
pub fn chromedriver_or_skip(test: &str) -> Option<String> {
    match std::env::var("MONBAN_TEST_CHROMEDRIVER") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            // Uncaptured, so the reason is in the output of the (passing) test.
            let _ = writeln!(
                std::io::stderr(),
                "skipping browser test {test}: MONBAN_TEST_CHROMEDRIVER is not set \
                 (scripts/test.sh installs Chromium and sets it)"
            );
            None
        }
    }
}

/// The running chromedriver: its port, and the pipe whose closing stops it.
struct Driver {
    port: u16,
    _child: Child,
    _stdin: Mutex<ChildStdin>,
}

static DRIVER: OnceLock<Driver> = OnceLock::new();

/// Starts chromedriver once per test binary and waits until it accepts connections.
fn driver(path: &str) -> u16 {
    DRIVER
        .get_or_init(|| {
            let port = harness::free_port();
            // The shell starts chromedriver and waits on its stdin; when this process
            // exits (however it exits) the pipe closes and the shell kills chromedriver.
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(r#""$0" --port="$1" --log-level=WARNING & pid=$!; cat >/dev/null; kill $pid"#)
                .arg(path)
                .arg(port.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {path}: {e}"));
            let stdin = child.stdin.take().expect("chromedriver's stdin");
            let until = Instant::now() + harness::DEADLINE;
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < until,
                    "chromedriver ({path}) did not listen on {port} within {:?}",
                    harness::DEADLINE
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            Driver {
                port,
                _child: child,
                _stdin: Mutex::new(stdin),
            }
        })
        .port
}

/// Where screenshots go: `<target>/browser-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("browser-screenshots")
}

/// One Chromium session of one test.
pub struct Browser {
    pub client: Client,
    test: String,
    /// chromedriver's port and the session id, to end the session from `Drop` when a
    /// test fails before [`Browser::close`] (or Chromium outlives the test binary).
    driver_port: u16,
    session: Option<String>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A new headless Chromium with a fresh profile, or `None` (skipped) without
    /// `MONBAN_TEST_CHROMEDRIVER`.
    pub async fn start(test: &str) -> Option<Browser> {
        let path = chromedriver_or_skip(test)?;
        let port = driver(&path);
        let profile = tempfile::Builder::new()
            .prefix("monban-chromium-")
            .tempdir()
            .expect("a profile directory");
        let binary =
            std::env::var("MONBAN_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--hide-scrollbars".into(),
            "--window-size=1280,800".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": binary, "args": args}),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("a Chromium session via chromedriver: {e}"));
        let session = client
            .session_id()
            .await
            .ok()
            .flatten()
            .map(|s| s.to_string());
        Some(Browser {
            client,
            test: test.to_string(),
            driver_port: port,
            session,
            _profile: profile,
        })
    }

    /// Signs in as a new user of `role` — a software passkey through the hub's real
    /// WebAuthn ceremony ([`passkeys::user`]) — and gives this browser the session
    /// cookie. (The sign-in page itself, with Chromium's virtual authenticator, is
    /// tested in [`signin`].)
    pub async fn sign_in(&self, hub: &harness::Hub, role: &str) {
        let (_, s) = passkeys::user(hub, role, &harness::unique(role)).await;
        self.client.goto(&hub.page_url("/healthz")).await.unwrap();
        let (name, value) = s.cookie.split_once('=').expect("name=value");
        // Without a domain: the page's own host (Chromium refuses "localhost" as one).
        self.webdriver(
            http::Method::POST,
            "cookie",
            json!({"cookie": {"name": name, "value": value, "path": "/", "httpOnly": true}}),
        )
        .await;
    }

    /// A WebDriver command of this session: `POST /session/{id}/<path>` with `body`.
    pub async fn webdriver(&self, method: http::Method, path: &str, body: Value) -> Value {
        self.client
            .issue_cmd(RawCommand {
                method,
                path: path.to_string(),
                body,
            })
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
    }

    /// Adds a CTAP2 platform authenticator that holds resident keys, verifies the user and
    /// consents by itself (chromedriver's WebAuthn extension).
    pub async fn add_virtual_authenticator(&self) {
        self.webdriver(
            http::Method::POST,
            "webauthn/authenticator",
            json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserConsenting": true,
                "isUserVerified": true,
                "automaticPresenceSimulation": true,
            }),
        )
        .await;
    }

    /// Sets the viewport (not the outer window) to `width`×`height`.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        let inner = self
            .js("return [window.innerWidth, window.innerHeight]", vec![])
            .await;
        let (iw, ih) = (
            inner[0].as_u64().unwrap_or(0) as u32,
            inner[1].as_u64().unwrap_or(0) as u32,
        );
        if (iw, ih) != (width, height) {
            let (dw, dh) = (width as i64 - iw as i64, height as i64 - ih as i64);
            self.client
                .set_window_size((width as i64 + dw) as u32, (height as i64 + dh) as u32)
                .await
                .unwrap();
        }
        let w = self.js("return window.innerWidth", vec![]).await;
        assert_eq!(w.as_u64(), Some(width as u64), "viewport width");
    }

    /// Runs a script and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until it returns something other than `null`/`false`, or panics
    /// after [`PAGE_DEADLINE`] naming `what`.
    pub async fn wait_js(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let until = Instant::now() + PAGE_DEADLINE;
        loop {
            let v = self.js(script, args.clone()).await;
            if !(v.is_null() || v == Value::Bool(false)) {
                return v;
            }
            if Instant::now() >= until {
                let shot = self.screenshot("timeout").await;
                panic!(
                    "timed out after {PAGE_DEADLINE:?} waiting for {what} (screenshot {})",
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens `url` and waits until the page `testid` is hydrated.
    pub async fn open(&self, url: &str, testid: &str) {
        self.client.goto(url).await.unwrap();
        self.wait_hydrated(testid).await;
    }

    /// Waits until `[data-testid=<testid>]` carries `data-hydrated="true"`.
    pub async fn wait_hydrated(&self, testid: &str) {
        self.wait_js(
            &format!("page {testid} to hydrate"),
            "return document.querySelector(`[data-testid='${arguments[0]}'][data-hydrated='true']`) !== null",
            vec![json!(testid)],
        )
        .await;
    }

    /// At a narrow width, nothing may be wider than the viewport.
    pub async fn assert_no_horizontal_overflow(&self, width: u32) {
        let v = self
            .js(
                "const wide = [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                   .slice(0, 5)
                   .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                        + (e.dataset.testid ? '[' + e.dataset.testid + ']' : ''));
                 return [document.documentElement.scrollWidth, wide]",
                vec![],
            )
            .await;
        let scroll = v[0].as_u64().unwrap_or(u64::MAX);
        assert!(
            scroll <= width as u64,
            "{}: the page scrolls horizontally at {width} px (scrollWidth {scroll}); too wide: {}",
            self.test,
            v[1]
        );
    }

    /// Saves a PNG of the viewport to `target/browser-screenshots/<test>-<tag>.png` and
    /// prints the path.
    pub async fn screenshot(&self, tag: &str) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let dir = dir.canonicalize().unwrap_or(dir);
        let path = dir.join(format!("{}-{tag}.png", self.test));
        match self.client.screenshot().await {
            Ok(png) => {
                let mut f = std::fs::File::create(&path).unwrap();
                f.write_all(&png).unwrap();
                // Straight to stderr, not through the test's captured output, so the
                // paths are in the log of passing tests too.
                let _ = writeln!(std::io::stderr(), "screenshot: {}", path.display());
            }
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "screenshot {} failed: {e}",
                    path.display()
                );
            }
        }
        path
    }

    /// Clicks the element matching `css` (a real WebDriver click), scrolled to the
    /// middle of the viewport first so that nothing sticky covers it.
    pub async fn click(&self, css: &str) {
        let el = self
            .client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center', inline: 'center'}); return true",
                vec![serde_json::to_value(&el).unwrap_or(Value::Null)],
            )
            .await
            .unwrap_or_else(|e| panic!("scroll to {css}: {e}"));
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Presses Tab once (a real key event, so `:focus-visible` applies).
    pub async fn press_tab(&self) {
        let keys = KeyActions::new("keyboard".to_string())
            .then(KeyAction::Down {
                value: char::from(Key::Tab),
            })
            .then(KeyAction::Up {
                value: char::from(Key::Tab),
            });
        self.client.perform_actions(keys).await.unwrap();
    }

    /// Ends the session (closes Chromium).
    pub async fn close(mut self) {
        if self.client.clone().close().await.is_ok() {
            self.session = None;
        }
    }
}

impl Drop for Browser {
    /// A failing test never reaches [`Browser::close`]: end its session with a plain
    /// blocking `DELETE /session/{id}` (no async runtime needed), so chromedriver quits
    /// that Chromium instead of leaving it running.
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.driver_port)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(harness::DEADLINE));
        let request = format!(
            "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.driver_port
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let mut reply = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stream, &mut reply);
        }
    }
}
