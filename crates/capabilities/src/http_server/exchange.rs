//! One request and its response at the edge of the host: reading a request whole within
//! the listener's limits into the record a node receives, turning the node's answer into
//! an HTTP response, and the host's own answers (`404`, `408`, `413`, `500`, `504`) with a
//! JSON body in upstream's shape (`{"message": …}`) plus what went wrong and where.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;

use super::options::ServeOptions;
use crate::bindings::tinysystems::component::http_server::{IncomingRequest, OutgoingResponse};

/// The body type of every response the listener sends.
pub type Body = Full<Bytes>;

/// Longest error text sent to a client; the log has the whole of it.
const MAX_ERROR_TEXT: usize = 1024;

/// A JSON error response: `{"message": <reason>, "error": …, "node": …}`.
pub fn error_response(status: StatusCode, error: &str, node: Option<&str>) -> Response<Body> {
    let mut body = serde_json::Map::new();
    body.insert(
        "message".into(),
        status.canonical_reason().unwrap_or("Error").into(),
    );
    body.insert("error".into(), first_line(error).into());
    if let Some(node) = node {
        body.insert("node".into(), node.into());
    }
    let text = serde_json::Value::Object(body).to_string();
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    response
}

/// The first line of an error, capped: a client sees what failed, never a backtrace.
fn first_line(error: &str) -> String {
    let line = error.lines().next().unwrap_or_default();
    if line.len() <= MAX_ERROR_TEXT {
        return line.to_string();
    }
    let mut end = MAX_ERROR_TEXT;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum ReadFailure {
    /// The body is over the limit.
    TooLarge(u64),
    /// The client did not send it in time.
    TimedOut,
    /// The connection broke or the body was malformed.
    Broken(String),
}

impl ReadFailure {
    /// The response the client gets.
    pub fn response(&self) -> Response<Body> {
        match self {
            ReadFailure::TooLarge(limit) => error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body is larger than {limit} bytes"),
                None,
            ),
            ReadFailure::TimedOut => error_response(
                StatusCode::REQUEST_TIMEOUT,
                "request body not received in time",
                None,
            ),
            ReadFailure::Broken(e) => error_response(
                StatusCode::BAD_REQUEST,
                &format!("cannot read request body: {e}"),
                None,
            ),
        }
    }
}

/// Reads `request` whole: the body within the size limit, by `deadline`.
pub async fn read_request(
    request: Request<Incoming>,
    options: &ServeOptions,
    remote: SocketAddr,
    tls: bool,
    deadline: Option<Instant>,
    route: (String, Vec<(String, String)>),
) -> Result<IncomingRequest, ReadFailure> {
    let limit = options.max_body_bytes;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ReadFailure::TooLarge(limit));
    }
    let (parts, body) = request.into_parts();
    let collect = Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX)).collect();
    let collected = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.into(), collect)
            .await
            .map_err(|_| ReadFailure::TimedOut)?,
        None => collect.await,
    };
    let body = match collected {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(ReadFailure::TooLarge(limit));
        }
        Err(e) => return Err(ReadFailure::Broken(e.to_string())),
    };
    let uri = &parts.uri;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let (route, params) = route;
    Ok(IncomingRequest {
        method: parts.method.as_str().to_string(),
        uri: uri
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| "/".to_string()),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        scheme: if tls { "https" } else { "http" }.to_string(),
        host,
        remote_addr: remote.to_string(),
        version: format!("{:?}", parts.version),
        headers,
        body: body.to_vec(),
        route,
        params,
        tag: options.tag.to_string(),
    })
}

/// Headers the host sets itself: a node's values could contradict the body it sent.
fn host_owned(name: &HeaderName) -> bool {
    name == CONTENT_LENGTH
        || name == http::header::TRANSFER_ENCODING
        || name == http::header::CONNECTION
}

/// The HTTP response for a node's answer, or why the answer cannot be sent.
pub fn to_response(answer: OutgoingResponse) -> Result<Response<Body>, String> {
    let status = StatusCode::from_u16(answer.status)
        .ok()
        .filter(|s| (100..=599).contains(&s.as_u16()))
        .ok_or_else(|| format!("invalid status code {}", answer.status))?;
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid response header name `{name}`"))?;
        if host_owned(&name) {
            continue;
        }
        let value = HeaderValue::from_str(&value)
            .map_err(|_| format!("invalid value for response header `{name}`"))?;
        headers.append(name, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_keep_upstreams_message_and_hide_backtraces() {
        let response = error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "x: component trapped: unreachable\nwasm backtrace:\n 0: f",
            Some("a.b.c-d"),
        );
        assert_eq!(response.status(), 500);
        let body: serde_json::Value = match std::str::from_utf8(&body_bytes(response)) {
            Ok(text) => serde_json::from_str(text).unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
        assert_eq!(
            body,
            serde_json::json!({
                "message": "Internal Server Error",
                "error": "x: component trapped: unreachable",
                "node": "a.b.c-d"
            })
        );
    }

    fn body_bytes(response: Response<Body>) -> Bytes {
        let body = response.into_body();
        futures::executor::block_on(body.collect())
            .map(|c| c.to_bytes())
            .unwrap_or_default()
    }

    #[test]
    fn long_errors_are_capped_on_a_character_boundary() {
        let long = "é".repeat(2000);
        let capped = first_line(&long);
        assert!(capped.len() <= MAX_ERROR_TEXT + '…'.len_utf8());
        assert!(capped.ends_with('…'));
    }

    #[test]
    fn answers_become_responses_and_bad_ones_are_refused() {
        let ok = to_response(OutgoingResponse {
            status: 201,
            headers: vec![
                ("content-type".into(), "text/plain".into()),
                ("content-length".into(), "999".into()),
                ("x-a".into(), "1".into()),
                ("x-a".into(), "2".into()),
            ],
            body: b"hi".to_vec(),
        });
        let Ok(ok) = ok else { panic!("{ok:?}") };
        assert_eq!(ok.status(), 201);
        assert_eq!(ok.headers().get_all("x-a").iter().count(), 2);
        assert!(ok.headers().get(CONTENT_LENGTH).is_none());
        for (status, headers, expected) in [
            (99, vec![], "invalid status code 99"),
            (600, vec![], "invalid status code 600"),
            (200, vec![("bad name".into(), "v".into())], "header name"),
            (200, vec![("x".into(), "a\nb".into())], "header `x`"),
        ] {
            let refused = to_response(OutgoingResponse {
                status,
                headers,
                body: Vec::new(),
            });
            match refused {
                Err(e) => assert!(e.contains(expected), "{e}"),
                Ok(_) => panic!("accepted {expected}"),
            }
        }
    }
}
