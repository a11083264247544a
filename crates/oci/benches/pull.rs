//! What naming a component by reference costs a start, against a real registry on
//! loopback: a reference pinned by digest that the store holds (no network), a tag the
//! store holds (one `HEAD` to see whether it moved), and a first pull into an empty store.
//! `cargo bench -p tinyhost-oci --bench pull`; `cargo test --benches` runs each once.

use std::collections::BTreeMap;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tinyhost_oci::{ComponentRef, Registries, RegistryOptions};
use tinyhost_test_registry::{Options, Registry};

/// A component the size of a typical author's (about 200 KB: a 200 KB custom section).
fn component() -> Vec<u8> {
    let mut bytes = wat::parse_str("(component)").expect("component text");
    let payload = vec![7u8; 200 * 1024];
    let mut section = vec![4u8];
    section.extend_from_slice(b"pad1");
    section.extend_from_slice(&payload);
    bytes.push(0);
    let mut size = section.len() as u64;
    loop {
        let byte = (size & 0x7f) as u8;
        size >>= 7;
        if size == 0 {
            bytes.push(byte);
            break;
        }
        bytes.push(byte | 0x80);
    }
    bytes.extend_from_slice(&section);
    bytes
}

fn pulls(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let registry = Registry::start(Options::default()).expect("registry");
    let store = tempfile::tempdir().expect("temp dir");
    let hosts = Registries::new(RegistryOptions::new(store.path()));
    let tag: ComponentRef = format!("oci://{}/bench/c:1", registry.address())
        .parse()
        .expect("reference");
    let pushed = rt
        .block_on(hosts.push(component(), &tag, BTreeMap::new()))
        .expect("push");
    let pinned = tag.with_digest(&pushed.digest);
    rt.block_on(hosts.pull(&tag)).expect("pull");

    let mut group = c.benchmark_group("pull");
    group.bench_function("pinned, in the store", |b| {
        b.iter(|| {
            let pulled = rt.block_on(hosts.pull(&pinned)).expect("pull");
            assert!(!pulled.fetched);
        })
    });
    group.bench_function("tag, in the store (HEAD)", |b| {
        b.iter(|| {
            let pulled = rt.block_on(hosts.pull(&tag)).expect("pull");
            assert!(!pulled.fetched);
        })
    });
    group.bench_function("tag, first pull (200 KB)", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("temp dir"),
            |empty| {
                let fresh = Registries::new(RegistryOptions::new(empty.path()));
                let pulled = rt.block_on(fresh.pull(&tag)).expect("pull");
                assert!(pulled.fetched);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, pulls);
criterion_main!(benches);
