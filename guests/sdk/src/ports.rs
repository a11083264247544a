//! Port definitions in the shapes the editor expects, plus the system ports every
//! component shares (`_settings`, `_control`, `error`).

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

/// The conventional `error` port (`{context, error}`), drawn at the bottom.
pub fn error(context: &Schema) -> PortDef {
    let schema = Schema::object("Error")
        .prop("context", context.clone())
        .prop("error", Schema::string().title("Error"));
    source(
        ERROR,
        "Error",
        Position::Bottom,
        serde_json::json!({"context": null, "error": ""}),
        &schema,
    )
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
