//! Where a listener's requests go. The flow layer implements [`RequestSink`] (find the node,
//! call its component); the listener only needs to hand a request over and get an answer.

use futures::future::BoxFuture;

use crate::bindings::tinysystems::component::http_server::{IncomingRequest, OutgoingResponse};

/// Where requests go: the flow calls the node and returns its answer, or says why not.
pub trait RequestSink: Send + Sync {
    /// The response of `node` to `request`.
    fn serve(
        &self,
        node: &str,
        request: IncomingRequest,
    ) -> BoxFuture<'static, Result<OutgoingResponse, String>>;
}
