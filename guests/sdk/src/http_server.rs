//! The `http-server` interface: a listener the host serves for this node. Call [`listen`]
//! (from `handle`, `on_reconcile`, ...) and every request on it arrives as a call of
//! [`Node::on_http_request`](crate::Node::on_http_request), whose answer goes to the client.
//! The host reads requests whole within the limits in [`ListenOptions`] and answers `404`,
//! `408`, `413` and `504` itself. See `wit/http-server.wit`.

use crate::Failure;
use crate::bindings::tinysystems::component::http_server as wit;

pub use wit::{BoundListener, IncomingRequest, ListenOptions, OutgoingResponse, TlsIdentity};

/// Starts (or updates) this node's listener; where it listens.
pub fn listen(options: &ListenOptions) -> Result<BoundListener, Failure> {
    wit::listen(options)
}

/// Stops this node's listener.
pub fn close() {
    wit::close()
}

/// This node's running listener, if any.
pub fn listening() -> Option<BoundListener> {
    wit::listening()
}

impl Default for ListenOptions {
    /// Any port on the host's default address, no timeouts, a 10 MiB body limit, every path.
    fn default() -> Self {
        ListenOptions {
            address: String::new(),
            port: 0,
            read_timeout_ms: 0,
            response_timeout_ms: 0,
            max_body_bytes: 10 * 1024 * 1024,
            routes: Vec::new(),
            hostnames: Vec::new(),
            auto_hostname: false,
            tls: None,
            tag: "null".to_string(),
        }
    }
}

impl OutgoingResponse {
    /// A response with `status`, one `content-type` header and `body`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        OutgoingResponse {
            status,
            headers: vec![("content-type".to_string(), content_type.to_string())],
            body: body.into(),
        }
    }
}
