//! The guest components, built from `guests/` by this crate's build script. The host
//! embeds [`BUILTINS_WASM`] and loads it like any author's component file; tests and
//! examples find the other components by path.

#![warn(missing_docs)]

use std::borrow::Cow;

use tinyhost_wasm::registry::ComponentSource;

/// The built-in components (`guests/builtins`), one component file carrying them all.
pub const BUILTINS_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtins.wasm"));

/// Path of the misbehaving test component (`guests/testkit`); empty when the guests
/// were built outside this build (`TINYHOST_BUILTINS_WASM`).
pub const TESTKIT_WASM: &str = env!("TINYHOST_TESTKIT_WASM");

/// Path of the example responder of `examples/request-response` (`guests/greeter`);
/// empty when the guests were built outside this build.
pub const GREETER_WASM: &str = env!("TINYHOST_GREETER_WASM");

/// The origin the embedded built-ins are loaded under: the host trusts them with what it
/// withholds from author components (outbound HTTP to any host).
pub const BUILTINS_ORIGIN: &str = "builtin:common";

/// The embedded built-ins as a component source.
pub fn builtins() -> ComponentSource {
    ComponentSource::Bytes {
        origin: BUILTINS_ORIGIN.into(),
        bytes: Cow::Borrowed(BUILTINS_WASM),
    }
}
