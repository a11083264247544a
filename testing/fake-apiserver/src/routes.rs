//! The HTTP side: turns a request into a store operation and the result into the
//! response kube-rs expects. One fallback handler parses the path itself, because
//! the fake serves any group/version/plural rather than a fixed route table.
//!
//! Order of checks for every request: outage (`set_down`) → injected faults →
//! routing. Every request is recorded with the status it was answered.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::faults::{RecordedRequest, take_fault};
use crate::patch::{self, PatchFailure, PatchKind};
use crate::resource::{self, ResourceType};
use crate::selector::Selector;
use crate::shared::Shared;
use crate::store::{Part, Preconditions, WatchFrom};
use crate::util::lock;
use crate::watch::{self, WatchFilter, WatchGuard, partial_object_metadata};

/// Request bodies larger than this are refused (the real server's limit is 3 MiB per object).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// What a handler answers.
enum Reply {
    Json(u16, Value),
    Text(u16, &'static str),
    Stream(Body),
}

impl From<ApiError> for Reply {
    fn from(err: ApiError) -> Self {
        Reply::Json(err.code, err.to_status())
    }
}

impl Reply {
    fn status(&self) -> u16 {
        match self {
            Reply::Json(code, _) | Reply::Text(code, _) => *code,
            Reply::Stream(_) => 200,
        }
    }

    fn into_response(self) -> Response {
        let code = |c: u16| StatusCode::from_u16(c).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match self {
            Reply::Json(c, v) => (
                code(c),
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::to_vec(&v).unwrap_or_default(),
            )
                .into_response(),
            Reply::Text(c, t) => {
                (code(c), [(header::CONTENT_TYPE, "text/plain")], t).into_response()
            }
            Reply::Stream(body) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response(),
        }
    }
}

/// The parts of a request the routes look at.
struct Ctx {
    method: String,
    path: String,
    params: Vec<(String, String)>,
    content_type: Option<String>,
    meta_only: bool,
    body: Option<Value>,
    body_is_invalid: bool,
}

impl Ctx {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("true" | "1"))
    }

    fn dry_run(&self) -> bool {
        self.param("dryRun") == Some("All")
    }

    /// The JSON body, or 400 if it is missing or not JSON.
    fn json_body(&self) -> Result<&Value, ApiError> {
        match &self.body {
            Some(v) => Ok(v),
            None if self.body_is_invalid => Err(ApiError::bad_request(
                "the request body is not valid JSON (this fake accepts JSON bodies only)",
            )),
            None => Err(ApiError::bad_request("a request body is required")),
        }
    }
}

/// The user a request is recorded as: its bearer token.
fn user_of(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The single handler behind every path.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_ascii_uppercase();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let header_str = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header_str(header::CONTENT_TYPE);
    let meta_only =
        header_str(header::ACCEPT).is_some_and(|a| a.contains("as=PartialObjectMetadata"));
    let user = user_of(&parts.headers);

    let (body, body_is_invalid, read_error) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) if bytes.is_empty() => (None, false, None),
        Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => (Some(v), false, None),
            Err(_) => (None, true, None),
        },
        Err(err) => (
            None,
            true,
            Some(ApiError::new(
                413,
                "RequestEntityTooLarge",
                format!("could not read the request body: {err}"),
            )),
        ),
    };
    let params = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri).map(|q| q.0);

    let reply: Reply = if shared.unavailable() {
        ApiError::unavailable().into()
    } else if let Some((code, reason)) = take_fault(
        &mut lock(&shared.faults),
        user.as_deref(),
        &method,
        &path,
        &query,
    ) {
        ApiError::new(code, &reason, format!("injected fault: {code} {reason}")).into()
    } else if let Some(err) = read_error {
        err.into()
    } else {
        match params {
            Err(err) => ApiError::bad_request(format!("invalid query string: {err}")).into(),
            Ok(params) => {
                let ctx = Ctx {
                    method: method.clone(),
                    path: path.clone(),
                    params,
                    content_type: content_type.clone(),
                    meta_only,
                    body: body.clone(),
                    body_is_invalid,
                };
                route(&shared, &ctx).unwrap_or_else(Reply::from)
            }
        }
    };

    lock(&shared.requests).push(RecordedRequest {
        user,
        method,
        path,
        query,
        content_type,
        body,
        status: reply.status(),
    });
    reply.into_response()
}

/// Which object(s) a resource path names.
#[derive(Debug, PartialEq)]
enum Target {
    /// `.../{plural}` (ns None: all namespaces or cluster scope) or `.../namespaces/{ns}/{plural}`.
    Collection { ns: Option<String> },
    /// One object; `ns` is "" for cluster-scoped objects.
    Item {
        ns: String,
        name: String,
        sub: Option<String>,
    },
}

fn parse_target<'a>(rest: &[&'a str]) -> Option<(&'a str, Target)> {
    let item = |ns: &str, name: &str, sub: Option<&str>| Target::Item {
        ns: ns.to_string(),
        name: name.to_string(),
        sub: sub.map(str::to_string),
    };
    match rest {
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            match tail {
                [] => Some((
                    plural,
                    Target::Collection {
                        ns: Some(ns.to_string()),
                    },
                )),
                [name] => Some((plural, item(ns, name, None))),
                [name, sub] => Some((plural, item(ns, name, Some(sub)))),
                _ => None,
            }
        }
        [plural] => Some((plural, Target::Collection { ns: None })),
        [plural, name] => Some((plural, item("", name, None))),
        [plural, name, sub] => Some((plural, item("", name, Some(sub)))),
        _ => None,
    }
}

fn not_found_path() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

fn route(shared: &Arc<Shared>, ctx: &Ctx) -> Result<Reply, ApiError> {
    let segs: Vec<&str> = ctx.path.split('/').filter(|s| !s.is_empty()).collect();
    let is_get = ctx.method == "GET";
    match segs.as_slice() {
        ["version"] if is_get => Ok(Reply::Json(200, version())),
        ["healthz" | "livez" | "readyz"] if is_get => Ok(Reply::Text(200, "ok")),
        ["api"] if is_get => Ok(Reply::Json(
            200,
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
        )),
        ["apis"] if is_get => Ok(Reply::Json(200, group_list(shared))),
        ["apis", group] if is_get => group_list(shared)["groups"]
            .as_array()
            .and_then(|gs| gs.iter().find(|g| g["name"] == *group))
            .map(|g| {
                let mut g = g.clone();
                g["kind"] = json!("APIGroup");
                g["apiVersion"] = json!("v1");
                Reply::Json(200, g)
            })
            .ok_or_else(not_found_path),
        ["api", "v1"] if is_get => resource_list(shared, "v1"),
        ["apis", group, version] if is_get => resource_list(shared, &format!("{group}/{version}")),
        ["api", version, rest @ ..] => resource(shared, ctx, version, rest),
        ["apis", group, version, rest @ ..] => {
            resource(shared, ctx, &format!("{group}/{version}"), rest)
        }
        _ => Err(not_found_path()),
    }
}

fn resource(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    api_version: &str,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    let (plural, target) = parse_target(rest).ok_or_else(not_found_path)?;
    let rt = ResourceType::new(api_version, plural);
    lock(&shared.store).touch(&rt);
    let method = ctx.method.as_str();
    match target {
        Target::Collection { ns } => match method {
            "GET" if ctx.flag("watch") => start_watch(shared, ctx, &rt, ns, None),
            "GET" => list(shared, ctx, &rt, ns.as_deref()),
            "POST" => {
                let body = ctx.json_body()?.clone();
                let ns = ns.unwrap_or_default();
                let created =
                    lock(&shared.store).create(&rt, &ns, body, Part::Main, ctx.dry_run())?;
                Ok(Reply::Json(201, shape(ctx, created)))
            }
            "DELETE" => delete_collection(shared, ctx, &rt, ns.as_deref()),
            other => Err(ApiError::method_not_allowed(other)),
        },
        Target::Item { ns, name, sub } => {
            let part = match sub.as_deref() {
                None => Part::Main,
                Some("status") if lock(&shared.store).has_status_subresource(&rt) => Part::Status,
                Some(_) => return Err(not_found_path()),
            };
            match method {
                "GET" if ctx.flag("watch") && part == Part::Main => {
                    let ns = (!ns.is_empty()).then_some(ns);
                    start_watch(shared, ctx, &rt, ns, Some(&name))
                }
                "GET" => lock(&shared.store)
                    .get(&rt, &ns, &name)
                    .map(|obj| Reply::Json(200, shape(ctx, obj)))
                    .ok_or_else(|| ApiError::not_found(&rt, &name)),
                "PUT" => {
                    let body = ctx.json_body()?.clone();
                    let updated =
                        lock(&shared.store)
                            .update(&rt, &ns, &name, part, ctx.dry_run(), |_| Ok(body))?;
                    Ok(Reply::Json(200, shape(ctx, updated)))
                }
                "PATCH" => patch_item(shared, ctx, &rt, &ns, &name, part),
                "DELETE" if part == Part::Main => {
                    let (preconditions, dry_run) = delete_options(ctx);
                    let deleted =
                        lock(&shared.store).delete(&rt, &ns, &name, &preconditions, dry_run)?;
                    Ok(Reply::Json(200, shape(ctx, deleted)))
                }
                other => Err(ApiError::method_not_allowed(other)),
            }
        }
    }
}

/// The object as the client asked for it: whole, or metadata only.
fn shape(ctx: &Ctx, obj: Value) -> Value {
    if ctx.meta_only {
        partial_object_metadata(&obj)
    } else {
        obj
    }
}

fn selector(ctx: &Ctx) -> Result<Selector, ApiError> {
    Selector::parse(ctx.param("labelSelector"), ctx.param("fieldSelector"))
}

fn list(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    rt: &ResourceType,
    ns: Option<&str>,
) -> Result<Reply, ApiError> {
    let selector = selector(ctx)?;
    let (items, rv, kind) = {
        let store = lock(&shared.store);
        (
            store.list(rt, ns, &selector),
            store.current_rv(),
            store.kind_of(rt),
        )
    };
    let metadata = json!({"resourceVersion": rv.to_string()});
    let body = if ctx.meta_only {
        json!({
            "apiVersion": "meta.k8s.io/v1",
            "kind": "PartialObjectMetadataList",
            "metadata": metadata,
            "items": items.iter().map(partial_object_metadata).collect::<Vec<_>>(),
        })
    } else {
        json!({
            "apiVersion": rt.api_version,
            "kind": format!("{kind}List"),
            "metadata": metadata,
            "items": items,
        })
    };
    Ok(Reply::Json(200, body))
}

fn delete_options(ctx: &Ctx) -> (Preconditions, bool) {
    let body = ctx.body.as_ref();
    let pre = body.and_then(|b| b.get("preconditions"));
    let field = |name: &str| {
        pre.and_then(|p| p.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let preconditions = Preconditions {
        uid: field("uid"),
        resource_version: field("resourceVersion"),
    };
    let body_dry_run = body
        .and_then(|b| b.get("dryRun"))
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "All"));
    (preconditions, body_dry_run || ctx.dry_run())
}

fn delete_collection(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    rt: &ResourceType,
    ns: Option<&str>,
) -> Result<Reply, ApiError> {
    let selector = selector(ctx)?;
    let (preconditions, dry_run) = delete_options(ctx);
    let mut store = lock(&shared.store);
    let targets = store.list(rt, ns, &selector);
    let mut items = Vec::new();
    for obj in targets {
        let obj_ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        items.push(shape(
            ctx,
            store.delete(rt, obj_ns, name, &preconditions, dry_run)?,
        ));
    }
    let kind = store.kind_of(rt);
    let rv = store.current_rv();
    Ok(Reply::Json(
        200,
        json!({
            "apiVersion": rt.api_version,
            "kind": format!("{kind}List"),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": items,
        }),
    ))
}

fn patch_item(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    part: Part,
) -> Result<Reply, ApiError> {
    let content_type = ctx.content_type.as_deref().unwrap_or("");
    let kind = PatchKind::from_content_type(content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(content_type))?;
    let body = ctx.json_body()?;
    let to_error = |failure: PatchFailure| match failure {
        PatchFailure::Malformed(msg) => ApiError::bad_request(msg),
        PatchFailure::Failed(msg) => ApiError::invalid(rt, name, msg),
    };
    let mut store = lock(&shared.store);
    if kind == PatchKind::Apply && part == Part::Main && store.get(rt, ns, name).is_none() {
        // Server-side apply creates what does not exist yet.
        let mut obj = patch::apply(kind, &json!({}), body).map_err(to_error)?;
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("name".into(), json!(name));
        } else if let Some(map) = obj.as_object_mut() {
            map.insert("metadata".into(), json!({"name": name}));
        }
        let created = store.create(rt, ns, obj, Part::Main, ctx.dry_run())?;
        return Ok(Reply::Json(201, shape(ctx, created)));
    }
    let updated = store.update(rt, ns, name, part, ctx.dry_run(), |current| {
        patch::apply(kind, current, body).map_err(to_error)
    })?;
    Ok(Reply::Json(200, shape(ctx, updated)))
}

fn start_watch(
    shared: &Arc<Shared>,
    ctx: &Ctx,
    rt: &ResourceType,
    ns: Option<String>,
    name: Option<&str>,
) -> Result<Reply, ApiError> {
    let mut selector = selector(ctx)?;
    if let Some(name) = name {
        selector = Selector::parse(
            ctx.param("labelSelector"),
            Some(&match ctx.param("fieldSelector") {
                Some(f) if !f.is_empty() => format!("{f},metadata.name={name}"),
                _ => format!("metadata.name={name}"),
            }),
        )?;
    }
    let send_initial_events = ctx.flag("sendInitialEvents");
    let from = if send_initial_events {
        WatchFrom::Current
    } else {
        match ctx.param("resourceVersion") {
            None | Some("" | "0") => WatchFrom::Current,
            Some(rv) => WatchFrom::Since(rv.parse().map_err(|_| {
                ApiError::bad_request(format!(
                    "invalid resourceVersion {rv:?}: expected an integer"
                ))
            })?),
        }
    };
    let timeout = match ctx.param("timeoutSeconds") {
        None | Some("" | "0") => None,
        Some(t) => Some(Duration::from_secs(t.parse().map_err(|_| {
            ApiError::bad_request(format!("invalid timeoutSeconds {t:?}"))
        })?)),
    };
    // Subscribe to "end all watches" before taking the snapshot, so that a
    // drop_watches/set_down racing with this request still ends it.
    let epoch = shared.epoch.subscribe();
    let (start, kind) = {
        let store = lock(&shared.store);
        (store.watch(rt, ns.as_deref(), from), store.kind_of(rt))
    };
    if shared.unavailable() {
        return Err(ApiError::unavailable());
    }
    let start = match start {
        Ok(start) => start,
        // Like the real server: the watch is accepted, then fails with an ERROR event.
        Err(err) if err.code == 410 => return Ok(Reply::Stream(watch::error_body(&err))),
        Err(err) => return Err(err),
    };
    let filter = WatchFilter {
        rt: rt.clone(),
        namespace: ns,
        selector,
        kind,
        bookmarks: ctx.flag("allowWatchBookmarks"),
        meta_only: ctx.meta_only,
    };
    let guard = WatchGuard::new(shared.open_watches.clone());
    Ok(Reply::Stream(watch::stream_body(
        filter,
        start,
        send_initial_events,
        timeout,
        epoch,
        guard,
    )))
}

fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-tinyhost-fake",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn group_list(shared: &Arc<Shared>) -> Value {
    let types = lock(&shared.store).known_types();
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for rt in types.iter().filter(|rt| !rt.group().is_empty()) {
        let version = json!({"groupVersion": rt.api_version, "version": rt.version()});
        match groups.iter_mut().find(|(g, _)| g == rt.group()) {
            Some((_, versions)) if !versions.contains(&version) => versions.push(version),
            Some(_) => {}
            None => groups.push((rt.group().to_string(), vec![version])),
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(name, versions)| {
            let preferred = versions.first().cloned().unwrap_or(Value::Null);
            json!({"name": name, "versions": versions, "preferredVersion": preferred})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(shared: &Arc<Shared>, api_version: &str) -> Result<Reply, ApiError> {
    let store = lock(&shared.store);
    let mut resources = Vec::new();
    for rt in store
        .known_types()
        .iter()
        .filter(|rt| rt.api_version == api_version)
    {
        let kind = store.kind_of(rt);
        let namespaced = resource::built_in(rt).is_none_or(|b| b.namespaced);
        resources.push(json!({
            "name": rt.plural,
            "singularName": kind.to_lowercase(),
            "namespaced": namespaced,
            "kind": kind,
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        }));
        if store.has_status_subresource(rt) {
            resources.push(json!({
                "name": format!("{}/status", rt.plural),
                "singularName": "",
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if resources.is_empty() {
        return Err(not_found_path());
    }
    Ok(Reply::Json(
        200,
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": api_version, "resources": resources}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            parse_target(&["namespaces", "ns", "tinynodes"]),
            Some((
                "tinynodes",
                Target::Collection {
                    ns: Some("ns".into())
                }
            ))
        );
        assert_eq!(
            parse_target(&["namespaces", "ns", "tinynodes", "a", "status"]),
            Some((
                "tinynodes",
                Target::Item {
                    ns: "ns".into(),
                    name: "a".into(),
                    sub: Some("status".into())
                }
            ))
        );
        assert_eq!(
            parse_target(&["tinynodes"]),
            Some(("tinynodes", Target::Collection { ns: None }))
        );
        assert_eq!(
            parse_target(&["namespaces", "ns"]),
            Some((
                "namespaces",
                Target::Item {
                    ns: String::new(),
                    name: "ns".into(),
                    sub: None
                }
            ))
        );
        assert_eq!(
            parse_target(&["namespaces", "ns", "status"]),
            Some((
                "namespaces",
                Target::Item {
                    ns: String::new(),
                    name: "ns".into(),
                    sub: Some("status".into())
                }
            ))
        );
        assert_eq!(
            parse_target(&["namespaces", "ns", "p", "a", "b", "c"]),
            None
        );
    }
}
