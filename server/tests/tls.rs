//! The hub over HTTPS (`[server] tls_cert`, `tls_key`): a certificate from a test CA,
//! `/healthz` over https with HSTS, plain HTTP without it, clean shutdown, and errors
//! that name a bad PEM file.

#![allow(clippy::unwrap_used)]

use monban_server::config::Config;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Writes `ca.pem`, `cert.pem` (for localhost, signed by the CA) and `key.pem`.
fn write_certificates(dir: &Path) -> String {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    ca.pem()
}

fn config(dir: &Path, server_extra: &str) -> Result<Config, String> {
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ndatabase = \"sqlite://monban.db\"\n{server_extra}\n[site]\nid = \"tls-test\"\n"
    );
    let path = dir.join("monban.toml");
    std::fs::write(&path, text).unwrap();
    Config::from_file(&path).map_err(|e| e.to_string())
}

struct Running {
    addr: std::net::SocketAddr,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(config: Config) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(monban_server::run(config, listener, async move {
        let _ = stopped.await;
    }));
    Running { addr, stop, done }
}

impl Running {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(15), self.done)
            .await
            .expect("the hub stops within 15 s")
            .unwrap()
            .unwrap();
    }
}

/// Polls `url` until it answers (the hub migrates its store before serving).
async fn get_when_up(client: &reqwest::Client, url: &str) -> reqwest::Response {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match client.get(url).send().await {
            Ok(r) => return r,
            Err(e) if tokio::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{url} never answered: {e:?}"),
        }
    }
}

#[tokio::test]
async fn serves_https_with_hsts_and_plain_http_without() {
    let dir = tempfile::tempdir().unwrap();
    let ca = write_certificates(dir.path());
    // Relative paths: resolved against the configuration file's directory.
    let cfg = config(
        dir.path(),
        "tls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n",
    )
    .unwrap();
    assert!(cfg.server.tls_enabled());
    let hub = start(cfg).await;

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .resolve("localhost", hub.addr)
        .build()
        .unwrap();
    let url = format!("https://localhost:{}/healthz", hub.addr.port());
    let res = get_when_up(&client, &url).await;
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(
        h["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");

    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new();
    assert!(plain
        .get(format!("http://{}/healthz", hub.addr))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .is_err());
    hub.stop().await;

    // The same hub without TLS: no HSTS.
    let dir = tempfile::tempdir().unwrap();
    let hub = start(config(dir.path(), "").unwrap()).await;
    let res = get_when_up(&plain, &format!("http://{}/healthz", hub.addr)).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("strict-transport-security").is_none());
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    hub.stop().await;
}

#[tokio::test]
async fn bad_pem_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write_certificates(dir.path());
    std::fs::write(dir.path().join("empty.pem"), "not a certificate\n").unwrap();

    // Both or neither.
    let e = config(dir.path(), "tls_cert = \"cert.pem\"\n").unwrap_err();
    assert!(e.contains("tls_cert is set but tls_key is not"), "{e}");

    let cases = [
        (
            "missing.pem",
            "key.pem",
            "cannot read the TLS certificate",
            "missing.pem",
        ),
        ("empty.pem", "key.pem", "holds no certificate", "empty.pem"),
        ("cert.pem", "empty.pem", "holds no private key", "empty.pem"),
        (
            "cert.pem",
            "missing.pem",
            "cannot read the TLS private key",
            "missing.pem",
        ),
    ];
    for (cert, key, message, file) in cases {
        let cfg = config(
            dir.path(),
            &format!("tls_cert = \"{cert}\"\ntls_key = \"{key}\"\n"),
        )
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let e = tokio::time::timeout(
            Duration::from_secs(15),
            monban_server::run(cfg, listener, std::future::pending()),
        )
        .await
        .expect("a bad file stops the start")
        .unwrap_err();
        let e = format!("{e:#}");
        assert!(e.contains(message), "{cert}/{key}: {e}");
        assert!(
            e.contains(&dir.path().join(file).display().to_string()),
            "{cert}/{key}: {e}"
        );
    }
}
