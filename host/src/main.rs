//! The `tinyhost` binary: a thin edge over [`tinyhost::cli`].

fn main() -> std::process::ExitCode {
    tinyhost::cli::main()
}
