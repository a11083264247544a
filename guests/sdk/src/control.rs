//! The `_control` port of components that run until stopped (ticker, cron): the dashboard
//! form with its Start and Stop buttons and status line, the states it shows, and reading
//! which button a control message pressed; plus [`decode`] and [`publish`], which every
//! component with a dashboard needs.
//!
//! It exists so the start/stop components share one form, one pair of states and one
//! reading of the buttons instead of each carrying a copy (and so a new trigger gets them
//! right for free).

use serde_json::Map;

use crate::schema::Schema;
use crate::{Failure, Value, json, log, output, ports};

/// The status shown while the component runs.
pub const RUNNING: &str = "Running";
/// The status shown while it is stopped and nothing went wrong.
pub const NOT_RUNNING: &str = "Not running";

/// The `_control` schema of a start/stop component: `form` (the object named for `$defs`,
/// with the fields the Start form submits: a context, a schedule, ...), followed by a
/// read-only `status` and the `start` and `stop` buttons.
///
/// Upstream swaps between a "stopped" and a "running" schema; ports here are a function of
/// the settings alone, so one schema carries both buttons and the published state (see
/// [`running_state`], [`stopped_state`]) says which one applies.
pub fn start_stop_schema(form: Schema) -> Schema {
    form.prop(
        "status",
        Schema::string()
            .title("Status")
            .with("readonly", json!(true)),
    )
    .prop(
        "start",
        Schema::boolean()
            .title("Start")
            .with("format", json!("button")),
    )
    .prop(
        "stop",
        Schema::boolean()
            .title("Stop")
            .with("format", json!("button")),
    )
}

/// The control state while running: `fields` (an object; anything else counts as `{}`),
/// then `"status": "Running"` and the Stop button.
pub fn running_state(fields: Value) -> Value {
    with_status(fields, RUNNING, "stop")
}

/// The control state while stopped: `fields`, then the status (`error` when stopping or
/// starting failed, else `"Not running"`) and the Start button.
pub fn stopped_state(fields: Value, error: Option<&str>) -> Value {
    with_status(fields, error.unwrap_or(NOT_RUNNING), "start")
}

fn with_status(fields: Value, status: &str, button: &str) -> Value {
    let mut state = match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    state.insert("status".into(), Value::String(status.into()));
    state.insert(button.into(), Value::Bool(true));
    Value::Object(state)
}

/// Which button a start/stop control message pressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Button {
    /// `{"start": true}`.
    Start,
    /// `{"stop": true}`; wins over Start, so a form with both set never starts a node.
    Stop,
    /// Neither: a form submitted without a button (a context edited while running, say).
    Neither,
}

impl Button {
    /// From the two flags of a decoded control message.
    pub fn from_flags(start: bool, stop: bool) -> Self {
        if stop {
            Button::Stop
        } else if start {
            Button::Start
        } else {
            Button::Neither
        }
    }

    /// From a control object as it arrived: a missing or non-boolean flag is not pressed.
    pub fn read(control: &Map<String, Value>) -> Self {
        let flag = |name: &str| control.get(name).and_then(Value::as_bool).unwrap_or(false);
        Button::from_flags(flag("start"), flag("stop"))
    }
}

/// Decodes a `_control` message into `T`, refusing anything but an object first: serde
/// would also read a struct from an array, by position, and a form submission is always an
/// object.
pub fn decode<T: serde::de::DeserializeOwned>(control: Value) -> Result<T, Failure> {
    if !control.is_object() {
        return Err(Failure::permanent(
            "invalid control message: expected an object",
        ));
    }
    crate::decode("control message", control)
}

/// Publishes `state` as the node's control state (output on `_control`). Showing the state
/// must not fail the action that changed it, so a failure is logged as a warning naming
/// `component`.
pub fn publish(component: &str, state: &Value) {
    if let Err(e) = output::output(ports::CONTROL, state) {
        log::warn(&format!(
            "{component}: cannot publish control state: {}",
            e.message
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_appends_status_and_both_buttons_to_the_form() {
        let form = Schema::object("Control")
            .required_prop("context", Schema::any("Context").title("Context"));
        assert_eq!(
            start_stop_schema(form).to_port_schema().to_string(),
            r##"{"$ref":"#/$defs/Control","$defs":{"Context":{"title":"Context","path":"$.context"},"Control":{"type":"object","properties":{"context":{"$ref":"#/$defs/Context","propertyOrder":1},"status":{"type":"string","title":"Status","readonly":true,"propertyOrder":2},"start":{"type":"boolean","title":"Start","format":"button","propertyOrder":3},"stop":{"type":"boolean","title":"Stop","format":"button","propertyOrder":4}},"required":["context"],"path":"$"}}}"##
        );
    }

    #[test]
    fn states_keep_the_form_fields_first() {
        assert_eq!(
            running_state(json!({"context": 1, "schedule": "* * * * *"})).to_string(),
            r#"{"context":1,"schedule":"* * * * *","status":"Running","stop":true}"#
        );
        assert_eq!(
            stopped_state(json!({"context": null}), None).to_string(),
            r#"{"context":null,"status":"Not running","start":true}"#
        );
        assert_eq!(
            stopped_state(json!({"context": null}), Some("invalid schedule")).to_string(),
            r#"{"context":null,"status":"invalid schedule","start":true}"#
        );
        assert_eq!(
            running_state(json!([1])).to_string(),
            r#"{"status":"Running","stop":true}"#
        );
    }

    #[test]
    fn stop_wins_and_non_booleans_are_not_pressed() {
        let read = |v: Value| Button::read(v.as_object().unwrap());
        assert_eq!(read(json!({"start": true})), Button::Start);
        assert_eq!(read(json!({"stop": true, "start": true})), Button::Stop);
        assert_eq!(read(json!({"start": "yes"})), Button::Neither);
        assert_eq!(read(json!({})), Button::Neither);
        assert_eq!(Button::from_flags(false, true), Button::Stop);
    }

    #[test]
    fn decode_refuses_non_objects_with_the_shared_text() {
        #[derive(serde::Deserialize, Debug)]
        struct Form {
            #[allow(dead_code)]
            start: bool,
        }
        let err = decode::<Form>(json!([true])).unwrap_err();
        assert_eq!(err.message, "invalid control message: expected an object");
        let err = decode::<Form>(json!({"start": "yes"})).unwrap_err();
        assert!(
            err.message
                .starts_with("invalid control message: invalid type"),
            "{}",
            err.message
        );
        assert!(decode::<Form>(json!({"start": true})).is_ok());
    }
}
