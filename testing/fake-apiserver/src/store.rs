//! The object store: every write path of the fake (HTTP and direct access) goes
//! through here so uid/resourceVersion/generation bookkeeping, status-subresource
//! rules, finalizers and watch events behave the same whichever way a test writes.
//!
//! The store is plain synchronous code behind a `std::sync::Mutex`; it never awaits.
//! Events are appended to a history (for watches that resume from a
//! resourceVersion) and broadcast while the lock is held, so a watch that
//! snapshots and subscribes under the same lock sees every later event exactly once.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use crate::error::ApiError;
use crate::resource::{self, ResourceType};
use crate::selector::Selector;
use crate::util::{Ids, now_rfc3339};

/// How many past events are kept for resuming watches; older ones count as compacted.
const MAX_HISTORY: usize = 100_000;
/// Live events buffered per watch before a slow watch is ended (it then resumes from history).
const BROADCAST_CAPACITY: usize = 16_384;

/// The type of a watch event as it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

/// One committed change, as kept in the history and broadcast to watches.
#[derive(Debug)]
pub(crate) struct StoredEvent {
    pub rv: u64,
    pub rt: ResourceType,
    pub namespace: String,
    pub event: EventType,
    /// The object after the change (for a delete: its last state, with the delete's resourceVersion).
    pub object: Value,
    /// The object before the change, for selector transitions of MODIFIED events.
    pub prev: Option<Value>,
}

impl StoredEvent {
    /// What a watch on `rt` (in `namespace`, or all namespaces) with `selector` should see
    /// of this event: nothing, or a typed event. A modification that moves an object into
    /// or out of the selector is reported as ADDED or DELETED, as the real server does.
    pub(crate) fn view(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Option<(&'static str, &Value)> {
        if &self.rt != rt || namespace.is_some_and(|ns| ns != self.namespace) {
            return None;
        }
        let now = selector.matches(&self.object);
        match self.event {
            EventType::Added => now.then_some(("ADDED", &self.object)),
            EventType::Deleted => now.then_some(("DELETED", &self.object)),
            EventType::Modified => {
                let before = self.prev.as_ref().is_some_and(|p| selector.matches(p));
                match (before, now) {
                    (true, true) => Some(("MODIFIED", &self.object)),
                    (false, true) => Some(("ADDED", &self.object)),
                    (true, false) => Some(("DELETED", &self.object)),
                    (false, false) => None,
                }
            }
        }
    }
}

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The main resource: for kinds with a status subresource, `status` is kept as stored.
    Main,
    /// The `/status` subresource: only `status` changes.
    Status,
    /// Direct store access from a test: the whole object, no concurrency check.
    Whole,
}

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WatchFrom {
    /// Synthetic ADDED events for every current object, then live events.
    Current,
    /// Replay of every event after this resourceVersion, then live events.
    Since(u64),
}

/// The starting point of a watch: the events to send first, the resourceVersion they
/// bring the client to, and a subscription for everything after it.
pub(crate) struct WatchStart {
    pub initial: Vec<Arc<StoredEvent>>,
    pub start_rv: u64,
    pub rx: broadcast::Receiver<Arc<StoredEvent>>,
}

/// Delete preconditions from a `DeleteOptions` body.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// All objects, the resourceVersion counter and the event history.
pub(crate) struct Store {
    rv: u64,
    objects: HashMap<ResourceType, BTreeMap<(String, String), Value>>,
    kinds: HashMap<ResourceType, String>,
    status_overrides: HashMap<ResourceType, bool>,
    seen: BTreeSet<ResourceType>,
    history: VecDeque<Arc<StoredEvent>>,
    compacted_rv: u64,
    tx: broadcast::Sender<Arc<StoredEvent>>,
    ids: Ids,
}

fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    meta(obj)
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    let map = match obj {
        Value::Object(map) => map,
        other => {
            *other = Value::Object(Map::new());
            match other {
                Value::Object(map) => map,
                _ => unreachable!("just assigned an object"),
            }
        }
    };
    let meta = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    match meta {
        Value::Object(m) => m,
        _ => unreachable!("ensured an object above"),
    }
}

fn finalizers(obj: &Value) -> Vec<String> {
    meta(obj)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The object without `metadata` and `status`: what `generation` tracks.
fn spec_part(obj: &Value) -> Value {
    let mut copy = obj.clone();
    if let Some(map) = copy.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
        map.remove("apiVersion");
        map.remove("kind");
    }
    copy
}

fn set_or_remove(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(v) if !v.is_null() => {
            map.insert(key.to_string(), v);
        }
        _ => {
            map.remove(key);
        }
    }
}

impl Store {
    /// An empty store at resourceVersion 1 (the real server never hands out 0).
    pub(crate) fn new() -> Self {
        let (tx, _) = broadcast::channel(BROADCAST_CAPACITY);
        Self {
            rv: 1,
            objects: HashMap::new(),
            kinds: HashMap::new(),
            status_overrides: HashMap::new(),
            seen: BTreeSet::new(),
            history: VecDeque::new(),
            compacted_rv: 0,
            tx,
            ids: Ids::new(),
        }
    }

    /// The latest resourceVersion handed out.
    pub(crate) fn current_rv(&self) -> u64 {
        self.rv
    }

    /// Whether writes to the main resource of `rt` ignore `status`.
    pub(crate) fn has_status_subresource(&self, rt: &ResourceType) -> bool {
        self.status_overrides
            .get(rt)
            .copied()
            .unwrap_or_else(|| resource::built_in(rt).is_some_and(|b| b.status_subresource))
    }

    /// Turns the status subresource of `rt` on or off.
    pub(crate) fn set_status_subresource(&mut self, rt: ResourceType, enabled: bool) {
        self.status_overrides.insert(rt, enabled);
    }

    /// The kind of `rt`: as registered by a stored object, else from the built-in table.
    pub(crate) fn kind_of(&self, rt: &ResourceType) -> String {
        self.kinds
            .get(rt)
            .cloned()
            .or_else(|| resource::built_in(rt).map(|b| b.kind.to_string()))
            .unwrap_or_else(|| resource::default_kind(&rt.plural))
    }

    /// Records that a request addressed `rt`, for discovery.
    pub(crate) fn touch(&mut self, rt: &ResourceType) {
        if !self.seen.contains(rt) {
            self.seen.insert(rt.clone());
        }
    }

    /// Every type seen so far plus the built-in ones.
    pub(crate) fn known_types(&self) -> BTreeSet<ResourceType> {
        let mut all = self.seen.clone();
        all.extend(self.objects.keys().cloned());
        all.extend(
            resource::BUILT_INS
                .iter()
                .map(|b| ResourceType::new(b.api_version, b.plural)),
        );
        all
    }

    /// One object.
    pub(crate) fn get(&self, rt: &ResourceType, ns: &str, name: &str) -> Option<Value> {
        self.objects
            .get(rt)
            .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
            .cloned()
    }

    /// Objects of `rt` in `ns` (or every namespace), sorted by namespace and name.
    pub(crate) fn list(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        selector: &Selector,
    ) -> Vec<Value> {
        self.objects
            .get(rt)
            .map(|m| {
                m.iter()
                    .filter(|((obj_ns, _), _)| ns.is_none_or(|ns| ns == obj_ns))
                    .filter(|(_, obj)| selector.matches(obj))
                    .map(|(_, obj)| obj.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn commit(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        event: EventType,
        object: Value,
        prev: Option<Value>,
    ) {
        let name = meta_str(&object, "name").unwrap_or_default().to_string();
        let key = (ns.to_string(), name);
        let objects = self.objects.entry(rt.clone()).or_default();
        if event == EventType::Deleted {
            objects.remove(&key);
        } else {
            objects.insert(key, object.clone());
        }
        let ev = Arc::new(StoredEvent {
            rv: self.rv,
            rt: rt.clone(),
            namespace: ns.to_string(),
            event,
            object,
            prev,
        });
        self.history.push_back(ev.clone());
        while self.history.len() > MAX_HISTORY {
            if let Some(old) = self.history.pop_front() {
                self.compacted_rv = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(ev);
    }

    /// Fills the fields the server owns on a new object.
    fn prepare_new(&mut self, rt: &ResourceType, ns: &str, name: &str, obj: &mut Value) {
        if let Some(kind) = obj
            .get("kind")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
        {
            self.kinds
                .entry(rt.clone())
                .or_insert_with(|| kind.to_string());
        }
        let kind = self.kind_of(rt);
        if let Some(map) = obj.as_object_mut() {
            map.insert("apiVersion".into(), json!(rt.api_version));
            map.insert("kind".into(), json!(kind));
        }
        let uid = self.ids.uid();
        let m = meta_mut(obj);
        m.insert("name".into(), json!(name));
        set_or_remove(m, "namespace", (!ns.is_empty()).then(|| json!(ns)));
        m.insert("uid".into(), json!(uid));
        m.insert("creationTimestamp".into(), json!(now_rfc3339()));
        m.insert("generation".into(), json!(1));
        m.remove("deletionTimestamp");
        m.remove("deletionGracePeriodSeconds");
        m.remove("resourceVersion");
        if m.get("finalizers")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            m.remove("finalizers");
        }
    }

    /// Creates an object (POST, server-side apply of a missing object, or a direct put).
    pub(crate) fn create(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        mut obj: Value,
        part: Part,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the request body must be a JSON object",
            ));
        }
        if let Some(body_ns) = meta_str(&obj, "namespace")
            && !ns.is_empty()
            && body_ns != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let name = match (meta_str(&obj, "name"), meta_str(&obj, "generateName")) {
            (Some(name), _) => name.to_string(),
            (None, Some(prefix)) => {
                let prefix = prefix.to_string();
                loop {
                    let candidate = format!("{prefix}{}", self.ids.name_suffix());
                    if self.get(rt, ns, &candidate).is_none() {
                        break candidate;
                    }
                }
            }
            (None, None) => {
                return Err(ApiError::invalid(
                    rt,
                    "",
                    "metadata.name: Required value: name or generateName is required",
                ));
            }
        };
        if self.get(rt, ns, &name).is_some() {
            return Err(ApiError::already_exists(rt, &name));
        }
        if part != Part::Whole
            && self.has_status_subresource(rt)
            && let Some(map) = obj.as_object_mut()
        {
            map.remove("status");
        }
        self.prepare_new(rt, ns, &name, &mut obj);
        if dry_run {
            return Ok(obj);
        }
        let rv = self.next_rv();
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
        self.commit(rt, ns, EventType::Added, obj.clone(), None);
        Ok(obj)
    }

    /// Updates an existing object: `compute` turns the stored object into the requested
    /// one (PUT: the body; PATCH: the patched object), then the server's rules apply.
    pub(crate) fn update(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        part: Part,
        dry_run: bool,
        compute: impl FnOnce(&Value) -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        let current = self
            .get(rt, ns, name)
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        let candidate = compute(&current)?;
        if !candidate.is_object() {
            return Err(ApiError::bad_request(
                "the request body must be a JSON object",
            ));
        }
        let current_rv = meta_str(&current, "resourceVersion")
            .unwrap_or_default()
            .to_string();
        if part != Part::Whole
            && let Some(rv) = meta_str(&candidate, "resourceVersion")
            && rv != current_rv
        {
            return Err(ApiError::conflict(rt, name));
        }
        if let Some(body_name) = meta_str(&candidate, "name")
            && body_name != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if let Some(body_ns) = meta_str(&candidate, "namespace")
            && !ns.is_empty()
            && body_ns != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }

        let mut result = match part {
            Part::Status => {
                let mut r = current.clone();
                if let Some(map) = r.as_object_mut() {
                    set_or_remove(map, "status", candidate.get("status").cloned());
                }
                r
            }
            Part::Main => {
                let mut r = candidate;
                if self.has_status_subresource(rt)
                    && let Some(map) = r.as_object_mut()
                {
                    set_or_remove(map, "status", current.get("status").cloned());
                }
                r
            }
            Part::Whole => candidate,
        };

        // Fields only the server sets.
        if let (Some(map), Some(cur)) = (result.as_object_mut(), current.as_object()) {
            for key in ["apiVersion", "kind"] {
                set_or_remove(map, key, cur.get(key).cloned());
            }
        }
        let cur_meta = meta(&current).cloned().unwrap_or_default();
        {
            let m = meta_mut(&mut result);
            for key in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "resourceVersion",
            ] {
                set_or_remove(m, key, cur_meta.get(key).cloned());
            }
            m.insert("name".into(), json!(name));
            set_or_remove(m, "namespace", (!ns.is_empty()).then(|| json!(ns)));
            if m.get("finalizers")
                .is_some_and(|f| f.is_null() || f.as_array().is_some_and(Vec::is_empty))
            {
                m.remove("finalizers");
            }
        }

        let deleting = cur_meta.contains_key("deletionTimestamp");
        let old_finalizers = finalizers(&current);
        let new_finalizers = finalizers(&result);
        if deleting && let Some(added) = new_finalizers.iter().find(|f| !old_finalizers.contains(f))
        {
            return Err(ApiError::invalid(
                rt,
                name,
                format!(
                    "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers [\"{added}\"]"
                ),
            ));
        }

        if spec_part(&result) != spec_part(&current) {
            let generation = cur_meta
                .get("generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut result).insert("generation".into(), json!(generation + 1));
        }

        if result == current {
            // A no-op write: the real server neither bumps resourceVersion nor emits an event.
            return Ok(current);
        }
        if dry_run {
            return Ok(result);
        }
        let rv = self.next_rv();
        meta_mut(&mut result).insert("resourceVersion".into(), json!(rv.to_string()));
        let event = if deleting && new_finalizers.is_empty() {
            EventType::Deleted
        } else {
            EventType::Modified
        };
        self.commit(rt, ns, event, result.clone(), Some(current));
        Ok(result)
    }

    /// Deletes an object, or marks it for deletion while it has finalizers.
    pub(crate) fn delete(
        &mut self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        preconditions: &Preconditions,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let current = self
            .get(rt, ns, name)
            .ok_or_else(|| ApiError::not_found(rt, name))?;
        let uid = meta_str(&current, "uid").unwrap_or_default();
        if let Some(want) = &preconditions.uid
            && want != uid
        {
            return Err(ApiError::precondition_failed(
                rt,
                name,
                format!("UID in precondition: {want}, UID in object meta: {uid}"),
            ));
        }
        let rv = meta_str(&current, "resourceVersion").unwrap_or_default();
        if let Some(want) = &preconditions.resource_version
            && want != rv
        {
            return Err(ApiError::precondition_failed(
                rt,
                name,
                format!(
                    "ResourceVersion in precondition: {want}, ResourceVersion in object meta: {rv}"
                ),
            ));
        }
        if !finalizers(&current).is_empty() {
            if meta(&current).is_some_and(|m| m.contains_key("deletionTimestamp")) {
                return Ok(current);
            }
            let mut result = current.clone();
            let generation = meta(&current)
                .and_then(|m| m.get("generation"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            {
                let m = meta_mut(&mut result);
                m.insert("deletionTimestamp".into(), json!(now_rfc3339()));
                m.insert("deletionGracePeriodSeconds".into(), json!(0));
                m.insert("generation".into(), json!(generation + 1));
            }
            if dry_run {
                return Ok(result);
            }
            let rv = self.next_rv();
            meta_mut(&mut result).insert("resourceVersion".into(), json!(rv.to_string()));
            self.commit(rt, ns, EventType::Modified, result.clone(), Some(current));
            return Ok(result);
        }
        if dry_run {
            return Ok(current);
        }
        let mut result = current.clone();
        let rv = self.next_rv();
        meta_mut(&mut result).insert("resourceVersion".into(), json!(rv.to_string()));
        self.commit(rt, ns, EventType::Deleted, result.clone(), Some(current));
        Ok(result)
    }

    /// Forgets the event history: watches from an older resourceVersion get 410 Expired.
    pub(crate) fn expire_history(&mut self) {
        self.history.clear();
        self.compacted_rv = self.rv;
    }

    /// Starts a watch: computes what to send first and subscribes to what follows,
    /// atomically with respect to writes.
    pub(crate) fn watch(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        from: WatchFrom,
    ) -> Result<WatchStart, ApiError> {
        let rx = self.tx.subscribe();
        match from {
            WatchFrom::Current => {
                let initial = self
                    .objects
                    .get(rt)
                    .map(|m| {
                        m.iter()
                            .filter(|((obj_ns, _), _)| ns.is_none_or(|ns| ns == obj_ns))
                            .map(|((obj_ns, _), obj)| {
                                Arc::new(StoredEvent {
                                    rv: self.rv,
                                    rt: rt.clone(),
                                    namespace: obj_ns.clone(),
                                    event: EventType::Added,
                                    object: obj.clone(),
                                    prev: None,
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(WatchStart {
                    initial,
                    start_rv: self.rv,
                    rx,
                })
            }
            WatchFrom::Since(since) => {
                if since < self.compacted_rv {
                    return Err(ApiError::expired(since, self.compacted_rv));
                }
                let initial = self
                    .history
                    .iter()
                    .filter(|ev| ev.rv > since)
                    .cloned()
                    .collect();
                Ok(WatchStart {
                    initial,
                    start_rv: since.max(self.rv),
                    rx,
                })
            }
        }
    }
}
