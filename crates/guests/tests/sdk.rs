//! The SDK's and the built-ins' own unit tests (message shapes, URL handling, schema
//! building) run natively: the guests' workspace is not part of this one, so this test runs
//! `cargo test` there, in a target directory of its own (the outer build holds the lock of
//! the usual one).

use std::path::Path;
use std::process::Command;

#[test]
fn the_guest_crates_unit_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests-native");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root.join("guests"))
        .args(["test", "--locked", "-p", "tinyhost-sdk", "--target-dir"])
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "guest unit tests failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("test result: ok"), "{stdout}");
}
