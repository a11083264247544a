//! The layers hold: each crate depends only on the crates below it, and inside every crate
//! of the product no two modules import each other in a circle (docs/architecture.md).
//! Cargo already refuses a circle between crates; these tests also refuse a crate reaching
//! *up* (the gRPC layer importing the operator, say) and a circle between modules.

#[path = "../../testing/acyclic.rs"]
mod acyclic;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// Every crate of the product, by folder, with the workspace crates it may depend on.
const LAYERS: &[(&str, &[&str])] = &[
    ("expr", &[]),
    ("toolchain", &[]),
    ("crates/wasm", &[]),
    ("crates/sandbox", &["tinyhost-wasm", "tinyhost-toolchain"]),
    (
        "crates/capabilities",
        &["tinyhost-wasm", "tinyhost-sandbox", "tinyhost-expr"],
    ),
    ("crates/guests", &["tinyhost-wasm"]),
    (
        "crates/flow",
        &[
            "tinyhost-wasm",
            "tinyhost-sandbox",
            "tinyhost-capabilities",
            "tinyhost-guests",
            "tinyhost-expr",
            "tinyhost-toolchain",
        ],
    ),
    ("crates/grpc", &["tinyhost-flow"]),
    ("crates/oci", &[]),
    (
        "crates/operator",
        &["tinyhost-flow", "tinyhost-capabilities", "tinyhost-grpc"],
    ),
    (
        "host",
        &[
            "tinyhost-wasm",
            "tinyhost-sandbox",
            "tinyhost-capabilities",
            "tinyhost-flow",
            "tinyhost-grpc",
            "tinyhost-operator",
            "tinyhost-guests",
            "tinyhost-expr",
            "tinyhost-toolchain",
            "tinyhost-oci",
        ],
    ),
    ("testing/fake-apiserver", &[]),
    ("testing/go-bin", &[]),
    ("testing/control-plane", &["tinyhost-go-bin"]),
    (
        "testing/registry",
        &["tinyhost-control-plane", "tinyhost-go-bin"],
    ),
];

/// The workspace crates named in the `[dependencies]` table of `manifest` (not dev- or
/// build-dependencies: a test may use any layer).
fn workspace_dependencies(manifest: &Path) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let mut in_dependencies = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if !in_dependencies {
            continue;
        }
        let name = line.split(['=', '.', ' ']).next().unwrap_or_default();
        if name.starts_with("tinyhost-") {
            found.insert(name.to_string());
        }
    }
    found
}

#[test]
fn every_crate_depends_only_on_the_layers_below_it() {
    let mut wrong = Vec::new();
    for (folder, allowed) in LAYERS {
        let allowed: BTreeSet<String> = allowed.iter().map(|s| s.to_string()).collect();
        let actual = workspace_dependencies(&root().join(folder).join("Cargo.toml"));
        let extra: Vec<&String> = actual.difference(&allowed).collect();
        if !extra.is_empty() {
            wrong.push(format!("{folder} depends on {extra:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "crates reaching up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_workspace_member_is_checked() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("workspace manifest");
    let members = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("a members line");
    let listed: BTreeSet<&str> = members.split('"').skip(1).step_by(2).collect();
    let checked: BTreeSet<&str> = LAYERS.iter().map(|(folder, _)| *folder).collect();
    assert_eq!(listed, checked, "a new crate needs its place in LAYERS");
}

#[test]
fn no_crate_has_modules_importing_each_other_in_a_circle() {
    let mut failures = Vec::new();
    for (folder, _) in LAYERS {
        let src = root().join(folder).join("src");
        if let Err(e) = std::panic::catch_unwind(|| acyclic::assert_acyclic(&src)) {
            let message = e
                .downcast::<String>()
                .map(|s| *s)
                .unwrap_or_else(|_| "non-text panic".to_string());
            failures.push(message);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
