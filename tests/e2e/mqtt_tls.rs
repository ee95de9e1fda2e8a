//! MQTT over TLS with broker users and per-door ACLs (security review, finding 7),
//! against a Mosquitto that each test starts for itself: a CA and a broker certificate
//! made in the test (rcgen), `allow_anonymous false`, a password file made with
//! `mosquitto_passwd -b`, and the ACL of docs/CONNECTORS.md — every door controller
//! is a broker user named after its door and may write only under its own door
//! (`pattern write monban/<site>/door/%u/#`); the hub's user reads them all.
//!
//! Skipped, with a printed reason, when `/usr/sbin/mosquitto` (or `MONBAN_MOSQUITTO`)
//! or `mosquitto_passwd` is not installed.

use crate::harness::*;
use rumqttc::{AsyncClient, ConnectionError, Event, MqttOptions, Packet, QoS, TlsConfiguration};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const MQTT_NEW: &str = "monban_door_events_ingested_total{source=\"mqtt\",result=\"new\"}";

/// The Mosquitto binary, or `None` with the reason printed.
fn mosquitto_bins() -> Option<(PathBuf, PathBuf)> {
    let broker = std::env::var_os("MONBAN_MOSQUITTO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/mosquitto"));
    let passwd = broker
        .parent()
        .map(|d| d.join("mosquitto_passwd"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/mosquitto_passwd"));
    for p in [&broker, &passwd] {
        if !p.exists() {
            eprintln!(
                "skipping: {} is not installed (Debian: apt-get install mosquitto mosquitto-clients)",
                p.display()
            );
            return None;
        }
    }
    Some((broker, passwd))
}

/// A CA and what it signed, as PEM.
struct Pki {
    ca: String,
    server_cert: String,
    server_key: String,
    /// Another CA, which signed nothing the broker has.
    other_ca: String,
}

fn make_ca(name: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    (params.self_signed(&key).unwrap(), key)
}

fn make_pki() -> Pki {
    let (ca, ca_key) = make_ca("monban e2e CA");
    let server_key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mosquitto");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let server = params.signed_by(&server_key, &ca, &ca_key).unwrap();
    let (other, _) = make_ca("somebody else's CA");
    Pki {
        ca: ca.pem(),
        server_cert: server.pem(),
        server_key: server_key.serialize_pem(),
        other_ca: other.pem(),
    }
}

/// A Mosquitto with one TLS listener on 127.0.0.1; killed when dropped.
struct Broker {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    pki: Pki,
}

impl Broker {
    /// `users`: broker user and password; `site`: the site of the ACL.
    async fn start(site: &str, hub_user: &str, users: &[(&str, &str)]) -> Option<Broker> {
        let (mosquitto, mosquitto_passwd) = mosquitto_bins()?;
        let dir = tempfile::Builder::new()
            .prefix("monban-mosquitto-")
            .tempdir()
            .unwrap();
        let pki = make_pki();
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("ca.pem"), &pki.ca).unwrap();
        std::fs::write(path("other-ca.pem"), &pki.other_ca).unwrap();
        std::fs::write(path("server.pem"), &pki.server_cert).unwrap();
        std::fs::write(path("server.key"), &pki.server_key).unwrap();
        for (i, (user, password)) in users.iter().enumerate() {
            let mut cmd = Command::new(&mosquitto_passwd);
            if i == 0 {
                cmd.arg("-c");
            }
            let out = cmd
                .arg("-b")
                .arg(path("passwd"))
                .arg(user)
                .arg(password)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(out.status.success(), "mosquitto_passwd: {out:?}");
        }
        // The ACL of docs/CONNECTORS.md. `pattern` lines apply to every user; `%u` is
        // the user name, which for a door controller is its door id.
        std::fs::write(
            path("acl"),
            format!(
                "pattern write monban/{site}/door/%u/#\n\nuser {hub_user}\ntopic read monban/{site}/door/+/#\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let d = dir.path().display();
        std::fs::write(
            path("mosquitto.conf"),
            format!(
                "# Started as root, Mosquitto would switch to the user mosquitto, which cannot\n\
                 # read this directory; as any other user this line does nothing.\n\
                 user root\n\
                 persistence false\n\
                 log_dest stderr\n\
                 log_type all\n\
                 message_size_limit 1048576\n\
                 allow_anonymous false\n\
                 password_file {d}/passwd\n\
                 acl_file {d}/acl\n\
                 listener {port} 127.0.0.1\n\
                 cafile {d}/ca.pem\n\
                 certfile {d}/server.pem\n\
                 keyfile {d}/server.key\n\
                 require_certificate false\n"
            ),
        )
        .unwrap();
        let child = Command::new(&mosquitto)
            .arg("-c")
            .arg(path("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // stderr is unbuffered: the log is in the file as soon as it is written.
            .stderr(std::fs::File::create(path("mosquitto.log")).unwrap())
            .spawn()
            .unwrap();
        let mut broker = Broker {
            child,
            dir,
            port,
            pki,
        };
        wait_for("Mosquitto to listen", DEADLINE, || {
            let exited = broker.child.try_wait().ok().flatten();
            let log = broker.log();
            async move {
                assert!(exited.is_none(), "mosquitto exited with {exited:?}: {log}");
                std::net::TcpStream::connect(("127.0.0.1", port))
                    .is_ok()
                    .then_some(())
            }
        })
        .await;
        Some(broker)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("mosquitto.log")).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- mosquitto log:\n{}\n----", self.log());
        }
    }
}

/// rustls on ring, trusting `ca_pem` only.
fn client_tls(ca_pem: &str) -> TlsConfiguration {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConfiguration::Rustls(Arc::new(config))
}

/// A door controller over TLS, logged in as its broker user.
struct Controller {
    client: AsyncClient,
    events: tokio::sync::mpsc::UnboundedReceiver<Result<Event, String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Controller {
    /// Connects and waits for the CONNACK; `Err` with the reason when it is refused.
    async fn connect(broker: &Broker, user: &str, password: &str) -> Result<Controller, String> {
        let mut o = MqttOptions::new(unique("e2e-door"), "127.0.0.1", broker.port);
        o.set_keep_alive(Duration::from_secs(5))
            .set_credentials(user, password)
            .set_transport(rumqttc::Transport::Tls(client_tls(&broker.pki.ca)));
        let (client, mut eventloop) = AsyncClient::new(o, 10);
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let e = eventloop.poll().await;
                let stop = e.is_err();
                if tx
                    .send(e.map_err(|e: ConnectionError| e.to_string()))
                    .is_err()
                    || stop
                {
                    return;
                }
            }
        });
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            match tokio::time::timeout_at(until, events.recv()).await {
                Ok(Some(Ok(Event::Incoming(Packet::ConnAck(_))))) => {
                    return Ok(Controller {
                        client,
                        events,
                        task,
                    })
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => return Err(e),
                Ok(None) | Err(_) => return Err("no CONNACK".into()),
            }
        }
    }

    /// Publishes at QoS 1 and waits for the broker's PUBACK. (Mosquitto acknowledges a
    /// publish its ACL denies too, and drops it: MQTT 3.1.1 has no way to say no.)
    async fn publish(&mut self, topic: &str, payload: Vec<u8>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
        let until = tokio::time::Instant::now() + DEADLINE;
        loop {
            match tokio::time::timeout_at(until, self.events.recv()).await {
                Ok(Some(Ok(Event::Incoming(Packet::PubAck(_))))) => return,
                Ok(Some(Ok(_))) => {}
                other => panic!("no PUBACK for {topic}: {other:?}"),
            }
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The `[mqtt]` section of a hub on `broker`.
fn mqtt_section(url: &str, client_id: &str, ca: &Path, user: &str) -> String {
    format!(
        "[mqtt]\nurl = \"{url}\"\nclient_id = \"{client_id}\"\nca_file = \"{}\"\nusername = \"{user}\"\npassword_env = \"MONBAN_E2E_MQTT_PASSWORD\"\n",
        ca.display()
    )
}

/// A hub whose `[mqtt]` is `section`, with the broker password in its environment and
/// a debug log (whatever the connector logs, the password must not be in it).
async fn hub_with(site: &str, section: String, password: &str) -> Hub {
    let opts = HubOptions {
        site: site.to_string(),
        ..HubOptions::default()
    }
    .extra(&section)
    .env("MONBAN_E2E_MQTT_PASSWORD", password)
    .env("RUST_LOG", "debug,sqlx=warn,hyper=info,h2=info,tower=info");
    spawn_hub(opts).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doors_over_tls_each_controller_writes_only_its_own_door() {
    let site = unique("site");
    let hub_user = "monban-hub";
    let hub_password = unique("hub-pw-Xq7");
    let door_password = unique("door-pw");
    let Some(broker) = Broker::start(
        &site,
        hub_user,
        &[
            (hub_user, &hub_password),
            ("ward3-main", &door_password),
            ("pharmacy-door", "another-door-pw"),
        ],
    )
    .await
    else {
        return;
    };
    let client_id = unique("hub");
    let url = format!("mqtts://127.0.0.1:{}", broker.port);
    let section = mqtt_section(&url, &client_id, &broker.path("ca.pem"), hub_user);
    let hub = hub_with(&site, section, &hub_password).await;
    // (a) connected over mqtts:// with the CA, as its broker user.
    hub.wait_mqtt_connected().await;

    let b = Base::new();
    let mut door = Controller::connect(&broker, "ward3-main", &door_password)
        .await
        .unwrap();
    // (b) The controller of ward3-main forges an entry at the pharmacy: the broker's ACL
    // drops it. Then its own event, on the same connection, after it.
    let forged = entry("pharmacy-door", "d-forged", &b.at(0, 9), "pin", "7788");
    door.publish(
        &format!("monban/{site}/door/pharmacy-door/event"),
        mqtt_payload(&forged),
    )
    .await;
    let own = entry("ward3-main", "d-tls-1", &b.at(1, 9), "card", "04A1B2C3");
    door.publish(
        &format!("monban/{site}/door/ward3-main/event"),
        mqtt_payload(&own),
    )
    .await;
    // (a) The door's own event is stored and earns presence.
    let l = ehr_login(
        "l-tls-1",
        &b.at(5, 9),
        "nurse01",
        "ward3-pc01",
        &["password"],
    );
    hub.login_ok(&l).await;
    let view = wait_for(
        "the event published over TLS to apply",
        DEADLINE,
        || async {
            let v = hub.login_view("l-tls-1").await;
            (v["verdict"] == "combined_measures").then_some(v)
        },
    )
    .await;
    assert_eq!(view["evidence"]["entry_event_id"], "d-tls-1");
    // (b) The broker says it denied the forged one (it was published first, so it is
    // long decided), and the hub has stored exactly the one event, nothing dead-lettered.
    wait_for("Mosquitto to log the denied publish", DEADLINE, || async {
        broker
            .log()
            .lines()
            .any(|l| {
                l.contains("Denied PUBLISH")
                    && l.contains(&format!("monban/{site}/door/pharmacy-door/event"))
            })
            .then_some(())
    })
    .await;
    assert_eq!(hub.metric(MQTT_NEW).await, 1.0, "only the door's own event");
    assert_eq!(hub.dead_letters().await, Vec::<serde_json::Value>::new());
    let pharm = ehr_login(
        "l-tls-2",
        &b.at(5, 9),
        "pharm02",
        "pharmacy-pc01",
        &["password"],
    );
    hub.login_ok(&pharm).await;
    let v = hub.login_view("l-tls-2").await;
    assert_ne!(v["evidence"]["entry_event_id"], "d-forged", "{v}");

    // A wrong password is refused by the broker.
    let refused = Controller::connect(&broker, "ward3-main", "not-the-password").await;
    assert!(refused.is_err(), "a wrong password must be refused");

    // (d) The hub's debug log has the connection but never the password.
    let log = hub.log();
    assert!(log.contains("MQTT connected"), "{log}");
    assert!(
        !log.contains(&hub_password),
        "the password is in the hub's log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_mqtt_and_a_wrong_ca_do_not_connect() {
    let site = unique("site");
    let hub_user = "monban-hub";
    let password = unique("hub-pw");
    let Some(broker) = Broker::start(&site, hub_user, &[(hub_user, &password)]).await else {
        return;
    };
    let tls_url = format!("mqtts://127.0.0.1:{}", broker.port);
    let plain = format!(
        "[mqtt]\nurl = \"mqtt://127.0.0.1:{}\"\nclient_id = \"{}\"\nusername = \"{hub_user}\"\npassword_env = \"MONBAN_E2E_MQTT_PASSWORD\"\n",
        broker.port,
        unique("hub")
    );
    let wrong_ca = mqtt_section(
        &tls_url,
        &unique("hub"),
        &broker.path("other-ca.pem"),
        hub_user,
    );
    // Both start (serving HTTP after the connector's start wait) and never connect.
    let (plain_hub, wrong_ca_hub) = tokio::join!(
        hub_with(&site, plain, &password),
        hub_with(&site, wrong_ca, &password)
    );
    for (hub, what, says) in [
        (
            &plain_hub,
            "plain mqtt:// to the TLS listener",
            "MQTT connection failed",
        ),
        (
            &wrong_ca_hub,
            "a broker certificate of another CA",
            "UnknownIssuer",
        ),
    ] {
        wait_for(&format!("the hub to report {what}"), DEADLINE, || async {
            hub.log().contains(says).then_some(())
        })
        .await;
        assert_eq!(
            hub.metric("monban_connector_up{connector=\"mqtt\"}").await,
            0.0,
            "{what}"
        );
        assert!(!hub.log().contains("MQTT connected"), "{what}");
        assert!(
            !hub.log().contains(&password),
            "{what}: password in the log"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_password_variable_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("monban.toml");
    // A relative ca_file: found next to the configuration file.
    let opts = HubOptions::default().extra(&mqtt_section(
        "mqtts://127.0.0.1:8883",
        "hub",
        Path::new("ca.pem"),
        "monban-hub",
    ));
    std::fs::write(&config, config_text(&opts, free_port())).unwrap();
    std::fs::write(dir.path().join("ca.pem"), make_pki().ca).unwrap();
    let out = std::process::Command::new(monban_bin())
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env_remove("MONBAN_E2E_MQTT_PASSWORD")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("monban.toml:")
            && stderr.contains("MONBAN_E2E_MQTT_PASSWORD, which is not set"),
        "{stderr}"
    );
}
