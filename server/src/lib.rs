//! # monban-server — the hub
//!
//! A library with a thin binary (`src/main.rs`): [`run`] takes settings, a bound
//! listener and a shutdown future, so tests bind port 0 and stop it themselves. This
//! file only wires: settings → [`prepare`] (store, ingest, passkey settings:
//! [`AppState`]) → [`serve`] (connectors, the HTTP application of [`http::app`]).
//!
//! # Layout
//! The modules depend downwards only (`scripts/module-deps.py` checks it; see
//! docs/ARCHITECTURE.md):
//!
//! - [`http`] — everything axum: the router and [`AppState`], the contract's error body
//!   (`ApiError`), the gate, the API, ceremonies, forms, CSV downloads, the dashboard's
//!   data port, hardening, serving and TLS.
//! - services, under `http`:
//!   - [`ingest`] — the writer's handle, its read views (engine, inventory, door
//!     activity, live feed) and the connectors' states; the connectors' `DoorSink`.
//!   - [`writer`] — the ingest writer: one task, one transaction per batch (group commit).
//!   - [`auth`] — users: passkey settings and ceremonies in flight, sessions, the route
//!     policy, the audit trail, invites.
//!   - [`step_up`] — step-ups: create, verify while pending, vouch for a login.
//!   - [`reports`] — compliance and counts over a period from the day rollups.
//!   - [`health`] — door health as the API and the dashboard show it.
//!   - [`inventory_csv`] — the inventory as CSV: export, import with a preview.
//!   - [`maintenance`] — vendor maintenance: requests, decisions, reports, and their
//!     reconciliation with logins and door entries (CONTRACT §10).
//!   - [`notify`] — notifications (CONTRACT §11): the outbox, webhook and e-mail
//!     delivery with retries, the scanner that turns door facts into events.
//! - [`store`] — sqlx storage (SQLite or PostgreSQL, portable SQL) and its migrations:
//!   SQL only, over `monban-core`'s types.
//! - leaves: [`config`] (`monban.toml`), [`clock`], [`metrics`] (the Prometheus
//!   registry), [`tokens`] (API tokens), [`csv_out`] (every CSV the hub writes).
//! - commands: [`demo`] (`monban demo`), [`broker`] (the embedded MQTT broker),
//!   [`generate`] (`monban generate logins`), [`import`] (`monban import logins`: an
//!   access log in CSV through the writer).

pub mod auth;
pub mod broker;
pub mod checklist;
pub mod clock;
pub mod config;
pub mod csv_out;
pub mod demo;
pub mod generate;
pub mod health;
pub mod http;
pub mod import;
pub mod ingest;
pub mod inventory_csv;
pub mod maintenance;
pub mod metrics;
pub mod notify;
pub mod reports;
pub mod step_up;
pub mod store;
pub mod tokens;
pub mod writer;

pub use http::AppState;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::Config;
use crate::http::{hardening, serving, tls, Site};
use crate::ingest::{Ingest, IngestSettings};
use crate::store::{Store, TokenScope};
use anyhow::Context as _;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A digest of the inventory part of a configuration, so an unchanged file is not
/// re-imported.
pub fn inventory_digest(config: &Config) -> String {
    let inv = &config.inventory;
    let value = serde_json::json!({
        "site": [config.site.as_str(), config.site_name],
        "rooms": inv.rooms(), "doors": inv.doors(), "terminals": inv.terminals(),
        "systems": inv.systems(), "vendors": inv.vendors(), "people": inv.people(),
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
    let chained = store
        .start_chain(config.site.as_str(), clock.now())
        .await
        .context("cannot start the evidence chain")?;
    if chained > 0 {
        tracing::info!(
            records = chained,
            "records stored before the evidence chain were chained"
        );
    }
    Ok(store)
}

/// Opens the store, starts ingest (restoring the engine's state) and reads the passkey
/// settings: what [`serve`] runs.
pub async fn prepare(config: &Config, source: &str, clock: Clock) -> anyhow::Result<AppState> {
    let store = open_store(config, source, &clock).await?;
    let settings = IngestSettings {
        grace: config.server.grace,
        offset: config.offset,
    };
    let ingest = Ingest::start(store.clone(), settings, clock.clone()).await?;
    let auth = Auth::new(
        &config.auth,
        config.server.listen.port(),
        config.server.tls_enabled(),
    )?;
    let (id, name) = ingest.site();
    // `[[notify]]` secrets and SMTP credentials come from the environment: a missing one
    // stops the start, naming the line of monban.toml that asks for it.
    let resolved = config
        .notify
        .resolve(|name| std::env::var(name).ok())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let notifier = Arc::new(notify::Notifier::new(
        store.clone(),
        clock.clone(),
        (id.as_str(), name),
        resolved,
    )?);
    let site = Site {
        id: id.clone(),
        name: name.to_string(),
        offset: config.offset,
    };
    let maintenance =
        crate::maintenance::Maintenance::load(store.clone(), config.maintenance).await?;
    Ok(AppState {
        maintenance: Arc::new(maintenance),
        store,
        clock,
        metrics: ingest.metrics().clone(),
        ingest,
        auth: Arc::new(auth),
        site,
        account_settings: config.accounts,
        notifier,
        imports: Arc::new(config.imports.clone()),
        import_max_bytes: config.limits.import_max_bytes,
        shutdown: CancellationToken::new(),
    })
}

/// Issues a token and returns its text (shown once; only the hash is stored).
pub async fn issue_token(
    store: &Store,
    scope: TokenScope,
    label: &str,
    clock: &Clock,
) -> anyhow::Result<String> {
    Ok(tokens::issue(store, scope, label, clock.now()).await?)
}

/// Runs a prepared hub until `shutdown` resolves: connectors, finaliser, HTTP server.
/// Returns after everything has stopped and the store is closed.
pub async fn serve(
    state: AppState,
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
    let cancel = state.shutdown.clone();
    let ingest = state.ingest.clone();
    let store = state.store.clone();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(ingest.clone().run_marks(cancel.child_token()));
    // Notifications: the sender delivers what is stored (also what a previous run left
    // pending), the scanner turns door facts into events.
    tasks.spawn(state.notifier.clone().run_sender(cancel.child_token()));
    tasks.spawn(notify::scan::run(
        state.notifier.clone(),
        ingest.clone(),
        cancel.child_token(),
    ));
    tasks.spawn(notify::watch::run(
        state.notifier.clone(),
        ingest.clone(),
        state.maintenance.clone(),
        store.clone(),
        cancel.child_token(),
    ));
    if let Some(settings) = mqtt {
        let sink: Arc<dyn monban_connectors::DoorSink> = ingest.clone();
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
        let sink: Arc<dyn monban_connectors::DoorSink> = ingest.clone();
        tasks.spawn(monban_connectors::modbus::run(
            device,
            sink,
            cancel.child_token(),
        ));
    }
    if config.mqtt.is_some() {
        wait_for_mqtt(&ingest).await;
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
    let router = http::app(state, &hardening::Hardening::from_config(config));
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
    ingest.stop_writer().await;
    store.close().await;
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
async fn wait_for_mqtt(ingest: &Ingest) {
    let deadline = tokio::time::Instant::now() + MQTT_START_WAIT;
    loop {
        if matches!(
            ingest.connector_states().get("mqtt"),
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
    let state = prepare(&config, "monban.toml", Clock::system()).await?;
    serve(state, &config, listener, shutdown).await
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
