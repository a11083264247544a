//! The built-in HTTP components of Tiny Systems' http-module, shipped inside tinyhost as a
//! wasm component of their own: they are the only built-ins that call out over
//! `wasi:http`, and a component that may wait in a host call pays for the bookkeeping that
//! keeps such waits off its CPU budget — the other built-ins, on every hop of every flow,
//! do not.
//!
//! Adding an HTTP built-in: one new file, one line in [`components`].

mod http_auth_parse;
mod http_request;
mod http_server;

/// Every HTTP built-in.
fn components() -> &'static [tinyhost_sdk::ComponentDef] {
    &[
        http_auth_parse::COMPONENT,
        http_request::COMPONENT,
        http_server::COMPONENT,
    ]
}

tinyhost_sdk::export_module!(components);
