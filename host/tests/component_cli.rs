//! `tinyhost component`: the authors' kit driven through the real binary — a new crate
//! that builds, validates, inspects and runs in a flow; the names and folders `new`
//! refuses; `validate`'s message for each kind of bad file; `inspect` as text and JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `tinyhost` binary on the test run's shared component cache, without the user's log
/// settings.
fn tinyhost() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tinyhost"));
    cmd.env(
        "TINYHOST_CACHE_DIR",
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("component-cache"),
    )
    .env_remove("TINYHOST_LOG");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("tinyhost runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
}

/// The repository root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `tinyhost component new NAME --path DIR`.
fn new_crate(name: &str, dir: &Path) -> Output {
    run(tinyhost()
        .args(["component", "new", name, "--path"])
        .arg(dir))
}

fn validate(file: &Path) -> Output {
    run(tinyhost().args(["component", "validate"]).arg(file))
}

// The one test that compiles a component crate (its dependencies compile for wasm32-wasip2
// once, into a target directory shared by test runs); every later check reuses the file.
#[test]
fn a_new_component_builds_validates_inspects_and_runs_in_a_flow() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("hello-world");
    let out = new_crate("hello-world", &dir);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("tinyhost component build"),
        "{}",
        stdout(&out)
    );

    // build: cargo's progress on stderr, the component's path alone on stdout.
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("component-crate-target");
    let wasm = tmp.path().join("out").join("hello_world.wasm");
    let build = |dir: &Path| {
        run(tinyhost()
            .args(["component", "build"])
            .arg(dir)
            .arg("--out")
            .arg(&wasm)
            .env("CARGO_TARGET_DIR", &target))
    };
    let out = build(&dir);
    assert_ok(&out);
    assert_eq!(stdout(&out).trim(), wasm.display().to_string());
    assert!(
        stderr(&out).contains("Compiling hello-world"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("1 component (hello_world)"),
        "{}",
        stderr(&out)
    );
    assert!(wasm.is_file());

    // validate
    let out = validate(&wasm);
    assert_ok(&out);
    assert_eq!(
        stdout(&out).trim(),
        format!(
            "ok: {}: 1 component (hello_world), world tinysystems:component@0.2.0",
            wasm.display()
        )
    );

    // inspect --output json
    let out = run(tinyhost()
        .args(["component", "inspect"])
        .arg(&wasm)
        .args(["--output", "json"]));
    assert_ok(&out);
    let report: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(report["world"], "tinysystems:component@0.2.0");
    assert_eq!(report["valid"], true);
    let component = &report["components"][0];
    assert_eq!(component["name"], "hello_world");
    assert_eq!(component["description"], "Hello World");
    let ports = component["ports"].as_array().expect("ports");
    let port = |name: &str| {
        ports
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("port {name} in {ports:?}"))
    };
    assert_eq!(port("in")["direction"], "in");
    assert_eq!(port("in")["position"], "left");
    assert_eq!(port("out")["direction"], "out");
    assert_eq!(port("out")["position"], "right");
    assert_eq!(port("_settings")["configuration"]["salutation"], "Hello");
    assert_eq!(
        port("in")["schema"]["$defs"]["Request"]["required"][0],
        "name"
    );
    assert!(port("_control")["schema"].is_object());

    // run the example flow: signal → the component → debug.
    let out = run(tinyhost()
        .arg("run")
        .arg(dir.join("examples"))
        .arg("--components")
        .arg(&wasm)
        .args(["--no-watch", "--output", "json", "--max-messages", "2"])
        .args(["--duration", "120s", "--state-dir"])
        .arg(tmp.path().join("state")));
    assert_ok(&out);
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let message_of = |node: &str| {
        lines.iter().find(|v| {
            v["type"] == "message"
                && v["port"] == "_control"
                && v["node"].as_str().is_some_and(|n| n.ends_with(node))
        })
    };
    let shown = message_of(".debug-show").unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(shown["data"]["context"]["greeting"], "Hello, World!");
    let dashboard = message_of(".hello-world-greet").unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(dashboard["data"]["greeting"], "Hello, World!");

    // A build whose component the host cannot load fails, saying why: one that carries
    // no components, one that traps while listing them, one whose ports trap or fail.
    let lib = dir.join("src").join("lib.rs");
    let original = std::fs::read_to_string(&lib).expect("lib.rs");
    let edit = |from: &str, to: &str| {
        assert!(original.contains(from), "{from}");
        std::fs::write(&lib, original.replace(from, to)).expect("write lib.rs");
    };
    let settings_line = "    let settings: Settings = tinyhost_sdk::decode_settings(settings)?;\n";
    for (from, to, expected) in [
        (
            "    &[COMPONENT]\n",
            "    &[]\n".to_string(),
            "it carries no components: `components()` returned an empty list",
        ),
        (
            "    &[COMPONENT]\n",
            "    panic!(\"no components today\")\n".to_string(),
            "it trapped while starting or listing its components (`components()`): wasm trap",
        ),
        (
            settings_line,
            format!("{settings_line}    panic!(\"no ports today\");\n"),
            "component `hello_world` trapped while listing its ports (`ports`): wasm trap",
        ),
        (
            settings_line,
            format!("{settings_line}    return Err(Failure::permanent(\"no ports today\"));\n"),
            "component `hello_world` failed to list its default ports (`ports`): no ports today",
        ),
    ] {
        edit(from, &to);
        let out = build(&dir);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(stdout(&out), "");
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("the build produced a file the host cannot load"),
            "{}",
            stderr(&out)
        );
    }

    // A compile error fails the build with cargo's error shown, and no path printed.
    edit(
        "fn components()",
        "fn broken() -> u32 { \"not a number\" }\n\nfn components()",
    );
    let out = build(&dir);
    assert!(!out.status.success());
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("mismatched types"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("cargo build failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn new_refuses_bad_names_and_folders_in_use() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for (name, reason) in [
        ("Hello", "`H` is not allowed"),
        ("1st", "start with a lower-case letter"),
        ("a--b", "two separators in a row"),
        ("fn", "Rust keyword"),
        ("my/comp", "`/` is not allowed"),
        ("x-", "end with a letter or digit"),
    ] {
        let out = new_crate(name, &tmp.path().join("bad"));
        assert!(!out.status.success(), "{name}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!("invalid component name `{name}`")),
            "{err}"
        );
        assert!(err.contains(reason), "{name}: {err}");
        assert!(err.contains("lower-case ASCII letters, digits"), "{err}");
        assert!(!tmp.path().join("bad").exists(), "{name}");
    }

    let used = tmp.path().join("used");
    std::fs::create_dir(&used).expect("mkdir");
    std::fs::write(used.join("keep.txt"), "mine").expect("write");
    let out = new_crate("hello", &used);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("exists and is not empty"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(&used).expect("read").count(),
        1,
        "nothing is written"
    );

    let file = tmp.path().join("file");
    std::fs::write(&file, "").expect("write");
    let out = new_crate("hello", &file);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not a folder"), "{}", stderr(&out));

    // An empty folder is fine, and so is the default folder, ./NAME.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    assert_ok(&new_crate("hello", &empty));
    assert_ok(&run(tinyhost()
        .args(["component", "new", "my_thing"])
        .current_dir(tmp.path())));
    assert!(tmp.path().join("my_thing/src/lib.rs").is_file());
}

#[test]
fn new_vendors_this_hosts_sdk_wit_and_lock_into_a_standalone_crate() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("hello");
    assert_ok(&new_crate("hello", &dir));
    // Every SDK source and WIT file of the repository, unchanged (a file added to either
    // and not embedded fails here).
    for (from, to) in [
        ("guests/sdk/src", "vendor/tinyhost-sdk/src"),
        ("wit", "wit"),
    ] {
        let mut count = 0;
        for entry in std::fs::read_dir(repo().join(from)).expect("read") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("name");
            let vendored = std::fs::read_to_string(dir.join(to).join(name))
                .unwrap_or_else(|e| panic!("{} is vendored: {e}", path.display()));
            assert_eq!(vendored, std::fs::read_to_string(&path).expect("read"));
            count += 1;
        }
        assert_eq!(
            std::fs::read_dir(dir.join(to)).expect("read").count(),
            count
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("Cargo.lock")).expect("lock"),
        std::fs::read_to_string(repo().join("guests/Cargo.lock")).expect("lock")
    );
    let sdk = std::fs::read_to_string(dir.join("vendor/tinyhost-sdk/Cargo.toml")).expect("toml");
    assert!(!sdk.contains("workspace"), "{sdk}");
    assert!(sdk.contains("wit-bindgen = { version = \"0.46\""), "{sdk}");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("toml");
    for expected in [
        "name = \"hello\"",
        "crate-type = [\"cdylib\"]",
        "\n[workspace]\n",
        "tinyhost-sdk = { path = \"vendor/tinyhost-sdk\" }",
        "[profile.release]",
    ] {
        assert!(manifest.contains(expected), "{expected}: {manifest}");
    }
    for file in ["README.md", ".gitignore", "src/lib.rs"] {
        assert!(dir.join(file).is_file(), "{file}");
    }

    // The example flow's objects have Kubernetes names and name the component.
    let flow = std::fs::read_to_string(dir.join("examples/flow.yaml")).expect("flow");
    let mut components = Vec::new();
    for document in serde_norway::Deserializer::from_str(&flow) {
        let object: Value = serde::Deserialize::deserialize(document).expect("YAML");
        let name = object["metadata"]["name"].as_str().expect("name");
        assert!(tinyhost::manifest::is_rfc1123_subdomain(name), "{name}");
        if let Some(component) = object["spec"]["component"].as_str() {
            components.push(component.to_string());
        }
    }
    assert_eq!(components, ["signal", "hello", "debug"]);
}

#[test]
fn validate_says_what_is_wrong_with_each_bad_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = |name: &str, bytes: &[u8]| {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    };
    let wat = |text: &str| wat::parse_str(text).expect("WAT");
    let builtins = tinyhost::guests::BUILTINS_WASM;
    let cases: Vec<(PathBuf, Vec<&str>)> = vec![
        (
            file(
                "random.wasm",
                b"PK\x03\x04 a zip file, say, and no wasm at all",
            ),
            vec!["not WebAssembly", "`\\0asm`"],
        ),
        (file("empty.wasm", b""), vec!["the file is empty (0 bytes)"]),
        (
            file("cut.wasm", &builtins[..builtins.len() / 2]),
            vec!["truncated", "cut short"],
        ),
        (
            file("core.wasm", &wat("(module (func (export \"f\")))")),
            vec!["core WebAssembly module, not a component", "wasm32-wasip2"],
        ),
        (
            file("nothing.wasm", &wat("(component)")),
            vec![
                "it exports nothing",
                "exports `tinysystems:component/component@0.2.0`",
            ],
        ),
        (
            file(
                "old.wasm",
                &wat(r#"(component (instance $i)
                    (export "tinysystems:component/component@0.1.0" (instance $i)))"#),
            ),
            vec![
                "built for the world tinysystems:component@0.1.0",
                "this host runs tinysystems:component@0.2.0",
            ],
        ),
        (
            file(
                "command.wasm",
                &wat(r#"(component (instance $i) (export "wasi:cli/run@0.2.0" (instance $i)))"#),
            ),
            vec!["a WASI command", "`wasi:cli/run@0.2.0`", "cdylib"],
        ),
        (
            file(
                "imports.wasm",
                &wat(r#"(component
                    (import "acme:widgets/gadget@1.0.0" (instance (export "poke" (func))))
                    (import "tinysystems:component/output@0.1.0" (instance (export "output" (func))))
                    (instance $i)
                    (export "tinysystems:component/component@0.2.0" (instance $i)))"#),
            ),
            vec![
                "imports `acme:widgets/gadget@1.0.0`, which this host does not provide (missing: `poke`)",
                "imports `tinysystems:component/output@0.1.0`, which this host does not provide",
                "this host provides the interfaces of tinysystems:component@0.2.0",
            ],
        ),
        (
            file(
                "shape.wasm",
                &wat(r#"(component (instance $i)
                    (export "tinysystems:component/component@0.2.0" (instance $i)))"#),
            ),
            vec![
                "its `tinysystems:component/component@0.2.0` export does not have the shape this host expects",
                "does not have export `components`",
            ],
        ),
    ];
    for (path, expected) in cases {
        let out = validate(&path);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            path.display(),
            stdout(&out)
        );
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("error: {}: ", path.display())),
            "{err}"
        );
        for text in expected {
            assert!(err.contains(text), "{}: `{text}` in {err}", path.display());
        }
    }

    let out = validate(&tmp.path().join("missing.wasm"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));

    // The built-ins, and the example component, are fine.
    let builtins = file("builtins.wasm", builtins);
    let out = validate(&builtins);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("components (array_filter, array_get"),
        "{}",
        stdout(&out)
    );
    if !tinyhost::guests::GREETER_WASM.is_empty() {
        let greeter = Path::new(tinyhost::guests::GREETER_WASM);
        let out = validate(greeter);
        assert_ok(&out);
        assert_eq!(
            stdout(&out).trim(),
            format!(
                "ok: {}: 1 component (greeter), world tinysystems:component@0.2.0",
                greeter.display()
            )
        );
    }
}

#[test]
fn inspect_shows_the_greeter_as_text_and_json() {
    if tinyhost::guests::GREETER_WASM.is_empty() {
        eprintln!("the guests were built outside this build; no greeter to inspect");
        return;
    }
    let greeter = Path::new(tinyhost::guests::GREETER_WASM);
    let bytes = std::fs::read(greeter).expect("greeter");
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));

    let out = run(tinyhost().args(["component", "inspect"]).arg(greeter));
    assert_ok(&out);
    let text = stdout(&out);
    for expected in [
        format!("size     {} bytes", bytes.len()),
        format!("digest   {digest}"),
        "world    tinysystems:component@0.2.0 (loads in this host".to_string(),
        "component greeter — Greeter  [example]".to_string(),
        "in  request    left    Request       {context: any, name: string (required)}".to_string(),
        "out _control   top     Dashboard     {greeting: string}".to_string(),
        "imports:\n".to_string(),
        "  tinysystems:component/output@0.2.0\n".to_string(),
        "exports:\n  tinysystems:component/component@0.2.0\n".to_string(),
    ] {
        assert!(text.contains(&expected), "`{expected}` in\n{text}");
    }

    let out = run(tinyhost()
        .args(["component", "inspect"])
        .arg(greeter)
        .args(["--output", "json"]));
    assert_ok(&out);
    let report: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(report["digest"], digest.as_str());
    assert_eq!(report["size"], bytes.len());
    assert_eq!(report["world"], "tinysystems:component@0.2.0");
    assert_eq!(report["hostWorld"], "tinysystems:component@0.2.0");
    assert_eq!(
        report["exports"],
        serde_json::json!(["tinysystems:component/component@0.2.0"])
    );
    assert!(
        report["imports"]
            .as_array()
            .expect("imports")
            .iter()
            .any(|i| i == "tinysystems:component/output@0.2.0")
    );
    let components = report["components"].as_array().expect("components");
    assert_eq!(components.len(), 1);
    let greeter = &components[0];
    assert_eq!(greeter["name"], "greeter");
    assert_eq!(greeter["tags"], serde_json::json!(["example"]));
    assert!(
        greeter["info"]
            .as_str()
            .is_some_and(|i| i.contains("Answers"))
    );
    let request = greeter["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["name"] == "request")
        .expect("request port");
    assert_eq!(request["direction"], "in");
    assert_eq!(request["position"], "left");
    assert_eq!(request["label"], "Request");
    assert_eq!(
        request["schema"]["$defs"]["Request"]["properties"]["name"]["$ref"],
        "#/$defs/Name"
    );
    assert_eq!(request["configuration"]["name"], "");

    let out = run(tinyhost()
        .args(["component", "inspect"])
        .arg(Path::new("no/such/file.wasm")));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot read `no/such/file.wasm`"),
        "{}",
        stderr(&out)
    );
}
