//! The calling side: one lazily connected channel per target module, dialled at the
//! address the module advertises (its TinyModule `status.addr` in a cluster, `--peer`
//! locally) and replaced when that address changes. A channel reconnects by itself after a
//! peer restarts; a peer that is down fails the call at once with `Unavailable`, and a peer
//! that does not answer fails it at the deadline.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use tinyhost_flow::CallError;
use tinyhost_flow::manifest::sanitize_name;
use tinyhost_flow::remote::{RemoteCall, RemoteModules};

use crate::proto::MessageRequest;
use crate::proto::module_service_client::ModuleServiceClient;
use crate::wire::{
    DEPTH_METADATA, KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT, MAX_MESSAGE_BYTES, error_of,
};

/// Where other modules are.
pub trait AddressBook: Send + Sync + std::fmt::Debug {
    /// Whether nodes of `module` are to be called remotely.
    fn routes(&self, module: &str) -> bool;
    /// The address of `module`, if known now.
    fn address(&self, module: &str) -> Option<String>;
}

/// Fixed peers, for local runs (`--peer module=host:port`, a peers file).
#[derive(Debug, Clone, Default)]
pub struct StaticPeers(HashMap<String, String>);

impl StaticPeers {
    /// Peers from `(module, address)` pairs; module names are compared sanitised.
    pub fn new(peers: impl IntoIterator<Item = (String, String)>) -> StaticPeers {
        StaticPeers(
            peers
                .into_iter()
                .map(|(module, address)| (sanitize_name(&module), address))
                .collect(),
        )
    }

    /// Whether no peer is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl AddressBook for StaticPeers {
    fn routes(&self, module: &str) -> bool {
        self.0.contains_key(&sanitize_name(module))
    }

    fn address(&self, module: &str) -> Option<String> {
        self.0.get(&sanitize_name(module)).cloned()
    }
}

/// Where calls to other modules are counted (the operator's metrics); the client only
/// reports, so it needs no metrics library of its own.
pub trait CallMetrics: Send + Sync + std::fmt::Debug {
    /// One call from `source` to `target` ended with gRPC `status` after `took`.
    fn cross_module_call(&self, source: &str, target: &str, status: &str, took: Duration);
}

/// How calls to other modules are made.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The calling module, for metrics.
    pub source_module: String,
    /// Deadline of one call, response included.
    pub deadline: Duration,
    /// TLS towards peers; `None` = plaintext (the default inside a cluster).
    pub tls: Option<ClientTlsConfig>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            source_module: String::new(),
            deadline: crate::wire::DEFAULT_DEADLINE,
            tls: None,
        }
    }
}

/// Calls nodes of other modules over gRPC; clones share the channels.
#[derive(Debug, Clone)]
pub struct GrpcClient {
    inner: Arc<Pool>,
}

#[derive(Debug)]
struct Pool {
    book: Arc<dyn AddressBook>,
    config: ClientConfig,
    metrics: Option<Arc<dyn CallMetrics>>,
    channels: Mutex<HashMap<String, (String, ModuleServiceClient<Channel>)>>,
    next_id: AtomicU64,
}

impl GrpcClient {
    /// A client resolving modules through `book`.
    pub fn new(
        book: Arc<dyn AddressBook>,
        config: ClientConfig,
        metrics: Option<Arc<dyn CallMetrics>>,
    ) -> GrpcClient {
        GrpcClient {
            inner: Arc::new(Pool {
                book,
                config,
                metrics,
                channels: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
            }),
        }
    }
}

impl Pool {
    /// The client for `module` at `address`, reusing the channel while the address holds.
    fn client_for(
        &self,
        module: &str,
        address: &str,
    ) -> Result<ModuleServiceClient<Channel>, String> {
        let key = sanitize_name(module);
        let mut channels = self
            .channels
            .lock()
            .map_err(|_| "client pool poisoned".to_string())?;
        if let Some((known, client)) = channels.get(&key)
            && known == address
        {
            return Ok(client.clone());
        }
        let scheme = if self.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{address}"))
            .map_err(|e| format!("invalid address `{address}`: {e}"))?
            .connect_timeout(Duration::from_secs(5).min(self.config.deadline))
            .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
            .keep_alive_timeout(KEEPALIVE_TIMEOUT)
            .keep_alive_while_idle(true)
            .tcp_nodelay(true);
        if let Some(tls) = &self.config.tls {
            endpoint = endpoint
                .tls_config(tls.clone())
                .map_err(|e| format!("TLS towards `{address}`: {e}"))?;
        }
        let client = ModuleServiceClient::new(endpoint.connect_lazy())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        if channels
            .insert(key, (address.to_string(), client.clone()))
            .is_some()
        {
            tracing::info!(module, address, "peer address changed; new channel");
        }
        Ok(client)
    }

    async fn call_peer(&self, call: RemoteCall) -> Result<Option<String>, CallError> {
        let RemoteCall {
            module,
            from,
            node,
            port,
            edge_id,
            payload,
            depth,
        } = call;
        let fail = |message: String, retryable: bool| CallError::Remote {
            module: module.clone(),
            node: node.clone(),
            message,
            retryable,
        };
        let Some(address) = self.book.address(&module) else {
            return Err(fail(format!("`{module}` module address is unknown"), false));
        };
        // Leave room for the envelope: From, To, ID and field tags.
        let envelope = from.len() + node.len() + port.len() + edge_id.len() + 64;
        if payload.len() + envelope > MAX_MESSAGE_BYTES {
            return Err(fail(
                format!(
                    "message of {} bytes exceeds the gRPC limit of {MAX_MESSAGE_BYTES} bytes",
                    payload.len()
                ),
                false,
            ));
        }
        let mut client = self
            .client_for(&module, &address)
            .map_err(|m| fail(m, false))?;
        let id = format!(
            "{}-{}-{}",
            std::process::id(),
            self.next_id.fetch_add(1, Ordering::Relaxed),
            depth
        );
        let mut request = tonic::Request::new(MessageRequest {
            id,
            from,
            to: format!("{node}:{port}"),
            payload: payload.into_bytes(),
            edge_id,
        });
        request.set_timeout(self.config.deadline);
        if let Ok(value) = depth.to_string().parse() {
            request.metadata_mut().insert(DEPTH_METADATA, value);
        }
        let started = Instant::now();
        let deadline = self.config.deadline;
        let answer = match tokio::time::timeout(deadline, client.message(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(tonic::Status::deadline_exceeded(format!(
                "no response within {deadline:?}"
            ))),
        };
        if let Some(metrics) = &self.metrics {
            let code = match &answer {
                Ok(_) => tonic::Code::Ok,
                Err(status) => status.code(),
            };
            metrics.cross_module_call(
                &self.config.source_module,
                &module,
                &format!("{code:?}"),
                started.elapsed(),
            );
        }
        match answer {
            Ok(response) => {
                let data = response.into_inner().data;
                if data.is_empty() {
                    return Ok(None);
                }
                String::from_utf8(data)
                    .map(Some)
                    .map_err(|_| fail("response is not UTF-8 JSON".into(), false))
            }
            Err(status) => Err(error_of(&module, &node, &address, &status)),
        }
    }
}

impl RemoteModules for GrpcClient {
    fn routes(&self, module: &str) -> bool {
        self.inner.book.routes(module)
    }

    fn call(&self, call: RemoteCall) -> BoxFuture<'static, Result<Option<String>, CallError>> {
        let pool = self.inner.clone();
        Box::pin(async move { pool.call_peer(call).await })
    }
}
