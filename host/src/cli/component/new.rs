//! `tinyhost component new NAME`: a standalone Rust crate of one component on the SDK,
//! which builds with one command. The author has only this binary, so the binary carries
//! what the crate needs: the SDK's sources and the WIT package (vendored into the crate),
//! the dependency versions and the lock file tinyhost's own components are tested with,
//! and the template files in `template/`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};

#[derive(clap::Args, Debug)]
pub(crate) struct NewArgs {
    /// The component's name: lower-case letters, digits, `-` and `_`, starting with a letter
    /// (e.g. `hello-world`). The crate is called so; flows name the component with `_` for
    /// `-` (`hello_world`).
    name: String,
    /// The folder to create (default: ./NAME); it must not exist, or be empty.
    #[arg(long)]
    path: Option<PathBuf>,
}

/// `(file name, contents)` of files of this repository, embedded at compile time.
macro_rules! embedded {
    ($dir:literal; $($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../../../../", $dir, "/", $file)))),*]
    };
}

/// The SDK's sources (`guests/sdk/src`), vendored into every new crate.
pub(super) const SDK_SOURCES: &[(&str, &str)] = embedded!("guests/sdk/src";
    "control.rs", "error_port.rs", "expr.rs", "http.rs", "http_server.rs", "lib.rs", "log.rs",
    "metadata.rs", "node_info.rs", "output.rs", "ports.rs", "runtime.rs", "sandbox.rs",
    "schema.rs", "timers.rs",
);

/// The WIT package (`wit/`), the contract the SDK's bindings are generated from.
pub(super) const WIT_FILES: &[(&str, &str)] = embedded!("wit";
    "component.wit", "expr.wit", "http-server.wit", "log.wit", "metadata.wit", "node-info.wit",
    "output.wit", "sandbox.wit", "timers.wit", "types.wit", "worlds.wit",
);

/// The SDK's manifest; its `workspace = true` fields are resolved from [`GUESTS_MANIFEST`].
const SDK_MANIFEST: &str = include_str!("../../../../guests/sdk/Cargo.toml");
/// The guests' workspace manifest: dependency versions, package fields, release profile.
const GUESTS_MANIFEST: &str = include_str!("../../../../guests/Cargo.toml");
/// The guests' lock file: the dependency versions the built-in components are tested with.
const GUESTS_LOCK: &str = include_str!("../../../../guests/Cargo.lock");

const TEMPLATE_MANIFEST: &str = include_str!("template/Cargo.toml.tmpl");
const TEMPLATE_LIB: &str = include_str!("template/lib.rs.tmpl");
const TEMPLATE_FLOW: &str = include_str!("template/flow.yaml.tmpl");
const TEMPLATE_README: &str = include_str!("template/README.md.tmpl");
const TEMPLATE_GITIGNORE: &str = include_str!("template/gitignore.tmpl");

/// The longest name accepted: a node name's `{component}-{suffix}` part is one DNS label
/// (at most 63 characters), so the component leaves room for a suffix.
const MAX_NAME: usize = 40;

/// Names cargo refuses for a package, or that clash with the standard library.
const RESERVED: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "try",
    "gen",
    "alloc",
    "core",
    "std",
    "test",
    "proc_macro",
    "proc-macro",
    "build",
    "deps",
    "examples",
    "incremental",
];

/// The WIT package this host runs, e.g. `tinysystems:component@0.2.0` (read from the
/// embedded `wit/worlds.wit`, so it cannot drift from what the host was built with).
pub(super) fn host_world() -> &'static str {
    WIT_FILES
        .iter()
        .filter(|(file, _)| *file == "worlds.wit")
        .flat_map(|(_, text)| text.lines())
        .find_map(|line| line.trim().strip_prefix("package ")?.strip_suffix(';'))
        .unwrap_or("tinysystems:component")
}

pub(crate) fn new(args: NewArgs) -> anyhow::Result<ExitCode> {
    check_name(&args.name).map_err(|reason| {
        anyhow!(
            "invalid component name `{}`: {reason}. A name is 1 to {MAX_NAME} lower-case ASCII \
             letters, digits, `-` or `_`, starts with a letter, ends with a letter or digit and \
             has no two separators in a row (e.g. `hello-world`)",
            args.name
        )
    })?;
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    let created = prepare_dir(&dir)?;
    let names = Names::new(&args.name);
    let files = crate_files(&names)?;
    if let Err(e) = write_files(&dir, &files) {
        if created {
            // Only what this command made; a folder that existed (empty) stays.
            let _ = std::fs::remove_dir_all(&dir);
        }
        return Err(e);
    }
    let shown = dir.display();
    println!(
        "created the component crate `{}` in {shown} (component `{}`)",
        names.package, names.component
    );
    println!("  src/lib.rs          the component: settings, ports with schemas, handle");
    println!("  examples/flow.yaml  a flow that uses it");
    println!(
        "  vendor/, wit/       the tinyhost SDK and the {} WIT package",
        host_world()
    );
    println!();
    println!("next:");
    println!("  cd {shown}");
    println!("  tinyhost component build --out {}.wasm", names.component);
    println!(
        "  tinyhost run examples --components {}.wasm",
        names.component
    );
    Ok(ExitCode::SUCCESS)
}

/// Why `name` is not a component name, if it is not.
fn check_name(name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err("it is empty".into());
    };
    if name.len() > MAX_NAME {
        return Err(format!("it is {} characters long", name.len()));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        return Err(format!("`{bad}` is not allowed"));
    }
    if !first.is_ascii_lowercase() {
        return Err("it must start with a lower-case letter".into());
    }
    if name.ends_with(['-', '_']) {
        return Err("it must end with a letter or digit".into());
    }
    if ["--", "__", "-_", "_-"]
        .iter()
        .any(|pair| name.contains(pair))
    {
        return Err("it has two separators in a row".into());
    }
    if RESERVED.contains(&name) {
        return Err("it is a Rust keyword or a reserved crate name".into());
    }
    Ok(())
}

/// Makes sure `dir` can take the crate; whether this command created it.
fn prepare_dir(dir: &Path) -> anyhow::Result<bool> {
    let shown = dir.display();
    if dir.exists() && !dir.is_dir() {
        bail!("`{shown}` exists and is not a folder: give another folder with --path");
    }
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!("`{shown}` exists and is not empty: give a new or empty folder with --path");
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{shown}`"))?;
            Ok(true)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read `{shown}`")),
    }
}

/// The names a crate is generated with.
struct Names {
    /// The package (crate) name, as given: `hello-world`.
    package: String,
    /// The component name flows use, and the `.wasm` file's stem: `hello_world`.
    component: String,
    /// The component in node names (RFC 1123): `hello-world`.
    node: String,
    /// A label for the editor: `Hello World`.
    title: String,
}

impl Names {
    fn new(name: &str) -> Names {
        let title = name
            .split(['-', '_'])
            .map(|word| {
                let mut chars = word.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        Names {
            package: name.to_string(),
            component: name.replace('-', "_"),
            node: name.replace('_', "-"),
            title,
        }
    }

    fn render(&self, template: &str) -> String {
        template
            .replace("__NAME__", &self.package)
            .replace("__COMPONENT__", &self.component)
            .replace("__CRATE__", &self.component)
            .replace("__NODE__", &self.node)
            .replace("__MODULE__", &format!("{}-module", self.node))
            .replace("__TITLE__", &self.title)
            .replace("__WORLD__", host_world())
    }
}

/// Every file of a new crate, by path relative to its folder.
fn crate_files(names: &Names) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let package = table(GUESTS_MANIFEST, "workspace.package");
    let deps = table(GUESTS_MANIFEST, "workspace.dependencies");
    let lookup = |table: &[(&str, &str)], key: &str| -> anyhow::Result<String> {
        table
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
            .ok_or_else(|| anyhow!("internal: guests/Cargo.toml has no `{key}`"))
    };
    let profile = section_text(GUESTS_MANIFEST, "profile.release")
        .ok_or_else(|| anyhow!("internal: guests/Cargo.toml has no [profile.release]"))?;
    let manifest = names
        .render(TEMPLATE_MANIFEST)
        .replace(
            "__EDITION__",
            lookup(&package, "edition")?.trim_matches('"'),
        )
        .replace(
            "__RUST_VERSION__",
            lookup(&package, "rust-version")?.trim_matches('"'),
        )
        .replace("__DEP_SERDE_JSON__", &lookup(&deps, "serde_json")?)
        .replace("__DEP_SERDE__", &lookup(&deps, "serde")?)
        .replace(
            "__PROFILE_RELEASE__",
            &format!("# The release profile of tinyhost's built-in components.\n{profile}"),
        );
    let mut files = vec![
        (PathBuf::from("Cargo.toml"), manifest),
        (PathBuf::from("Cargo.lock"), GUESTS_LOCK.to_string()),
        (PathBuf::from(".gitignore"), TEMPLATE_GITIGNORE.to_string()),
        (PathBuf::from("README.md"), names.render(TEMPLATE_README)),
        (PathBuf::from("src/lib.rs"), names.render(TEMPLATE_LIB)),
        (
            PathBuf::from("examples/flow.yaml"),
            names.render(TEMPLATE_FLOW),
        ),
        (
            PathBuf::from("vendor/tinyhost-sdk/Cargo.toml"),
            sdk_manifest()?,
        ),
    ];
    // The SDK generates its bindings from `../../wit`: from `vendor/tinyhost-sdk` that is
    // the crate's own `wit/`.
    for (file, text) in SDK_SOURCES {
        files.push((
            Path::new("vendor/tinyhost-sdk/src").join(file),
            text.to_string(),
        ));
    }
    for (file, text) in WIT_FILES {
        files.push((Path::new("wit").join(file), text.to_string()));
    }
    Ok(files)
}

fn write_files(dir: &Path, files: &[(PathBuf, String)]) -> anyhow::Result<()> {
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(())
}

/// The SDK's manifest made standalone: each `KEY.workspace = true` replaced by the guests'
/// workspace value, so the vendored SDK builds with exactly the tested versions and
/// features.
fn sdk_manifest() -> anyhow::Result<String> {
    let package = table(GUESTS_MANIFEST, "workspace.package");
    let deps = table(GUESTS_MANIFEST, "workspace.dependencies");
    let mut out = format!(
        "# The tinyhost SDK, vendored by `tinyhost component new` (tinyhost {}).\n",
        env!("CARGO_PKG_VERSION")
    );
    let mut section = String::new();
    for line in SDK_MANIFEST.lines() {
        let trimmed = line.trim();
        if let Some(header) = header(trimmed) {
            section = header.to_string();
            out.push_str(line);
        } else if let Some((key, "true")) = key_value(trimmed)
            && let Some(key) = key.strip_suffix(".workspace")
        {
            let from = if section == "package" {
                &package
            } else {
                &deps
            };
            let value = from
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    anyhow!("internal: `{key}` of the SDK is not in the guests' workspace")
                })?;
            out.push_str(&format!("{key} = {value}"));
        } else if trimmed.contains("workspace") && !trimmed.starts_with('#') {
            bail!("internal: cannot make the SDK's manifest standalone at `{trimmed}`");
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    Ok(out)
}

/// `name` of a `[name]` line.
fn header(line: &str) -> Option<&str> {
    line.strip_prefix('[')?.strip_suffix(']').map(str::trim)
}

/// `(key, value)` of a `key = value` line (comments and blank lines give `None`).
fn key_value(line: &str) -> Option<(&str, &str)> {
    if line.starts_with('#') {
        return None;
    }
    let (key, value) = line.split_once('=')?;
    Some((key.trim(), value.trim()))
}

/// The one-line `key = value` entries of a TOML table.
fn table<'a>(toml: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
    let mut inside = false;
    let mut entries = Vec::new();
    for line in toml.lines().map(str::trim) {
        if let Some(header) = header(line) {
            inside = header == name;
        } else if inside && let Some(entry) = key_value(line) {
            entries.push(entry);
        }
    }
    entries
}

/// A table's header and entries as text, without comments.
fn section_text(toml: &str, name: &str) -> Option<String> {
    let entries = table(toml, name);
    if entries.is_empty() {
        return None;
    }
    let mut text = format!("[{name}]\n");
    for (key, value) in entries {
        text.push_str(&format!("{key} = {value}\n"));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        for good in ["hello", "hello-world", "a1_b2", "x"] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in [
            "", "Hello", "1abc", "-a", "a-", "a--b", "a_-b", "a/b", "a.b", "fn", "std",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name(&"a".repeat(MAX_NAME + 1)).is_err());
    }

    #[test]
    fn the_vendored_sdk_manifest_is_standalone() {
        let manifest = sdk_manifest().unwrap();
        assert!(!manifest.contains("workspace"), "{manifest}");
        assert!(manifest.contains("wit-bindgen = { version ="), "{manifest}");
        assert!(manifest.contains("edition = \"2024\""), "{manifest}");
    }

    #[test]
    fn the_host_world_is_read_from_the_wit_files() {
        assert!(host_world().starts_with("tinysystems:component@"));
    }

    #[test]
    fn a_crate_has_no_placeholders_left() {
        let files = crate_files(&Names::new("hello-world")).unwrap();
        for (path, text) in files.iter().filter(|(p, _)| !p.starts_with("vendor")) {
            assert!(!text.contains("__"), "{}", path.display());
        }
        let lib = &files
            .iter()
            .find(|(p, _)| p == Path::new("src/lib.rs"))
            .unwrap()
            .1;
        assert!(lib.contains("name: \"hello_world\""));
    }
}
