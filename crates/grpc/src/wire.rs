//! The agreements both sides of a cross-module call keep: metadata names, limits,
//! keepalive, and how host errors map to gRPC status codes and back.

use std::time::Duration;

use tonic::{Code, Status};

use tinyhost_flow::CallError;

/// Request metadata carrying the hop count.
pub const DEPTH_METADATA: &str = "x-message-depth";

/// How long a call to another module may take, response included, unless configured.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

/// The largest message either side sends or accepts: gRPC's customary default, 4 MiB.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// HTTP/2 keepalive between modules: 10 s, 3 s timeout, as upstream
/// ([compatibility: wire protocol](../../../docs/compatibility.md#wire-protocol)).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// How long a keepalive ping may go unanswered.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(3);

/// The encoded descriptor of `proto/module.proto`, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/module_descriptor.bin"));

/// The longest error text sent back: an error crossing many modules is wrapped once per
/// hop, and HTTP/2 refuses trailers past 16 KiB, which would lose the cause entirely.
pub const MAX_STATUS_MESSAGE: usize = 1024;

/// `message` cut to [`MAX_STATUS_MESSAGE`] bytes, keeping its start (who failed first on
/// the way) and its end (the original cause).
fn bounded(message: String) -> String {
    if message.len() <= MAX_STATUS_MESSAGE {
        return message;
    }
    let mut head = 256;
    while !message.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = message.len() - (MAX_STATUS_MESSAGE - 256 - 5);
    while !message.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{} … {}", &message[..head], &message[tail..])
}

/// How a failed delivery is told to the calling module.
pub fn status_of(error: &CallError) -> Status {
    let message = bounded(error.to_string());
    match error {
        CallError::BadAddress(_) => Status::invalid_argument(message),
        CallError::NodeNotFound(_) | CallError::PortNotFound { .. } => Status::not_found(message),
        CallError::DepthExceeded { .. } | CallError::UnknownComponent { .. } => {
            Status::failed_precondition(message)
        }
        CallError::Failed { retryable, .. } | CallError::Remote { retryable, .. } => {
            if *retryable {
                Status::unavailable(message)
            } else {
                Status::failed_precondition(message)
            }
        }
        CallError::Trap { .. } | CallError::TimeLimit { .. } | CallError::MemoryLimit { .. } => {
            Status::internal(message)
        }
        CallError::Runtime { .. } => Status::unavailable(message),
    }
}

/// A peer's answer as an error of this host, naming the module and node it concerns.
pub fn error_of(module: &str, node: &str, address: &str, status: &Status) -> CallError {
    let (message, retryable) = match status.code() {
        Code::Unavailable if is_transport_failure(status) => (
            format!("unreachable at {address}: {}", status.message()),
            true,
        ),
        Code::Unavailable => (status.message().to_string(), true),
        Code::DeadlineExceeded | Code::Cancelled => (
            format!("no answer from {address}: {}", status.message()),
            true,
        ),
        Code::ResourceExhausted | Code::OutOfRange => (
            format!("message too large for gRPC: {}", status.message()),
            false,
        ),
        _ => (status.message().to_string(), false),
    };
    CallError::Remote {
        module: module.to_string(),
        node: node.to_string(),
        message,
        retryable,
    }
}

/// Whether the status came from the connection rather than from the peer's handler.
fn is_transport_failure(status: &Status) -> bool {
    let text = status.message().to_ascii_lowercase();
    text.contains("transport")
        || text.contains("connect")
        || text.contains("refused")
        || text.contains("dns")
        || text.contains("broken pipe")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_errors_map_to_the_agreed_codes() {
        let cases = [
            (CallError::NodeNotFound("n".into()), Code::NotFound),
            (
                CallError::DepthExceeded {
                    limit: 256,
                    at: "n:p".into(),
                },
                Code::FailedPrecondition,
            ),
            (
                CallError::Failed {
                    node: "n".into(),
                    message: "m".into(),
                    retryable: true,
                },
                Code::Unavailable,
            ),
            (
                CallError::Failed {
                    node: "n".into(),
                    message: "m".into(),
                    retryable: false,
                },
                Code::FailedPrecondition,
            ),
            (
                CallError::Trap {
                    node: "n".into(),
                    message: "boom".into(),
                },
                Code::Internal,
            ),
            (CallError::BadAddress("x".into()), Code::InvalidArgument),
        ];
        for (error, code) in cases {
            let status = status_of(&error);
            assert_eq!(status.code(), code, "{error}");
            assert_eq!(status.message(), error.to_string());
        }
    }

    #[test]
    fn long_error_chains_keep_their_ends() {
        let cause = "message depth limit of 256 exceeded at `a:in` (is there a cycle?)";
        let chain = format!("{}{cause}", "x: module `b`, node `y`: ".repeat(200));
        let status = status_of(&CallError::Failed {
            node: "n".into(),
            message: chain,
            retryable: false,
        });
        assert!(status.message().len() <= MAX_STATUS_MESSAGE);
        assert!(status.message().ends_with(cause), "{}", status.message());
        assert!(status.message().starts_with("n: x: module"));
        let short = status_of(&CallError::NodeNotFound("ü".repeat(600)));
        assert!(short.message().len() <= MAX_STATUS_MESSAGE);
    }

    #[test]
    fn peer_answers_name_the_module_and_node() {
        let error = error_of(
            "b",
            "n1",
            "127.0.0.1:1",
            &Status::not_found("node `n1` not found"),
        );
        assert_eq!(
            error.to_string(),
            "module `b`, node `n1`: node `n1` not found"
        );
        assert!(!error.retryable());
        let down = error_of(
            "b",
            "n1",
            "127.0.0.1:1",
            &Status::unavailable("tcp connect error: Connection refused"),
        );
        assert!(down.retryable());
        assert!(
            down.to_string().contains("unreachable at 127.0.0.1:1"),
            "{down}"
        );
    }
}
