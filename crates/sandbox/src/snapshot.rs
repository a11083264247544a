//! Start-up snapshots of inline programs.
//!
//! A standard Go program spends about half a millisecond starting its runtime, and a fresh
//! instance per request would pay that every time. Programs built as *reactors* (exporting
//! `_initialize` and [`RUN_EXPORT`]) are therefore initialised once, and their memory and
//! globals captured into a new module (with `wasmtime-wizer`); each request instantiates
//! that snapshot and calls [`RUN_EXPORT`], starting where initialisation ended. Snapshots
//! are kept on disk by the content of the module they came from, so a restart takes none.

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use wasmtime::{Instance, Module, Store};
use wasmtime_wizer::{InstanceState, SnapshotVal, Wizer};

/// The export a reactor program runs per request (the generated Go entry calls `main()`).
pub const RUN_EXPORT: &str = tinyhost_toolchain::REACTOR_RUN_EXPORT;

/// The export that initialises a reactor (the language runtime and package variables).
pub const INITIALISE_EXPORT: &str = "_initialize";

/// The export that runs a WASI command from start to exit.
pub const START_EXPORT: &str = "_start";

/// Changes whenever the way snapshots are taken changes, so old files are not reused.
const SNAPSHOT_FORMAT: &str = "tinyhost-snapshot/2 wasmtime-wizer 48 no-passive-data";

/// How a program is entered for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A WASI command: `_start` runs the whole program.
    Command,
    /// A reactor: [`RUN_EXPORT`] runs one request; `initialise` says whether `_initialize`
    /// must run first (it was not snapshotted).
    Reactor {
        /// Call [`INITIALISE_EXPORT`] before [`RUN_EXPORT`].
        initialise: bool,
    },
}

/// Why a module could not be snapshotted (the program still runs, only slower).
#[derive(Debug, thiserror::Error)]
#[error("cannot snapshot program: {0}")]
pub struct SnapshotError(pub String);

/// Finds how `wasm` is meant to be entered from its exports.
pub fn entry_of(wasm: &[u8]) -> Result<Entry, String> {
    let mut run = false;
    let mut initialise = false;
    let mut start = false;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| format!("malformed module: {e}"))?;
        if let wasmparser::Payload::ExportSection(reader) = payload {
            for export in reader {
                let export = export.map_err(|e| format!("malformed export section: {e}"))?;
                if export.kind != wasmparser::ExternalKind::Func {
                    continue;
                }
                match export.name {
                    RUN_EXPORT => run = true,
                    INITIALISE_EXPORT => initialise = true,
                    START_EXPORT => start = true,
                    _ => {}
                }
            }
        }
    }
    match (run, start) {
        (true, _) => Ok(Entry::Reactor { initialise }),
        (false, true) => Ok(Entry::Command),
        (false, false) => Err(format!(
            "the program exports neither `{START_EXPORT}` (a WASI command) nor `{RUN_EXPORT}` (a reactor)"
        )),
    }
}

/// Where the snapshot of `wasm` is kept under `cache_dir`.
pub fn snapshot_path(cache_dir: &std::path::Path, wasm: &[u8]) -> PathBuf {
    let mut hash = Sha256::new();
    hash.update(SNAPSHOT_FORMAT.as_bytes());
    hash.update([0]);
    hash.update(wasm);
    cache_dir
        .join("snapshots")
        .join(format!("{}.wasm", hex::encode(hash.finalize())))
}

/// The snapshot builder: [`instrument`](Snapshot::instrument) the module, instantiate and
/// initialise the instrumented module in a store of the caller's making, then
/// [`capture`](Snapshot::capture) the instance.
pub struct Snapshot<'a> {
    wizer: Wizer,
    context: wasmtime_wizer::ModuleContext<'a>,
    instrumented: Vec<u8>,
}

impl<'a> Snapshot<'a> {
    /// Prepares `wasm` for a snapshot: the instrumented module exports every global and
    /// memory so their state can be read back.
    pub fn instrument(wasm: &'a [u8]) -> Result<Snapshot<'a>, SnapshotError> {
        let mut wizer = Wizer::new();
        // Initialisation is `_initialize` itself; the snapshot no longer exports it.
        wizer.init_func(INITIALISE_EXPORT).keep_init_func(false);
        let (context, instrumented) = wizer
            .instrument(wasm)
            .map_err(|e| SnapshotError(format!("{e:#}")))?;
        Ok(Snapshot {
            wizer,
            context,
            instrumented,
        })
    }

    /// The module to instantiate and initialise.
    pub fn instrumented(&self) -> &[u8] {
        &self.instrumented
    }

    /// Captures the initialised `instance` as a new module.
    pub async fn capture<T: Send>(
        &self,
        store: &mut Store<T>,
        instance: Instance,
    ) -> Result<Vec<u8>, SnapshotError> {
        let mut state = CapturedInstance {
            store,
            instance,
            missing: None,
        };
        let wasm = self
            .wizer
            .snapshot(&self.context, &mut state)
            .await
            .map_err(|e| SnapshotError(format!("{e:#}")))?;
        match state.missing {
            Some(missing) => Err(SnapshotError(missing)),
            None => Ok(wasm),
        }
    }
}

/// Reads an instance's globals and memories for the snapshot. The instrumented module
/// exports every one of them; should one be missing anyway, the capture fails cleanly.
struct CapturedInstance<'s, T: 'static> {
    store: &'s mut Store<T>,
    instance: Instance,
    missing: Option<String>,
}

impl<T: Send> InstanceState for CapturedInstance<'_, T> {
    async fn global_get(&mut self, name: &str, _type_hint: wasmparser::ValType) -> SnapshotVal {
        let value = self
            .instance
            .get_global(&mut *self.store, name)
            .map(|global| global.get(&mut *self.store));
        match value {
            Some(wasmtime::Val::I32(x)) => SnapshotVal::I32(x),
            Some(wasmtime::Val::I64(x)) => SnapshotVal::I64(x),
            Some(wasmtime::Val::F32(x)) => SnapshotVal::F32(x),
            Some(wasmtime::Val::F64(x)) => SnapshotVal::F64(x),
            Some(wasmtime::Val::V128(x)) => SnapshotVal::V128(x.as_u128()),
            Some(_) => {
                self.missing = Some(format!("global `{name}` holds a reference"));
                SnapshotVal::I32(0)
            }
            None => {
                self.missing = Some(format!("global `{name}` is not exported"));
                SnapshotVal::I32(0)
            }
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        match self.instance.get_memory(&mut *self.store, name) {
            Some(memory) => contents(memory.data(&*self.store)),
            None => {
                self.missing = Some(format!("memory `{name}` is not exported"));
                contents(&[]);
            }
        }
    }
}

/// Removes passive data segments from a module that cannot use them.
///
/// A snapshot keeps the original module's data segments as empty passive segments so data
/// indices stay valid; a Go program has tens of thousands, and wasmtime pays for each one
/// on every instantiation (about 180 µs per request for a Go program). Without a
/// data-count section no code can name a data segment (`memory.init` and `data.drop`
/// require one), so passive segments are unreachable and can go. Returns `None` when there
/// is nothing to remove or the module might use them.
pub fn drop_unreachable_passive_segments(wasm: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(wasm.len());
    let mut removed = false;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.ok()?;
        match &payload {
            wasmparser::Payload::Version { range, .. } => {
                out.extend_from_slice(wasm.get(range.clone())?)
            }
            wasmparser::Payload::DataCountSection { .. } => return None,
            wasmparser::Payload::DataSection(reader) => {
                let mut kept = Vec::new();
                let mut count = 0u32;
                for segment in reader.clone() {
                    let segment = segment.ok()?;
                    if matches!(segment.kind, wasmparser::DataKind::Passive) {
                        removed = true;
                    } else {
                        kept.extend_from_slice(wasm.get(segment.range)?);
                        count += 1;
                    }
                }
                let mut body = leb128(count);
                body.extend_from_slice(&kept);
                out.push(11);
                out.extend_from_slice(&leb128(u32::try_from(body.len()).ok()?));
                out.extend_from_slice(&body);
            }
            wasmparser::Payload::CodeSectionEntry(_) | wasmparser::Payload::End(_) => {}
            other => {
                if let Some((_, range)) = other.as_section() {
                    // The section's header (id and size) precedes its contents.
                    let header = section_header(wasm, range.start)?;
                    out.extend_from_slice(wasm.get(header..range.end)?);
                }
            }
        }
    }
    removed.then_some(out)
}

/// The start of the section whose contents start at `contents`: its id byte, then the
/// LEB128 size that ends just before `contents`.
fn section_header(wasm: &[u8], contents: usize) -> Option<usize> {
    // The size is at most 5 bytes; its last byte has the high bit clear, the others set.
    let mut start = contents.checked_sub(1)?;
    while start > 0 && wasm.get(start - 1)? & 0x80 != 0 {
        start -= 1;
    }
    start.checked_sub(1)
}

fn leb128(mut value: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(5);
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// Compiles a module that is used once (the instrumented module) without caching it.
pub fn compile_uncached(engine: &wasmtime::Engine, wasm: &[u8]) -> Result<Module, SnapshotError> {
    Module::new(engine, wasm).map_err(|e| SnapshotError(format!("{e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_is_found_from_exports() {
        let command = wat::parse_str(r#"(module (func (export "_start")))"#).unwrap_or_default();
        assert_eq!(entry_of(&command), Ok(Entry::Command));
        let reactor = wat::parse_str(
            r#"(module (func (export "_initialize")) (func (export "tinyhost_run")))"#,
        )
        .unwrap_or_default();
        assert_eq!(entry_of(&reactor), Ok(Entry::Reactor { initialise: true }));
        let snapshot =
            wat::parse_str(r#"(module (func (export "tinyhost_run")))"#).unwrap_or_default();
        assert_eq!(
            entry_of(&snapshot),
            Ok(Entry::Reactor { initialise: false })
        );
        let neither = wat::parse_str(r#"(module (func (export "main")))"#).unwrap_or_default();
        assert!(entry_of(&neither).is_err_and(|e| e.contains("neither")));
        assert!(entry_of(b"\0asm\x01\0\0\0\x07\xff").is_err());
    }

    #[test]
    fn unreachable_passive_segments_are_dropped_and_the_rest_is_kept() {
        let with_passive = wat::parse_str(
            r#"(module
                 (memory (export "memory") 1)
                 (data (i32.const 16) "kept")
                 (data "unused")
                 (func (export "_start"))
                 (@custom "note" "stays"))"#,
        )
        .unwrap_or_default();
        let stripped = drop_unreachable_passive_segments(&with_passive).unwrap_or_default();
        assert!(stripped.len() < with_passive.len());
        let mut segments = Vec::new();
        let mut custom = Vec::new();
        let mut validator = wasmparser::Validator::new();
        assert!(validator.validate_all(&stripped).is_ok());
        for payload in wasmparser::Parser::new(0).parse_all(&stripped) {
            match payload {
                Ok(wasmparser::Payload::DataSection(reader)) => {
                    for data in reader.into_iter().flatten() {
                        segments.push(data.data.to_vec());
                    }
                }
                Ok(wasmparser::Payload::CustomSection(c)) => custom.push(c.name().to_string()),
                Ok(_) => {}
                Err(e) => panic!("stripped module does not parse: {e}"),
            }
        }
        assert_eq!(segments, vec![b"kept".to_vec()]);
        assert!(custom.contains(&"note".to_string()));
        assert_eq!(entry_of(&stripped), Ok(Entry::Command));
    }

    #[test]
    fn passive_segments_that_code_may_use_are_kept() {
        let uses_them = wat::parse_str(
            r#"(module
                 (memory 1)
                 (data $d "used")
                 (func (export "_start") (data.drop $d)))"#,
        )
        .unwrap_or_default();
        assert_eq!(drop_unreachable_passive_segments(&uses_them), None);
        let none =
            wat::parse_str(r#"(module (memory 1) (data (i32.const 0) "a"))"#).unwrap_or_default();
        assert_eq!(drop_unreachable_passive_segments(&none), None);
        assert_eq!(drop_unreachable_passive_segments(b"garbage"), None);
    }

    #[test]
    fn snapshot_paths_depend_on_content() {
        let dir = std::path::Path::new("cache");
        assert_eq!(snapshot_path(dir, b"a"), snapshot_path(dir, b"a"));
        assert_ne!(snapshot_path(dir, b"a"), snapshot_path(dir, b"b"));
        assert!(snapshot_path(dir, b"a").starts_with("cache/snapshots"));
    }
}
