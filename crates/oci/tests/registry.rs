//! Pulls and pushes against a real registry (the CNCF distribution registry on loopback),
//! with skopeo as an independent second client: what tinyhost pushes is a valid wasm
//! artifact, and what another client pushes, tinyhost pulls. Bad input each gets its own
//! clear error; nothing is pulled twice.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::secrets::RegistryAuth;
use tinyhost_oci::{ComponentRef, Credentials, OciError, Registries, RegistryOptions};
use tinyhost_test_registry::{Options, Registry, skopeo};

/// A small but real component; `n` makes each one different.
fn component(n: u32) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component (core module (func (export "f{n}"))) (core instance (instantiate 0)))"#
    ))
    .expect("valid component text")
}

/// A registry of its own, an empty store and a client keeping pulls in it.
struct Setup {
    registry: Registry,
    store: tempfile::TempDir,
    hosts: Registries,
}

fn setup() -> Setup {
    let registry = Registry::start(Options::default()).expect("registry");
    let store = tempfile::tempdir().expect("temp dir");
    let hosts = registries(store.path());
    Setup {
        registry,
        store,
        hosts,
    }
}

/// Pushes `component(n)` to `r`, without annotations.
async fn push(hosts: &Registries, n: u32, r: &ComponentRef) -> tinyhost_oci::Pushed {
    hosts
        .push(component(n), r, BTreeMap::new())
        .await
        .expect("push")
}

fn registries(store: &Path) -> Registries {
    Registries::new(RegistryOptions::new(store))
}

fn reference(registry: &Registry, path: &str) -> ComponentRef {
    format!("oci://{}/{path}", registry.address())
        .parse()
        .expect("a valid reference")
}

/// Runs skopeo with `args`; its standard output, or the test fails with its errors.
fn skopeo_ok(args: &[&str]) -> String {
    let output: Output = skopeo()
        .expect("skopeo")
        .args(args)
        .output()
        .expect("skopeo runs");
    assert!(
        output.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn what_tinyhost_pushes_skopeo_reads_and_what_it_pulls_is_verified_and_kept() {
    let Setup {
        registry,
        store,
        hosts,
    } = setup();
    let bytes = component(1);
    let r = reference(&registry, "authors/hello:0.1.0");
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "org.opencontainers.image.description".to_string(),
        "hello".to_string(),
    );
    let pushed = hosts
        .push(bytes.clone(), &r, annotations)
        .await
        .expect("push");
    assert!(pushed.digest.starts_with("sha256:"));
    assert_eq!(pushed.size, bytes.len() as u64);

    // skopeo sees a wasm artifact in the CNCF layout, with our digest.
    let address = format!("docker://{}/authors/hello:0.1.0", registry.address());
    let raw = skopeo_ok(&["inspect", "--raw", "--tls-verify=false", &address]);
    let manifest: serde_json::Value = serde_json::from_str(&raw).expect("manifest JSON");
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(manifest["layers"][0]["digest"], pushed.layer.as_str());
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.description"],
        "hello"
    );
    assert_eq!(
        tinyhost_oci::store::sha256_digest(raw.as_bytes()),
        pushed.digest
    );
    let config = skopeo_ok(&[
        "inspect",
        "--config",
        "--raw",
        "--tls-verify=false",
        &address,
    ]);
    let config: serde_json::Value = serde_json::from_str(&config).expect("config JSON");
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip2");
    let copy = tempfile::tempdir().expect("temp dir");
    let dir = format!("dir:{}", copy.path().display());
    skopeo_ok(&[
        "--insecure-policy",
        "copy",
        "--src-tls-verify=false",
        &address,
        &dir,
    ]);
    let layer_file = copy.path().join(pushed.layer.trim_start_matches("sha256:"));
    assert_eq!(std::fs::read(layer_file).expect("layer copied"), bytes);

    // The first pull fetches, the second is served from the store.
    let first = hosts.pull(&r).await.expect("pull");
    assert!(first.fetched);
    assert_eq!(first.digest, pushed.digest);
    assert_eq!(std::fs::read(&first.path).expect("pulled file"), bytes);
    let second = hosts.pull(&r).await.expect("pull again");
    assert!(!second.fetched, "pulled twice");
    assert_eq!(second.path, first.path);

    // A restart (a new client on the same store) does not pull either, and a reference
    // pinned by digest needs no registry at all.
    let mut registry = registry;
    registry.stop();
    let restarted = registries(store.path());
    let pinned = r.with_digest(&pushed.digest);
    let by_digest = restarted
        .pull(&pinned)
        .await
        .expect("pinned pull from the store");
    assert!(!by_digest.fetched);
    assert!(by_digest.warnings.is_empty());
}

#[tokio::test]
async fn a_component_skopeo_pushed_is_pulled() {
    let registry = Registry::start(Options::default()).expect("registry");
    let layout = tempfile::tempdir().expect("temp dir");
    let bytes = component(2);
    write_oci_layout(layout.path(), &bytes);
    let source = format!("oci:{}:v1", layout.path().display());
    let target = format!("docker://{}/others/thing:v1", registry.address());
    skopeo_ok(&[
        "--insecure-policy",
        "copy",
        "--dest-tls-verify=false",
        &source,
        &target,
    ]);
    let store = tempfile::tempdir().expect("temp dir");
    let pulled = registries(store.path())
        .pull(&reference(&registry, "others/thing:v1"))
        .await
        .expect("pull");
    assert_eq!(std::fs::read(pulled.path).expect("pulled"), bytes);
}

#[tokio::test]
async fn a_component_already_kept_under_another_tag_is_not_downloaded_again() {
    let Setup {
        registry,
        store: _store,
        hosts,
    } = setup();
    let stable = reference(&registry, "authors/same:stable");
    let v1 = reference(&registry, "authors/same:1.0.0");
    let a = push(&hosts, 10, &stable).await;
    let b = push(&hosts, 10, &v1).await;
    assert_eq!(a.layer, b.layer);
    assert!(hosts.pull(&stable).await.expect("pull").fetched);
    let second = hosts.pull(&v1).await.expect("pull the other tag");
    assert!(!second.fetched, "the same bytes were downloaded twice");
    assert_eq!(second.layer, a.layer);
}

#[tokio::test]
async fn a_tag_that_moved_is_pulled_again_and_said() {
    let Setup {
        registry,
        store,
        hosts,
    } = setup();
    let r = reference(&registry, "authors/moving:latest");
    let v1 = push(&hosts, 3, &r).await;
    assert!(hosts.pull(&r).await.expect("pull v1").fetched);
    let v2 = push(&hosts, 4, &r).await;
    assert_ne!(v1.digest, v2.digest);
    let restarted = registries(store.path());
    let pulled = restarted.pull(&r).await.expect("pull v2");
    assert!(pulled.fetched);
    assert_eq!(pulled.digest, v2.digest);
    assert_eq!(std::fs::read(&pulled.path).expect("v2"), component(4));
    assert!(
        pulled
            .warnings
            .iter()
            .any(|w| w.contains("moved") && w.contains(&v1.digest) && w.contains(&v2.digest)),
        "{:?}",
        pulled.warnings
    );
}

#[tokio::test]
async fn a_registry_that_is_down_is_survived_with_the_cached_copy() {
    let mut registry = Registry::start(Options::default()).expect("registry");
    let store = tempfile::tempdir().expect("temp dir");
    let r = reference(&registry, "authors/steady:1");
    let hosts = registries(store.path());
    let pushed = push(&hosts, 5, &r).await;
    hosts.pull(&r).await.expect("pull");
    registry.stop();

    let pulled = registries(store.path())
        .pull(&r)
        .await
        .expect("cached copy");
    assert!(!pulled.fetched);
    assert_eq!(pulled.digest, pushed.digest);
    assert!(
        pulled
            .warnings
            .iter()
            .any(|w| w.contains("cannot be reached")),
        "{:?}",
        pulled.warnings
    );

    let empty = tempfile::tempdir().expect("temp dir");
    let e = registries(empty.path()).pull(&r).await.unwrap_err();
    assert!(matches!(e, OciError::Unreachable { .. }), "{e}");
    assert!(e.to_string().contains("no copy is cached"), "{e}");
}

#[tokio::test]
async fn unknown_tags_and_digests_are_clear_errors() {
    let Setup {
        registry,
        store: _store,
        hosts,
    } = setup();
    let r = reference(&registry, "authors/known:1");
    push(&hosts, 6, &r).await;

    let e = hosts
        .pull(&reference(&registry, "authors/known:2"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("authors/known:2") && e.contains("not found"),
        "{e}"
    );
    let wrong = r.with_digest(&format!("sha256:{}", "0".repeat(64)));
    let e = hosts.pull(&wrong).await.unwrap_err().to_string();
    assert!(e.contains("not found"), "{e}");
    let e = hosts
        .pull(&reference(&registry, "nobody/nothing:1"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not found"), "{e}");
}

#[tokio::test]
async fn artifacts_that_are_not_wasm_components_are_refused() {
    let registry = Registry::start(Options::default()).expect("registry");
    let client = plain_client();
    let image = format!("{}/images/tarball:1", registry.address())
        .parse()
        .expect("reference");
    let layer = ImageLayer::new(
        b"not a tarball".to_vec(),
        "application/vnd.oci.image.layer.v1.tar".to_string(),
        None,
    );
    let config = Config::new(
        b"{}".to_vec(),
        "application/vnd.oci.image.config.v1+json".to_string(),
        None,
    );
    client
        .push(
            &image,
            std::slice::from_ref(&layer),
            config,
            &RegistryAuth::Anonymous,
            None,
        )
        .await
        .expect("push an image");
    let wasm_config = Config::new(
        b"{}".to_vec(),
        "application/vnd.wasm.config.v0+json".to_string(),
        None,
    );
    let image2 = format!("{}/images/mislabelled:1", registry.address())
        .parse()
        .expect("reference");
    client
        .push(
            &image2,
            &[layer],
            wasm_config,
            &RegistryAuth::Anonymous,
            None,
        )
        .await
        .expect("push a mislabelled artifact");

    let store = tempfile::tempdir().expect("temp dir");
    let hosts = registries(store.path());
    let e = hosts
        .pull(&reference(&registry, "images/tarball:1"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not a wasm component artifact")
            && e.contains("application/vnd.oci.image.config.v1+json"),
        "{e}"
    );
    let e = hosts
        .pull(&reference(&registry, "images/mislabelled:1"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("its layer is `application/vnd.oci.image.layer.v1.tar`"),
        "{e}"
    );
}

#[tokio::test]
async fn a_200_mb_component_is_refused_before_it_is_downloaded() {
    let Setup {
        registry,
        store,
        hosts,
    } = setup();
    let r = reference(&registry, "authors/huge:1");
    // A real component followed by a 200 MB custom section.
    let mut bytes = component(7);
    let payload = vec![0u8; 200 << 20];
    let mut section = Vec::new();
    section.push(4u8);
    section.extend_from_slice(b"huge");
    section.extend_from_slice(&payload);
    bytes.push(0); // custom section id
    leb128(&mut bytes, section.len() as u64);
    bytes.extend_from_slice(&section);
    drop(payload);
    let pushed = hosts.push(bytes, &r, BTreeMap::new()).await.expect("push");
    let e = hosts.pull(&r).await.unwrap_err();
    assert!(matches!(e, OciError::TooLarge { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&pushed.size.to_string()) && text.contains("limit of 104857600 bytes"),
        "{text}"
    );
    assert!(
        !store
            .path()
            .join("blobs")
            .join(pushed.layer.replace(':', "/"))
            .exists(),
        "nothing of it was kept"
    );
}

#[tokio::test]
async fn content_that_does_not_match_its_digest_is_refused() {
    let Setup {
        registry,
        store: _store,
        hosts,
    } = setup();
    let r = reference(&registry, "authors/tampered:1");
    let pushed = push(&hosts, 8, &r).await;
    // Change the blob inside the registry's storage, keeping its length.
    let hex = pushed.layer.trim_start_matches("sha256:");
    let data = registry
        .storage()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data");
    let mut blob = std::fs::read(&data).expect("the registry's blob");
    let last = blob.len() - 1;
    blob[last] ^= 0xff;
    std::fs::write(&data, blob).expect("tamper");
    let e = hosts.pull(&r).await.unwrap_err();
    assert!(matches!(e, OciError::Digest { .. }), "{e}");
    assert!(e.to_string().contains(&pushed.layer), "{e}");
}

#[tokio::test]
async fn registries_with_auth_take_docker_config_credentials() {
    let registry = Registry::start(Options {
        auth: Some(("author".into(), "s3cret".into())),
        ..Options::default()
    })
    .expect("registry");
    let config_dir = tempfile::tempdir().expect("temp dir");
    let config = registry.docker_config(config_dir.path()).expect("config");
    let store = tempfile::tempdir().expect("temp dir");
    let r = reference(&registry, "private/c:1");

    let anonymous = registries(store.path());
    let e = anonymous
        .push(component(9), &r, BTreeMap::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("private/c:1"), "{e}");

    let mut options = RegistryOptions::new(store.path());
    options.credentials = Credentials::from_file(&config).expect("credentials");
    let with_credentials = Registries::new(options);
    let pushed = with_credentials
        .push(component(9), &r, BTreeMap::new())
        .await
        .expect("push with credentials");
    let e = anonymous.pull(&r).await.unwrap_err().to_string();
    assert!(
        e.contains("refused access") && e.contains("--registry-config"),
        "{e}"
    );
    let pulled = with_credentials
        .pull(&r)
        .await
        .expect("pull with credentials");
    assert_eq!(pulled.digest, pushed.digest);
}

fn plain_client() -> oci_client::Client {
    oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..ClientConfig::default()
    })
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// An OCI image layout holding one wasm artifact, as `wkg` or `oras` would push it.
fn write_oci_layout(dir: &Path, component: &[u8]) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("layout");
    let put = |bytes: &[u8]| {
        let digest = tinyhost_oci::store::sha256_digest(bytes);
        std::fs::write(blobs.join(digest.trim_start_matches("sha256:")), bytes).expect("blob");
        digest
    };
    let config = br#"{"architecture":"wasm","os":"wasip2","layerDigests":[]}"#;
    let config_digest = put(config);
    let layer_digest = put(component);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/wasm", "digest": layer_digest, "size": component.len()}],
    })
    .to_string();
    let manifest_digest = put(manifest.as_bytes());
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "v1"},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index");
}

#[tokio::test]
async fn an_https_registry_is_reached_over_tls_and_an_untrusted_one_is_refused() {
    let registry = Registry::start(Options {
        tls: true,
        ..Options::default()
    })
    .expect("registry");
    let store = tempfile::tempdir().expect("temp dir");
    let r = reference(&registry, "secure/c:1");

    // Not trusted: the certificate error is what the author sees (no fall-back to HTTP).
    let e = registries(store.path())
        .push(component(11), &r, BTreeMap::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.to_lowercase().contains("certificate"), "{e}");

    // Trusted (through the standard SSL_CERT_FILE, read by a child process so this
    // test's own environment stays untouched): push and pull over HTTPS.
    let ca = registry.ca_certificate().expect("a CA").to_path_buf();
    let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "trusted_https_round_trip",
            "--ignored",
            "--nocapture",
        ])
        .env("SSL_CERT_FILE", &ca)
        .env("TRUSTED_REGISTRY", registry.address())
        .status()
        .expect("the test binary runs");
    assert!(status.success(), "the round trip over HTTPS failed");
}

/// Run by the test above in a child process that trusts the registry's CA.
#[tokio::test]
#[ignore = "run by an_https_registry_is_reached_over_tls_and_an_untrusted_one_is_refused"]
async fn trusted_https_round_trip() {
    let address = std::env::var("TRUSTED_REGISTRY").expect("TRUSTED_REGISTRY");
    let store = tempfile::tempdir().expect("temp dir");
    let hosts = registries(store.path());
    let r: ComponentRef = format!("oci://{address}/secure/c:1")
        .parse()
        .expect("reference");
    let pushed = push(&hosts, 11, &r).await;
    let pulled = hosts.pull(&r).await.expect("pull over HTTPS");
    assert_eq!(pulled.digest, pushed.digest);
    assert_eq!(std::fs::read(pulled.path).expect("pulled"), component(11));
}
