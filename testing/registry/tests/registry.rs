//! The test registry against itself and against skopeo: it answers, it demands the
//! credentials it was given, it keeps what was pushed across a stop and resume, and its
//! server dies with the handle.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use tinyhost_test_registry::{Options, Registry, get_status, skopeo};

/// The smallest WebAssembly module: magic and a version (here, a component's).
const WASM: &[u8] = b"\0asm\x0d\x00\x01\x00";

fn auth() -> Options {
    Options {
        auth: Some(("tester".to_string(), "s3cret pass".to_string())),
        ..Options::default()
    }
}

#[test]
fn answers_without_auth() {
    let registry = Registry::start(Options::default()).expect("registry");
    assert_eq!(
        get_status(&registry.address(), "/v2/", None).expect("GET /v2/"),
        200
    );
}

#[test]
fn demands_the_credentials_it_was_given() {
    let registry = Registry::start(auth()).expect("registry");
    let address = registry.address();
    assert_eq!(get_status(&address, "/v2/", None).expect("GET /v2/"), 401);
    assert_eq!(
        get_status(&address, "/v2/", Some(("tester", "wrong"))).expect("GET /v2/"),
        401
    );
    assert_eq!(
        get_status(&address, "/v2/", Some(("tester", "s3cret pass"))).expect("GET /v2/"),
        200
    );
}

/// Writes `blob` under `layout/blobs/sha256/`; its OCI descriptor.
fn put_blob(layout: &Path, media_type: &str, blob: &[u8]) -> serde_json::Value {
    let hex = hex::encode(Sha256::digest(blob));
    std::fs::write(layout.join("blobs/sha256").join(&hex), blob).expect("writing a blob");
    serde_json::json!({
        "mediaType": media_type,
        "digest": format!("sha256:{hex}"),
        "size": blob.len(),
    })
}

/// An OCI image layout holding one wasm artifact tagged `v1`, as a wasm registry client
/// would push it: a wasm config and one `application/wasm` layer. Its manifest's bytes.
fn write_wasm_layout(layout: &Path) -> Vec<u8> {
    std::fs::create_dir_all(layout.join("blobs/sha256")).expect("creating the layout");
    let config = put_blob(layout, "application/vnd.wasm.config.v0+json", b"{}");
    let layer = put_blob(layout, "application/wasm", WASM);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config,
        "layers": [layer],
    }))
    .expect("manifest");
    let mut descriptor = put_blob(
        layout,
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    );
    descriptor["annotations"] = serde_json::json!({ "org.opencontainers.image.ref.name": "v1" });
    let index = serde_json::json!({ "schemaVersion": 2, "manifests": [descriptor] });
    std::fs::write(layout.join("index.json"), index.to_string()).expect("index.json");
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("oci-layout");
    manifest
}

/// Runs skopeo with `args` (no trust policy needed for tests); its stdout, or a panic
/// with its stderr.
fn run_skopeo(args: &[&str]) -> Vec<u8> {
    let output = skopeo()
        .expect("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .output()
        .expect("running skopeo");
    assert!(
        output.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Pushes a wasm artifact with skopeo, reads it back three ways, and checks it survives
/// the registry going down and coming back.
fn skopeo_round_trip(options: Options) {
    let mut registry = Registry::start(options.clone()).expect("registry");
    let work = tempfile::tempdir().expect("temporary folder");
    let layout = work.path().join("layout");
    let manifest = write_wasm_layout(&layout);
    let reference = format!("docker://{}/test/thing:v1", registry.address());
    // Pushing: credentials as a flag ...
    let source = format!("oci:{}:v1", layout.display());
    let creds = options.auth.as_ref().map(|(u, p)| format!("{u}:{p}"));
    let mut copy = vec!["copy", "--dest-tls-verify=false"];
    if let Some(creds) = &creds {
        copy.extend(["--dest-creds", creds]);
    }
    run_skopeo(&[copy, vec![source.as_str(), reference.as_str()]].concat());
    // ... reading back: credentials from the harness's Docker config file.
    let authfile: PathBuf = registry.docker_config(work.path()).expect("docker config");
    let authfile = authfile.to_string_lossy().into_owned();
    let inspect = [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--authfile",
        &authfile,
        &reference,
    ];
    assert_eq!(
        run_skopeo(&inspect),
        manifest,
        "the manifest, byte for byte"
    );
    // Pulled into an OCI layout and into a plain folder, the layer is the wasm bytes.
    for (kind, layer) in [
        (
            "oci",
            format!("blobs/sha256/{}", hex::encode(Sha256::digest(WASM))),
        ),
        ("dir", hex::encode(Sha256::digest(WASM))),
    ] {
        let target = work.path().join(format!("pulled-{kind}"));
        let destination = match kind {
            "oci" => format!("oci:{}:v1", target.display()),
            _ => format!("dir:{}", target.display()),
        };
        run_skopeo(&[
            "copy",
            "--src-tls-verify=false",
            "--src-authfile",
            &authfile,
            &reference,
            &destination,
        ]);
        assert_eq!(
            std::fs::read(target.join(layer)).expect("the pulled layer"),
            WASM
        );
    }
    // Down: nothing answers on its port. Back: what was pushed is still there.
    registry.stop();
    assert!(get_status(&registry.address(), "/v2/", None).is_err());
    registry.resume().expect("resume");
    assert_eq!(
        run_skopeo(&inspect),
        manifest,
        "the manifest after a restart"
    );
}

#[test]
fn skopeo_round_trip_without_auth() {
    skopeo_round_trip(Options::default());
}

#[test]
fn skopeo_round_trip_with_auth() {
    skopeo_round_trip(auth());
}

/// The processes whose command line mentions `text`.
fn processes_mentioning(text: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(text) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn dropping_it_kills_the_server() {
    let registry = Registry::start(Options::default()).expect("registry");
    let address = registry.address();
    // The server runs `docker-registry serve <its folder>/config.yml`, beside storage/.
    let folder = registry
        .storage()
        .parent()
        .expect("storage has a parent")
        .to_string_lossy()
        .into_owned();
    let pids = processes_mentioning(&folder);
    assert_eq!(pids.len(), 1, "one server for {folder}: {pids:?}");
    drop(registry);
    assert!(
        !Path::new(&format!("/proc/{}", pids[0])).exists(),
        "process {} outlived its handle",
        pids[0]
    );
    assert!(
        TcpStream::connect(&address).is_err(),
        "{address} still answers"
    );
}

#[test]
fn skopeo_runs() {
    let output = skopeo()
        .expect("skopeo")
        .arg("--version")
        .output()
        .expect("running skopeo");
    let version = String::from_utf8_lossy(&output.stdout);
    assert!(version.starts_with("skopeo version "), "{version}");
    let registry = tinyhost_test_registry::tools().expect("tools").registry;
    let output = Command::new(registry)
        .arg("--version")
        .output()
        .expect("running docker-registry");
    let version = String::from_utf8_lossy(&output.stdout);
    assert!(
        version.contains("github.com/docker/distribution"),
        "{version}"
    );
}
