//! A node's listen options, checked once when it asks to listen: where to bind (which needs
//! a new socket when it changes) and how to serve (which a running listener takes over at
//! once). Bad options are the node's error, named field by field, never a panic later.

use std::sync::Arc;
use std::time::Duration;

use crate::bindings::tinysystems::component::http_server::ListenOptions;

/// Why options were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid listen options: {0}")]
pub struct OptionsError(pub String);

/// Where a listener binds. Two listens with equal specs share the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindSpec {
    /// `HOST:PORT` as asked, or empty for the host's default address.
    pub address: String,
    /// The port asked for when `address` is empty (`0`: any).
    pub port: u16,
    /// Serve HTTPS with this identity: PEM certificate chain and key.
    pub tls: Option<(String, String)>,
}

/// How requests are served; swapped into a running listener whole.
#[derive(Debug)]
pub struct ServeOptions {
    /// Limit for reading a request (headers and body).
    pub read_timeout: Option<Duration>,
    /// Limit from a request's arrival to its response.
    pub response_timeout: Option<Duration>,
    /// Largest body accepted.
    pub max_body_bytes: u64,
    /// The served routes; `None` serves every path.
    pub routes: Option<matchit::Router<Arc<str>>>,
    /// Handed back with every request.
    pub tag: Arc<str>,
}

/// Where the listener should be public.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Exposure {
    /// Host names asked for.
    pub hostnames: Vec<String>,
    /// Whether a generated host name is wanted too.
    pub auto_hostname: bool,
    /// Whether the listener serves HTTPS (its in-cluster address is then `https://`).
    pub tls: bool,
}

/// Options split by what they affect.
#[derive(Debug)]
pub struct Checked {
    /// The socket.
    pub bind: BindSpec,
    /// Serving.
    pub serve: ServeOptions,
    /// Publishing.
    pub exposure: Exposure,
}

/// Largest body a node may ask for: a request is held in memory whole.
pub const MAX_BODY_LIMIT: u64 = 256 * 1024 * 1024;

fn millis(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// Checks `options`.
pub fn check(options: ListenOptions) -> Result<Checked, OptionsError> {
    if options.max_body_bytes > MAX_BODY_LIMIT {
        return Err(OptionsError(format!(
            "max-body-bytes {} is over the host's limit of {MAX_BODY_LIMIT}",
            options.max_body_bytes
        )));
    }
    let address = options.address.trim().to_string();
    if !address.is_empty()
        && address
            .rsplit_once(':')
            .is_none_or(|(_, p)| p.parse::<u16>().is_err())
    {
        return Err(OptionsError(format!(
            "address `{address}` is not HOST:PORT"
        )));
    }
    if let Some(tls) = &options.tls
        && (tls.cert_pem.trim().is_empty() || tls.key_pem.trim().is_empty())
    {
        return Err(OptionsError(
            "tls needs both a certificate and a key".to_string(),
        ));
    }
    let routes = if options.routes.is_empty() {
        None
    } else {
        let mut router = matchit::Router::new();
        for pattern in &options.routes {
            if !pattern.starts_with('/') {
                return Err(OptionsError(format!(
                    "route `{pattern}` must start with `/`"
                )));
            }
            router
                .insert(pattern.as_str(), Arc::from(pattern.as_str()))
                .map_err(|e| OptionsError(format!("route `{pattern}`: {e}")))?;
        }
        Some(router)
    };
    if serde_json::from_str::<serde_json::Value>(&options.tag).is_err() {
        return Err(OptionsError("tag is not JSON".to_string()));
    }
    Ok(Checked {
        bind: BindSpec {
            address,
            port: options.port,
            tls: options.tls.map(|t| (t.cert_pem, t.key_pem)),
        },
        serve: ServeOptions {
            read_timeout: millis(options.read_timeout_ms),
            response_timeout: millis(options.response_timeout_ms),
            max_body_bytes: options.max_body_bytes,
            routes,
            tag: Arc::from(options.tag),
        },
        exposure: Exposure {
            hostnames: options.hostnames,
            auto_hostname: options.auto_hostname,
            tls: false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::tinysystems::component::http_server::TlsIdentity;

    fn options() -> ListenOptions {
        ListenOptions {
            address: String::new(),
            port: 0,
            read_timeout_ms: 0,
            response_timeout_ms: 0,
            max_body_bytes: 1024,
            routes: Vec::new(),
            hostnames: Vec::new(),
            auto_hostname: false,
            tls: None,
            tag: "null".into(),
        }
    }

    #[test]
    fn bad_options_are_named() {
        let cases: Vec<(ListenOptions, &str)> = vec![
            (
                ListenOptions {
                    address: "localhost".into(),
                    ..options()
                },
                "not HOST:PORT",
            ),
            (
                ListenOptions {
                    routes: vec!["users".into()],
                    ..options()
                },
                "must start with `/`",
            ),
            (
                ListenOptions {
                    routes: vec!["/a/{x}".into(), "/a/{y}".into()],
                    ..options()
                },
                "route `/a/{y}`",
            ),
            (
                ListenOptions {
                    max_body_bytes: MAX_BODY_LIMIT + 1,
                    ..options()
                },
                "over the host's limit",
            ),
            (
                ListenOptions {
                    tag: "{".into(),
                    ..options()
                },
                "tag is not JSON",
            ),
            (
                ListenOptions {
                    tls: Some(TlsIdentity {
                        cert_pem: "x".into(),
                        key_pem: " ".into(),
                    }),
                    ..options()
                },
                "both a certificate and a key",
            ),
        ];
        for (options, expected) in cases {
            match check(options) {
                Err(e) => assert!(e.to_string().contains(expected), "{e} lacks {expected}"),
                Ok(_) => panic!("accepted options that should fail with {expected}"),
            }
        }
    }

    #[test]
    fn routes_match_with_their_parameters() {
        let checked = check(ListenOptions {
            routes: vec!["/users/{id}".into(), "/static/{*rest}".into()],
            ..options()
        })
        .map_err(|e| e.to_string());
        let Ok(checked) = checked else {
            panic!("{checked:?}")
        };
        let Some(routes) = checked.serve.routes else {
            panic!("no routes")
        };
        let Ok(m) = routes.at("/users/7") else {
            panic!("no match")
        };
        assert_eq!(&**m.value, "/users/{id}");
        assert_eq!(m.params.get("id"), Some("7"));
        assert!(routes.at("/other").is_err());
    }
}
