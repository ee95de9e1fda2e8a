//! # monban-server — the hub
//!
//! A library with a thin binary (`src/main.rs`): [`run`] takes settings, a bound
//! listener and a shutdown future, so tests bind port 0 and stop it themselves.
//!
//! # Layout
//! - [`config`] — `monban.toml`: settings and the inventory, with located errors.
//! - [`store`] — sqlx storage (SQLite now, portable SQL) and its migrations.
//! - [`hub`] — the ingest pipeline: store → engine → store → live feed; restore on start.
//! - [`api`] — the HTTP API of the contract, the error body, health and metrics.
//! - [`dashboard`] — the data port the Leptos dashboard reads through.
//! - [`export`] — CSV downloads of a period's compliance and evidence.
//! - [`generate`] — `monban generate logins`: generated logins through the writer (benchmarks).
//! - [`csv_out`] — every CSV file the hub writes: BOM, CRLF, formula cells neutralised.
//! - [`metrics`] — the Prometheus registry.
//! - [`reports`] — reports over a period from the day rollups, edges counted exactly.
//! - [`openapi`] — the OpenAPI 3.1 description of the HTTP API (`/api/v1/openapi.json`).
//! - [`tokens`] — token generation and hashing.
//! - [`hardening`] — security headers and per-address rate limits on every response.
//! - [`tls`] — HTTPS on the hub itself (rustls), when `[server] tls_cert` is set.
//! - [`serving`] — the connection loop: header-read timeout, connection cap, graceful end.
//! - [`broker`] — the embedded MQTT broker (rumqttd) of the demo.
//! - [`demo`] — `monban demo`: embedded broker, store, simulators and dashboard.
//! - [`writer`] — the ingest writer: one task, one transaction per batch (group commit).

pub mod api;
pub mod auth;
pub mod broker;
pub mod clock;
pub mod config;
pub mod csv_out;
pub mod dashboard;
pub mod demo;
pub mod export;
pub mod generate;
pub mod hardening;
pub mod health;
pub mod hub;
pub mod hub_inventory;
pub mod inventory_csv;
pub mod metrics;
pub mod openapi;
pub mod reports;
pub mod serving;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod writer;

use crate::clock::Clock;
use crate::config::Config;
use crate::hub::Hub;
use crate::store::{Store, TokenScope};
use anyhow::Context as _;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A digest of the inventory part of a configuration, so an unchanged file is not
/// re-imported.
pub fn inventory_digest(config: &Config) -> String {
    let inv = &config.inventory;
    let value = serde_json::json!({
        "site": [config.site.as_str(), config.site_name],
        "rooms": inv.rooms(), "doors": inv.doors(), "terminals": inv.terminals(),
        "systems": inv.systems(), "people": inv.people(),
    });
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// Opens the store, migrates it and imports the configuration's inventory.
pub async fn open_store(config: &Config, source: &str, clock: &Clock) -> anyhow::Result<Store> {
    let store = Store::open(&config.server.database)
        .await
        .with_context(|| format!("cannot open the database {}", config.server.database))?;
    let changed = store
        .import_inventory(
            &config.inventory,
            &inventory_digest(config),
            source,
            clock.now(),
        )
        .await
        .context("cannot import the inventory")?;
    if changed {
        tracing::info!(source, "inventory imported");
    }
    Ok(store)
}

/// Opens the store and builds the hub, restoring its state.
pub async fn prepare(config: &Config, source: &str, clock: Clock) -> anyhow::Result<Arc<Hub>> {
    let store = open_store(config, source, &clock).await?;
    let modbus_doors: Vec<_> = config.modbus.iter().map(|m| m.door.clone()).collect();
    let hub = Hub::start(
        store,
        config.server.grace,
        &modbus_doors,
        config.heartbeat_timeouts.clone(),
        clock,
    )
    .await?;
    hub.set_auth(auth::Auth::new(
        &config.auth,
        config.server.listen.port(),
        config.server.tls_enabled(),
    )?);
    Ok(hub)
}

/// Issues a token and returns its text (shown once; only the hash is stored).
pub async fn issue_token(
    store: &Store,
    scope: TokenScope,
    label: &str,
    clock: &Clock,
) -> anyhow::Result<String> {
    let t = tokens::generate();
    store
        .insert_token(&t.id, &t.hash, &scope, label, clock.now())
        .await?;
    Ok(t.text)
}

/// Where the dashboard's compiled front end (`pkg/monban_web.js`, `.wasm`, `.css`) is:
/// `$MONBAN_SITE_ROOT`, else `site/` next to the executable's directory
/// (`target/site` for `target/debug/monban`), else `./target/site`.
pub fn site_root() -> PathBuf {
    if let Some(p) = std::env::var_os("MONBAN_SITE_ROOT") {
        return PathBuf::from(p);
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().and_then(|d| d.parent()).map(|d| d.join("site")))
    {
        if dir.join("pkg").exists() {
            return dir;
        }
    }
    PathBuf::from("target/site")
}

/// Builds the whole HTTP application: API, dashboard, JSON errors for unknown routes,
/// wrapped in `hardening` (rate limits, then security headers on every response).
pub fn app(hub: Arc<Hub>, hardening: &hardening::Hardening) -> axum::Router {
    let root = site_root();
    if !root.join("pkg").join("monban_web.js").exists() {
        tracing::warn!(site_root = %root.display(), "dashboard front end not built: pages render without live updates (run scripts/build-web.sh)");
    }
    let source: Arc<dyn monban_web::DashboardSource> = Arc::new(dashboard::HubSource(hub.clone()));
    let router = api::router(hub.clone())
        .merge(export::router(hub.clone()))
        .merge(inventory_csv::router(hub.clone()))
        .merge(auth::ceremony::router(hub.clone()))
        .merge(auth::step_up::router(hub.clone()))
        .merge(auth::forms::router(hub.clone()))
        .merge(openapi::router())
        .merge(monban_web::dashboard_router(source, root))
        // Every route passes the gate (auth::session): who, which role, CSRF. Unknown
        // paths fall through to the 404 below without it.
        .route_layer(axum::middleware::from_fn_with_state(
            hub,
            auth::session::authorize,
        ))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn(api::method_not_allowed))
        // `hardening::limit_body` bounds every body (64 KiB, the inventory import 4 MiB);
        // the extractors' own 2 MiB default would cut the import short.
        .layer(axum::extract::DefaultBodyLimit::disable());
    hardening.apply(router)
}

/// Runs a prepared hub until `shutdown` resolves: connectors, finaliser, HTTP server.
/// Returns after everything has stopped and the store is closed.
pub async fn serve(
    hub: Arc<Hub>,
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Read the certificate and key first: a bad file stops the start cleanly.
    let tls = config
        .server
        .tls
        .as_ref()
        .map(tls::server_config)
        .transpose()?;
    // The same for the MQTT CA, client certificate and password.
    let mqtt = config
        .mqtt
        .as_ref()
        .map(|m| mqtt_settings(m, config))
        .transpose()?;
    let cancel = hub.shutdown.clone();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(hub.clone().run_marks(cancel.child_token()));
    if let Some(settings) = mqtt {
        let sink: Arc<dyn monban_connectors::DoorSink> = hub.clone();
        let c = cancel.child_token();
        tasks.spawn(async move {
            if let Err(e) = monban_connectors::mqtt::run(settings, sink, c).await {
                tracing::error!(error = %e, "MQTT connector stopped");
            }
        });
    }
    for m in &config.modbus {
        let mut device = monban_connectors::modbus::ModbusDevice::with_transport(
            m.door.clone(),
            m.transport.clone(),
            m.unit,
            m.poll.as_std(),
        );
        device.held_open_after = m.held_open.as_std();
        device.timeout = m.timeout.as_std();
        let sink: Arc<dyn monban_connectors::DoorSink> = hub.clone();
        tasks.spawn(monban_connectors::modbus::run(
            device,
            sink,
            cancel.child_token(),
        ));
    }
    if config.mqtt.is_some() {
        wait_for_mqtt(&hub).await;
    }
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, "monban is listening; dashboard at {scheme}://{addr}/");
    let c2 = cancel.clone();
    let stop = async move {
        tokio::select! {
            _ = shutdown => {}
            _ = c2.cancelled() => {}
        }
        tracing::info!("shutting down");
        c2.cancel();
    };
    // Every request carries its peer's address (`ConnectInfo`): inventory edits record
    // who made them, and the rate limits count per client address. `serving` bounds
    // connections and the time to send headers.
    let router = app(hub.clone(), &hardening::Hardening::from_config(config));
    let limits = serving::Limits::from_config(&config.limits);
    match tls {
        None => serving::serve(listener, router, limits, stop).await,
        Some(tls) => {
            let listener = tls::TlsListener::new(listener, tls)?;
            serving::serve(listener, router, limits, stop).await
        }
    }
    cancel.cancel();
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("background tasks did not stop within 10 s");
    }
    // Last the writer: it stores what the connectors and handlers sent before they
    // stopped, then the store closes.
    hub.stop_writer().await;
    hub.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The connector's settings from `[mqtt]`: reads the PEM files and the password from
/// the environment, and checks that the connector can use them, so that a bad file or
/// a missing password stops the start instead of retrying in the background.
fn mqtt_settings(
    m: &crate::config::MqttSettings,
    config: &Config,
) -> anyhow::Result<monban_connectors::mqtt::MqttSettings> {
    use monban_connectors::mqtt::{ClientIdentity, Login, PemFile, TlsSettings};
    let mut settings =
        monban_connectors::mqtt::MqttSettings::new(&m.url, &m.client_id, config.site.clone());
    settings.sources = m.sources.clone();
    let read = |what: &str, path: &std::path::Path| -> anyhow::Result<PemFile> {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read the MQTT {what} {}", path.display()))?;
        Ok(PemFile::new(path.display().to_string(), pem))
    };
    if let Some(tls) = &m.tls {
        settings.tls = Some(TlsSettings {
            ca: read("CA file ([mqtt] ca_file)", &tls.ca)?,
            client: match &tls.client {
                None => None,
                Some(files) => Some(ClientIdentity {
                    cert: read("client certificate ([mqtt] client_cert)", &files.cert)?,
                    key: read("client key ([mqtt] client_key)", &files.key)?,
                }),
            },
        });
    }
    if let Some(username) = &m.username {
        let password = m
            .password(|name| std::env::var(name).ok())
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .unwrap_or_else(|| monban_connectors::mqtt::Password::new(""));
        settings.login = Some(Login {
            username: username.clone(),
            password,
        });
    }
    settings.mqtt_options()?;
    Ok(settings)
}

/// Waits (at most [`MQTT_START_WAIT`]) until the MQTT connector has its subscriptions,
/// so that a client that sees `/healthz` answer can publish without losing a message on
/// a first connection (the broker only queues for a session once it has subscriptions).
async fn wait_for_mqtt(hub: &Hub) {
    let deadline = tokio::time::Instant::now() + MQTT_START_WAIT;
    loop {
        if matches!(
            hub.connector_states().get("mqtt"),
            Some(monban_connectors::ConnectorState::Connected)
        ) {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                "the MQTT broker is not reachable yet; serving anyway and retrying in the background"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How long `serve` waits for the MQTT subscriptions before it serves HTTP anyway.
pub const MQTT_START_WAIT: Duration = Duration::from_secs(10);

/// `monban serve`: prepares the hub from `config` and serves on `listener`.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let hub = prepare(&config, "monban.toml", Clock::system()).await?;
    serve(hub, &config, listener, shutdown).await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
