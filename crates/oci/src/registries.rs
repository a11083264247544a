//! Pulling and pushing components: one client per registry host (so a bearer token is
//! fetched once), plain HTTP only for loopback hosts and those named insecure, and every
//! pull checked three ways before it is kept: the artifact's media types, the declared and
//! actual sizes against the limit, and the content against its digest.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, manifest::OciDescriptor};
use oci_wasm::{WASM_LAYER_MEDIA_TYPE, WASM_MANIFEST_CONFIG_MEDIA_TYPE, WasmClient, WasmConfig};
use sha2::{Digest, Sha256};

use crate::credentials::Credentials;
use crate::error::OciError;
use crate::reference::ComponentRef;
use crate::store::{ManifestRecord, Store, sha256_digest};

/// The largest component pulled unless configured otherwise: far above any real component
/// (the built-ins are under 2 MiB) and far below what would hurt a pod's memory.
pub const DEFAULT_MAX_COMPONENT_SIZE: u64 = 100 << 20;

/// How registries are reached.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// The folder pulled components are kept in.
    pub store: PathBuf,
    /// Who to present to each registry.
    pub credentials: Credentials,
    /// Registry hosts (`host` or `host:port`) reached over plain HTTP besides loopback ones.
    pub insecure: Vec<String>,
    /// The largest component accepted, in bytes.
    pub max_size: u64,
    /// How long to wait for a connection; a registry that is down is noticed this fast.
    pub connect_timeout: Duration,
    /// How long a read may stall.
    pub read_timeout: Duration,
}

impl RegistryOptions {
    /// Defaults with the store at `store`.
    pub fn new(store: impl Into<PathBuf>) -> RegistryOptions {
        RegistryOptions {
            store: store.into(),
            credentials: Credentials::anonymous(),
            insecure: Vec::new(),
            max_size: DEFAULT_MAX_COMPONENT_SIZE,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// A component available on disk.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The reference as given.
    pub reference: String,
    /// The manifest digest it resolved to.
    pub digest: String,
    /// The component's (layer's) digest.
    pub layer: String,
    /// The component file in the store.
    pub path: PathBuf,
    /// Whether the component's bytes came over the network this time (false: the store
    /// had them, perhaps under another tag).
    pub fetched: bool,
    /// Things the operator should know: a tag that moved, a registry that was down.
    pub warnings: Vec<String>,
}

/// A component now in a registry.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The reference pushed to.
    pub reference: String,
    /// The manifest digest: `REF@DIGEST` pulls exactly this.
    pub digest: String,
    /// The component's (layer's) digest.
    pub layer: String,
    /// The component's size.
    pub size: u64,
}

/// The registries a host pulls from and pushes to.
pub struct Registries {
    options: RegistryOptions,
    store: Store,
    clients: Mutex<HashMap<String, Client>>,
}

impl std::fmt::Debug for Registries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registries")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Registries {
    /// Registries reached with `options`.
    pub fn new(options: RegistryOptions) -> Registries {
        // reqwest is built without a crypto provider of its own: use ring, as kube does.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Registries {
            store: Store::new(&options.store),
            options,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The store pulled components are kept in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Makes `reference` available on disk: from the store when it already holds what the
    /// reference resolves to, else from the registry. A tag is resolved again each time
    /// (one HEAD request), so a tag that moved is noticed; if the registry cannot be
    /// reached, the digest the tag last resolved to is served, with a warning.
    pub async fn pull(&self, reference: &ComponentRef) -> Result<Pulled, OciError> {
        let name = reference.to_string();
        // A pinned reference the store holds needs no registry, nor even a client.
        if let Some(digest) = reference.digest()
            && let Some((record, path)) = self.cached(digest)
        {
            return Ok(Pulled {
                reference: name,
                digest: digest.to_string(),
                layer: record.layer,
                path,
                fetched: false,
                warnings: Vec::new(),
            });
        }
        let client = self.client(reference.registry()).await;
        let auth = self.auth(reference);
        let mut warnings = Vec::new();
        let digest = match reference.digest() {
            Some(digest) => digest.to_string(),
            None => match client
                .fetch_manifest_digest(reference.client_reference(), &auth)
                .await
            {
                Ok(digest) => {
                    if let Some(before) = self.store.tag(&name).filter(|b| *b != digest) {
                        let note = format!("{name}: the tag moved from {before} to {digest}");
                        tracing::info!("{note}");
                        warnings.push(note);
                    }
                    digest
                }
                Err(e) if is_unreachable(&e) => {
                    let cached = self
                        .store
                        .tag(&name)
                        .filter(|d| self.cached(d).is_some())
                        .ok_or_else(|| OciError::Unreachable {
                            reference: name.clone(),
                            message: describe(&e),
                        })?;
                    let note = format!(
                        "{name}: the registry cannot be reached ({}); using the cached {cached}",
                        describe(&e)
                    );
                    tracing::warn!("{note}");
                    warnings.push(note);
                    cached
                }
                Err(e) => return Err(self.registry_error(reference, e)),
            },
        };
        if let Some((record, path)) = self.cached(&digest) {
            if reference.digest().is_none() {
                self.store.put_tag(&name, &digest)?;
            }
            return Ok(Pulled {
                reference: name,
                digest,
                layer: record.layer,
                path,
                fetched: false,
                warnings,
            });
        }
        let pinned = reference.with_digest(&digest);
        let (layer, path, downloaded) = self.fetch(&client, &auth, &name, &pinned).await?;
        self.store.put_manifest(
            &digest,
            &ManifestRecord {
                reference: name.clone(),
                layer: layer.digest.clone(),
                size: u64::try_from(layer.size).unwrap_or_default(),
            },
        )?;
        if reference.digest().is_none() {
            self.store.put_tag(&name, &digest)?;
        }
        tracing::info!(reference = %name, %digest, downloaded, "pulled a component");
        Ok(Pulled {
            reference: name,
            digest,
            layer: layer.digest,
            path,
            fetched: downloaded,
            warnings,
        })
    }

    /// Pushes `component` (its bytes) to `reference` in the CNCF wasm layout, with the
    /// config describing its world as `wkg` and `wash` write it.
    pub async fn push(
        &self,
        component: Vec<u8>,
        reference: &ComponentRef,
        annotations: BTreeMap<String, String>,
    ) -> Result<Pushed, OciError> {
        let name = reference.to_string();
        let size = component.len() as u64;
        let layer_digest = sha256_digest(&component);
        let (config, layer) =
            WasmConfig::from_raw_component(component, None).map_err(|e| OciError::NotWasm {
                reference: name.clone(),
                reason: format!("{e:#}"),
            })?;
        let client = self.client(reference.registry()).await;
        let auth = self.auth(reference);
        let annotations = (!annotations.is_empty()).then_some(annotations);
        WasmClient::new(client.clone())
            .push(
                reference.client_reference(),
                &auth,
                layer,
                config,
                annotations,
            )
            .await
            .map_err(|e| match e.downcast::<OciDistributionError>() {
                Ok(e) => self.registry_error(reference, e),
                Err(e) => OciError::Registry {
                    reference: name.clone(),
                    message: format!("{e:#}"),
                },
            })?;
        let digest = client
            .fetch_manifest_digest(reference.client_reference(), &auth)
            .await
            .map_err(|e| self.registry_error(reference, e))?;
        Ok(Pushed {
            reference: name,
            digest,
            layer: layer_digest,
            size,
        })
    }

    /// The store's copy of the manifest `digest` and its verified blob.
    fn cached(&self, digest: &str) -> Option<(ManifestRecord, PathBuf)> {
        let record = self.store.manifest(digest)?;
        let path = self.store.verified_blob(&record.layer)?;
        Some((record, path))
    }

    /// Pulls the manifest `pinned` names, checks it is a wasm component artifact within
    /// the size limit, and streams its layer into the store, verifying the digest, unless
    /// the store holds that layer already (another tag of the same build). Says whether
    /// the layer was downloaded.
    async fn fetch(
        &self,
        client: &Client,
        auth: &RegistryAuth,
        name: &str,
        pinned: &ComponentRef,
    ) -> Result<(OciDescriptor, PathBuf, bool), OciError> {
        let not_wasm = |reason: String| OciError::NotWasm {
            reference: name.to_string(),
            reason,
        };
        let (manifest, _) = client
            .pull_image_manifest(pinned.client_reference(), auth)
            .await
            .map_err(|e| self.registry_error(pinned, e))?;
        if manifest.config.media_type != WASM_MANIFEST_CONFIG_MEDIA_TYPE {
            return Err(not_wasm(format!(
                "its config is `{}`, not `{WASM_MANIFEST_CONFIG_MEDIA_TYPE}`",
                manifest.config.media_type
            )));
        }
        let [layer] = manifest.layers.as_slice() else {
            return Err(not_wasm(format!(
                "it has {} layers; a component artifact has exactly one",
                manifest.layers.len()
            )));
        };
        if layer.media_type != WASM_LAYER_MEDIA_TYPE {
            return Err(not_wasm(format!(
                "its layer is `{}`, not `{WASM_LAYER_MEDIA_TYPE}`",
                layer.media_type
            )));
        }
        let limit = self.options.max_size;
        let too_large = |size: u64| OciError::TooLarge {
            reference: name.to_string(),
            size,
            limit,
        };
        let declared = u64::try_from(layer.size).unwrap_or(u64::MAX);
        if declared > limit {
            return Err(too_large(declared));
        }
        if let Some(path) = self.store.verified_blob(&layer.digest) {
            return Ok((layer.clone(), path, false));
        }
        let mut stream = client
            .pull_blob_stream(pinned.client_reference(), layer)
            .await
            .map_err(|e| self.registry_error(pinned, e))?;
        let mut file = self.store.new_blob()?;
        let mut hasher = Sha256::new();
        let mut received: u64 = 0;
        let mut failed = None;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => {
                    received += bytes.len() as u64;
                    // The registry may send more than the manifest declared: stop at the limit.
                    if received > limit {
                        return Err(too_large(received));
                    }
                    hasher.update(&bytes);
                    file.write_all(&bytes)
                        .map_err(OciError::io(self.store.root()))?;
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
        if actual != layer.digest && (failed.is_none() || received == declared) {
            return Err(OciError::Digest {
                reference: name.to_string(),
                expected: layer.digest.clone(),
                actual,
            });
        }
        if let Some(e) = failed {
            return Err(OciError::Unreachable {
                reference: name.to_string(),
                message: format!("the download broke off after {received} bytes: {e}"),
            });
        }
        let path = self.store.commit_blob(file, &layer.digest)?;
        Ok((layer.clone(), path, true))
    }

    fn auth(&self, reference: &ComponentRef) -> RegistryAuth {
        self.options.credentials.for_registry(reference.registry())
    }

    /// The client for `registry`, made on first use. HTTPS unless plain HTTP is allowed
    /// for the registry and it does not speak TLS (as Docker does for insecure
    /// registries: try HTTPS, fall back to HTTP).
    async fn client(&self, registry: &str) -> Client {
        let known = self
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(registry)
            .cloned();
        if let Some(client) = known {
            return client;
        }
        let protocol = if self.plain_http_allowed(registry) && !self.speaks_tls(registry).await {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        };
        let client = Client::new(ClientConfig {
            protocol,
            connect_timeout: Some(self.options.connect_timeout),
            read_timeout: Some(self.options.read_timeout),
            ..ClientConfig::default()
        });
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(registry.to_string())
            .or_insert(client)
            .clone()
    }

    /// Whether `registry` answers HTTPS. A certificate that is not trusted still means it
    /// speaks TLS: the pull then fails with that error rather than falling back to HTTP.
    async fn speaks_tls(&self, registry: &str) -> bool {
        let Ok(probe) = reqwest::Client::builder()
            .connect_timeout(self.options.connect_timeout)
            .timeout(self.options.connect_timeout)
            .build()
        else {
            return false;
        };
        match probe.get(format!("https://{registry}/v2/")).send().await {
            Ok(_) => true,
            Err(e) => is_certificate_error(&e),
        }
    }

    /// Plain HTTP may be used for loopback registries (a developer's, a test's) and for
    /// hosts named with `--insecure-registry`; never for any other.
    fn plain_http_allowed(&self, registry: &str) -> bool {
        let host = host_of(registry);
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        loopback
            || self
                .options
                .insecure
                .iter()
                .any(|i| i == registry || i == host)
    }

    fn registry_error(&self, reference: &ComponentRef, e: OciDistributionError) -> OciError {
        let name = reference.to_string();
        if is_unreachable(&e) {
            return OciError::Unreachable {
                reference: name,
                message: describe(&e),
            };
        }
        if is_certificate_error(&e) {
            return OciError::Registry {
                reference: name,
                message: format!(
                    "the registry's TLS certificate is not trusted (add its CA to the system's trust store, or point SSL_CERT_FILE at it): {}",
                    describe(&e)
                ),
            };
        }
        let not_found =
            || format!("not found in the registry (no such repository, tag or digest): {e}");
        let message = match &e {
            OciDistributionError::ImageManifestNotFoundError(_)
            | OciDistributionError::ServerError { code: 404, .. } => not_found(),
            OciDistributionError::RegistryError { envelope, .. }
                if envelope.errors.iter().any(|c| {
                    matches!(
                        c.code,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::BlobUnknown
                    )
                }) =>
            {
                not_found()
            }
            OciDistributionError::AuthenticationFailure(_)
            | OciDistributionError::UnauthorizedError { .. } => {
                let from = match self.options.credentials.source() {
                    Some(file) => format!(
                        "credentials for {} from {}",
                        reference.registry(),
                        file.display()
                    ),
                    None => "no credentials (give a Docker config file with --registry-config)"
                        .to_string(),
                };
                format!("the registry refused access with {from}: {e}")
            }
            OciDistributionError::ServerError {
                code: 401 | 403, ..
            } => {
                format!("the registry refused access: {e}")
            }
            _ => describe(&e),
        };
        OciError::Registry {
            reference: name,
            message,
        }
    }
}

fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry.split_once(']').map_or(registry, |(h, _)| &h[1..]);
    }
    registry.rsplit_once(':').map_or(registry, |(h, _)| h)
}

/// An error and the errors it wraps, outermost first. An I/O error's `source` skips the
/// error it wraps, so that one is stepped into instead.
fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| {
        match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        }
    })
}

/// The error with its causes, each said once (`error sending request: connection refused`).
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    for cause in causes(e) {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

/// Whether a TLS handshake failed on the certificate (the peer does speak TLS).
fn is_certificate_error(e: &(dyn std::error::Error + 'static)) -> bool {
    causes(e).any(|cause| {
        matches!(
            cause.downcast_ref::<rustls::Error>(),
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        )
    })
}

/// A registry that is down or unreachable (as opposed to one that answered "no").
fn is_unreachable(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RequestError(e) => {
            (e.is_connect() || e.is_timeout()) && !is_certificate_error(e)
        }
        OciDistributionError::ServerError { code, .. } => *code >= 500,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback_and_named_hosts() {
        let mut options = RegistryOptions::new("/tmp/unused");
        options.insecure = vec!["registry.lan:5000".into(), "other.lan".into()];
        let r = Registries::new(options);
        for (registry, plain) in [
            ("127.0.0.1:5000", true),
            ("127.8.9.1", true),
            ("localhost:5000", true),
            ("[::1]:5000", true),
            ("registry.lan:5000", true),
            ("registry.lan:5001", false),
            ("other.lan:443", true),
            ("ghcr.example", false),
            ("10.0.0.1:5000", false),
        ] {
            assert_eq!(r.plain_http_allowed(registry), plain, "{registry}");
        }
    }
}
