//! One node's socket: the accept loop, HTTP/1.1 (keep-alive) and HTTP/2 (also without TLS,
//! by prior knowledge) on every connection, optional TLS, and the limits a client meets
//! before its request reaches the node. Closing stops accepting at once (the port can be
//! bound again) and lets open connections finish their requests for a grace period.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::exchange::{self, Body};
use super::options::ServeOptions;
use super::sink::RequestSink;

/// Largest request head (request line and headers) accepted; a larger one gets `431`.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// How long a client may take to send its request head when the node set no read timeout.
const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long open connections may finish their requests after the listener closed.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// How long to pause accepting when the process is out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// What every connection of a listener shares.
struct Shared {
    node: String,
    options: ArcSwap<ServeOptions>,
    sink: Arc<dyn RequestSink>,
    tls: bool,
    /// Turns to hand a request to the flow, shared by every listener of the process.
    in_flight: Arc<Semaphore>,
}

/// A bound, serving listener.
pub struct Listener {
    local: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    accepting: JoinHandle<()>,
}

impl Listener {
    /// Starts serving `socket` for `node`.
    pub fn start(
        node: &str,
        socket: TcpListener,
        options: ServeOptions,
        sink: Arc<dyn RequestSink>,
        tls: Option<TlsAcceptor>,
        max_connections: usize,
        in_flight: Arc<Semaphore>,
    ) -> std::io::Result<Listener> {
        let local = socket.local_addr()?;
        let shared = Arc::new(Shared {
            node: node.to_string(),
            options: ArcSwap::from_pointee(options),
            sink,
            tls: tls.is_some(),
            in_flight,
        });
        let (stop, stopped) = watch::channel(false);
        let accepting = tokio::spawn(accept_loop(
            socket,
            shared.clone(),
            stopped,
            tls,
            max_connections,
        ));
        Ok(Listener {
            local,
            shared,
            stop,
            accepting,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Whether it serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.shared.tls
    }

    /// Serves the next requests with `options`.
    pub fn update(&self, options: ServeOptions) {
        self.shared.options.store(Arc::new(options));
    }

    /// Stops accepting; returns once the socket is closed. Open connections finish within
    /// the grace period in the background.
    pub async fn close(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.accepting.await
            && e.is_panic()
        {
            tracing::error!(node = %self.shared.node, "http listener's accept loop panicked");
        }
    }
}

async fn accept_loop(
    socket: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
    tls: Option<TlsAcceptor>,
    max_connections: usize,
) {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(max_connections));
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = stopped.changed() => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = socket.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: neither ends
                    // the listener; pause briefly so a full table does not spin the loop.
                    tracing::warn!(node = %shared.node, error = %e, "accepting an http connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            _ = stopped.changed() => break,
        };
        let shared = shared.clone();
        let tls = tls.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            serve_connection(stream, remote, shared, tls, watcher).await;
            drop(slot);
        });
    }
    drop(socket);
    tokio::spawn(async move {
        if tokio::time::timeout(CLOSE_GRACE, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::debug!("http connections still open after the close grace period");
        }
    });
}

async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    watcher: Watcher,
) {
    let _ = stream.set_nodelay(true);
    let options = shared.options.load_full();
    let header_timeout = options.read_timeout.unwrap_or(DEFAULT_HEADER_TIMEOUT);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_HEADER_BYTES)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEADER_BYTES as u32)
        .max_concurrent_streams(256)
        .keep_alive_interval(Duration::from_secs(20));
    let service = service_fn(move |request| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(respond(&shared, remote, request).await) }
    });
    let result = match tls {
        None => {
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            watcher.watch(connection.into_owned()).await
        }
        Some(acceptor) => {
            let stream = match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%remote, error = %e, "tls handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%remote, "tls handshake timed out");
                    return;
                }
            };
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            watcher.watch(connection.into_owned()).await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%remote, error = %e, "http connection ended with an error");
    }
}

/// One request: route, read within limits, hand to the node, answer within the response
/// timeout.
async fn respond(
    shared: &Shared,
    remote: SocketAddr,
    request: Request<Incoming>,
) -> Response<Body> {
    let arrived = Instant::now();
    let options = shared.options.load_full();
    let route = match &options.routes {
        None => (String::new(), Vec::new()),
        Some(routes) => match routes.at(request.uri().path()) {
            Ok(matched) => (
                matched.value.to_string(),
                matched
                    .params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            Err(_) => {
                return exchange::error_response(
                    StatusCode::NOT_FOUND,
                    &format!("no route for {} {}", request.method(), request.uri().path()),
                    None,
                );
            }
        },
    };
    let read_deadline = options.read_timeout.map(|t| arrived + t);
    let incoming =
        match exchange::read_request(request, &options, remote, shared.tls, read_deadline, route)
            .await
        {
            Ok(incoming) => incoming,
            Err(failure) => return failure.response(),
        };
    let served = async {
        let _turn = shared
            .in_flight
            .acquire()
            .await
            .map_err(|_| "the host is shutting down".to_string())?;
        shared.sink.serve(&shared.node, incoming).await
    };
    let answer = match options.response_timeout {
        Some(limit) => match tokio::time::timeout_at((arrived + limit).into(), served).await {
            Ok(answer) => answer,
            Err(_) => {
                tracing::warn!(node = %shared.node, limit = ?limit, "http request timed out; its flow work is cancelled");
                return exchange::error_response(
                    StatusCode::GATEWAY_TIMEOUT,
                    &format!("the flow did not answer within {} ms", limit.as_millis()),
                    Some(&shared.node),
                );
            }
        },
        None => served.await,
    };
    match answer.and_then(exchange::to_response) {
        Ok(response) => response,
        Err(error) => {
            tracing::warn!(node = %shared.node, error = %error, "http request failed");
            exchange::error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &error,
                Some(&shared.node),
            )
        }
    }
}
