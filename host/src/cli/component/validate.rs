//! `tinyhost component validate FILE`: loads a file the way the host does and turns each
//! way it can fail into a sentence an author can act on: not WebAssembly, empty,
//! truncated, a core module, a component of another world (or world version), imports the
//! host does not provide, no components, a trap while it describes itself.
//!
//! `build` and `inspect` run the same [`check`]. It lives here rather than in a library
//! crate because its output is advice for people; the loading itself is the flow layer's
//! (`flow::components::load_standalone`).

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use tracing::instrument::WithSubscriber;
use tracing::level_filters::LevelFilter;
use tracing::subscriber::NoSubscriber;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, LinkerInstance, ResourceType};

use super::super::shared::EngineArgs;
use super::new::host_world;
use crate::capabilities::bindings::FlowComponentPre;
use crate::engine::HostEngine;
use crate::flow::components::{ComponentEntry, load_standalone};
use crate::registry::ComponentSource;

#[derive(clap::Args, Debug)]
pub(crate) struct ValidateArgs {
    /// The component file (`.wasm`).
    file: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

pub(crate) async fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let engine = engine(&args.engine)?;
    let bytes = read(&args.file)?;
    let origin = args.file.display().to_string();
    let checked = check(&engine, &origin, &bytes).await?;
    Ok(report(&origin, &checked))
}

/// An engine as the host makes one, with the limits given on the command line.
pub(super) fn engine(args: &EngineArgs) -> anyhow::Result<Arc<HostEngine>> {
    HostEngine::new(args.config()).map_err(|e| anyhow!("{e}"))
}

/// The bytes of a component file.
pub(super) fn read(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read `{}`", file.display()))
}

/// Prints the verdict, `ok: …` on stdout or one `error: …` line per problem on stderr.
pub(super) fn report(origin: &str, checked: &Checked) -> ExitCode {
    if checked.problems.is_empty() {
        println!("ok: {origin}: {}", checked.summary());
        return ExitCode::SUCCESS;
    }
    for problem in &checked.problems {
        eprintln!("error: {origin}: {problem}");
    }
    ExitCode::FAILURE
}

/// What checking a file found; with no problems, the host loads it.
#[derive(Debug, Default)]
pub(super) struct Checked {
    /// The world its `component` export belongs to (`tinysystems:component@0.2.0`), when it
    /// has one.
    pub(super) world: Option<String>,
    /// Its imports (interface names), when it is a component.
    pub(super) imports: Vec<String>,
    /// Its exports.
    pub(super) exports: Vec<String>,
    /// The components it carries, each with its default ports, sorted by name.
    pub(super) components: Vec<Arc<ComponentEntry>>,
    /// Why the host cannot load it.
    pub(super) problems: Vec<String>,
}

impl Checked {
    /// `2 components (a, b), world tinysystems:component@0.2.0`.
    pub(super) fn summary(&self) -> String {
        let n = self.components.len();
        let names: Vec<&str> = self
            .components
            .iter()
            .map(|c| c.info.name.as_str())
            .collect();
        format!(
            "{n} component{} ({}), world {}",
            if n == 1 { "" } else { "s" },
            names.join(", "),
            self.world.as_deref().unwrap_or("unknown")
        )
    }
}

/// Checks `bytes` (named `origin` in messages) step by step, stopping at the first step
/// that cannot go on. Fails only when the host itself cannot be set up.
pub(super) async fn check(
    engine: &Arc<HostEngine>,
    origin: &str,
    bytes: &[u8],
) -> anyhow::Result<Checked> {
    let mut checked = Checked::default();
    if let Some(problem) = header_problem(bytes).or_else(|| structure_problem(bytes)) {
        checked.problems.push(problem);
        return Ok(checked);
    }
    let component = match engine.load_component(origin, bytes) {
        Ok(component) => component,
        Err(e) => {
            checked
                .problems
                .push(format!("cannot be compiled: {}", e.message));
            return Ok(checked);
        }
    };
    let ty = component.component_type();
    checked.imports = ty
        .imports(engine.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    checked.exports = ty
        .exports(engine.engine())
        .map(|(name, _)| name.to_string())
        .collect();

    let host = host_world();
    let (package, version) = host.split_once('@').unwrap_or((host, ""));
    let export_prefix = format!("{package}/component@");
    match checked
        .exports
        .iter()
        .find_map(|e| e.strip_prefix(export_prefix.as_str()))
    {
        Some(built) => {
            checked.world = Some(format!("{package}@{built}"));
            if !compatible(built, version) {
                checked.problems.push(format!(
                    "it was built for the world {package}@{built}, and this host runs {host}: \
                     rebuild it with this host's SDK (`tinyhost component new` vendors it)"
                ));
            }
        }
        None => checked.problems.push(export_problem(
            &checked.exports,
            &format!("{export_prefix}{version}"),
        )),
    }
    let linker = crate::capabilities::state::linker(engine).map_err(|e| anyhow!("{e}"))?;
    checked
        .problems
        .extend(unsatisfied_imports(engine, linker.clone(), &component));
    if !checked.problems.is_empty() {
        return Ok(checked);
    }
    // The export's functions and types, as the host's bindings expect them.
    if let Err(e) = linker
        .instantiate_pre(&component)
        .and_then(FlowComponentPre::new)
    {
        checked.problems.push(format!(
            "its `{export_prefix}{version}` export does not have the shape this host expects \
             (was it built from other WIT files?): {e:#}"
        ));
        return Ok(checked);
    }

    // Everything the host checks up front passed: now load it exactly as `run` does, which
    // also calls `components()` and each component's `ports`.
    let sources = [ComponentSource::Bytes {
        origin: origin.to_string(),
        bytes: Cow::Owned(bytes.to_vec()),
    }];
    let load = load_standalone(engine, &sources);
    // The registry logs each failure as it happens; said here once, in an author's words,
    // it need not be logged too (unless the log was asked for more than warnings).
    let registry = if LevelFilter::current() > LevelFilter::WARN {
        load.await
    } else {
        load.with_subscriber(NoSubscriber::default()).await
    }
    .map_err(|e| anyhow!("{e}"))?;
    checked.problems.extend(
        registry
            .errors()
            .iter()
            .map(|e| explain_load_error(origin, &e.message)),
    );
    checked.components = registry.entries().cloned().collect();
    Ok(checked)
}

/// What the first bytes say: empty, not WebAssembly, a core module, a component.
fn header_problem(bytes: &[u8]) -> Option<String> {
    const MAGIC: &[u8] = b"\0asm";
    if bytes.is_empty() {
        return Some(
            "the file is empty (0 bytes); a component is the `.wasm` file a build for \
             wasm32-wasip2 produces"
                .into(),
        );
    }
    if !bytes.starts_with(MAGIC) {
        if MAGIC.starts_with(bytes) {
            return Some(truncated(bytes.len()));
        }
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]);
        let hint = match text.trim_start() {
            t if t.starts_with("(component") || t.starts_with("(module") => {
                " (it looks like WebAssembly text: convert it with `wasm-tools parse`)"
            }
            _ => " (is it the right file?)",
        };
        return Some(format!(
            "not WebAssembly: a `.wasm` file starts with the bytes `\\0asm`{hint}"
        ));
    }
    match bytes.get(4..8) {
        None => Some(truncated(bytes.len())),
        Some([1, 0, 0, 0]) => Some(
            "a core WebAssembly module, not a component: build it for wasm32-wasip2 \
             (`cargo build --release --target wasm32-wasip2`, or `tinyhost component build`), \
             or wrap it with `wasm-tools component new`"
                .into(),
        ),
        Some([0x0d, 0, 1, 0]) => None,
        Some(other) => Some(format!(
            "an unknown WebAssembly version/layer {other:02x?} (neither a core module nor a \
             component this host knows)"
        )),
    }
}

fn truncated(len: usize) -> String {
    format!(
        "truncated: the file ends after {len} bytes, in the middle of the component (was a \
         download or copy cut short?)"
    )
}

/// Whether the sections are whole: a cut-off file is named as such, rather than with the
/// parser's words for the byte where it stopped.
fn structure_problem(bytes: &[u8]) -> Option<String> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let Err(e) = payload {
            let message = e.message();
            let runs_past_end = message.contains("unexpected end")
                || message.contains("out of bounds")
                || message.contains("too large");
            return Some(if runs_past_end {
                truncated(bytes.len())
            } else {
                format!("malformed WebAssembly at byte {}: {message}", e.offset())
            });
        }
    }
    None
}

/// Whether a component built for world version `built` links against `host` (semver: the
/// same major version, or for `0.x` the same minor).
fn compatible(built: &str, host: &str) -> bool {
    let parts = |v: &str| -> Option<(u64, u64)> {
        let mut it = v.split(['.', '-', '+']);
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    };
    match (parts(built), parts(host)) {
        (Some((0, a)), Some((0, b))) => a == b,
        (Some((a, _)), Some((b, _))) => a == b,
        _ => built == host,
    }
}

/// Why a component without the `component` export is not a flow component.
fn export_problem(exports: &[String], wanted: &str) -> String {
    let of = |prefix: &str| exports.iter().find(|e| e.starts_with(prefix));
    let build = "build a library crate (`crate-type = [\"cdylib\"]`) on the tinyhost SDK, as \
                 `tinyhost component new` sets up";
    if exports.is_empty() {
        format!("it exports nothing; a flow component exports `{wanted}` ({build})")
    } else if let Some(run) = of("wasi:cli/run@") {
        format!(
            "a WASI command (it exports `{run}`, a program's `main`), not a flow component, \
             which exports `{wanted}`: {build}"
        )
    } else if let Some(handler) = of("wasi:http/incoming-handler@") {
        format!(
            "a WASI HTTP handler (it exports `{handler}`), not a flow component, which exports \
             `{wanted}`: {build}"
        )
    } else {
        format!(
            "a component of another world: it does not export `{wanted}` (it exports {})",
            quoted(exports)
        )
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every import the host's linker cannot satisfy. Wasmtime names only the first import
/// that fails, so each one found is stubbed out in a copy of the linker and linking is
/// tried again.
fn unsatisfied_imports<T: 'static>(
    engine: &HostEngine,
    mut linker: Linker<T>,
    component: &Component,
) -> Vec<String> {
    linker.allow_shadowing(true);
    let imports: Vec<(String, ComponentItem)> = component
        .component_type()
        .imports(engine.engine())
        .map(|(name, import)| (name.to_string(), import.ty))
        .collect();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for _ in 0..=imports.len() {
        let Err(e) = linker.instantiate_pre(component) else {
            break;
        };
        let outer = e.to_string();
        let Some((name, item)) = imports
            .iter()
            .find(|(name, _)| outer.contains(&format!("`{name}`")))
        else {
            problems.push(format!("cannot be linked: {e:#}"));
            break;
        };
        let chain: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
        problems.push(describe_unsatisfied(name, &chain));
        if !seen.insert(name.clone()) || stub(&mut linker, engine, name, item).is_err() {
            break;
        }
    }
    problems
}

/// `imports `X`, which this host does not provide (no `f`)`, with a hint for imports of
/// another version of this host's own package or of WASI.
fn describe_unsatisfied(name: &str, chain: &[String]) -> String {
    let missing = chain
        .last()
        .is_some_and(|root| root.ends_with("implementation is missing"));
    let items: Vec<&str> = chain.iter().filter_map(|c| c.split('`').nth(1)).collect();
    let detail = match (missing, items.as_slice()) {
        (true, []) => String::new(),
        (true, items) => format!(" (missing: `{}`)", items.join("::")),
        (false, _) if chain.is_empty() => String::new(),
        (false, _) => format!(" ({})", chain.join(": ")),
    };
    let host = host_world();
    let package = host.split_once('@').map_or(host, |(p, _)| p);
    let hint = if name.starts_with(&format!("{package}/")) {
        format!("; this host provides the interfaces of {host}")
    } else if name.starts_with("wasi:") {
        "; this host provides WASI 0.2 (cli, clocks, filesystem, io, random, sockets) and \
         wasi:http's outgoing-handler"
            .to_string()
    } else {
        String::new()
    };
    format!("it imports `{name}`, which this host does not provide{detail}{hint}")
}

/// Defines `name` in `linker` with functions that trap, so linking can go on to the next
/// import that fails.
fn stub<T: 'static>(
    linker: &mut Linker<T>,
    engine: &HostEngine,
    name: &str,
    item: &ComponentItem,
) -> wasmtime::Result<()> {
    stub_item(&mut linker.root(), engine.engine(), name, item)
}

fn stub_item<T: 'static>(
    instance: &mut LinkerInstance<'_, T>,
    engine: &wasmtime::Engine,
    name: &str,
    item: &ComponentItem,
) -> wasmtime::Result<()> {
    match item {
        ComponentItem::ComponentFunc(_) => {
            let qualified = name.to_string();
            instance.func_new(name, move |_, _, _, _| {
                Err(wasmtime::format_err!("`{qualified}` is not provided"))
            })
        }
        ComponentItem::ComponentInstance(ty) => {
            let mut inner = instance.instance(name)?;
            for (export, item) in ty.exports(engine) {
                stub_item(&mut inner, engine, export, &item.ty)?;
            }
            Ok(())
        }
        ComponentItem::Resource(_) => {
            instance.resource(name, ResourceType::host::<()>(), |_, _| Ok(()))
        }
        _ => Ok(()),
    }
}

/// The flow layer's load error, said for an author.
fn explain_load_error(origin: &str, message: &str) -> String {
    let trap_detail = |text: &str| -> String {
        let text = text
            .strip_prefix(&format!("{origin}: "))
            .unwrap_or(text)
            .trim_start_matches("introspection failed: ");
        // A backtrace of a stripped build names no functions: the cause after its last
        // frame is what says something.
        let cause = match text.split_once("wasm backtrace:") {
            Some((_, frames)) => frames
                .lines()
                .last()
                .and_then(|last| last.rsplit_once(">: "))
                .map_or(text, |(_, cause)| cause),
            None => text,
        };
        if cause.contains("`unreachable`") {
            format!("{cause} (a Rust component that panics traps so)")
        } else {
            cause.to_string()
        }
    };
    if let Some(rest) = message.strip_prefix("component `")
        && let Some((name, error)) = rest.split_once("`: ")
    {
        return if error.contains("introspection failed") {
            format!(
                "component `{name}` trapped while listing its ports (`ports`): {}",
                trap_detail(error)
            )
        } else {
            let failure = error.strip_prefix(&format!("{name}: ")).unwrap_or(error);
            format!("component `{name}` failed to list its default ports (`ports`): {failure}")
        };
    }
    if message.contains("introspection failed") {
        return format!(
            "it trapped while starting or listing its components (`components()`): {}",
            trap_detail(message)
        );
    }
    if message.contains("carries no components") {
        return "it carries no components: `components()` returned an empty list (list every \
                `ComponentDef` in the function given to `export_module!`)"
            .into();
    }
    if let Some(detail) = message.strip_prefix("does not export the ") {
        return format!(
            "its `component` export does not have the shape this host expects ({detail})"
        );
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_compatible_as_semver_says() {
        assert!(compatible("0.2.0", "0.2.0"));
        assert!(compatible("0.2.3", "0.2.0"));
        assert!(!compatible("0.1.0", "0.2.0"));
        assert!(compatible("1.4.0", "1.0.0"));
        assert!(!compatible("2.0.0", "1.0.0"));
        assert!(!compatible("x", "0.2.0"));
    }

    #[test]
    fn headers_are_told_apart() {
        assert!(header_problem(b"").unwrap().contains("empty"));
        assert!(header_problem(b"\0as").unwrap().contains("truncated"));
        assert!(header_problem(b"\0asm\x01").unwrap().contains("truncated"));
        assert!(
            header_problem(b"hello")
                .unwrap()
                .contains("not WebAssembly")
        );
        assert!(
            header_problem(b"(component)")
                .unwrap()
                .contains("wasm-tools parse")
        );
        assert!(header_problem(b"\0asm\x01\0\0\0").unwrap().contains("core"));
        assert_eq!(header_problem(b"\0asm\x0d\0\x01\0"), None);
    }
}
