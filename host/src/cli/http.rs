//! The HTTP flags `run`, `call`, `bench` and `operator` share: where nodes' listeners bind
//! and which hosts author components may call.

use std::sync::Arc;

use anyhow::Context;

use crate::capabilities::http_server::ListenerConfig;
use crate::capabilities::outbound_http::OutboundPolicy;

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct HttpArgs {
    /// Address `http_server` nodes bind when their settings name only a port (default:
    /// `127.0.0.1` locally, `0.0.0.0` for the operator).
    #[arg(long, env = "TINYHOST_HTTP_BIND_HOST")]
    http_bind_host: Option<String>,
    /// Open connections per HTTP listener; more wait in the kernel's queue.
    #[arg(long, default_value_t = 16_384)]
    http_max_connections: usize,
    /// HTTP requests handed to flows at once (all listeners); more wait for a turn.
    #[arg(long, default_value_t = 256)]
    http_max_in_flight: usize,
    /// A host author components may call over `wasi:http` (repeatable, or comma-separated
    /// in the variable): `api.example.com`, `*.example.com`, `host:8080`, `https://host`,
    /// `*`. Without any, they may call nothing; the built-in `http_request` may call any host.
    #[arg(
        long = "allow-outbound-http",
        env = "TINYHOST_ALLOW_OUTBOUND_HTTP",
        value_delimiter = ','
    )]
    allow_outbound_http: Vec<String>,
}

impl HttpArgs {
    /// How listeners bind, with `default_host` when no flag says.
    pub(crate) fn listeners(&self, default_host: &str) -> ListenerConfig {
        ListenerConfig {
            default_host: self
                .http_bind_host
                .clone()
                .unwrap_or_else(|| default_host.to_string()),
            max_connections: self.http_max_connections.max(1),
            max_in_flight: self.http_max_in_flight.max(1),
            exposer: None,
        }
    }

    /// Which hosts author components may call.
    pub(crate) fn outbound(&self) -> anyhow::Result<Arc<OutboundPolicy>> {
        let policy =
            OutboundPolicy::parse(&self.allow_outbound_http).context("--allow-outbound-http")?;
        Ok(Arc::new(policy))
    }
}
