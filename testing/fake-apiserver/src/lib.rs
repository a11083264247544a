//! An in-process fake of the Kubernetes API server for controller tests.
//!
//! tinyhost's operator is built on kube-rs (`Api<K>`, `watcher`, `reflector`,
//! `Controller`, `finalizer`). Testing it against a real cluster is slow and cannot
//! inject failures on demand, so this crate serves the subset of the Kubernetes
//! HTTP API those clients use, over loopback HTTP, with the same wire format —
//! the clients run unchanged, whether in the test process ([`FakeApiServer::client`])
//! or in a separate `tinyhost operator` process ([`FakeApiServer::write_kubeconfig`]).
//!
//! # What it fakes
//!
//! - Any resource type: `/api/v1/...` and `/apis/{group}/{version}/...`, namespaced
//!   (`.../namespaces/{ns}/{plural}[/{name}[/status]]`), all-namespaces list/watch
//!   (`.../{plural}`) and cluster-scoped objects (`.../{plural}/{name}`); the path alone
//!   decides an object's scope (the fake has no schema to check it against). Types are
//!   registered lazily; a small table gives kinds and status subresources for the
//!   Tiny Systems CRDs, leases, configmaps, events and a few other core types.
//! - Server-owned metadata: `uid`, `resourceVersion` (one global counter),
//!   `creationTimestamp`, `generation` (bumped when anything outside `metadata`
//!   and `status` changes, and when deletion starts), `generateName`.
//! - get, list (label selectors with `=`, `==`, `!=`, `in`, `notin`, existence; field
//!   selectors on any dotted path), watch (replay from a resourceVersion, synthetic
//!   ADDED events from 0, `timeoutSeconds`, bookmarks, `sendInitialEvents`,
//!   selector transitions), create, replace (optimistic concurrency), patch (merge,
//!   strategic treated as merge, JSON patch with `test`, server-side apply treated as
//!   merge and creating missing objects), delete (finalizers, `deletionTimestamp`,
//!   preconditions), deletecollection, the `/status` subresource, `dryRun=All`,
//!   metadata-only (`PartialObjectMetadata`) responses, and minimal discovery
//!   (`/version`, `/api`, `/apis`, resource lists).
//! - No-op writes neither bump the resourceVersion nor emit events, like the real
//!   server; controllers that rewrite an unchanged status do not wake themselves up.
//! - Errors are `Status` objects with the real reasons (`NotFound`, `AlreadyExists`,
//!   `Conflict`, `Invalid`, `Expired`, ...), so kube-rs yields `kube::Error::Api`.
//! - Faults: [`FakeApiServer::fail`] (error answers for matching requests),
//!   [`FakeApiServer::set_down`] (a whole-server outage), [`FakeApiServer::drop_watches`]
//!   and [`FakeApiServer::expire_history`] (etcd compaction → 410 Gone).
//! - Every request is recorded ([`FakeApiServer::requests`]) with the user it was made as.
//!
//! # What it does not fake
//!
//! No authentication or authorization (the bearer token is only recorded as the
//! user), no TLS, no schema validation or defaulting, no admission, no field
//! managers or server-side-apply ownership (apply is a merge patch), no strategic
//! merge by list keys, no pagination (`limit`/`continue` are ignored; lists come
//! in one page), no namespaces lifecycle (objects may live in namespaces that do
//! not exist), no garbage collection by owner references or propagation policies,
//! no `resourceVersion` semantics on list/get (always the latest state), no periodic
//! watch bookmarks (only one when `timeoutSeconds` ends a watch), no protobuf, no HTTP/2.
//! DELETE always answers 200 with the object (the real server may answer 202).
//!
//! # kube-rs behaviour worth knowing
//!
//! kube 5 clients retry 429, 503 and 504 answers by themselves (up to 15 times,
//! exponential backoff from 5 ms; `kube::Config::default_retry`). An outage from
//! [`FakeApiServer::set_down`] or an injected 503 is therefore mostly absorbed by the
//! client; use another code (e.g. 500) to make a call fail visibly, or build a client
//! from [`FakeApiServer::config`] with `default_retry = false`.
//!
//! What kube-runtime sends (handy when asserting on [`FakeApiServer::requests`]):
//! query strings start with `&` (`?&limit=500`); `watcher` with the default config
//! lists with `limit=500`, then watches with `watch=true&timeoutSeconds=290&
//! allowWatchBookmarks=true&resourceVersion=<list RV>`; with `streaming_lists()` it
//! watches with `sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0`.
//! A `watcher` stream is lazy: it opens (and re-opens) its watch only while polled.
//! `finalizer` adds its finalizer with a JSON patch `test /metadata/finalizers == null`
//! (which must pass when the field is absent) + `add`, and removes it with
//! `test /metadata/finalizers/<i> == name` + `remove`; `Api::delete` always sends a
//! JSON `DeleteOptions` body (`{}` by default).

#![warn(missing_docs)]

mod error;
mod faults;
mod patch;
mod resource;
mod routes;
mod selector;
mod server;
mod shared;
mod store;
mod util;
mod watch;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;

pub use faults::{Fault, RecordedRequest};

use resource::ResourceType;
use server::Running;
use store::{Part, Preconditions};
use util::lock;

/// A running fake API server. Clones share the same server; it stops when the last
/// handle is dropped (or on [`FakeApiServer::stop`]).
#[derive(Clone)]
pub struct FakeApiServer {
    inner: Arc<Running>,
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApiServer")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl FakeApiServer {
    /// Starts a server on `127.0.0.1` and a free port, served by the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// When the loopback port cannot be bound.
    pub async fn start() -> std::io::Result<FakeApiServer> {
        Ok(FakeApiServer {
            inner: Arc::new(Running::start().await?),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`, for clients that build their own config.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The kube config [`FakeApiServer::client`] and [`FakeApiServer::client_as`] use,
    /// for tests that need to adjust it (e.g. `default_retry = false`, timeouts).
    /// With a `user`, requests carry `Authorization: Bearer <user>` and are recorded as that user.
    pub fn config(&self, namespace: &str, user: Option<&str>) -> kube::Config {
        let uri = self
            .url()
            .parse()
            .expect("the fake's own URL is a valid URI");
        let mut config = kube::Config::new(uri);
        config.default_namespace = namespace.to_string();
        if let Some(user) = user {
            config.auth_info.token = Some(user.to_string().into());
        }
        config
    }

    /// A kube client whose default namespace is `namespace`; its requests are recorded
    /// without a user. Must be called inside a Tokio runtime.
    pub fn client(&self, namespace: &str) -> kube::Client {
        Self::build_client(self.config(namespace, None))
    }

    /// Like [`FakeApiServer::client`], but requests are recorded as made by `user`
    /// (sent as a bearer token), so tests can tell two replicas of a controller apart.
    /// Must be called inside a Tokio runtime.
    pub fn client_as(&self, namespace: &str, user: &str) -> kube::Client {
        Self::build_client(self.config(namespace, Some(user)))
    }

    fn build_client(config: kube::Config) -> kube::Client {
        kube::Client::try_from(config)
            .expect("building a kube client for the fake API server (plain HTTP, no TLS) failed")
    }

    /// A kubeconfig for a separate process (`KUBECONFIG`, `kube::Config::from_kubeconfig`):
    /// cluster at [`FakeApiServer::url`], default namespace `namespace`, and a token
    /// `user` so that process's requests are recorded as `user`.
    pub fn kubeconfig_yaml(&self, namespace: &str, user: &str) -> String {
        // JSON strings are valid YAML scalars and need no further escaping.
        let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string());
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: fake\n  cluster:\n    server: {server}\n\
             users:\n\
             - name: {user}\n  user:\n    token: {user}\n\
             contexts:\n\
             - name: fake\n  context:\n    cluster: fake\n    user: {user}\n    namespace: {namespace}\n\
             current-context: fake\n\
             preferences: {{}}\n",
            server = q(&self.url()),
            user = q(user),
            namespace = q(namespace),
        )
    }

    /// Writes [`FakeApiServer::kubeconfig_yaml`] to `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn write_kubeconfig(
        &self,
        path: &Path,
        namespace: &str,
        user: &str,
    ) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig_yaml(namespace, user))
    }

    /// Stops serving now: requests are refused, watches end, the listener closes.
    /// Dropping the last handle does the same.
    pub fn stop(&self) {
        self.inner.stop();
    }

    // ----- direct store access -----

    fn rt(api_version: &str, plural: &str) -> ResourceType {
        ResourceType::new(api_version, plural)
    }

    /// One stored object, bypassing HTTP and faults. `api_version` is "group/version"
    /// (or "v1" for the core group); `namespace` is "" for cluster-scoped objects.
    pub fn get(
        &self,
        api_version: &str,
        plural: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        lock(&self.inner.shared.store).get(&Self::rt(api_version, plural), namespace, name)
    }

    /// Stored objects of a type in `namespace` ("" = every namespace and cluster scope),
    /// sorted by namespace and name.
    pub fn list(&self, api_version: &str, plural: &str, namespace: &str) -> Vec<Value> {
        let ns = (!namespace.is_empty()).then_some(namespace);
        lock(&self.inner.shared.store).list(
            &Self::rt(api_version, plural),
            ns,
            &selector::Selector::default(),
        )
    }

    /// Creates or replaces an object for test set-up, bypassing faults but not the
    /// bookkeeping: uid/resourceVersion/creationTimestamp/generation are assigned (uid and
    /// creationTimestamp kept on replace) and watch events are emitted. Unlike an HTTP
    /// write, `status` is stored as given even for kinds with a status subresource, and
    /// `metadata.resourceVersion` is not checked. Returns the stored object.
    ///
    /// # Panics
    ///
    /// When `object` is not a JSON object with `metadata.name` or `metadata.generateName`,
    /// or when it would add a finalizer to an object being deleted.
    pub fn put(&self, api_version: &str, plural: &str, namespace: &str, object: Value) -> Value {
        let rt = Self::rt(api_version, plural);
        let mut store = lock(&self.inner.shared.store);
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string);
        let result = match name {
            Some(name) if store.get(&rt, namespace, &name).is_some() => {
                store.update(&rt, namespace, &name, Part::Whole, false, |_| Ok(object))
            }
            _ => store.create(&rt, namespace, object, Part::Whole, false),
        };
        match result {
            Ok(stored) => stored,
            Err(err) => panic!("FakeApiServer::put({api_version}, {plural}, {namespace:?}): {err}"),
        }
    }

    /// Deletes an object as an HTTP DELETE would (finalizers respected: the object then
    /// only gets a `deletionTimestamp`). Returns false when it did not exist.
    pub fn delete(&self, api_version: &str, plural: &str, namespace: &str, name: &str) -> bool {
        lock(&self.inner.shared.store)
            .delete(
                &Self::rt(api_version, plural),
                namespace,
                name,
                &Preconditions::default(),
                false,
            )
            .is_ok()
    }

    /// The latest resourceVersion handed out, to assert that something did (not) write.
    pub fn resource_version(&self) -> u64 {
        lock(&self.inner.shared.store).current_rv()
    }

    /// Gives `plural` in `api_version` a status subresource (writes to the main resource
    /// then keep the stored `status`; `/status` writes change only `status`).
    #[must_use]
    pub fn with_status_subresource(self, api_version: &str, plural: &str) -> Self {
        lock(&self.inner.shared.store).set_status_subresource(Self::rt(api_version, plural), true);
        self
    }

    /// Removes the status subresource of `plural` in `api_version` (including a built-in one).
    #[must_use]
    pub fn without_status_subresource(self, api_version: &str, plural: &str) -> Self {
        lock(&self.inner.shared.store).set_status_subresource(Self::rt(api_version, plural), false);
        self
    }

    // ----- fault injection -----

    /// Makes the next `fault.times` requests matching `fault` fail with its code and
    /// reason (as a `Status`). Faults are consulted in the order added.
    pub fn fail(&self, fault: Fault) {
        if fault.times > 0 {
            lock(&self.inner.shared.faults).push(fault);
        }
    }

    /// Faults not yet used up, to assert that an expected request happened.
    pub fn pending_faults(&self) -> Vec<Fault> {
        lock(&self.inner.shared.faults).clone()
    }

    /// Forgets every pending fault.
    pub fn clear_faults(&self) {
        lock(&self.inner.shared.faults).clear();
    }

    /// Simulates an API server outage: while down, every request answers 503
    /// ServiceUnavailable and open watches end. The data survives; `set_down(false)`
    /// restores service.
    pub fn set_down(&self, down: bool) {
        self.inner.shared.down.store(down, Ordering::SeqCst);
        if down {
            self.inner.shared.end_watches();
        }
    }

    /// Whether [`FakeApiServer::set_down`] is in effect.
    pub fn is_down(&self) -> bool {
        self.inner.shared.down.load(Ordering::SeqCst)
    }

    /// Ends every open watch stream now, as a dropped connection would; clients must re-watch.
    pub fn drop_watches(&self) {
        self.inner.shared.end_watches();
    }

    /// Simulates etcd compaction: a later watch from a resourceVersion older than the
    /// current one gets a single ERROR event (Status 410, reason "Expired") and ends,
    /// so the client must re-list. Open watches are not affected.
    pub fn expire_history(&self) {
        lock(&self.inner.shared.store).expire_history();
    }

    // ----- observation -----

    /// Every request received so far (since the last [`FakeApiServer::clear_requests`]).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.shared.requests).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.inner.shared.requests).clear();
    }

    /// How many watch streams are open. A stream whose client went away is counted
    /// until the server next tries to write to it (or it times out).
    pub fn open_watches(&self) -> usize {
        self.inner.shared.open_watches.load(Ordering::SeqCst)
    }

    /// Polls `check` every 10 ms until it returns `Some` or `timeout` passes, for
    /// assertions on what a controller eventually does (e.g. a status it writes).
    pub async fn wait_until<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&FakeApiServer) -> Option<T>,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(v) = check(self) {
                return Some(v);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
