//! The embedded MQTT broker of `monban demo` (rumqttd), so the demo needs no outside
//! service. Production sites point `[mqtt] url` at their own broker (e.g. Mosquitto).

use anyhow::Context as _;
use std::net::SocketAddr;

/// rumqttd's configuration for one plain MQTT 3.1.1 listener on `listen`.
pub fn config(listen: SocketAddr) -> anyhow::Result<rumqttd::Config> {
    let text = format!(
        r#"
id = 0
[router]
id = 0
max_connections = 1000
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "monban-embedded"
listen = "{listen}"
next_connection_delay_ms = 1
    [v4.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 262144
    max_inflight_count = 500
    dynamic_filters = true
"#
    );
    toml::from_str(&text).context("embedded broker configuration")
}

/// Starts the broker on its own thread. Clients (the hub's connector, the simulators)
/// retry their connection, so this does not wait for the port: a probe connection would
/// only make rumqttd log an aborted handshake.
pub fn start(listen: SocketAddr) -> anyhow::Result<()> {
    let config = config(listen)?;
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!(error = %e, "embedded MQTT broker stopped");
            }
        })
        .context("cannot start the embedded broker thread")?;
    Ok(())
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(l.local_addr()?.port())
}
