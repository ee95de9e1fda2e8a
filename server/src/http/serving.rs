//! Serving HTTP connections with limits that a slow or hostile client cannot get round.
//!
//! `axum::serve` gives hyper no timer, so hyper's `header_read_timeout` never fires: a
//! client that opens a connection and sends one header byte a minute (slowloris) holds a
//! task and a socket forever, and nothing caps how many such connections there are.
//! [`serve`] accepts from any `axum::serve::Listener` (plain TCP or [`super::tls`]) and:
//!
//! - serves each connection with hyper-util's HTTP/1.1 + HTTP/2 builder on the tokio
//!   timer, with `header_read_timeout` ([`Limits::header_read_timeout`], `[limits]
//!   header_read_timeout`, default 10 s): headers not complete by then close the
//!   connection;
//! - holds one permit of a semaphore per open connection ([`Limits::max_connections`],
//!   default 1024): at the cap it stops accepting, so further clients wait in the kernel's
//!   backlog instead of taking memory;
//! - gives every request its peer as `ConnectInfo<SocketAddr>` (rate limits, audit);
//! - on `shutdown` stops accepting, lets every open connection finish its requests
//!   (`GracefulShutdown`), and returns when they have.

use axum::extract::connect_info::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// The connection limits (`[limits]` in monban.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

impl Limits {
    pub fn from_config(l: &crate::config::LimitSettings) -> Limits {
        Limits {
            max_connections: l.max_connections.max(1) as usize,
            header_read_timeout: l.header_read_timeout.as_std(),
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::from_config(&crate::config::LimitSettings::default())
    }
}

/// Serves `app` on `listener` until `shutdown` resolves and the open connections have
/// finished (see the module documentation).
pub async fn serve<L>(
    mut listener: L,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)));
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        // At the cap, wait for a connection to close before accepting another.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (io, peer) = tokio::select! {
            c = listener.accept() => c,
            _ = &mut shutdown => break,
        };
        let service = app
            .clone()
            .map_request(move |mut req: axum::extract::Request| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            })
            .map_request(|req: hyper::Request<hyper::body::Incoming>| {
                req.map(axum::body::Body::new)
            });
        let conn = builder
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
