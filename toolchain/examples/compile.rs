//! Compiles one source file and prints the result, timing and cache counters: a manual check
//! of the toolchain and the way its cold/warm compile times are measured.
//!
//! `cargo run --release -p tinyhost-toolchain --example compile -- <go|tinygo|rust> <file> <cache_dir>`
//! (`go` is found through `TINYHOST_GO` or `PATH`).

use std::process::ExitCode;
use std::time::Instant;

use tinyhost_toolchain::{Language, Toolchain, ToolchainConfig};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [language, file, cache_dir] = args.as_slice() else {
        eprintln!("usage: compile <go|tinygo|rust> <file> <cache_dir>");
        return ExitCode::from(2);
    };
    let language: Language = match language.parse() {
        Ok(language) => language,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    let source = match std::fs::read_to_string(file) {
        Ok(source) => source,
        Err(err) => {
            eprintln!("reading {file}: {err}");
            return ExitCode::from(2);
        }
    };
    let toolchain = Toolchain::new(ToolchainConfig::new(cache_dir.into()));
    let started = Instant::now();
    let result = toolchain.compile(language, &source).await;
    let elapsed = started.elapsed();
    match result {
        Ok(artifact) => {
            println!(
                "{language}: {} bytes by {} in {:.2?} (compile_ms {}), key {}, {:?}",
                artifact.wasm.len(),
                artifact.compiler,
                elapsed,
                artifact.compile_ms,
                &artifact.key[..16],
                toolchain.stats()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
