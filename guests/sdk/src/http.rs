//! Outbound HTTP through `wasi:http/outgoing-handler`, the standard interface, with the
//! conveniences a flow component needs: one blocking call per request, a deadline for the
//! whole exchange, a cap on the response body, and redirects followed as Go's client does
//! (so components behave like upstream's). The host decides which hosts a component may
//! reach: a request to any other fails with [`HttpError::Denied`].

use std::time::Duration;

use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

use crate::Failure;

/// Redirects followed before giving up, as Go's client.
const MAX_REDIRECTS: usize = 10;

/// A request to send.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Absolute `http` or `https` URL.
    pub url: String,
    /// Header fields.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// Limit for the whole exchange, redirects and body included.
    pub timeout: Duration,
    /// Largest response body accepted.
    pub max_response_bytes: u64,
}

/// A response received.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header fields in the order received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The host does not allow this component to reach the target.
    Denied(String),
    /// The URL, method or a header is not valid.
    Invalid(String),
    /// No answer within the timeout.
    Timeout,
    /// The response body is larger than allowed.
    TooLarge(u64),
    /// The network or the peer failed (connection refused, reset, DNS, TLS).
    Transport(String),
}

impl HttpError {
    /// Whether trying again may succeed: network failures and timeouts may pass; a denied
    /// target, an invalid request or an oversized body will not.
    pub fn retryable(&self) -> bool {
        matches!(self, HttpError::Timeout | HttpError::Transport(_))
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Denied(target) => write!(
                f,
                "request to {target} denied: the host is not allowed for this module"
            ),
            HttpError::Invalid(what) => write!(f, "invalid request: {what}"),
            HttpError::Timeout => write!(f, "request timed out"),
            HttpError::TooLarge(limit) => write!(
                f,
                "response body exceeds the {limit} byte cap (maxResponseBytes setting)"
            ),
            HttpError::Transport(e) => write!(f, "request failed: {e}"),
        }
    }
}

impl From<HttpError> for Failure {
    fn from(e: HttpError) -> Failure {
        Failure {
            retryable: e.retryable(),
            message: e.to_string(),
        }
    }
}

/// The parts of an absolute URL wasi:http wants separately.
struct Target {
    scheme: Scheme,
    authority: String,
    path_and_query: String,
}

fn parse_url(url: &str) -> Result<Target, HttpError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| HttpError::Invalid(format!("URL `{url}` is not absolute")))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => {
            return Err(HttpError::Invalid(format!(
                "unsupported protocol scheme `{other}`"
            )));
        }
    };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.is_empty() {
        return Err(HttpError::Invalid(format!("URL `{url}` has no host")));
    }
    let tail = tail.split('#').next().unwrap_or_default();
    let path_and_query = if tail.starts_with('/') {
        tail.to_string()
    } else {
        format!("/{tail}")
    };
    Ok(Target {
        scheme,
        authority: authority.to_string(),
        path_and_query,
    })
}

fn method_of(name: &str) -> Method {
    match name.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_string()),
    }
}

/// Sends `request`, following redirects, within its timeout.
pub fn send(request: &Request) -> Result<Response, HttpError> {
    let started = wasi::clocks::monotonic_clock::now();
    let deadline = started.saturating_add(request.timeout.as_nanos().min(u64::MAX as u128) as u64);
    let mut method = request.method.clone();
    let mut url = request.url.clone();
    let mut body = request.body.clone();
    for _ in 0..=MAX_REDIRECTS {
        let response = send_once(&method, &url, &request.headers, &body, deadline, request)?;
        let location = response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("location"))
            .map(|(_, v)| v.clone());
        match (response.status, location) {
            (301..=303 | 307 | 308, Some(location)) => {
                url = resolve(&url, &location);
                // As Go: 301/302/303 turn a non-GET/HEAD request into a GET without a body.
                if matches!(response.status, 301..=303) && method != "GET" && method != "HEAD" {
                    method = "GET".to_string();
                    body.clear();
                }
            }
            _ => return Ok(response),
        }
    }
    Err(HttpError::Transport(format!(
        "stopped after {MAX_REDIRECTS} redirects"
    )))
}

/// `location` relative to `base`.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let Some((scheme, rest)) = base.split_once("://") else {
        return location.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = format!("{scheme}://{}", &rest[..authority_end]);
    if let Some(path) = location.strip_prefix("//") {
        return format!("{scheme}://{path}");
    }
    if location.starts_with('/') {
        return format!("{origin}{location}");
    }
    let path = &rest[authority_end..];
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or_default();
    format!("{origin}{dir}/{location}")
}

fn remaining(deadline: u64) -> Result<u64, HttpError> {
    let now = wasi::clocks::monotonic_clock::now();
    if now >= deadline {
        return Err(HttpError::Timeout);
    }
    Ok(deadline - now)
}

fn send_once(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    deadline: u64,
    request: &Request,
) -> Result<Response, HttpError> {
    let target = parse_url(url)?;
    let fields = Fields::new();
    for (name, value) in headers {
        fields
            .append(name, value.as_bytes())
            .map_err(|e| HttpError::Invalid(format!("header `{name}`: {e:?}")))?;
    }
    let outgoing = OutgoingRequest::new(fields);
    outgoing
        .set_method(&method_of(method))
        .map_err(|()| HttpError::Invalid(format!("method `{method}`")))?;
    outgoing
        .set_scheme(Some(&target.scheme))
        .map_err(|()| HttpError::Invalid("scheme".into()))?;
    outgoing
        .set_authority(Some(&target.authority))
        .map_err(|()| HttpError::Invalid(format!("host `{}`", target.authority)))?;
    outgoing
        .set_path_with_query(Some(&target.path_and_query))
        .map_err(|()| HttpError::Invalid(format!("path `{}`", target.path_and_query)))?;
    let outgoing_body = outgoing
        .body()
        .map_err(|()| HttpError::Invalid("request body taken twice".into()))?;
    let options = RequestOptions::new();
    let left = remaining(deadline)?;
    // The whole exchange shares one deadline; each phase gets what is left of it.
    let _ = options.set_connect_timeout(Some(left));
    let _ = options.set_first_byte_timeout(Some(left));
    let _ = options.set_between_bytes_timeout(Some(left));
    let failed = |code: ErrorCode| match code {
        ErrorCode::HttpRequestDenied => HttpError::Denied(url.to_string()),
        other => transport(other),
    };
    let future = outgoing_handler::handle(outgoing, Some(options)).map_err(failed)?;
    write_body(outgoing_body, body)?;
    let pollable = future.subscribe();
    let timer = wasi::clocks::monotonic_clock::subscribe_instant(deadline);
    loop {
        if let Some(result) = future.get() {
            let response = result
                .map_err(|()| HttpError::Transport("response taken twice".into()))?
                .map_err(failed)?;
            return read_response(response, deadline, request.max_response_bytes);
        }
        remaining(deadline)?;
        wasi::io::poll::poll(&[&pollable, &timer]);
    }
}

fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), HttpError> {
    {
        let stream = body
            .write()
            .map_err(|()| HttpError::Invalid("request body stream taken twice".into()))?;
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| HttpError::Transport(format!("sending the body: {e:?}")))?;
        }
    }
    OutgoingBody::finish(body, None).map_err(transport)
}

fn read_response(
    response: wasi::http::types::IncomingResponse,
    deadline: u64,
    max_bytes: u64,
) -> Result<Response, HttpError> {
    let status = response.status();
    let headers = response
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let incoming = response
        .consume()
        .map_err(|()| HttpError::Transport("response body taken twice".into()))?;
    let body = read_body(&incoming, deadline, max_bytes)?;
    drop(incoming);
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn read_body(incoming: &IncomingBody, deadline: u64, max_bytes: u64) -> Result<Vec<u8>, HttpError> {
    let stream = incoming
        .stream()
        .map_err(|()| HttpError::Transport("response body stream taken twice".into()))?;
    let mut body = Vec::new();
    loop {
        remaining(deadline)?;
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                if body.len() as u64 + chunk.len() as u64 > max_bytes {
                    return Err(HttpError::TooLarge(max_bytes));
                }
                body.extend_from_slice(&chunk);
            }
            Err(StreamError::Closed) => return Ok(body),
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(HttpError::Transport(format!(
                    "reading the body: {}",
                    e.to_debug_string()
                )));
            }
        }
    }
}

fn transport(code: ErrorCode) -> HttpError {
    match code {
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => HttpError::Timeout,
        other => HttpError::Transport(format!("{other:?}")),
    }
}

/// The reason phrase of a status code, as Go's `http.StatusText` has it (empty when
/// unknown): `wasi:http` gives the code alone, and upstream messages carry `"200 OK"`.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_resolve_against_the_url_they_came_from() {
        let base = "http://a.test:8080/x/y?q=1";
        assert_eq!(resolve(base, "https://b.test/z"), "https://b.test/z");
        assert_eq!(resolve(base, "/z"), "http://a.test:8080/z");
        assert_eq!(resolve(base, "z"), "http://a.test:8080/x/z");
        assert_eq!(resolve(base, "//c.test/w"), "http://c.test/w");
    }

    #[test]
    fn urls_split_into_what_wasi_http_wants() {
        let Ok(t) = parse_url("https://user:pw@api.test:8443/v1/x?y=1#frag") else {
            panic!("rejected")
        };
        assert!(matches!(t.scheme, Scheme::Https));
        assert_eq!(t.authority, "api.test:8443");
        assert_eq!(t.path_and_query, "/v1/x?y=1");
        let Ok(t) = parse_url("http://api.test?y=1") else {
            panic!("rejected")
        };
        assert_eq!(t.path_and_query, "/?y=1");
        assert!(matches!(parse_url("ftp://x"), Err(HttpError::Invalid(_))));
        assert!(matches!(
            parse_url("api.test/x"),
            Err(HttpError::Invalid(_))
        ));
        assert!(matches!(parse_url("http:///x"), Err(HttpError::Invalid(_))));
    }
}
