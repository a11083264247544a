//! Generates the gRPC types and service from `proto/` with a pure-Rust protobuf compiler
//! (no `protoc` to install), and keeps the descriptor set for gRPC reflection.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let proto_dir = manifest_dir.join("proto");
    println!("cargo:rerun-if-changed={}", proto_dir.display());
    let files = match protox::compile([proto_dir.join("module.proto")], [&proto_dir]) {
        Ok(files) => files,
        Err(e) => fail(&format!("cannot compile proto/module.proto: {e:?}")),
    };
    let descriptor = PathBuf::from(env("OUT_DIR")).join("module_descriptor.bin");
    if let Err(e) = std::fs::write(&descriptor, prost::Message::encode_to_vec(&files)) {
        fail(&format!("cannot write {}: {e}", descriptor.display()));
    }
    if let Err(e) = tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(files)
    {
        fail(&format!("cannot generate the gRPC code: {e}"));
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| fail(&format!("{name} is not set by cargo")))
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}
