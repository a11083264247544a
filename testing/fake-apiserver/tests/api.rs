//! Request/response semantics of the fake, driven through real kube-rs clients:
//! CRUD, the status subresource, patches, optimistic concurrency, finalizers,
//! delete preconditions, fault injection, users and kubeconfig files.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
    Preconditions,
};
use kube::core::ObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use tinyhost_fake_apiserver::{FakeApiServer, Fault};

const TINY: &str = "operator.tinysystems.io/v1alpha1";

fn tinynode_resource() -> ApiResource {
    ApiResource {
        group: "operator.tinysystems.io".into(),
        version: "v1alpha1".into(),
        api_version: TINY.into(),
        kind: "TinyNode".into(),
        plural: "tinynodes".into(),
    }
}

fn tinynodes(client: Client, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client, ns, &tinynode_resource())
}

fn tinynode(name: &str, spec: Value, status: Option<Value>) -> DynamicObject {
    let mut obj = DynamicObject::new(name, &tinynode_resource()).data(json!({"spec": spec}));
    if let Some(status) = status {
        obj.data["status"] = status;
    }
    obj
}

fn configmap(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        ),
        ..ConfigMap::default()
    }
}

fn api_code(err: &kube::Error) -> Option<(u16, String)> {
    match err {
        kube::Error::Api(status) => Some((status.code, status.reason.clone())),
        _ => None,
    }
}

/// Runs a future with a deadline so a broken fake fails the test instead of hanging it.
async fn within<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("timed out")
}

#[tokio::test]
async fn configmap_crud_with_typed_api() {
    let fake = FakeApiServer::start().await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(fake.client("apps"));
    within(async {
        let created = api
            .create(&PostParams::default(), &configmap("one", &[("a", "1")]))
            .await
            .unwrap();
        let meta = &created.metadata;
        assert_eq!(meta.namespace.as_deref(), Some("apps"));
        assert!(meta.uid.as_deref().is_some_and(|u| !u.is_empty()));
        assert!(meta.creation_timestamp.is_some());
        assert_eq!(meta.generation, Some(1));
        let rv1: u64 = meta.resource_version.as_deref().unwrap().parse().unwrap();

        // The name is taken.
        let err = api
            .create(&PostParams::default(), &configmap("one", &[]))
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), Some((409, "AlreadyExists".into())));

        let got = api.get("one").await.unwrap();
        assert_eq!(got, created);
        // The stored copy has apiVersion/kind filled in.
        let raw = fake.get("v1", "configmaps", "apps", "one").unwrap();
        assert_eq!(raw["kind"], "ConfigMap");
        assert_eq!(raw["apiVersion"], "v1");

        // Replace keeps uid/creationTimestamp, bumps resourceVersion and generation.
        let mut changed = got.clone();
        changed.data = Some([("a".to_string(), "2".to_string())].into());
        let replaced = api
            .replace("one", &PostParams::default(), &changed)
            .await
            .unwrap();
        assert_eq!(replaced.metadata.uid, created.metadata.uid);
        assert_eq!(
            replaced.metadata.creation_timestamp,
            created.metadata.creation_timestamp
        );
        assert_eq!(replaced.metadata.generation, Some(2));
        let rv2: u64 = replaced
            .metadata
            .resource_version
            .as_deref()
            .unwrap()
            .parse()
            .unwrap();
        assert!(rv2 > rv1);

        // Replacing with the stale copy is a conflict.
        let err = api
            .replace("one", &PostParams::default(), &changed)
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), Some((409, "Conflict".into())));

        // A label change touches metadata only: no generation bump.
        let labelled = api
            .patch(
                "one",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {"tier": "db"}}})),
            )
            .await
            .unwrap();
        assert_eq!(labelled.metadata.generation, Some(2));

        // generateName.
        let mut generated = configmap("", &[]);
        generated.metadata.name = None;
        generated.metadata.generate_name = Some("gen-".into());
        let generated = api
            .create(&PostParams::default(), &generated)
            .await
            .unwrap();
        let gen_name = generated.name_any();
        assert!(
            gen_name.starts_with("gen-") && gen_name.len() == 9,
            "{gen_name}"
        );

        // Lists: label selectors, field selectors, and all namespaces.
        let all = api.list(&ListParams::default()).await.unwrap();
        assert_eq!(all.items.len(), 2);
        assert!(all.metadata.resource_version.is_some());
        let db = api
            .list(&ListParams::default().labels("tier=db"))
            .await
            .unwrap();
        assert_eq!(
            db.items.iter().map(|c| c.name_any()).collect::<Vec<_>>(),
            ["one"]
        );
        let not_db = api
            .list(&ListParams::default().labels("tier!=db"))
            .await
            .unwrap();
        assert_eq!(not_db.items.len(), 1);
        assert_eq!(not_db.items[0].name_any(), gen_name);
        let by_name = api
            .list(&ListParams::default().fields(&format!("metadata.name={gen_name}")))
            .await
            .unwrap();
        assert_eq!(by_name.items.len(), 1);
        let other: Api<ConfigMap> = Api::namespaced(fake.client("apps"), "other");
        other
            .create(&PostParams::default(), &configmap("x", &[]))
            .await
            .unwrap();
        let everywhere: Api<ConfigMap> = Api::all(fake.client("apps"));
        assert_eq!(
            everywhere
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .len(),
            3
        );

        // Metadata-only list.
        let metas = api.list_metadata(&ListParams::default()).await.unwrap();
        assert_eq!(metas.items.len(), 2);

        // Delete, then it is gone.
        let deleted = api.delete("one", &DeleteParams::default()).await.unwrap();
        assert!(deleted.is_left());
        let err = api.get("one").await.unwrap_err();
        assert_eq!(api_code(&err), Some((404, "NotFound".into())));
        assert!(api.get_opt("one").await.unwrap().is_none());
        let err = api
            .delete("one", &DeleteParams::default())
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), Some((404, "NotFound".into())));
    })
    .await;
}

#[tokio::test]
async fn tinynode_status_subresource_rules() {
    let fake = FakeApiServer::start().await.unwrap();
    let api = tinynodes(fake.client("flows"), "flows");
    within(async {
        // status in a create is dropped.
        let created = api
            .create(
                &PostParams::default(),
                &tinynode(
                    "n1",
                    json!({"module": "common"}),
                    Some(json!({"status": "bogus"})),
                ),
            )
            .await
            .unwrap();
        assert!(created.data.get("status").is_none(), "{created:?}");
        assert_eq!(created.types.as_ref().unwrap().kind, "TinyNode");
        assert_eq!(created.metadata.generation, Some(1));

        // /status writes change status only, not generation.
        let status_patch = json!({"status": {"status": "running"}, "spec": {"module": "hacked"}});
        let with_status = api
            .patch_status("n1", &PatchParams::default(), &Patch::Merge(&status_patch))
            .await
            .unwrap();
        assert_eq!(with_status.data["status"], json!({"status": "running"}));
        assert_eq!(with_status.data["spec"], json!({"module": "common"}));
        assert_eq!(with_status.metadata.generation, Some(1));

        // Writes to the main resource ignore status; a spec change bumps generation.
        let mut changed = with_status.clone();
        changed.data["spec"] = json!({"module": "other"});
        changed.data["status"] = json!({"status": "overwritten"});
        let replaced = api
            .replace("n1", &PostParams::default(), &changed)
            .await
            .unwrap();
        assert_eq!(replaced.data["status"], json!({"status": "running"}));
        assert_eq!(replaced.data["spec"], json!({"module": "other"}));
        assert_eq!(replaced.metadata.generation, Some(2));

        let patched = api
            .patch(
                "n1",
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"status": "nope"}})),
            )
            .await
            .unwrap();
        assert_eq!(patched.data["status"], json!({"status": "running"}));
        assert_eq!(
            patched.metadata.resource_version, replaced.metadata.resource_version,
            "a no-op write must not bump resourceVersion"
        );

        // replace_status with a stale resourceVersion conflicts.
        let mut stale = with_status.clone();
        stale.data["status"] = json!({"status": "late"});
        let err = api
            .replace_status("n1", &PostParams::default(), &stale)
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), Some((409, "Conflict".into())));

        // A status rewrite with the same value is a no-op: no new resourceVersion.
        let rv_before = fake.resource_version();
        api.patch_status(
            "n1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"status": "running"}})),
        )
        .await
        .unwrap();
        assert_eq!(fake.resource_version(), rv_before);

        // get_status returns the object.
        let st = api.get_status("n1").await.unwrap();
        assert_eq!(st.data["status"], json!({"status": "running"}));

        // Kinds without a status subresource have no /status path.
        let cms: Api<ConfigMap> = Api::default_namespaced(fake.client("flows"));
        cms.create(&PostParams::default(), &configmap("c", &[]))
            .await
            .unwrap();
        let err = cms.get_status("c").await.unwrap_err();
        assert_eq!(api_code(&err).map(|c| c.0), Some(404));

        // Direct put stores status as given (test set-up).
        let stored = fake.put(
            TINY,
            "tinynodes",
            "flows",
            json!({"metadata": {"name": "n2"}, "spec": {}, "status": {"status": "seeded"}}),
        );
        assert_eq!(stored["status"]["status"], "seeded");
        assert_eq!(stored["kind"], "TinyNode");
        assert_eq!(
            api.get("n2").await.unwrap().data["status"]["status"],
            "seeded"
        );
    })
    .await;
}

#[tokio::test]
async fn patch_kinds_and_json_patch_test_failure() {
    let fake = FakeApiServer::start().await.unwrap();
    let api = tinynodes(fake.client("flows"), "flows");
    within(async {
        // Server-side apply creates a missing object.
        let applied = api
            .patch(
                "a",
                &PatchParams::apply("test").force(),
                &Patch::Apply(json!({
                    "apiVersion": TINY, "kind": "TinyNode",
                    "metadata": {"name": "a", "labels": {"x": "1"}},
                    "spec": {"module": "m", "component": "c"}
                })),
            )
            .await
            .unwrap();
        assert_eq!(applied.metadata.generation, Some(1));
        let last = fake.requests().pop().unwrap();
        assert_eq!(last.status, 201);
        assert_eq!(
            last.content_type.as_deref(),
            Some("application/apply-patch+yaml")
        );
        assert!(last.query.contains("fieldManager=test") && last.query.contains("force=true"));

        // Applying again merges.
        let applied = api
            .patch(
                "a",
                &PatchParams::apply("test").force(),
                &Patch::Apply(json!({
                    "apiVersion": TINY, "kind": "TinyNode",
                    "metadata": {"name": "a"},
                    "spec": {"component": "d"}
                })),
            )
            .await
            .unwrap();
        assert_eq!(
            applied.data["spec"],
            json!({"module": "m", "component": "d"})
        );
        assert_eq!(applied.metadata.generation, Some(2));

        // Strategic merge is treated as a merge patch.
        let strategic = api
            .patch(
                "a",
                &PatchParams::default(),
                &Patch::Strategic(json!({"spec": {"module": null}})),
            )
            .await
            .unwrap();
        assert_eq!(strategic.data["spec"], json!({"component": "d"}));

        // JSON patch: a passing test applies, a failing test answers 422 and changes nothing.
        let ok: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/spec/component", "value": "d"},
            {"op": "replace", "path": "/spec/component", "value": "e"}
        ]))
        .unwrap();
        let patched = api
            .patch("a", &PatchParams::default(), &Patch::Json::<()>(ok))
            .await
            .unwrap();
        assert_eq!(patched.data["spec"]["component"], "e");
        let failing: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/spec/component", "value": "zzz"},
            {"op": "replace", "path": "/spec/component", "value": "f"}
        ]))
        .unwrap();
        let err = api
            .patch("a", &PatchParams::default(), &Patch::Json::<()>(failing))
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), Some((422, "Invalid".into())));
        assert_eq!(api.get("a").await.unwrap().data["spec"]["component"], "e");

        // A merge patch on a missing object is 404; a patch carrying a stale
        // resourceVersion is a conflict.
        let err = api
            .patch(
                "missing",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {}})),
            )
            .await
            .unwrap_err();
        assert_eq!(api_code(&err).map(|c| c.0), Some(404));
        let err = api
            .patch(
                "a",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"resourceVersion": "1"}, "spec": {"x": 1}})),
            )
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), Some((409, "Conflict".into())));

        // dryRun changes nothing.
        let rv = fake.resource_version();
        api.patch(
            "a",
            &PatchParams {
                dry_run: true,
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"spec": {"x": 2}})),
        )
        .await
        .unwrap();
        assert_eq!(fake.resource_version(), rv);
        assert!(api.get("a").await.unwrap().data["spec"].get("x").is_none());
    })
    .await;
}

#[derive(Debug)]
struct NoError;
impl std::fmt::Display for NoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no error")
    }
}
impl std::error::Error for NoError {}

#[tokio::test]
async fn finalizers_with_kube_runtime_helper() {
    let fake = FakeApiServer::start().await.unwrap();
    let api = tinynodes(fake.client("flows"), "flows");
    const FIN: &str = "operator.tinysystems.io/finalizer";
    within(async {
        api.create(&PostParams::default(), &tinynode("f", json!({}), None))
            .await
            .unwrap();

        // 1st reconcile: the helper adds the finalizer (JSON patch: test null + add).
        let obj = Arc::new(api.get("f").await.unwrap());
        finalizer(&api, FIN, obj, |_ev| async {
            Ok::<_, NoError>(Action::await_change())
        })
        .await
        .unwrap();
        let obj = api.get("f").await.unwrap();
        assert_eq!(obj.finalizers(), [FIN.to_string()]);
        assert_eq!(
            obj.metadata.generation,
            Some(1),
            "adding a finalizer is metadata-only"
        );

        // Delete: the object stays, with a deletionTimestamp.
        api.delete("f", &DeleteParams::default()).await.unwrap();
        let deleting = api.get("f").await.unwrap();
        assert!(deleting.metadata.deletion_timestamp.is_some());
        assert_eq!(deleting.metadata.generation, Some(2));
        // Deleting again changes nothing.
        let rv = fake.resource_version();
        api.delete("f", &DeleteParams::default()).await.unwrap();
        assert_eq!(fake.resource_version(), rv);

        // No new finalizers on an object being deleted.
        let err = api
            .patch(
                "f",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"finalizers": [FIN, "other/fin"]}})),
            )
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), Some((422, "Invalid".into())));

        // 2nd reconcile: Cleanup runs, the helper removes the finalizer, the object goes.
        let mut cleaned = false;
        finalizer(&api, FIN, Arc::new(deleting), |ev| {
            cleaned = matches!(ev, FinalizerEvent::Cleanup(_));
            async { Ok::<_, NoError>(Action::await_change()) }
        })
        .await
        .unwrap();
        assert!(cleaned);
        assert!(api.get_opt("f").await.unwrap().is_none());
        assert!(fake.get(TINY, "tinynodes", "flows", "f").is_none());

        // The finalizer helper's patches were JSON patches with a `test` op.
        let patches: Vec<_> = fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "PATCH" && r.path.ends_with("/tinynodes/f"))
            .collect();
        assert!(patches.iter().any(|r| r.content_type.as_deref()
            == Some("application/json-patch+json")
            && r.status == 200));

        // Direct delete respects finalizers too.
        fake.put(
            TINY,
            "tinynodes",
            "flows",
            json!({"metadata": {"name": "g", "finalizers": ["x/y"]}}),
        );
        assert!(fake.delete(TINY, "tinynodes", "flows", "g"));
        assert!(
            fake.get(TINY, "tinynodes", "flows", "g").unwrap()["metadata"]["deletionTimestamp"]
                .is_string()
        );
        api.patch(
            "g",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
        assert!(fake.get(TINY, "tinynodes", "flows", "g").is_none());
        assert!(!fake.delete(TINY, "tinynodes", "flows", "g"));
    })
    .await;
}

#[tokio::test]
async fn delete_preconditions_conflict() {
    let fake = FakeApiServer::start().await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(fake.client("ns"));
    within(async {
        let cm = api
            .create(&PostParams::default(), &configmap("p", &[]))
            .await
            .unwrap();
        let wrong_uid = DeleteParams {
            preconditions: Some(Preconditions {
                uid: Some("not-the-uid".into()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        let err = api.delete("p", &wrong_uid).await.unwrap_err();
        assert_eq!(api_code(&err), Some((409, "Conflict".into())));
        let stale_rv = DeleteParams {
            preconditions: Some(Preconditions {
                uid: None,
                resource_version: Some("1".into()),
            }),
            ..DeleteParams::default()
        };
        let err = api.delete("p", &stale_rv).await.unwrap_err();
        assert_eq!(api_code(&err), Some((409, "Conflict".into())));
        assert!(api.get_opt("p").await.unwrap().is_some());
        let right = DeleteParams {
            preconditions: Some(Preconditions {
                uid: cm.metadata.uid.clone(),
                resource_version: cm.metadata.resource_version.clone(),
            }),
            ..DeleteParams::default()
        };
        api.delete("p", &right).await.unwrap();
        assert!(api.get_opt("p").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn injected_faults_fail_exactly_times() {
    let fake = FakeApiServer::start().await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(fake.client("ns"));
    within(async {
        api.create(&PostParams::default(), &configmap("f", &[]))
            .await
            .unwrap();
        fake.clear_requests();
        fake.fail(
            Fault::new(500, "InternalError")
                .method("GET")
                .path_contains("/configmaps/f")
                .times(2),
        );
        fake.fail(
            Fault::new(409, "Conflict")
                .method("patch")
                .path_contains("/configmaps/"),
        );
        for _ in 0..2 {
            let err = api.get("f").await.unwrap_err();
            assert_eq!(api_code(&err), Some((500, "InternalError".into())));
        }
        api.get("f").await.unwrap();
        let err = api
            .patch(
                "f",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"k": "v"}})),
            )
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), Some((409, "Conflict".into())));
        api.patch(
            "f",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "v"}})),
        )
        .await
        .unwrap();
        assert!(fake.pending_faults().is_empty());
        let statuses: Vec<(String, u16)> = fake
            .requests()
            .into_iter()
            .map(|r| (r.method, r.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("GET".to_string(), 500),
                ("GET".to_string(), 500),
                ("GET".to_string(), 200),
                ("PATCH".to_string(), 409),
                ("PATCH".to_string(), 200)
            ]
        );

        // kube's default client retries 503 by itself: the caller sees success,
        // the fake saw the failures.
        fake.clear_requests();
        fake.fail(Fault::new(503, "ServiceUnavailable").method("GET").times(2));
        api.get("f").await.unwrap();
        let statuses: Vec<u16> = fake.requests().into_iter().map(|r| r.status).collect();
        assert_eq!(statuses, [503, 503, 200]);

        // Without kube's retry layer the 503 reaches the caller.
        let mut config = fake.config("ns", None);
        config.default_retry = false;
        let no_retry: Api<ConfigMap> = Api::default_namespaced(Client::try_from(config).unwrap());
        fake.fail(Fault::new(503, "ServiceUnavailable"));
        let err = no_retry.get("f").await.unwrap_err();
        assert_eq!(api_code(&err), Some((503, "ServiceUnavailable".into())));
    })
    .await;
}

#[tokio::test]
async fn requests_record_users() {
    let fake = FakeApiServer::start().await.unwrap();
    within(async {
        let a: Api<ConfigMap> = Api::default_namespaced(fake.client_as("ns", "replica-a"));
        let b: Api<ConfigMap> = Api::default_namespaced(fake.client_as("ns", "replica-b"));
        let anon: Api<ConfigMap> = Api::default_namespaced(fake.client("ns"));
        a.create(&PostParams::default(), &configmap("x", &[("k", "v")]))
            .await
            .unwrap();
        b.get("x").await.unwrap();
        anon.list(&ListParams::default()).await.unwrap();
        let reqs = fake.requests();
        assert_eq!(reqs.len(), 3);
        assert_eq!(reqs[0].user.as_deref(), Some("replica-a"));
        assert_eq!(reqs[0].method, "POST");
        assert_eq!(reqs[0].path, "/api/v1/namespaces/ns/configmaps");
        assert_eq!(reqs[0].status, 201);
        assert_eq!(reqs[0].content_type.as_deref(), Some("application/json"));
        assert_eq!(reqs[0].body.as_ref().unwrap()["data"]["k"], "v");
        assert_eq!(reqs[1].user.as_deref(), Some("replica-b"));
        assert_eq!(reqs[1].path, "/api/v1/namespaces/ns/configmaps/x");
        assert_eq!(reqs[2].user, None);
        assert!(!reqs[2].is_watch());

        // Faults can target one user.
        fake.fail(Fault::new(500, "InternalError").user("replica-b"));
        a.get("x").await.unwrap();
        assert!(b.get("x").await.is_err());
        fake.clear_requests();
        assert!(fake.requests().is_empty());
    })
    .await;
}

#[tokio::test]
async fn kubeconfig_file_works_for_another_client() {
    let fake = FakeApiServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&path, "tiny-ns", "operator-0")
        .unwrap();
    within(async {
        let kubeconfig = kube::config::Kubeconfig::read_from(&path).unwrap();
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(config.default_namespace, "tiny-ns");
        let client = Client::try_from(config).unwrap();
        let api: Api<ConfigMap> = Api::default_namespaced(client);
        api.create(&PostParams::default(), &configmap("from-kubeconfig", &[]))
            .await
            .unwrap();
        assert!(
            fake.get("v1", "configmaps", "tiny-ns", "from-kubeconfig")
                .is_some()
        );
        let req = fake.requests().pop().unwrap();
        assert_eq!(req.user.as_deref(), Some("operator-0"));

        // Discovery endpoints a process might probe.
        let version = api.clone().into_client().apiserver_version().await.unwrap();
        assert_eq!(version.major, "1");
    })
    .await;
}

#[tokio::test]
async fn leases_create_get_replace_with_conflicts() {
    let fake = FakeApiServer::start().await.unwrap();
    let api: Api<Lease> = Api::default_namespaced(fake.client_as("tiny", "leader-a"));
    within(async {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some("tinyhost-leader".into()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some("a".into()),
                lease_duration_seconds: Some(15),
                ..LeaseSpec::default()
            }),
        };
        let created = api.create(&PostParams::default(), &lease).await.unwrap();
        assert_eq!(
            fake.get(
                "coordination.k8s.io/v1",
                "leases",
                "tiny",
                "tinyhost-leader"
            )
            .unwrap()["kind"],
            "Lease"
        );
        let got = api.get("tinyhost-leader").await.unwrap();
        assert_eq!(
            got.spec.as_ref().unwrap().holder_identity.as_deref(),
            Some("a")
        );

        // Replica b takes over with the current resourceVersion.
        let b: Api<Lease> = Api::default_namespaced(fake.client_as("tiny", "leader-b"));
        let mut takeover = got.clone();
        takeover.spec.as_mut().unwrap().holder_identity = Some("b".into());
        b.replace("tinyhost-leader", &PostParams::default(), &takeover)
            .await
            .unwrap();

        // Replica a renews from its stale copy: conflict.
        let mut renew = created.clone();
        renew.spec.as_mut().unwrap().lease_duration_seconds = Some(30);
        let err = api
            .replace("tinyhost-leader", &PostParams::default(), &renew)
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), Some((409, "Conflict".into())));
        let now = api.get("tinyhost-leader").await.unwrap();
        assert_eq!(now.spec.unwrap().holder_identity.as_deref(), Some("b"));
    })
    .await;
}
