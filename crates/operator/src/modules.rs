//! TinyModules: how modules find each other. The leader creates its module's TinyModule
//! and reports, through the status subresource, the gRPC address other modules dial and
//! the components it serves. Every replica watches all TinyModules of the namespace and
//! keeps the address table cross-module calls resolve against.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::context::{Context, stopped};
use crate::crd::{self, ModuleComponentStatus, ModulePortStatus, TinyModule, TinyModuleSpec};
use crate::error::ReconcileError;
use tinyhost_flow::manifest::{self, JsonBytes};
use tinyhost_flow::status::{HIDDEN_PORTS, position_number};

/// The table key and address a TinyModule object contributes.
fn peer_entry(object: &DynamicObject) -> (String, Option<String>) {
    let key = manifest::sanitize_name(&object.name_any());
    let address = object
        .data
        .pointer("/status/addr")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .map(str::to_string);
    (key, address)
}

/// Keeps [`Context::peers`] in step with the namespace's TinyModules.
pub(crate) async fn watch_peers(context: Arc<Context>, shutdown: watch::Receiver<bool>) {
    let resource = ApiResource::erase::<TinyModule>(&());
    let api: Api<DynamicObject> =
        Api::namespaced_with(context.client.clone(), &context.config.namespace, &resource);
    let peers = context.peers.clone();
    let readiness = context.readiness.clone();
    let mut relist: Option<HashMap<String, String>> = None;
    let work = watcher(api, watcher::Config::default())
        .default_backoff()
        .for_each(|event| {
            match event {
                Ok(watcher::Event::Init) => relist = Some(HashMap::new()),
                Ok(watcher::Event::InitApply(object)) => {
                    if let (Some(table), (key, Some(address))) =
                        (relist.as_mut(), peer_entry(&object))
                    {
                        table.insert(key, address);
                    }
                }
                Ok(watcher::Event::InitDone) => {
                    peers.replace(relist.take().unwrap_or_default());
                    readiness.modules_listed();
                }
                Ok(watcher::Event::Apply(object)) => {
                    let (key, address) = peer_entry(&object);
                    peers.set(key, address);
                }
                Ok(watcher::Event::Delete(object)) => peers.set(peer_entry(&object).0, None),
                Err(e) => tracing::warn!(error = %e, "TinyModule watch failed; retrying"),
            }
            futures::future::ready(())
        });
    tokio::select! {
        _ = work => {}
        _ = stopped(shutdown) => {}
    }
}

/// While leading: keeps the module's TinyModule present and its status current, every
/// `requeue_after` and whenever leadership is gained; retries failures with backoff.
pub(crate) async fn report_module(context: Arc<Context>, shutdown: watch::Receiver<bool>) {
    let mut leader = context.leader.clone();
    let work = async {
        let mut failures = 0u32;
        loop {
            if leader.wait_for(|l| *l).await.is_err() {
                return;
            }
            let wait = match ensure_module(&context).await {
                Ok(()) => {
                    failures = 0;
                    context.config.requeue_after
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let delay = Duration::from_millis(500 * (1u64 << failures.min(9)))
                        .min(Duration::from_secs(60));
                    tracing::warn!(error = %e, retry_in = ?delay, "cannot report the module");
                    delay
                }
            };
            // Sleep, but start over at once when leadership is lost and regained.
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = leader.wait_for(|l| !*l) => {}
            }
        }
    };
    tokio::select! {
        _ = work => {}
        _ = stopped(shutdown) => {}
    }
}

/// Creates the TinyModule if missing, records the image, and writes the status.
async fn ensure_module(context: &Context) -> Result<(), ReconcileError> {
    let config = &context.config;
    let api: Api<TinyModule> = Api::namespaced(context.client.clone(), &config.namespace);
    let name = config.module_key();
    let existing = match api.get_opt(&name).await? {
        Some(module) => module,
        None => {
            let module = TinyModule {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    ..ObjectMeta::default()
                },
                spec: TinyModuleSpec {
                    image: config.image.clone(),
                },
                status: None,
            };
            match api.create(&PostParams::default(), &module).await {
                Ok(created) => created,
                Err(kube::Error::Api(e)) if e.code == 409 => api.get(&name).await?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    if !config.image.is_empty() && existing.spec.image != config.image {
        api.patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"image": config.image}})),
        )
        .await?;
    }
    let status = crd::TinyModuleStatus {
        addr: config.advertise_addr.clone(),
        name: config.module.clone(),
        version: config.version.clone(),
        sdk_version: String::new(),
        components: components(context),
    };
    if existing.status.as_ref() == Some(&status) && existing.meta().deletion_timestamp.is_none() {
        return Ok(());
    }
    api.patch_status(
        &name,
        &PatchParams::default(),
        &crate::controller::replace_status(&status)?,
    )
    .await?;
    tracing::info!(module = %name, addr = %config.advertise_addr, "module reported");
    Ok(())
}

/// The loaded components in TinyModule status form.
fn components(context: &Context) -> Vec<ModuleComponentStatus> {
    context
        .runtime
        .registry()
        .entries()
        .map(|c| ModuleComponentStatus {
            name: c.info.name.clone(),
            description: c.info.description.clone(),
            info: c.info.info.clone(),
            tags: c.info.tags.clone(),
            ports: c
                .default_ports
                .iter()
                .filter(|p| !HIDDEN_PORTS.contains(&p.name.as_str()))
                .map(|p| ModulePortStatus {
                    name: p.name.clone(),
                    label: p.label.clone(),
                    source: p.source,
                    position: i32::from(position_number(p.position)),
                    schema: p
                        .schema
                        .as_deref()
                        .and_then(|s| serde_json::from_str(s).ok())
                        .map(JsonBytes),
                })
                .collect(),
        })
        .collect()
}
