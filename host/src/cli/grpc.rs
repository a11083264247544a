//! The gRPC flags shared by `run` and `operator`: where other modules are (locally), the
//! call deadline, and optional TLS for the server and towards peers.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

use crate::grpc::client::{ClientConfig, StaticPeers};

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct GrpcArgs {
    /// A module this host calls, as `MODULE=HOST:PORT` (repeatable). In a cluster the
    /// TinyModules say where modules are; locally these flags do.
    #[arg(long = "peer", value_parser = parse_peer)]
    peers: Vec<(String, String)>,
    /// A YAML or JSON file mapping module names to `HOST:PORT`.
    #[arg(long)]
    peers_file: Option<PathBuf>,
    /// Deadline of one call to another module, response included.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    call_deadline: Duration,
    /// PEM certificate chain the gRPC server presents (with `--grpc-tls-key`: serve TLS).
    #[arg(long, requires = "grpc_tls_key")]
    grpc_tls_cert: Option<PathBuf>,
    /// PEM private key of `--grpc-tls-cert`.
    #[arg(long, requires = "grpc_tls_cert")]
    grpc_tls_key: Option<PathBuf>,
    /// PEM CA certificates that sign peers' certificates: calls to other modules use TLS.
    #[arg(long)]
    grpc_tls_ca: Option<PathBuf>,
    /// Name to expect in peers' certificates (default: the host of each peer's address).
    #[arg(long, requires = "grpc_tls_ca")]
    grpc_tls_domain: Option<String>,
}

fn parse_peer(text: &str) -> Result<(String, String), String> {
    let (module, address) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected MODULE=HOST:PORT"))?;
    let (module, address) = (module.trim(), address.trim());
    if module.is_empty() || !address.contains(':') {
        return Err(format!("`{text}`: expected MODULE=HOST:PORT"));
    }
    Ok((module.to_string(), address.to_string()))
}

fn read(path: &PathBuf, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

impl GrpcArgs {
    /// The peers of the flags and the peers file (flags win).
    pub(crate) fn static_peers(&self) -> anyhow::Result<StaticPeers> {
        let mut peers: Vec<(String, String)> = Vec::new();
        if let Some(file) = &self.peers_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read peers file {}", file.display()))?;
            let map: std::collections::BTreeMap<String, String> = serde_norway::from_str(&text)
                .with_context(|| {
                    format!(
                        "peers file {}: expected a map of module: HOST:PORT",
                        file.display()
                    )
                })?;
            for (module, address) in map {
                peers.push(
                    parse_peer(&format!("{module}={address}"))
                        .map_err(|e| anyhow!("peers file {}: {e}", file.display()))?,
                );
            }
        }
        peers.extend(self.peers.iter().cloned());
        Ok(StaticPeers::new(peers))
    }

    /// How calls to other modules are made.
    pub(crate) fn client_config(&self, source_module: &str) -> anyhow::Result<ClientConfig> {
        let tls = match &self.grpc_tls_ca {
            None => None,
            Some(ca) => {
                let mut tls =
                    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca, "CA")?));
                if let Some(domain) = &self.grpc_tls_domain {
                    tls = tls.domain_name(domain.clone());
                }
                Some(tls)
            }
        };
        if self.call_deadline.is_zero() {
            return Err(anyhow!("--call-deadline must be more than zero"));
        }
        Ok(ClientConfig {
            source_module: source_module.to_string(),
            deadline: self.call_deadline,
            tls,
        })
    }

    /// TLS of the gRPC server, when a certificate is given.
    pub(crate) fn server_tls(&self) -> anyhow::Result<Option<ServerTlsConfig>> {
        match (&self.grpc_tls_cert, &self.grpc_tls_key) {
            (Some(cert), Some(key)) => Ok(Some(ServerTlsConfig::new().identity(
                Identity::from_pem(read(cert, "certificate")?, read(key, "key")?),
            ))),
            _ => Ok(None),
        }
    }
}

/// A client for the static peers, or `None` when there are none.
pub(crate) fn local_remote(
    args: &GrpcArgs,
) -> anyhow::Result<Option<Arc<dyn crate::flow::remote::RemoteModules>>> {
    let peers = args.static_peers()?;
    if peers.is_empty() {
        return Ok(None);
    }
    let client =
        crate::grpc::client::GrpcClient::new(Arc::new(peers), args.client_config("local")?, None);
    Ok(Some(Arc::new(client)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_read_as_module_equals_address() {
        assert_eq!(
            parse_peer("b-module=127.0.0.1:50052"),
            Ok(("b-module".to_string(), "127.0.0.1:50052".to_string()))
        );
        for bad in ["b-module", "=127.0.0.1:1", "b=nohost"] {
            assert!(parse_peer(bad).is_err(), "{bad}");
        }
    }
}
