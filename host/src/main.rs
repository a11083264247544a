//! The `tinyhost` binary: a thin edge over [`tinyhost::cli`].

/// Every hop allocates a few short-lived strings (payloads, mapped messages) on whichever
/// worker thread runs it; mimalloc's thread-local free lists serve that pattern faster than
/// the system allocator, whose consolidation passes showed up in hop profiles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tinyhost::cli::main()
}
