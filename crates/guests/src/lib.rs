//! The guest components, built from `guests/` by this crate's build script. The host
//! embeds [`BUILTINS_WASM`] and loads it like any author's component file; tests and
//! examples find the other components by path.

#![warn(missing_docs)]

use std::borrow::Cow;

use tinyhost_wasm::registry::ComponentSource;

/// The built-in components (`guests/builtins`), one component file carrying them all.
pub const BUILTINS_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtins.wasm"));

/// The built-in HTTP components (`guests/http`: `http_server`, `http_request`,
/// `http_auth_parse`), a file of their own: they wait in host calls for HTTP responses,
/// which costs the bookkeeping the other built-ins are spared.
pub const HTTP_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/http.wasm"));

/// Path of the misbehaving test component (`guests/testkit`); empty when the guests
/// were built outside this build (`TINYHOST_BUILTINS_WASM`).
pub const TESTKIT_WASM: &str = env!("TINYHOST_TESTKIT_WASM");

/// Path of the example responder of `examples/request-response` (`guests/greeter`);
/// empty when the guests were built outside this build.
pub const GREETER_WASM: &str = env!("TINYHOST_GREETER_WASM");

/// The origins the embedded built-ins are loaded under: the host trusts them with what it
/// withholds from author components (outbound HTTP to any host).
pub const BUILTIN_ORIGINS: [&str; 2] = ["builtin:common", "builtin:http"];

/// Whether a component was loaded from the embedded built-ins.
pub fn is_builtin(origin: &str) -> bool {
    BUILTIN_ORIGINS.contains(&origin)
}

/// The embedded built-ins as component sources.
pub fn builtins() -> Vec<ComponentSource> {
    [BUILTINS_WASM, HTTP_WASM]
        .into_iter()
        .zip(BUILTIN_ORIGINS)
        .map(|(bytes, origin)| ComponentSource::Bytes {
            origin: origin.into(),
            bytes: Cow::Borrowed(bytes),
        })
        .collect()
}
