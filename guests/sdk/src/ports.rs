//! Port definitions in the shapes the editor expects, the system ports every component
//! shares (`_settings`, `_control`, `error`), and [`Pair`], the main in/out pair most
//! components have.

use crate::schema::Schema;
use crate::{PortDef, Position, Value};

/// The settings port name.
pub const SETTINGS: &str = "_settings";
/// The control port name (dashboard state and buttons).
pub const CONTROL: &str = "_control";
/// The conventional error port name.
pub const ERROR: &str = "error";

/// A port that receives messages, drawn on `position`.
pub fn target(
    name: &str,
    label: &str,
    position: Position,
    configuration: Value,
    schema: &Schema,
) -> PortDef {
    port(name, label, false, position, configuration, schema)
}

/// A port that emits messages, drawn on `position`.
pub fn source(
    name: &str,
    label: &str,
    position: Position,
    configuration: Value,
    schema: &Schema,
) -> PortDef {
    port(name, label, true, position, configuration, schema)
}

/// The `_settings` port carrying the current settings as its configuration.
pub fn settings(configuration: Value, schema: &Schema) -> PortDef {
    port(
        SETTINGS,
        "Settings",
        false,
        Position::Top,
        configuration,
        schema,
    )
}

/// The `_control` port carrying the dashboard state.
pub fn control(configuration: Value, schema: &Schema) -> PortDef {
    port(
        CONTROL,
        "Dashboard",
        true,
        Position::Top,
        configuration,
        schema,
    )
}

/// The conventional `error` port (`{context, error}`), drawn at the bottom; the same as
/// [`ErrorPort::new(true).port(context)`](crate::ErrorPort::port), which also emits on it.
pub fn error(context: &Schema) -> PortDef {
    error_port(
        "Error",
        context,
        serde_json::json!({"context": null, "error": ""}),
    )
}

/// The `error` port with its message object named `schema_name` in `$defs`.
pub(crate) fn error_port(schema_name: &str, context: &Schema, configuration: Value) -> PortDef {
    let schema = Schema::object(schema_name)
        .prop("context", context.clone())
        .prop("error", Schema::string().title("Error"));
    source(ERROR, "Error", Position::Bottom, configuration, &schema)
}

/// The names and labels of a component's main pair of ports: the target port its messages
/// arrive on (drawn left) and the source port its results leave from (drawn right).
///
/// It exists because most components have exactly this pair under one of three
/// conventional names, and spelling out both ports with names, labels and positions in
/// every component is where they drift apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    /// Name of the target port.
    pub target: &'static str,
    /// Editor label of the target port.
    pub target_label: &'static str,
    /// Name of the source port.
    pub source: &'static str,
    /// Editor label of the source port.
    pub source_label: &'static str,
}

impl Pair {
    /// `in` → `out`: pass-through and transforming components.
    pub const IN_OUT: Pair = Pair {
        target: "in",
        target_label: "In",
        source: "out",
        source_label: "Out",
    };
    /// `request` → `result`: components that answer a query about the message.
    pub const REQUEST_RESULT: Pair = Pair {
        target: "request",
        target_label: "Request",
        source: "result",
        source_label: "Result",
    };
    /// `request` → `response`: components that run something per message.
    pub const REQUEST_RESPONSE: Pair = Pair {
        target: "request",
        target_label: "Request",
        source: "response",
        source_label: "Response",
    };

    /// The target port, drawn on the left.
    pub fn target_port(&self, configuration: Value, schema: &Schema) -> PortDef {
        target(
            self.target,
            self.target_label,
            Position::Left,
            configuration,
            schema,
        )
    }

    /// The source port, drawn on the right.
    pub fn source_port(&self, configuration: Value, schema: &Schema) -> PortDef {
        source(
            self.source,
            self.source_label,
            Position::Right,
            configuration,
            schema,
        )
    }

    /// Both ports, target first: each with its default configuration and message schema.
    pub fn ports(
        &self,
        target_configuration: Value,
        target_schema: &Schema,
        source_configuration: Value,
        source_schema: &Schema,
    ) -> [PortDef; 2] {
        [
            self.target_port(target_configuration, target_schema),
            self.source_port(source_configuration, source_schema),
        ]
    }
}

fn port(
    name: &str,
    label: &str,
    source: bool,
    position: Position,
    configuration: Value,
    schema: &Schema,
) -> PortDef {
    PortDef {
        name: name.to_string(),
        label: label.to_string(),
        source,
        position,
        configuration: configuration.to_string(),
        schema: Some(schema.to_port_schema().to_string()),
        response_configuration: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pair_draws_target_left_and_source_right() {
        let schema = Schema::object("M");
        let [input, output] = Pair::IN_OUT.ports(json!({"a": 1}), &schema, json!(null), &schema);
        assert_eq!(
            (input.name.as_str(), input.label.as_str(), input.source),
            ("in", "In", false)
        );
        assert_eq!(input.position, Position::Left);
        assert_eq!(input.configuration, r#"{"a":1}"#);
        assert_eq!(
            (output.name.as_str(), output.label.as_str(), output.source),
            ("out", "Out", true)
        );
        assert_eq!(output.position, Position::Right);
        assert_eq!(output.configuration, "null");
        assert_eq!(
            input.schema.as_deref(),
            Some(r##"{"$ref":"#/$defs/M","$defs":{"M":{"type":"object","path":"$"}}}"##)
        );
        assert_eq!(
            Pair::REQUEST_RESULT.source_port(json!({}), &schema).label,
            "Result"
        );
        assert_eq!(Pair::REQUEST_RESPONSE.source, "response");
    }

    #[test]
    fn error_port_is_the_error_port_helper() {
        let context = Schema::any("Context");
        // The generated `PortDef` has no `PartialEq`; its debug form lists every field.
        assert_eq!(
            format!("{:?}", error(&context)),
            format!("{:?}", crate::ErrorPort::new(true).port(&context).unwrap())
        );
    }
}
