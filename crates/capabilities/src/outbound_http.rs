//! Outbound HTTP for components: `wasi:http/outgoing-handler`, the standard interface, so
//! a component written with any toolchain can call an API. A component reaches only what
//! its module allows: requests go out only to hosts matching the [`OutboundPolicy`]
//! (nothing by default), and a denied request fails in the guest with
//! `HTTP-request-denied` and a warning naming the target. The built-ins are the host's own
//! code and their `http_request` node exists to call the URL its flow names, so their
//! policy allows every host. Inline `wasm_eval` programs get no network at all: they run in
//! the sandbox, whose linker has no `wasi:http`.

use std::sync::Arc;

use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpHooks,
};

/// One allowed target: `[SCHEME://]HOST[:PORT]`, where `HOST` is a name, an address,
/// `*.domain` (any subdomain of `domain`) or `*`, and `PORT` a number or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPattern {
    scheme: Option<String>,
    host: HostMatch,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostMatch {
    Any,
    Exact(String),
    /// `*.example.com` stored as `.example.com`.
    Subdomain(String),
}

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid outbound host pattern `{pattern}`: {reason}")]
pub struct PatternError {
    /// The pattern as given.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

impl HostPattern {
    fn parse(text: &str) -> Result<HostPattern, PatternError> {
        let fail = |reason: &str| PatternError {
            pattern: text.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => {
                let scheme = scheme.to_ascii_lowercase();
                if scheme != "http" && scheme != "https" {
                    return Err(fail("the scheme must be http or https"));
                }
                (Some(scheme), rest)
            }
            None => (None, text),
        };
        if rest.contains('/') {
            return Err(fail("give a host, not a URL with a path"));
        }
        let (host, port) = split_host_port(rest);
        let port = match port {
            None | Some("*") => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| fail("the port is not a number"))?,
            ),
        };
        let host = host.to_ascii_lowercase();
        let host = if host == "*" {
            HostMatch::Any
        } else if let Some(domain) = host.strip_prefix("*.") {
            if domain.is_empty() || domain.contains('*') {
                return Err(fail("`*.` must be followed by a domain"));
            }
            HostMatch::Subdomain(format!(".{domain}"))
        } else if host.is_empty() || host.contains('*') {
            return Err(fail("a host is `name`, `*.domain` or `*`"));
        } else {
            HostMatch::Exact(host)
        };
        Ok(HostPattern { scheme, host, port })
    }

    fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && self.port.is_none_or(|p| p == port)
            && match &self.host {
                HostMatch::Any => true,
                HostMatch::Exact(h) => h == host,
                HostMatch::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            }
    }
}

/// `host:port`, `[v6]:port`, `host` or `[v6]`.
fn split_host_port(text: &str) -> (&str, Option<&str>) {
    if let Some(rest) = text.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (text, None),
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (text, None),
    }
}

/// Which hosts components may call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    patterns: Vec<HostPattern>,
}

impl OutboundPolicy {
    /// Nothing allowed: the default for author components.
    pub fn deny_all() -> OutboundPolicy {
        OutboundPolicy::default()
    }

    /// Everything allowed: the built-ins.
    pub fn allow_all() -> OutboundPolicy {
        OutboundPolicy {
            patterns: vec![HostPattern {
                scheme: None,
                host: HostMatch::Any,
                port: None,
            }],
        }
    }

    /// The targets matching any of `patterns` (see the module docs for their form).
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<OutboundPolicy, PatternError> {
        let patterns = patterns
            .iter()
            .map(|p| HostPattern::parse(p.as_ref().trim()))
            .collect::<Result<_, _>>()?;
        Ok(OutboundPolicy { patterns })
    }

    /// Whether a request to `scheme://host:port` may go out.
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = host.to_ascii_lowercase();
        self.patterns.iter().any(|p| p.matches(scheme, &host, port))
    }
}

/// The `wasi:http` state of one instance: wasmtime-wasi-http's context and the hooks that
/// apply the policy.
pub struct OutboundHttpCtx {
    /// wasmtime-wasi-http's own context.
    pub ctx: WasiHttpCtx,
    /// The policy in force.
    pub hooks: PolicyHooks,
}

impl OutboundHttpCtx {
    /// A context enforcing `policy`.
    pub fn new(policy: Arc<OutboundPolicy>) -> OutboundHttpCtx {
        OutboundHttpCtx {
            ctx: WasiHttpCtx::new(),
            hooks: PolicyHooks { policy },
        }
    }
}

/// Sends requests the policy allows with wasmtime-wasi-http's own client; refuses others.
pub struct PolicyHooks {
    policy: Arc<OutboundPolicy>,
}

type Sent = Box<
    dyn std::future::Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for PolicyHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn std::future::Future<Output = Result<(), HttpError>> + Send>,
    ) -> Sent {
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
        let host = uri.host().unwrap_or_default().to_string();
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        if !self.policy.allows(&scheme, &host, port) {
            tracing::warn!(target_url = %format!("{scheme}://{host}:{port}"), "outbound http request denied: the host is not allowed for this module's components");
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        WasiHttpHooks::send_request(&mut DefaultSend, request, options, fut)
    }
}

/// wasmtime-wasi-http's default hooks, reached through the trait's provided methods.
struct DefaultSend;

impl WasiHttpHooks for DefaultSend {}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(patterns: &[&str]) -> OutboundPolicy {
        match OutboundPolicy::parse(patterns) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        assert!(!OutboundPolicy::deny_all().allows("https", "example.com", 443));
        assert!(OutboundPolicy::allow_all().allows("http", "10.0.0.1", 8080));
    }

    #[test]
    fn patterns_match_hosts_subdomains_ports_and_schemes() {
        let p = policy(&[
            "api.example.com",
            "*.internal.test:8080",
            "https://secure.test",
            "127.0.0.1:*",
            "[::1]:9000",
        ]);
        assert!(p.allows("https", "API.example.com", 443));
        assert!(p.allows("http", "api.example.com", 80));
        assert!(!p.allows("https", "example.com", 443));
        assert!(!p.allows("https", "evil-api.example.com", 443));
        assert!(p.allows("http", "a.b.internal.test", 8080));
        assert!(
            !p.allows("http", "internal.test", 8080),
            "the bare domain is not a subdomain"
        );
        assert!(!p.allows("http", "a.internal.test", 8081));
        assert!(p.allows("https", "secure.test", 443));
        assert!(!p.allows("http", "secure.test", 80));
        assert!(p.allows("http", "127.0.0.1", 1234));
        assert!(p.allows("http", "[::1]", 9000));
        assert!(!p.allows("http", "::1", 9001));
    }

    #[test]
    fn bad_patterns_are_named() {
        for (pattern, reason) in [
            ("ftp://x", "scheme"),
            ("http://x/path", "not a URL"),
            ("x:port", "not a number"),
            ("*.", "followed by a domain"),
            ("a*b", "`*.domain`"),
            ("", "`*.domain`"),
        ] {
            match OutboundPolicy::parse(&[pattern]) {
                Err(e) => {
                    assert!(e.to_string().contains(reason), "{e}");
                    assert!(e.to_string().contains(pattern), "{e}");
                }
                Ok(_) => panic!("accepted `{pattern}`"),
            }
        }
    }
}
