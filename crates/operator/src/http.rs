//! The replica's plain-HTTP endpoints: `/healthz` and `/readyz` for the kubelet's probes,
//! `/metrics` for Prometheus. Addresses are given the Go way (`:8081`, `127.0.0.1:8080`,
//! `0` to disable) so upstream's chart arguments mean the same here.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::context::stopped;
use crate::metrics::Metrics;
use crate::readiness::Readiness;

/// A bind address that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid bind address `{address}`: expected `:PORT`, `HOST:PORT` or `0` to disable")]
pub struct BadAddress {
    /// The text given.
    pub address: String,
}

/// Reads a controller-runtime style bind address: `None` means disabled (`0` or empty).
pub fn parse_bind_address(address: &str) -> Result<Option<SocketAddr>, BadAddress> {
    let bad = || BadAddress {
        address: address.to_string(),
    };
    let trimmed = address.trim();
    if trimmed.is_empty() || trimmed == "0" {
        return Ok(None);
    }
    if let Some(port) = trimmed.strip_prefix(':') {
        let port: u16 = port.parse().map_err(|_| bad())?;
        return Ok(Some(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port,
        )));
    }
    if let Ok(addr) = trimmed.parse::<SocketAddr>() {
        return Ok(Some(addr));
    }
    // `localhost:8080` and other names.
    let (host, port) = trimmed.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host == "localhost" {
        return Ok(Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)));
    }
    Err(bad())
}

/// Serves `/healthz` and `/readyz` on `listener` until shutdown.
pub async fn serve_probes(
    listener: TcpListener,
    readiness: Arc<Readiness>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .with_state(readiness);
    axum::serve(listener, app)
        .with_graceful_shutdown(stopped(shutdown))
        .await
}

async fn ready(State(readiness): State<Arc<Readiness>>) -> impl IntoResponse {
    match readiness.check() {
        Ok(()) => (StatusCode::OK, "ok".to_string()),
        Err(missing) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {missing}"),
        ),
    }
}

/// Serves `/metrics` on `listener` until shutdown.
pub async fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(metrics);
    axum::serve(listener, app)
        .with_graceful_shutdown(stopped(shutdown))
        .await
}

async fn render_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_addresses_read_like_controller_runtime() {
        assert_eq!(
            parse_bind_address(":8081").ok().flatten(),
            Some("0.0.0.0:8081".parse().unwrap())
        );
        assert_eq!(
            parse_bind_address("127.0.0.1:8080").ok().flatten(),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(
            parse_bind_address("localhost:9").ok().flatten(),
            Some("127.0.0.1:9".parse().unwrap())
        );
        assert!(matches!(parse_bind_address("0"), Ok(None)));
        assert!(matches!(parse_bind_address(""), Ok(None)));
        for bad in [":", ":http", "8080", "host:1", ":70000"] {
            assert!(parse_bind_address(bad).is_err(), "{bad}");
        }
    }
}
