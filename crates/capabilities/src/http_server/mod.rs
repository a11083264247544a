//! The `http-server` capability: HTTP listeners owned by the host for the nodes that ask
//! for them. A component cannot hold a socket, so a node calls `listen` and the host serves
//! the socket ([`listener`]), enforces the limits a hostile client meets first
//! ([`exchange`], [`options`]) and hands every request back to the node as a call of
//! `on-http-request`. [`Listeners`] is the process-wide table; the flow layer implements
//! [`HttpServerService`] (which node is asking) and [`RequestSink`] (how a request reaches
//! the node), and a cluster adds an [`Exposer`].

mod exchange;
mod listener;
mod listeners;
mod options;
mod sink;

use futures::future::BoxFuture;
use wasmtime::component::{HasData, Linker};

pub use listener::MAX_HEADER_BYTES;
pub use listeners::{Exposer, ListenError, ListenerConfig, Listeners};
pub use options::{Exposure, MAX_BODY_LIMIT, OptionsError};
pub use sink::RequestSink;

use crate::bindings::Failure;
use crate::bindings::tinysystems::component::http_server;
pub use crate::bindings::tinysystems::component::http_server::{
    BoundListener, IncomingRequest, ListenOptions, OutgoingResponse, TlsIdentity,
};
use crate::unbound::not_in_a_call;

/// The running node's listener; implemented per call by the flow layer.
pub trait HttpServerService: Send + Sync {
    /// Starts or updates the node's listener.
    fn listen(&self, options: ListenOptions) -> BoxFuture<'static, Result<BoundListener, Failure>>;
    /// Stops it.
    fn close(&self) -> BoxFuture<'static, ()>;
    /// The running one.
    fn listening(&self) -> Option<BoundListener>;
}

/// What the import functions see: the running call's service (none outside a call).
pub struct HttpServerView<'a> {
    /// The running call's service.
    pub service: Option<&'a dyn HttpServerService>,
}

struct HasHttpServer;

impl HasData for HasHttpServer {
    type Data<'a> = HttpServerView<'a>;
}

/// Adds the `http-server` interface to `linker`, reaching the capability through `get`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> HttpServerView<'_>,
) -> wasmtime::Result<()> {
    http_server::add_to_linker::<T, HasHttpServer>(linker, get)
}

impl http_server::Host for HttpServerView<'_> {
    async fn listen(
        &mut self,
        options: ListenOptions,
    ) -> wasmtime::Result<Result<BoundListener, Failure>> {
        let Some(service) = self.service else {
            return Ok(Err(not_in_a_call()));
        };
        Ok(service.listen(options).await)
    }

    async fn close(&mut self) -> wasmtime::Result<()> {
        if let Some(service) = self.service {
            service.close().await;
        }
        Ok(())
    }

    fn listening(&mut self) -> wasmtime::Result<Option<BoundListener>> {
        Ok(self.service.and_then(|s| s.listening()))
    }
}

impl From<ListenError> for Failure {
    fn from(e: ListenError) -> Failure {
        // A port taken by someone else may be freed; bad options will not fix themselves.
        let retryable = matches!(e, ListenError::Bind { .. });
        Failure {
            message: e.to_string(),
            retryable,
        }
    }
}
