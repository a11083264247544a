//! Components by OCI reference through the real binary, against a real registry (the CNCF
//! distribution registry on loopback, `tinyhost-test-registry`): `component push` and
//! `pull`, cross-checked with skopeo; a local flow and `tinyhost call` naming a component
//! by reference, served again from the cache when the registry is down; references that
//! cannot be had stop the run with a clear error; and the operator, with registry
//! credentials from a Docker config, loading a component by reference and again after a
//! restart with the registry gone.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use tinyhost_test_registry::{Options, Registry, skopeo};

use support::cluster::{
    NS, Operator, WAIT, account_kubeconfig, apply_flow, control_plane, eventually, get_json,
    install_chart, install_crds, node_yaml, signal_yaml, status_port,
};
use support::tinyhost_command;

fn greeter() -> &'static Path {
    Path::new(tinyhost::guests::GREETER_WASM)
}

/// `tinyhost ARGS` with its own cache folder for pulled components.
fn tinyhost(cache: &Path, args: &[&str]) -> Output {
    tinyhost_command()
        .args(args)
        .arg(format!("--cache-dir={}", cache.display()))
        .output()
        .expect("tinyhost runs")
}

/// `tinyhost cache ACTION` on the cache folder `cache`.
fn cache_action(cache: &Path, action: &str) -> Output {
    tinyhost_command()
        .env("TINYHOST_CACHE_DIR", cache)
        .args(["cache", action])
        .output()
        .expect("tinyhost runs")
}

fn stdout_of(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn push_greeter(cache: &Path, reference: &str) -> Value {
    let greeter = greeter().display().to_string();
    let out = tinyhost(
        cache,
        &["component", "push", &greeter, reference, "--output", "json"],
    );
    serde_json::from_str(&stdout_of(&out, "push")).expect("push prints JSON")
}

#[test]
fn push_and_pull_from_the_command_line() {
    let registry = Registry::start(Options::default()).expect("registry");
    let cache = tempfile::tempdir().expect("temp dir");
    let reference = format!("oci://{}/flows/greeter:0.1.0", registry.address());
    let pushed = push_greeter(cache.path(), &reference);
    assert_eq!(pushed["reference"], reference.as_str());
    assert_eq!(pushed["components"], json!(["greeter"]));
    let digest = pushed["digest"].as_str().expect("a digest").to_string();
    assert_eq!(
        pushed["pinned"],
        format!("oci://{}/flows/greeter@{digest}", registry.address())
    );

    // skopeo, a second client, reads a wasm artifact with tinyhost's digest.
    let raw = skopeo()
        .expect("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!(
            "docker://{}/flows/greeter:0.1.0",
            registry.address()
        ))
        .output()
        .expect("skopeo runs");
    let manifest: Value = serde_json::from_slice(&raw.stdout).expect("manifest");
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(
        tinyhost::oci::store::sha256_digest(&raw.stdout),
        digest,
        "skopeo reads the manifest tinyhost pushed"
    );

    // Pulled once; the second time it comes from the cache.
    let out = tinyhost(
        cache.path(),
        &["component", "pull", &reference, "--output", "json"],
    );
    let first: Value = serde_json::from_str(&stdout_of(&out, "pull")).expect("JSON");
    assert_eq!(first["fetched"], true);
    assert_eq!(first["digest"], digest.as_str());
    let copy = cache.path().join("copy.wasm");
    let copy_arg = copy.display().to_string();
    let out = tinyhost(
        cache.path(),
        &["component", "pull", &reference, "--out", &copy_arg],
    );
    let text = stdout_of(&out, "pull again");
    assert!(text.starts_with("cached "), "{text}");
    assert_eq!(
        std::fs::read(&copy).expect("copied"),
        std::fs::read(greeter()).expect("greeter")
    );

    // The cache reports what was pulled; emptied, the next pull fetches again.
    let stats = cache_action(cache.path(), "stats");
    let stats: Value = serde_json::from_str(&stdout_of(&stats, "cache stats")).expect("JSON");
    let size = std::fs::metadata(greeter()).expect("greeter").len();
    assert_eq!(stats["pulled"], json!({"files": 1, "bytes": size}));
    stdout_of(&cache_action(cache.path(), "clear"), "cache clear");
    let stats = cache_action(cache.path(), "stats");
    let stats: Value = serde_json::from_str(&stdout_of(&stats, "cache stats")).expect("JSON");
    assert_eq!(stats["pulled"], json!({"files": 0, "bytes": 0}));
    let out = tinyhost(
        cache.path(),
        &["component", "pull", &reference, "--output", "json"],
    );
    let again: Value = serde_json::from_str(&stdout_of(&out, "pull")).expect("JSON");
    assert_eq!(again["fetched"], true);

    // `inspect` and `components` read a reference like a file.
    let out = tinyhost(
        cache.path(),
        &["component", "inspect", &reference, "--output", "json"],
    );
    let inspected: Value = serde_json::from_str(&stdout_of(&out, "inspect")).expect("JSON");
    assert!(inspected.to_string().contains("greeter"), "{inspected}");
    let out = tinyhost(
        cache.path(),
        &["components", &reference, "--output", "json"],
    );
    let listed = stdout_of(&out, "components");
    let greeter: Value = listed
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|c| c["name"] == "greeter")
        .unwrap_or_else(|| panic!("no greeter in {listed}"));
    assert_eq!(greeter["origin"], format!("{reference}@{digest}"));
    let request = greeter["ports"]
        .as_array()
        .and_then(|ports| ports.iter().find(|p| p["name"] == "request"))
        .unwrap_or_else(|| panic!("no request port in {greeter}"));
    assert_eq!(request["position"], "left");
}

#[test]
fn bad_references_and_bad_pushes_are_clear_errors() {
    let mut registry = Registry::start(Options::default()).expect("registry");
    let cache = tempfile::tempdir().expect("temp dir");
    let address = registry.address();

    // Not a component: refused before anything reaches the registry.
    let not_wasm = cache.path().join("notes.wasm");
    std::fs::write(&not_wasm, b"hello").expect("write");
    let out = tinyhost(
        cache.path(),
        &[
            "component",
            "push",
            &not_wasm.display().to_string(),
            &format!("oci://{address}/flows/notes:1"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("notes.wasm"),
        "{}",
        stderr_of(&out)
    );
    let tags = skopeo()
        .expect("skopeo")
        .args(["list-tags", "--tls-verify=false"])
        .arg(format!("docker://{address}/flows/notes"))
        .output()
        .expect("skopeo runs");
    assert!(!tags.status.success(), "nothing was pushed");

    for (reference, expected) in [
        (format!("oci://{address}/flows/none:1"), "not found"),
        (
            format!("oci://{address}/flows/none@sha256:{}", "0".repeat(64)),
            "not found",
        ),
        ("oci://flows/none:1".to_string(), "must be a registry host"),
        (
            format!("{address}/flows/none:1"),
            "must start with `oci://`",
        ),
    ] {
        let out = tinyhost(cache.path(), &["component", "pull", &reference]);
        assert!(!out.status.success(), "{reference}");
        let err = stderr_of(&out);
        assert!(err.contains(expected), "{reference}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }

    // A flow naming a reference that cannot be had does not start.
    let flow = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        flow.path().join("components.yaml"),
        format!("components: [\"oci://{address}/flows/missing:1\"]\n"),
    )
    .expect("write");
    std::fs::write(flow.path().join("flow.yaml"), greeter_flow("x")).expect("write");
    let flow_arg = flow.path().display().to_string();
    let out = tinyhost(
        cache.path(),
        &["run", "--no-watch", "--duration", "5s", &flow_arg],
    );
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("flows/missing:1") && stderr_of(&out).contains("not found"),
        "{}",
        stderr_of(&out)
    );
    registry.stop();
    let out = tinyhost(
        cache.path(),
        &[
            "component",
            "pull",
            &format!("oci://{address}/flows/greeter:1"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("cannot be reached and no copy is cached"),
        "{}",
        stderr_of(&out)
    );

    // A malformed components.yaml names itself.
    std::fs::write(flow.path().join("components.yaml"), "components: 3\n").expect("write");
    let out = tinyhost(
        cache.path(),
        &["run", "--no-watch", "--duration", "5s", &flow_arg],
    );
    assert!(!out.status.success());
    assert!(
        stderr_of(&out).contains("components.yaml"),
        "{}",
        stderr_of(&out)
    );
}

/// A greeter node of the local flow, and a signal asking it to greet `name`.
fn greeter_flow(name: &str) -> String {
    format!(
        "apiVersion: operator.tinysystems.io/v1alpha1\nkind: TinyNode\nmetadata: {{name: 00000001.flows.greeter-greet}}\nspec:\n  module: flows\n  component: greeter\n---\napiVersion: operator.tinysystems.io/v1alpha1\nkind: TinySignal\nmetadata: {{name: greet}}\nspec: {{node: 00000001.flows.greeter-greet, port: request, data: {{context: {{}}, name: {name}}}}}\n"
    )
}

#[test]
fn a_flow_names_its_component_by_reference_and_runs_on_when_the_registry_is_down() {
    let mut registry = Registry::start(Options::default()).expect("registry");
    let cache = tempfile::tempdir().expect("temp dir");
    let reference = format!("oci://{}/flows/greeter:latest", registry.address());
    let pushed = push_greeter(cache.path(), &reference);
    let flow = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        flow.path().join("components.yaml"),
        format!("# what this flow needs besides the built-ins\ncomponents: [\"{reference}\"]\n"),
    )
    .expect("write");
    std::fs::write(flow.path().join("flow.yaml"), greeter_flow("Ada")).expect("write");
    let flow_arg = flow.path().display().to_string();
    let run = |cache: &Path| {
        tinyhost(
            cache,
            &[
                "run",
                "--no-watch",
                "--output",
                "json",
                "--max-messages",
                "1",
                "--duration",
                "30s",
                &flow_arg,
            ],
        )
    };
    let out = run(cache.path());
    let printed = stdout_of(&out, "run");
    assert!(printed.contains("Hello, Ada!"), "{printed}");

    // The registry goes away: the cached copy serves, with a warning.
    registry.stop();
    let out = run(cache.path());
    let printed = stdout_of(&out, "run with the registry down");
    assert!(printed.contains("Hello, Ada!"), "{printed}");
    assert!(
        stderr_of(&out).contains("cannot be reached") && stderr_of(&out).contains("cached"),
        "{}",
        stderr_of(&out)
    );

    // Pinned by digest, the cache is enough: no registry, no warning.
    let pinned = pushed["pinned"].as_str().expect("pinned").to_string();
    let out = tinyhost_command()
        .args(["call", &flow_arg, "00000001.flows.greeter-greet:request"])
        .args(["--data", r#"{"context": {"id": 7}, "name": "Grace"}"#])
        .arg(format!("--components={pinned}"))
        .arg(format!("--cache-dir={}", cache.path().display()))
        .output()
        .expect("tinyhost runs");
    let answer: Value = serde_json::from_str(&stdout_of(&out, "call")).expect("JSON answer");
    assert_eq!(
        answer,
        json!({"context": {"id": 7}, "greeting": "Hello, Grace!"})
    );
    assert!(
        !stderr_of(&out).contains("warning: oci://"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn the_operator_loads_a_component_by_reference_with_registry_credentials() {
    let mut registry = Registry::start(Options {
        auth: Some(("flows".into(), "pull-secret".into())),
        ..Options::default()
    })
    .expect("registry");
    let credentials_dir = tempfile::tempdir().expect("temp dir");
    let credentials = registry
        .docker_config(credentials_dir.path())
        .expect("docker config");
    let cache = tempfile::tempdir().expect("temp dir");
    let reference = format!("oci://{}/flows/greeter:1.0.0", registry.address());
    let greeter = greeter().display().to_string();
    let out = tinyhost_command()
        .args(["component", "push", &greeter, &reference])
        .arg(format!("--registry-config={}", credentials.display()))
        .arg(format!("--cache-dir={}", cache.path().display()))
        .output()
        .expect("tinyhost runs");
    stdout_of(&out, "push with credentials");

    let cp = control_plane();
    install_crds(&cp);
    let chart = install_chart(&cp);
    let kubeconfig = account_kubeconfig(&cp, &chart);
    let components = format!("--components={reference}");
    let registry_config = format!("--registry-config={}", credentials.display());
    let cache_dir = format!("--cache-dir={}", cache.path().display());
    let extra = [
        components.as_str(),
        registry_config.as_str(),
        cache_dir.as_str(),
    ];
    let operator = Operator::start(&chart, &kubeconfig, "common-module-0", &extra);
    operator.wait_ready();
    let node = "00000001.common-module.greeter-greet";
    apply_flow(
        &cp,
        &(node_yaml(node, "greeter", "[]", "[]")
            + &signal_yaml(
                "greet-ada",
                node,
                "request",
                &json!({"context": {}, "name": "Ada"}),
            )),
    );
    let cp = &cp;
    let greeted = |who: &str| {
        let needle = format!("Hello, {who}!");
        move || {
            let node = get_json(cp, &["get", "tinynode", node, "-n", NS]);
            (status_port(&node, "_control")["greeting"] == needle.as_str()).then_some(())
        }
    };
    if let Err(e) = eventually("the greeting for Ada", WAIT, greeted("Ada")) {
        let node = get_json(cp, &["get", "tinynode", node, "-n", NS]);
        panic!("{e}; node: {node}\noperator log:\n{}", operator.log());
    }
    // The module publishes the pulled component among its own.
    let published = eventually("the greeter in the TinyModule's status", WAIT, || {
        let modules = get_json(cp, &["get", "tinymodules", "-n", NS]);
        modules["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| {
                m["status"]["components"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["name"] == "greeter"))
            })
            .then_some(())
    });
    if let Err(e) = published {
        panic!("{e}; operator log:\n{}", operator.log());
    }
    drop(operator);

    // Restarted with the registry gone: the component comes from the cache.
    registry.stop();
    let operator = Operator::start(&chart, &kubeconfig, "common-module-0", &extra);
    operator.wait_ready();
    apply_flow(
        cp,
        &signal_yaml(
            "greet-grace",
            node,
            "request",
            &json!({"context": {}, "name": "Grace"}),
        ),
    );
    if let Err(e) = eventually(
        "the greeting for Grace after the restart",
        WAIT,
        greeted("Grace"),
    ) {
        panic!("{e}; operator log:\n{}", operator.log());
    }
    assert!(
        operator.log().contains("cannot be reached"),
        "{}",
        operator.log()
    );
}
