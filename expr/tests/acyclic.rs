//! The crate's modules form layers: none imports, directly or through
//! others, a module that imports it back (product code; `#[cfg(test)]`
//! code may use anything). The checker is also tested here on small
//! made-up crates, so a green result means something.

#[path = "../../testing/acyclic.rs"]
mod acyclic;

use std::fs;
use std::panic;
use std::path::Path;

use acyclic::assert_acyclic;

#[test]
fn modules_of_this_crate_import_each_other_in_no_circle() {
    assert_acyclic(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
}

/// Writes the files of a made-up crate (`(path, text)`) and returns the
/// checker's panic message, or `None` when it passes.
fn check(files: &[(&str, &str)]) -> Option<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let file = dir.path().join(path);
        fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        fs::write(&file, text).expect("write");
    }
    let src = dir.path().to_path_buf();
    panic::catch_unwind(move || assert_acyclic(&src))
        .err()
        .map(|e| match e.downcast::<String>() {
            Ok(s) => *s,
            Err(_) => "non-text panic".to_string(),
        })
}

#[test]
fn layered_modules_pass() {
    let files = [
        ("lib.rs", "mod a;\nmod b;\npub use a::A;\npub use b::f;\n"),
        ("a.rs", "pub struct A;\n"),
        ("b.rs", "use crate::a::A;\npub fn f() -> A { A }\n"),
    ];
    assert_eq!(check(&files), None);
}

#[test]
fn two_siblings_that_import_each_other_are_a_circle() {
    let files = [
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::g;\npub fn f() { g() }\n"),
        ("b.rs", "pub fn g() { crate::a::f() }\n"),
    ];
    let why = check(&files).expect("must fail");
    assert!(why.contains("circle among a, b"), "{why}");
    assert!(why.contains("a -> b"), "{why}");
    assert!(why.contains("b -> a"), "{why}");
}

#[test]
fn a_longer_circle_is_found() {
    let files = [
        ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
        ("a.rs", "use crate::b::B;\npub struct A(B);\n"),
        ("b.rs", "pub struct B(Box<crate::c::C>);\n"),
        ("c.rs", "use super::a::A;\npub struct C(Box<A>);\n"),
    ];
    let why = check(&files).expect("must fail");
    assert!(why.contains("circle among a, b, c"), "{why}");
}

#[test]
fn a_child_that_uses_its_parent_is_a_circle() {
    // The root re-exports from `a`, and `a` reaches back into the root.
    let files = [
        ("lib.rs", "mod a;\npub use a::f;\npub struct Root;\n"),
        ("a.rs", "use crate::Root;\npub fn f() -> Root { Root }\n"),
    ];
    let why = check(&files).expect("must fail");
    assert!(why.contains("circle among crate, a"), "{why}");
    // Nested: `a/b.rs` uses `super::*` while `a` imports from `b`.
    let files = [
        ("lib.rs", "mod a;\n"),
        ("a.rs", "mod b;\npub use self::b::g;\npub struct S;\n"),
        ("a/b.rs", "use super::*;\npub fn g() -> S { S }\n"),
    ];
    let why = check(&files).expect("must fail");
    assert!(why.contains("circle among a, a::b"), "{why}");
}

#[test]
fn test_only_code_does_not_count() {
    let files = [
        ("lib.rs", "mod a;\nmod b;\n"),
        (
            "a.rs",
            "pub fn f() {}\n#[cfg(test)]\nmod tests { use crate::b::g; }\n#[cfg(test)]\nuse crate::b::g;\n",
        ),
        ("b.rs", "pub fn g() { crate::a::f() }\n"),
    ];
    assert_eq!(check(&files), None);
}

#[test]
fn mod_rs_path_attributes_and_inline_modules_are_followed() {
    let files = [
        (
            "lib.rs",
            "mod a;\n#[path = \"other/c_impl.rs\"]\nmod c;\nmod d { pub fn h() { crate::a::b::g() } }\n",
        ),
        ("a/mod.rs", "pub mod b;\n"),
        ("a/b.rs", "pub fn g() { crate::c::k() }\n"),
        ("other/c_impl.rs", "pub fn k() { crate::d::h() }\n"),
    ];
    let why = check(&files).expect("must fail");
    assert!(why.contains("circle among a::b, c, d"), "{why}");
}

#[test]
fn other_crates_and_local_names_are_not_modules() {
    // `a` has a variable and a type named like the sibling `b`, and uses a
    // crate path `::b`; none of them is the module `b`.
    let files = [
        ("lib.rs", "mod a;\nmod b;\n"),
        (
            "a.rs",
            "use ::b::x;\npub fn f() { let b = 1; let _ = b; let _ = Option::<u8>::None; }\n",
        ),
        ("b.rs", "pub fn g() { crate::a::f() }\n"),
    ];
    assert_eq!(check(&files), None);
}
