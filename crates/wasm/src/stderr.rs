//! A guest's standard error, kept as a short tail in memory. A Rust component that panics
//! prints the reason to stderr before trapping with a bare `unreachable`; keeping the last
//! lines lets the host put the reason into the error the caller sees, instead of mixing
//! guest output into the host's own.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Bytes of guest stderr kept per instance.
const TAIL_BYTES: usize = 4096;

/// The shared tail; cloned into the WASI context and kept by the host state.
#[derive(Debug, Clone, Default)]
pub struct StderrTail {
    bytes: Arc<Mutex<VecDeque<u8>>>,
}

impl StderrTail {
    /// Forgets what was written so far (each call starts clean).
    pub fn clear(&self) {
        if let Ok(mut b) = self.bytes.lock() {
            b.clear();
        }
    }

    /// The most telling line written since the last clear: a Rust panic message when
    /// there is one, else the last non-empty line.
    pub fn last_words(&self) -> Option<String> {
        let text = self.bytes.lock().ok().map(|b| {
            String::from_utf8_lossy(&b.iter().copied().collect::<Vec<u8>>()).into_owned()
        })?;
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if let Some(i) = lines.iter().rposition(|l| l.contains("panicked at")) {
            // The panic message follows its location line.
            let message = lines
                .get(i + 1)
                .map(|m| format!("{}: {m}", lines[i]))
                .unwrap_or_else(|| lines[i].to_string());
            return Some(message);
        }
        lines.last().map(|l| l.to_string())
    }

    fn push(&self, buf: &[u8]) {
        if let Ok(mut b) = self.bytes.lock() {
            b.extend(buf.iter().copied());
            let excess = b.len().saturating_sub(TAIL_BYTES);
            b.drain(..excess);
        }
    }
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl tokio::io::AsyncWrite for StderrTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
