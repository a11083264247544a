//! Write tinyhost flow components in Rust.
//!
//! The `tinysystems:component` WIT package (`wit/*.wit`) is the only contract between the
//! host and a component; this crate turns its JSON-text boundary into `serde_json::Value`s
//! and its resource exports into one small trait, [`Node`], so a component is a settings
//! struct, a port list and a `handle` function. One `.wasm` can carry several components:
//! list them in a function returning `&'static [ComponentDef]` and call
//! [`export_module!`] once.
//!
//! ```ignore
//! fn components() -> &'static [tinyhost_sdk::ComponentDef] { &[echo::COMPONENT] }
//! tinyhost_sdk::export_module!(components);
//! ```
//!
//! # What the host offers
//!
//! One module per WIT interface, named like it; every function acts for the node whose
//! call is running:
//!
//! | module | interface | for |
//! | --- | --- | --- |
//! | [`output`] | `output` | [`output::output`] (blocking, returns the downstream response), [`output::output_text`] (the same for JSON text), [`output::output_detached`], [`output::detached_in_flight`] |
//! | [`timers`] | `timers` | [`timers::set_timer`] / [`timers::cancel_timer`] (calls back [`Node::on_timer`]), [`timers::sleep_ms`], [`timers::now_ms`] |
//! | [`metadata`] | `metadata` | durable node state: [`metadata::get`], [`metadata::set`], [`metadata::entries`] |
//! | [`log`] | `log` | [`log::log`] with a [`log::Level`], or [`log::info`], [`log::warn`], ... |
//! | [`node_info`] | `node-info` | [`node_info::identity`], [`node_info::is_leader`], [`node_info::refresh_status`] |
//! | [`expr`] | `expr` | the edges' evaluator: [`expr::eval`], [`expr::render`] |
//! | [`sandbox`] | `sandbox` | compile and run inline programs (`sandboxed-component` world only) |
//! | [`http_server`] | `http-server` | a listener the host serves for the node: [`http_server::listen`], [`http_server::close`]; requests arrive at [`Node::on_http_request`] |
//! | [`http`] | `wasi:http/outgoing-handler` | outbound requests: [`http::send`] (to the hosts the module allows) |
//!
//! # Helpers
//!
//! - [`ports`] and [`schema::Schema`] describe ports in the editor's conventions;
//!   [`ports::Pair`] is the usual `in`/`out` (or `request`/`result`) pair and
//!   [`Schema::context`](schema::Schema::context) the usual passthrough `context` field.
//! - [`ErrorPort`] is the `enableErrorPort` convention: the `error` port's definition and
//!   "emit `{context, error}` there, or fail the call".
//! - [`control`] is the `_control` form of start/stop components (ticker, cron) and the
//!   reading of their buttons, plus [`control::decode`] and [`control::publish`] for any
//!   dashboard.
//! - [`with_context`] builds upstream's `{context, …}` messages whose context is
//!   `omitempty`.
//! - Components that forward data they do not inspect work on text: [`Node::handle_text`],
//!   [`Context`], [`handle_through_text`] and [`output::output_text`] skip building a
//!   `Value` on every hop.

pub mod control;
mod error_port;
pub mod expr;
pub mod http;
pub mod http_server;
pub mod log;
pub mod metadata;
pub mod node_info;
pub mod output;
pub mod ports;
pub mod sandbox;
pub mod schema;
pub mod timers;

#[doc(hidden)]
pub mod runtime;

pub use error_port::ErrorPort;

/// The generated bindings of the `sandboxed-component` world (`flow-component` plus
/// `sandbox`); everything else in this crate wraps them.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "sandboxed-component",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_bindings",
        default_bindings_module: "tinyhost_sdk::bindings",
        generate_all,
    });
}

pub use bindings::tinysystems::component::types::{ComponentInfo, Failure, PortDef, Position};
pub use serde_json::{Value, json};

/// One flow node's behaviour. The host creates a node per TinyNode (possibly in several
/// instances at once) and always applies settings first; keep state that must survive a
/// call in [`metadata`], not in fields.
pub trait Node: 'static {
    /// Applies settings from the `_settings` port; an error keeps the previous settings.
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure>;

    /// A control message (dashboard button, signal to `_control`).
    fn on_control(&mut self, _control: Value) -> Result<Option<Value>, Failure> {
        Ok(None)
    }

    /// The host reconciles the node: resume long-running work recorded in metadata.
    fn on_reconcile(&mut self) -> Result<(), Failure> {
        Ok(())
    }

    /// A timer set with [`timers::set_timer`] fired.
    fn on_timer(&mut self, _id: &str) -> Result<(), Failure> {
        Ok(())
    }

    /// A request on the listener this node opened with [`http_server::listen`]; the result
    /// goes to the client (a failure as a `500` naming the node).
    fn on_http_request(
        &mut self,
        _request: http_server::IncomingRequest,
    ) -> Result<http_server::OutgoingResponse, Failure> {
        Err(Failure::permanent("this component serves no HTTP requests"))
    }

    /// A message on target port `port`; the result answers the sender's blocking output.
    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure>;

    /// The same message as JSON text, which is how it crosses the boundary. The default
    /// parses it and calls [`Node::handle`]; a component that forwards data it does not
    /// inspect overrides this to skip building and re-encoding a `Value` on every hop (see
    /// [`Context`]).
    fn handle_text(&mut self, port: &str, payload: &str) -> Result<Option<String>, Failure> {
        let payload = runtime::parse("message", payload)?;
        self.handle(port, payload).map(|v| v.map(|v| v.to_string()))
    }
}

/// A message's `context` kept as the JSON text it arrived as, for components that pass it
/// on unchanged: `{"context": …}` in, the same `context` out, without parsing it.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Context<'a>(#[serde(borrow)] Option<&'a serde_json::value::RawValue>);

impl Context<'_> {
    /// The context as JSON text (`null` when the message had none).
    pub fn as_json(&self) -> &str {
        self.0.map(|raw| raw.get()).unwrap_or("null")
    }

    /// `{"context": <the same text>}`: the shape built-ins emit.
    pub fn wrap(&self) -> String {
        let context = self.as_json();
        let mut out = String::with_capacity(context.len() + 12);
        out.push_str("{\"context\":");
        out.push_str(context);
        out.push('}');
        out
    }
}

/// [`Node::handle`] for a component whose real work is in [`Node::handle_text`]: encodes
/// the message, runs the text path and decodes its reply, so such a component needs only
/// one implementation.
pub fn handle_through_text<N: Node + ?Sized>(
    node: &mut N,
    port: &str,
    payload: Value,
) -> Result<Option<Value>, Failure> {
    node.handle_text(port, &payload.to_string())?
        .map(|text| decode_text("response", &text))
        .transpose()
}

/// Decodes a message given as JSON text into a struct that may borrow from it (a
/// [`Context`] does), with the same error texts as [`decode`].
pub fn decode_text<'a, T: serde::Deserialize<'a>>(what: &str, text: &'a str) -> Result<T, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::permanent(format!("invalid {what}: {e}")))
}

/// Everything the host needs to know about one component, as plain data so a module's
/// component list is a `static` slice.
pub struct ComponentDef {
    /// Routing name used in `TinyNode.spec.component`.
    pub name: &'static str,
    /// One-line description (the editor's label).
    pub description: &'static str,
    /// Longer help text.
    pub info: &'static str,
    /// Editor tags.
    pub tags: &'static [&'static str],
    /// The ports for the given settings (`None` = defaults).
    pub ports: fn(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure>,
    /// A fresh node with default settings.
    pub create: fn() -> Box<dyn Node>,
}

impl Failure {
    /// A permanent failure: retrying the same input will fail again.
    pub fn permanent(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retryable: false,
        }
    }

    /// A failure worth retrying (a peer is down, a resource is busy).
    pub fn retryable(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retryable: true,
        }
    }
}

/// Decodes a settings or message value into a typed struct, naming the field that is wrong.
pub fn decode<T: serde::de::DeserializeOwned>(what: &str, value: Value) -> Result<T, Failure> {
    serde_json::from_value(value).map_err(|e| Failure::permanent(format!("invalid {what}: {e}")))
}

/// Decodes settings, or the defaults when the host asks for ports without settings.
pub fn decode_settings<T: serde::de::DeserializeOwned + Default>(
    settings: Option<&Value>,
) -> Result<T, Failure> {
    match settings {
        None => Ok(T::default()),
        Some(v) => decode("settings", v.clone()),
    }
}

/// Encodes a typed value as JSON; failures here are bugs in the component, reported as such.
pub fn encode<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value)
        .unwrap_or_else(|e| json!({ "error": format!("cannot encode value: {e}") }))
}

/// `{"context": context, ...fields}` with `context` left out when it is `null`, as upstream
/// messages whose `context` is `omitempty` are; `fields` is an object (anything else is
/// returned as it is). Several built-ins build such messages, and the order matters: the
/// context comes first, then `fields` in their order.
pub fn with_context(context: Value, fields: Value) -> Value {
    match fields {
        Value::Object(fields) if !context.is_null() => {
            let mut out = serde_json::Map::with_capacity(fields.len() + 1);
            out.insert("context".to_string(), context);
            out.extend(fields);
            Value::Object(out)
        }
        other => other,
    }
}

/// The error-port convention with the context borrowed: the same as
/// `ErrorPort::new(enable_error_port).fail(context.clone(), failure)`.
#[deprecated(note = "use `ErrorPort`, which also defines the port")]
pub fn fail_or_emit(
    enable_error_port: bool,
    context: &Value,
    failure: Failure,
) -> Result<Option<Value>, Failure> {
    ErrorPort::new(enable_error_port).fail(context.clone(), failure)
}

/// Exports a module: `$list` is a function returning `&'static [ComponentDef]`.
#[macro_export]
macro_rules! export_module {
    ($list:path) => {
        struct __TinyhostModule;

        impl $crate::runtime::Module for __TinyhostModule {
            fn components() -> &'static [$crate::ComponentDef] {
                $list()
            }
        }

        impl $crate::bindings::exports::tinysystems::component::component::Guest for __TinyhostModule {
            type Node = $crate::runtime::NodeHandle<__TinyhostModule>;

            fn components() -> Vec<$crate::ComponentInfo> {
                $crate::runtime::component_infos($list())
            }

            fn ports(
                component: String,
                settings: Option<String>,
            ) -> Result<Vec<$crate::PortDef>, $crate::Failure> {
                $crate::runtime::ports($list(), &component, settings)
            }
        }

        $crate::bindings::export_bindings!(__TinyhostModule with_types_in $crate::bindings);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_context_puts_a_context_first_and_drops_a_null_one() {
        assert_eq!(
            with_context(json!({"a": 1}), json!({"z": 1, "b": 2})).to_string(),
            r#"{"context":{"a":1},"z":1,"b":2}"#
        );
        assert_eq!(
            with_context(Value::Null, json!({"z": 1})).to_string(),
            r#"{"z":1}"#
        );
        assert_eq!(with_context(json!(1), json!([2])), json!([2]));
    }

    #[test]
    fn context_wraps_the_text_it_borrowed() {
        let msg: std::collections::HashMap<String, Context> =
            decode_text("message", r#"{"context": {"b":1,  "a":[2]}}"#).unwrap();
        assert_eq!(msg["context"].wrap(), r#"{"context":{"b":1,  "a":[2]}}"#);
        assert_eq!(Context::default().wrap(), r#"{"context":null}"#);
    }
}
