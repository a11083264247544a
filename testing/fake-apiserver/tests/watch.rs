//! Watch semantics through kube-runtime: `watcher`, resume from a
//! resourceVersion, compaction (410), dropped watches, outages, streaming lists,
//! selectors, timeouts, and a `Controller` surviving injected errors.

use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::ObjectMeta;
use kube::runtime::WatchStreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Client, ResourceExt};
use serde_json::json;
use tinyhost_fake_apiserver::{FakeApiServer, Fault};
use tokio::sync::mpsc;

const TINY: &str = "operator.tinysystems.io/v1alpha1";
const WAIT: Duration = Duration::from_secs(20);

fn configmap(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        data: Some([("v".to_string(), value.to_string())].into()),
        ..ConfigMap::default()
    }
}

fn cm_json(name: &str, value: &str) -> serde_json::Value {
    json!({"metadata": {"name": name}, "data": {"v": value}})
}

/// A compact description of a watcher event, for order assertions.
fn describe(ev: &Event<ConfigMap>) -> String {
    let v = |cm: &ConfigMap| {
        cm.data
            .as_ref()
            .and_then(|d| d.get("v"))
            .cloned()
            .unwrap_or_default()
    };
    match ev {
        Event::Init => "Init".into(),
        Event::InitApply(cm) => format!("InitApply({}={})", cm.name_any(), v(cm)),
        Event::InitDone => "InitDone".into(),
        Event::Apply(cm) => format!("Apply({}={})", cm.name_any(), v(cm)),
        Event::Delete(cm) => format!("Delete({})", cm.name_any()),
    }
}

/// Next item of a stream, failing the test instead of hanging.
async fn next<S: Stream + Unpin>(s: &mut S) -> S::Item {
    tokio::time::timeout(WAIT, s.next())
        .await
        .expect("timed out waiting for a watch event")
        .expect("stream ended")
}

type WatcherItem = Result<Event<ConfigMap>, watcher::Error>;

/// A watcher polled continuously by a background task, as a controller would poll
/// it (a `watcher` stream does nothing, not even re-watch, while nobody polls it).
struct Events {
    rx: mpsc::UnboundedReceiver<WatcherItem>,
    task: tokio::task::JoinHandle<()>,
}

impl Events {
    fn spawn(stream: impl Stream<Item = WatcherItem> + Send + 'static) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(item) = stream.next().await {
                if tx.send(item).is_err() {
                    break;
                }
            }
        });
        Self { rx, task }
    }

    async fn next(&mut self) -> WatcherItem {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("timed out waiting for a watcher event")
            .expect("watcher ended")
    }

    /// Pulls events (errors included, as `Err(..)`) until one is described as `want`;
    /// returns everything seen on the way.
    async fn until(&mut self, want: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            match self.next().await {
                Ok(ev) => {
                    let d = describe(&ev);
                    seen.push(d.clone());
                    if d == want {
                        return seen;
                    }
                }
                Err(err) => seen.push(format!("Err({err})")),
            }
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn watch_configmaps(api: &Api<ConfigMap>, config: watcher::Config) -> Events {
    Events::spawn(watcher(api.clone(), config))
}

/// Waits until the fake has exactly `n` open watches.
async fn open_watches(fake: &FakeApiServer, n: usize) {
    fake.wait_until(WAIT, |f| (f.open_watches() == n).then_some(()))
        .await
        .unwrap_or_else(|| panic!("expected {n} open watches, have {}", fake.open_watches()));
}

#[tokio::test]
async fn watcher_sees_create_modify_delete_in_order() {
    let fake = FakeApiServer::start().await.unwrap();
    fake.put("v1", "configmaps", "w", cm_json("pre", "0"));
    let api: Api<ConfigMap> = Api::default_namespaced(fake.client("w"));
    let mut events = watch_configmaps(&api, watcher::Config::default());
    let start: Vec<String> = events.until("InitDone").await;
    assert_eq!(start, ["Init", "InitApply(pre=0)", "InitDone"]);

    api.create(&PostParams::default(), &configmap("a", "1"))
        .await
        .unwrap();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "2"}})),
    )
    .await
    .unwrap();
    api.delete("a", &Default::default()).await.unwrap();
    // Objects in another namespace are not seen by a namespaced watcher.
    fake.put("v1", "configmaps", "elsewhere", cm_json("other", "x"));
    fake.put("v1", "configmaps", "w", cm_json("last", "9"));
    let seen = events.until("Apply(last=9)").await;
    assert_eq!(
        seen,
        ["Apply(a=1)", "Apply(a=2)", "Delete(a)", "Apply(last=9)"]
    );

    // What the watcher asked for: a list, then a watch from the list's resourceVersion.
    let reqs = fake.requests();
    let list = reqs
        .iter()
        .find(|r| r.method == "GET" && !r.is_watch())
        .unwrap();
    assert_eq!(list.path, "/api/v1/namespaces/w/configmaps");
    // kube's query strings start with '&' ("?&limit=500").
    assert_eq!(list.query, "&limit=500");
    let watch = reqs.iter().find(|r| r.is_watch()).unwrap();
    assert!(
        watch.query.contains("timeoutSeconds=290"),
        "{}",
        watch.query
    );
    assert!(
        watch.query.contains("allowWatchBookmarks=true"),
        "{}",
        watch.query
    );
    assert!(watch.query.contains("resourceVersion="), "{}", watch.query);
    assert_eq!(fake.open_watches(), 1);
}

#[tokio::test]
async fn raw_watch_resumes_from_resource_version() {
    let fake = FakeApiServer::start().await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(fake.client("r"));
    let a = api
        .create(&PostParams::default(), &configmap("a", "1"))
        .await
        .unwrap();
    let rv = a.resource_version().unwrap();
    api.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"v": "2"}})),
    )
    .await
    .unwrap();
    api.create(&PostParams::default(), &configmap("b", "1"))
        .await
        .unwrap();
    api.delete("a", &Default::default()).await.unwrap();

    let mut stream = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(match next(&mut stream).await.unwrap() {
            WatchEvent::Added(cm) => format!("ADDED {}", cm.name_any()),
            WatchEvent::Modified(cm) => format!("MODIFIED {}", cm.name_any()),
            WatchEvent::Deleted(cm) => format!("DELETED {}", cm.name_any()),
            other => format!("{other:?}"),
        });
    }
    assert_eq!(got, ["MODIFIED a", "ADDED b", "DELETED a"]);

    // From "0": the current state as ADDED events.
    let mut stream = api
        .watch(&WatchParams::default(), "0")
        .await
        .unwrap()
        .boxed();
    match next(&mut stream).await.unwrap() {
        WatchEvent::Added(cm) => assert_eq!(cm.name_any(), "b"),
        other => panic!("expected ADDED b, got {other:?}"),
    }
}

#[tokio::test]
async fn expired_history_makes_the_watcher_relist() {
    let fake = FakeApiServer::start().await.unwrap();
    fake.put("v1", "configmaps", "e", cm_json("a", "1"));
    let api: Api<ConfigMap> = Api::default_namespaced(fake.client("e"));
    let mut events = watch_configmaps(&api, watcher::Config::default());
    events.until("InitDone").await;
    open_watches(&fake, 1).await;

    // Writes to another type move the resourceVersion past what the watcher saw.
    let leases: Api<Lease> = Api::default_namespaced(fake.client("e"));
    leases
        .create(
            &PostParams::default(),
            &Lease {
                metadata: ObjectMeta {
                    name: Some("l".into()),
                    ..Default::default()
                },
                spec: None,
            },
        )
        .await
        .unwrap();
    fake.expire_history();
    fake.drop_watches();
    fake.put("v1", "configmaps", "e", cm_json("b", "2"));

    let mut seen = Vec::new();
    let mut saw_b = false;
    while !saw_b {
        match events.next().await {
            Ok(ev) => {
                let d = describe(&ev);
                saw_b = d.ends_with("(b=2)");
                seen.push(d);
            }
            Err(err) => seen.push(format!("Err({err})")),
        }
    }
    assert!(
        seen.iter()
            .any(|s| s.contains("410") || s.contains("Expired")),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"Init".to_string()),
        "the watcher must re-list: {seen:?}"
    );
    if !seen.contains(&"InitDone".to_string()) {
        events.until("InitDone").await;
    }
    // The first watch was dropped, the second got the ERROR event, the third follows the re-list.
    open_watches(&fake, 1).await;
    let watches: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.is_watch())
        .collect();
    assert_eq!(watches.len(), 3, "{watches:?}");
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.method == "GET" && !r.is_watch())
            .count(),
        2
    );
}

#[tokio::test]
async fn dropped_watches_resume_without_relist() {
    let fake = FakeApiServer::start().await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(fake.client("d"));
    let mut events = watch_configmaps(&api, watcher::Config::default());
    events.until("InitDone").await;
    api.create(&PostParams::default(), &configmap("a", "1"))
        .await
        .unwrap();
    events.until("Apply(a=1)").await;
    open_watches(&fake, 1).await;

    fake.drop_watches();
    fake.put("v1", "configmaps", "d", cm_json("a", "2"));
    let seen = events.until("Apply(a=2)").await;
    assert_eq!(seen, ["Apply(a=2)"], "no re-list after a dropped watch");
    let lists = fake
        .requests()
        .iter()
        .filter(|r| !r.is_watch() && r.method == "GET")
        .count();
    assert_eq!(lists, 1);
    let watches: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.is_watch())
        .collect();
    assert_eq!(watches.len(), 2);
}

/// The outage ends while kube's client is still retrying 503s by itself.
#[tokio::test]
async fn short_outage_is_absorbed_by_client_retries() {
    let fake = FakeApiServer::start().await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(fake.client("o"));
    let mut events =
        Events::spawn(watcher(api.clone(), watcher::Config::default()).default_backoff());
    events.until("InitDone").await;
    open_watches(&fake, 1).await;

    fake.set_down(true);
    let down = fake
        .wait_until(WAIT, |f| (f.open_watches() == 0).then_some(()))
        .await;
    assert!(down.is_some(), "set_down must end open watches");
    let err = fake.requests().len();
    fake.put("v1", "configmaps", "o", cm_json("during-outage", "1"));
    // Let the client hit the outage at least once.
    fake.wait_until(WAIT, |f| {
        f.requests()
            .iter()
            .skip(err)
            .any(|r| r.status == 503)
            .then_some(())
    })
    .await
    .expect("the watcher should have retried while down");
    fake.set_down(false);
    let seen = events.until("Apply(during-outage=1)").await;
    assert!(
        !seen.contains(&"Init".to_string()),
        "resumed from its resourceVersion: {seen:?}"
    );
}

/// A longer outage with kube's retry layer off: the watcher itself errors and backs off.
#[tokio::test]
async fn watcher_with_default_backoff_recovers_after_outage() {
    let fake = FakeApiServer::start().await.unwrap();
    let mut config = fake.config("o", None);
    config.default_retry = false;
    let api: Api<ConfigMap> = Api::default_namespaced(Client::try_from(config).unwrap());
    let mut events =
        Events::spawn(watcher(api.clone(), watcher::Config::default()).default_backoff());
    events.until("InitDone").await;
    open_watches(&fake, 1).await;

    fake.set_down(true);
    fake.put("v1", "configmaps", "o", cm_json("during-outage", "1"));
    // The watcher reports the failed re-watch as an error.
    match events.next().await {
        Err(err) => assert!(
            err.to_string().contains("503") || format!("{err:?}").contains("503"),
            "{err:?}"
        ),
        Ok(ev) => panic!("expected an error while down, got {}", describe(&ev)),
    }
    fake.set_down(false);
    let seen = events.until("Apply(during-outage=1)").await;
    assert!(!fake.is_down());
    assert!(seen.last().is_some());
}

#[tokio::test]
async fn streaming_list_initial_events() {
    let fake = FakeApiServer::start().await.unwrap();
    fake.put("v1", "configmaps", "s", cm_json("a", "1"));
    fake.put("v1", "configmaps", "s", cm_json("b", "1"));
    let api: Api<ConfigMap> = Api::default_namespaced(fake.client("s"));
    let mut events = watch_configmaps(&api, watcher::Config::default().streaming_lists());
    let seen = events.until("InitDone").await;
    assert_eq!(
        seen,
        ["Init", "InitApply(a=1)", "InitApply(b=1)", "InitDone"]
    );
    fake.put("v1", "configmaps", "s", cm_json("c", "1"));
    assert_eq!(events.until("Apply(c=1)").await, ["Apply(c=1)"]);
    let watch = fake.requests().into_iter().find(|r| r.is_watch()).unwrap();
    assert!(
        watch.query.contains("sendInitialEvents=true"),
        "{}",
        watch.query
    );
    assert!(
        watch.query.contains("resourceVersionMatch=NotOlderThan"),
        "{}",
        watch.query
    );
    assert!(watch.query.contains("resourceVersion=0"), "{}", watch.query);
}

#[tokio::test]
async fn label_selector_transitions_and_timeout() {
    let fake = FakeApiServer::start().await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(fake.client("l"));
    let rv = fake.resource_version().to_string();
    let mut stream = api
        .watch(&WatchParams::default().labels("app=x").timeout(1), &rv)
        .await
        .unwrap()
        .boxed();
    fake.put(
        "v1",
        "configmaps",
        "l",
        json!({"metadata": {"name": "a", "labels": {"app": "y"}}}),
    );
    fake.put(
        "v1",
        "configmaps",
        "l",
        json!({"metadata": {"name": "a", "labels": {"app": "x"}}}),
    );
    fake.put(
        "v1",
        "configmaps",
        "l",
        json!({"metadata": {"name": "a", "labels": {"app": "z"}}}),
    );
    let mut got = Vec::new();
    loop {
        let item = tokio::time::timeout(WAIT, stream.next())
            .await
            .expect("timeoutSeconds not honoured");
        match item {
            None => break,
            Some(Ok(WatchEvent::Added(_))) => got.push("ADDED"),
            Some(Ok(WatchEvent::Modified(_))) => got.push("MODIFIED"),
            Some(Ok(WatchEvent::Deleted(_))) => got.push("DELETED"),
            Some(Ok(WatchEvent::Bookmark(_))) => got.push("BOOKMARK"),
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
    // Entering the selector is ADDED, leaving it DELETED; the timeout ends with a bookmark.
    assert_eq!(got, ["ADDED", "DELETED", "BOOKMARK"]);
}

fn tinynode_resource() -> ApiResource {
    ApiResource {
        group: "operator.tinysystems.io".into(),
        version: "v1alpha1".into(),
        api_version: TINY.into(),
        kind: "TinyNode".into(),
        plural: "tinynodes".into(),
    }
}

#[derive(Debug)]
struct ReconcileError(kube::Error);
impl std::fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reconcile failed: {}", self.0)
    }
}
impl std::error::Error for ReconcileError {}

#[tokio::test]
async fn controller_survives_injected_errors() {
    let fake = FakeApiServer::start().await.unwrap();
    let ar = tinynode_resource();
    let api: Api<DynamicObject> = Api::namespaced_with(fake.client_as("c", "controller"), "c", &ar);
    // The first two status writes fail.
    fake.fail(
        Fault::new(500, "InternalError")
            .method("PATCH")
            .path_contains("/status"),
    );
    fake.fail(
        Fault::new(409, "Conflict")
            .method("PATCH")
            .path_contains("/status"),
    );
    fake.put(
        TINY,
        "tinynodes",
        "c",
        json!({"metadata": {"name": "n"}, "spec": {"v": 1}}),
    );

    let ctx = Arc::new(api.clone());
    let controller = Controller::new_with(api.clone(), watcher::Config::default(), ar.clone())
        .run(
            |obj: Arc<DynamicObject>, api: Arc<Api<DynamicObject>>| async move {
                let generation = obj.metadata.generation.unwrap_or_default();
                api.patch_status(
                    &obj.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": {"observedGeneration": generation}})),
                )
                .await
                .map_err(ReconcileError)?;
                Ok(Action::await_change())
            },
            |_obj, _err: &ReconcileError, _ctx| Action::requeue(Duration::from_millis(20)),
            ctx,
        )
        .for_each(|_| async {});
    let task = tokio::spawn(controller);

    let observed = |want: i64| {
        move |f: &FakeApiServer| {
            f.get(TINY, "tinynodes", "c", "n")
                .filter(|o| o["status"]["observedGeneration"] == want)
        }
    };
    fake.wait_until(WAIT, observed(1))
        .await
        .expect("status written despite errors");
    assert!(fake.pending_faults().is_empty());

    // Survives a dropped watch and an outage, then reacts to a spec change made meanwhile.
    fake.drop_watches();
    fake.set_down(true);
    fake.put(
        TINY,
        "tinynodes",
        "c",
        json!({"metadata": {"name": "n"}, "spec": {"v": 2}}),
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    fake.set_down(false);
    fake.wait_until(WAIT, observed(2))
        .await
        .expect("controller reconciled after the outage");

    let statuses: Vec<u16> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/status"))
        .map(|r| r.status)
        .collect();
    assert_eq!(&statuses[..3], [500, 409, 200]);
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.user.as_deref() == Some("controller"))
    );
    task.abort();
}

#[tokio::test]
async fn all_namespaces_watch_and_stop() {
    let fake = FakeApiServer::start().await.unwrap();
    let api: Api<ConfigMap> = Api::all(fake.client("default"));
    let mut events = watch_configmaps(&api, watcher::Config::default());
    events.until("InitDone").await;
    fake.put("v1", "configmaps", "n1", cm_json("a", "1"));
    fake.put("v1", "configmaps", "n2", cm_json("b", "1"));
    assert_eq!(
        events.until("Apply(b=1)").await,
        ["Apply(a=1)", "Apply(b=1)"]
    );
    assert_eq!(fake.list("v1", "configmaps", "").len(), 2);
    assert_eq!(fake.list("v1", "configmaps", "n1").len(), 1);

    // Stopping ends the watch; with no server the watcher only reports errors.
    let handle = fake.clone();
    handle.stop();
    let ended = fake
        .wait_until(WAIT, |f| (f.open_watches() == 0).then_some(()))
        .await;
    assert!(ended.is_some());
    let collected = tokio::time::timeout(Duration::from_millis(200), events.next()).await;
    assert!(!matches!(collected, Ok(Ok(Event::Apply(_)))));
}
