//! The error-port convention, in one place: with `enableErrorPort` on, a failure that is
//! about the message (bad input, an item that cannot be found) leaves on the `error` port
//! as `{context, error}` and the call succeeds with the downstream response; with it off,
//! the failure goes back to the sender.
//!
//! It exists so that every component publishes the same port and emits the same shape:
//! built-ins used to carry a `fail` each, and the copies had started to differ.

use crate::ports::{self, ERROR};
use crate::schema::Schema;
use crate::{Failure, PortDef, Value, json, output, with_context};

/// A node's `error` port: whether it is enabled and which of upstream's two message shapes
/// it uses.
///
/// ```ignore
/// let errors = ErrorPort::new(settings.enable_error_port);
/// defs.extend(errors.port(&Schema::context()));          // in `ports()`
/// return errors.fail(msg.context, Failure::permanent("index must be >= 1"));  // in `handle`
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorPort {
    enabled: bool,
    omit_null_context: bool,
    schema_name: &'static str,
}

impl ErrorPort {
    /// The port, present when `enabled` (usually the `enableErrorPort` setting). Messages
    /// are `{"context": …, "error": "…"}`, `context` always present.
    pub const fn new(enabled: bool) -> Self {
        ErrorPort {
            enabled,
            omit_null_context: false,
            schema_name: "Error",
        }
    }

    /// Leaves `context` out of the message when it is `null` (and out of the port's default
    /// configuration), as upstream components whose field is `omitempty` do.
    pub const fn omit_null_context(mut self) -> Self {
        self.omit_null_context = true;
        self
    }

    /// Names the message object in the port's `$defs` (default `Error`), for components
    /// whose upstream schema uses another name.
    pub const fn schema_name(mut self, name: &'static str) -> Self {
        self.schema_name = name;
        self
    }

    /// Whether the node has the port.
    pub const fn enabled(&self) -> bool {
        self.enabled
    }

    /// The port definition (`error`, drawn at the bottom) with `context` described by
    /// `context`, or `None` when the port is disabled; `defs.extend(..)` it.
    pub fn port(&self, context: &Schema) -> Option<PortDef> {
        if !self.enabled {
            return None;
        }
        let configuration = if self.omit_null_context {
            json!({"error": ""})
        } else {
            json!({"context": null, "error": ""})
        };
        Some(ports::error_port(self.schema_name, context, configuration))
    }

    /// The message the port carries: `{context, error}`, in that order.
    pub fn message(&self, context: Value, error: &str) -> Value {
        if self.omit_null_context {
            with_context(context, json!({ "error": error }))
        } else {
            json!({ "context": context, "error": error })
        }
    }

    /// Emits [`ErrorPort::message`] on `error` whether or not the port is enabled (the
    /// caller has decided); returns the downstream response.
    pub fn emit(&self, context: Value, error: &str) -> Result<Option<Value>, Failure> {
        output::output(ERROR, &self.message(context, error))
    }

    /// The convention itself: emits `failure`'s message on `error` when the port is
    /// enabled, else returns `failure` to the caller.
    pub fn fail(&self, context: Value, failure: Failure) -> Result<Option<Value>, Failure> {
        if self.enabled {
            self.emit(context, &failure.message)
        } else {
            Err(failure)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Schema {
        Schema::any("Context").title("Context").configurable()
    }

    #[test]
    fn message_keeps_context_first_and_null_unless_omitted() {
        let port = ErrorPort::new(true);
        assert_eq!(
            port.message(Value::Null, "boom").to_string(),
            r#"{"context":null,"error":"boom"}"#
        );
        assert_eq!(
            port.message(json!({"b": 1, "a": 2}), "boom").to_string(),
            r#"{"context":{"b":1,"a":2},"error":"boom"}"#
        );
        let omitting = port.omit_null_context();
        assert_eq!(
            omitting.message(Value::Null, "boom").to_string(),
            r#"{"error":"boom"}"#
        );
        assert_eq!(
            omitting.message(json!("x"), "boom").to_string(),
            r#"{"context":"x","error":"boom"}"#
        );
    }

    #[test]
    fn disabled_port_returns_the_failure_and_publishes_nothing() {
        let port = ErrorPort::new(false);
        assert!(port.port(&context()).is_none());
        let err = port
            .fail(Value::Null, Failure::retryable("peer down"))
            .unwrap_err();
        assert_eq!(err.message, "peer down");
        assert!(err.retryable);
    }

    #[test]
    fn port_definition_follows_the_shape() {
        let def = ErrorPort::new(true).port(&context()).unwrap();
        assert_eq!(def.name, "error");
        assert_eq!(def.label, "Error");
        assert!(def.source);
        assert_eq!(def.position, crate::Position::Bottom);
        assert_eq!(def.configuration, r#"{"context":null,"error":""}"#);
        assert_eq!(
            def.schema.as_deref(),
            Some(
                r##"{"$ref":"#/$defs/Error","$defs":{"Context":{"title":"Context","configurable":true,"path":"$.context"},"Error":{"type":"object","properties":{"context":{"$ref":"#/$defs/Context","propertyOrder":1},"error":{"type":"string","title":"Error","propertyOrder":2}},"path":"$"}}}"##
            )
        );
        let omitting = ErrorPort::new(true)
            .omit_null_context()
            .schema_name("ErrorOutput")
            .port(&context())
            .unwrap();
        assert_eq!(omitting.configuration, r#"{"error":""}"#);
        assert!(
            omitting
                .schema
                .unwrap()
                .starts_with(r##"{"$ref":"#/$defs/ErrorOutput""##)
        );
    }
}
