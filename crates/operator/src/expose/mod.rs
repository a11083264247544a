//! HTTP servers in the cluster. A node's listener binds a port in every replica; this
//! module makes that port reachable beyond the pod, as upstream's http-module does: a
//! `port{N}` entry on the module's Service, and, when the module has an Ingress, a rule
//! and a TLS entry for each host name the server asks for. The node reports the host
//! names (or, without an Ingress, the Service's in-cluster address) as its addresses.
//!
//! Unlike upstream, which finds the Service and the Ingress by listing the release's
//! objects, the operator is told their names (`--http-service`, `--http-ingress`), so
//! its Role can be limited to `get` and `update` on those two objects.
//!
//! Every replica exposes what it serves and re-asserts it every [`RESYNC`] (a `helm
//! upgrade` may rewrite the Service or the Ingress); writes happen only when something is
//! missing, and a conflicting write is retried on a fresh read. Only the leader withdraws
//! an exposure, and only when the node is deleted: a server that stops keeps its port and
//! names, so a rolling update does not drop traffic.

mod objects;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, PostParams};
use kube::{Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tinyhost_capabilities::http_server::{Exposer, Exposure};
use tokio::sync::watch;

pub use objects::{
    HOSTNAME_SUFFIX_ANNOTATION, add_service_port, auto_hostname, hostname_suffix,
    is_valid_hostname, remove_service_port, requested_hosts, route_hosts, service_port_name,
    unroute_port,
};

/// How often every replica re-asserts what it exposes (upstream's period).
pub const RESYNC: Duration = Duration::from_secs(15);

/// Attempts at one update that keeps meeting a conflict (upstream's count).
pub const ATTEMPTS: u32 = 5;

/// Which objects publish the module's HTTP servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposeConfig {
    /// The module's Service (`--http-service`): every exposed port is added to it.
    pub service: String,
    /// The module's Ingress (`--http-ingress`), if it has one: host names route through it.
    pub ingress: Option<String>,
    /// The cluster's DNS domain (`--cluster-domain`), for the Service address reported
    /// when there are no host names.
    pub cluster_domain: String,
    /// How often exposures are re-asserted ([`RESYNC`]; shorter in tests).
    pub resync: Duration,
}

impl ExposeConfig {
    /// Exposure through `service` (and `ingress`), re-asserted every [`RESYNC`].
    pub fn new(service: &str, ingress: Option<&str>, cluster_domain: &str) -> ExposeConfig {
        ExposeConfig {
            service: service.to_string(),
            ingress: ingress.map(str::to_string),
            cluster_domain: cluster_domain.to_string(),
            resync: RESYNC,
        }
    }
}

/// Why a port could not be exposed or withdrawn.
#[derive(Debug, thiserror::Error)]
pub enum ExposeError {
    /// Reading or writing the object failed.
    #[error("{kind} {name}: {source}")]
    Api {
        /// `Service` or `Ingress`.
        kind: &'static str,
        /// The object's name.
        name: String,
        /// The API's answer.
        #[source]
        source: kube::Error,
    },
    /// Every attempt met a conflicting write by someone else.
    #[error("{kind} {name} changed under each of {ATTEMPTS} attempts to update it")]
    Conflicts {
        /// `Service` or `Ingress`.
        kind: &'static str,
        /// The object's name.
        name: String,
    },
}

impl ExposeError {
    fn is_not_found(&self) -> bool {
        matches!(self, ExposeError::Api { source: kube::Error::Api(s), .. } if s.code == 404)
    }
}

fn is_conflict(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(s) if s.code == 409)
}

/// Publishes the module's HTTP servers on its Service and Ingress: the operator's
/// [`Exposer`]. Clones share one table of exposures.
#[derive(Clone)]
pub struct ClusterExposer {
    inner: Arc<Inner>,
}

struct Inner {
    config: ExposeConfig,
    namespace: String,
    services: Api<Service>,
    ingresses: Api<Ingress>,
    leader: watch::Receiver<bool>,
    /// What this replica serves and keeps asserting: node → (port, exposure).
    exposed: Mutex<BTreeMap<String, (u16, Exposure)>>,
    /// One read-modify-write at a time in this process (the resync and a node's listen
    /// would otherwise conflict with each other).
    writing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for ClusterExposer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterExposer")
            .field("config", &self.inner.config)
            .field("namespace", &self.inner.namespace)
            .finish_non_exhaustive()
    }
}

impl ClusterExposer {
    /// Exposes through the objects `config` names in `namespace`; `leader` says whether
    /// this replica may withdraw exposures.
    pub fn new(
        client: Client,
        namespace: &str,
        config: ExposeConfig,
        leader: watch::Receiver<bool>,
    ) -> ClusterExposer {
        ClusterExposer {
            inner: Arc::new(Inner {
                services: Api::namespaced(client.clone(), namespace),
                ingresses: Api::namespaced(client, namespace),
                namespace: namespace.to_string(),
                config,
                leader,
                exposed: Mutex::new(BTreeMap::new()),
                writing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The in-cluster address of `port` on the Service (`https` when the listener serves
    /// TLS itself).
    pub fn service_url(&self, port: u16, tls: bool) -> String {
        let c = &self.inner.config;
        let scheme = if tls { "https" } else { "http" };
        format!(
            "{scheme}://{}.{}.svc.{}:{port}",
            c.service, self.inner.namespace, c.cluster_domain
        )
    }

    /// Exposes `port` of `node` and remembers it for the resync; the addresses clients
    /// use: the host names routed to it, or the Service address.
    pub async fn expose_port(
        &self,
        node: &str,
        port: u16,
        exposure: &Exposure,
    ) -> Result<Vec<String>, ExposeError> {
        if let Ok(mut exposed) = self.inner.exposed.lock() {
            exposed.insert(node.to_string(), (port, exposure.clone()));
        }
        self.ensure(node, port, exposure).await
    }

    /// Forgets `node`'s exposure and, on the leader, withdraws `port` from the Service and
    /// the Ingress (the node was deleted).
    pub async fn withdraw_port(&self, node: &str, port: u16) -> Result<(), ExposeError> {
        if let Ok(mut exposed) = self.inner.exposed.lock()
            && exposed.get(node).is_some_and(|(p, _)| *p == port)
        {
            exposed.remove(node);
        }
        if !*self.inner.leader.borrow() {
            tracing::debug!(node, port, "not the leader: the leader withdraws the port");
            return Ok(());
        }
        let _writing = self.inner.writing.lock().await;
        let config = &self.inner.config;
        update(&self.inner.services, "Service", &config.service, |svc| {
            remove_service_port(svc, port)
        })
        .await?;
        if let Some(name) = &config.ingress {
            let result = update(&self.inner.ingresses, "Ingress", name, |ing| {
                unroute_port(ing, &config.service, port)
            })
            .await;
            match result {
                Err(e) if e.is_not_found() => {}
                other => {
                    other?;
                }
            }
        }
        tracing::info!(
            node,
            port,
            "http port withdrawn from the Service and Ingress"
        );
        Ok(())
    }

    /// What this replica exposes: node → port.
    pub fn exposed(&self) -> BTreeMap<String, u16> {
        self.inner
            .exposed
            .lock()
            .map(|e| {
                e.iter()
                    .map(|(node, (port, _))| (node.clone(), *port))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Re-asserts every exposure once.
    pub async fn resync(&self) {
        let entries: Vec<(String, (u16, Exposure))> = self
            .inner
            .exposed
            .lock()
            .map(|e| e.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        for (node, (port, exposure)) in entries {
            if let Err(e) = self.ensure(&node, port, &exposure).await {
                tracing::warn!(node = %node, port, error = %e, "cannot re-assert the http port's exposure");
            }
        }
    }

    /// Re-asserts every exposure each [`ExposeConfig::resync`] until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.inner.config.resync);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        let stopped = async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        };
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                _ = tick.tick() => self.resync().await,
                _ = &mut stopped => break,
            }
        }
    }

    /// Makes the Service and the Ingress carry `port` as `exposure` asks; the addresses.
    async fn ensure(
        &self,
        node: &str,
        port: u16,
        exposure: &Exposure,
    ) -> Result<Vec<String>, ExposeError> {
        let _writing = self.inner.writing.lock().await;
        let config = &self.inner.config;
        let changed = update(&self.inner.services, "Service", &config.service, |svc| {
            add_service_port(svc, port)
        })
        .await?;
        if changed {
            tracing::info!(node, port, service = %config.service, "http port added to the Service");
        }
        let Some(name) = &config.ingress else {
            return Ok(vec![self.service_url(port, exposure.tls)]);
        };
        let mut hosts = Vec::new();
        let mut rejected = Vec::new();
        let result = update(&self.inner.ingresses, "Ingress", name, |ing| {
            (hosts, rejected) = requested_hosts(node, exposure, hostname_suffix(ing));
            route_hosts(ing, &config.service, port, &hosts)
        })
        .await;
        for host in &rejected {
            tracing::warn!(node, host = %host, "not a host name an Ingress can route; skipped");
        }
        match result {
            Ok(changed) => {
                if changed {
                    tracing::info!(node, port, ingress = %name, hosts = ?hosts, "http host names routed through the Ingress");
                }
                if hosts.is_empty() {
                    Ok(vec![self.service_url(port, exposure.tls)])
                } else {
                    Ok(hosts)
                }
            }
            Err(e) if e.is_not_found() => {
                tracing::warn!(node, ingress = %name, "the Ingress does not exist; reporting the Service address");
                Ok(vec![self.service_url(port, exposure.tls)])
            }
            Err(e) => Err(e),
        }
    }
}

/// Reads `name`, lets `change` edit it, and writes it back when `change` says it changed;
/// a conflicting write is retried on a fresh read, up to [`ATTEMPTS`] times. Whether it
/// wrote.
async fn update<K>(
    api: &Api<K>,
    kind: &'static str,
    name: &str,
    mut change: impl FnMut(&mut K) -> bool,
) -> Result<bool, ExposeError>
where
    K: Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let failed = |source| ExposeError::Api {
        kind,
        name: name.to_string(),
        source,
    };
    for attempt in 1..=ATTEMPTS {
        let mut object = api.get(name).await.map_err(failed)?;
        if !change(&mut object) {
            return Ok(false);
        }
        match api.replace(name, &PostParams::default(), &object).await {
            Ok(_) => return Ok(true),
            Err(e) if is_conflict(&e) && attempt < ATTEMPTS => {
                tracing::debug!(kind, name, attempt, "update conflict; retrying");
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
            Err(e) if is_conflict(&e) => break,
            Err(e) => return Err(failed(e)),
        }
    }
    Err(ExposeError::Conflicts {
        kind,
        name: name.to_string(),
    })
}

impl Exposer for ClusterExposer {
    fn expose(
        &self,
        node: &str,
        port: u16,
        exposure: &Exposure,
    ) -> BoxFuture<'static, Result<Vec<String>, String>> {
        let this = self.clone();
        let node = node.to_string();
        let exposure = exposure.clone();
        Box::pin(async move {
            this.expose_port(&node, port, &exposure)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn disclose(&self, node: &str, port: u16) -> BoxFuture<'static, ()> {
        let this = self.clone();
        let node = node.to_string();
        Box::pin(async move {
            if let Err(e) = this.withdraw_port(&node, port).await {
                tracing::warn!(node = %node, port, error = %e, "cannot withdraw the http port");
            }
        })
    }
}

#[cfg(test)]
mod tests;
