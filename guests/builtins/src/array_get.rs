//! `array_get`: picks one element of an array by its 1-based number, because users (and
//! agents) refer to items of a list they were shown as "#2", not by a 0-based offset.
//!
//! It is also the canonical error-port component: an out-of-range number fails the call,
//! or, with `enableErrorPort`, goes out on `error` as `{context, error}` instead.

use serde::{Deserialize, Serialize};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{ComponentDef, Failure, Node, PortDef, Position, Value, host, json, ports};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "array_get",
    description: "Array Get",
    info: "Returns the array element with the given 1-based number, or an error when the \
           number is outside the array. Suited to numbered references, where a user picks \
           an item by its number from a list shown earlier. With enableErrorPort on, errors \
           leave on the Error port instead of failing the call.",
    tags: &["SDK", "ARRAY"],
    ports: port_defs,
    create: || {
        Box::new(ArrayGet {
            settings: Settings::default(),
        })
    },
};

const REQUEST: &str = "request";
const RESULT: &str = "result";

/// Settings as upstream names them.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    enable_error_port: bool,
}

/// The `request` message; a missing `array` is empty and a missing `index` is 0, as Go's
/// zero values make them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Request {
    context: Value,
    array: Option<Vec<Value>>,
    index: Value,
}

struct ArrayGet {
    settings: Settings,
}

fn context_schema() -> Schema {
    Schema::any("Context").title("Context").configurable()
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = tinyhost_sdk::decode_settings::<Settings>(settings)?;
    let settings_schema = Schema::object("Settings").prop(
        "enableErrorPort",
        Schema::boolean()
            .title("Enable Error Port")
            .description("Send errors to the error port instead of failing"),
    );
    let request_schema = Schema::object("Request")
        .prop(
            "context",
            context_schema().description("Passed through to the output"),
        )
        .required_prop(
            "array",
            Schema::array(Schema::any("Item"))
                .title("Array")
                .description("The array to take the element from")
                .configurable(),
        )
        .required_prop(
            "index",
            Schema::integer()
                .title("Index")
                .description("Number of the element, from 1"),
        );
    let result_schema = Schema::object("Result")
        .prop("context", context_schema())
        .prop("item", Schema::any("Item").title("Item").configurable())
        .prop(
            "index",
            Schema::integer()
                .title("Index")
                .description("Number of the element returned, from 1"),
        );
    let error_schema = Schema::object("Error")
        .prop("context", context_schema())
        .prop("error", Schema::string().title("Error"));

    let mut defs = vec![
        ports::settings(tinyhost_sdk::encode(&settings), &settings_schema),
        ports::target(
            REQUEST,
            "Request",
            Position::Left,
            json!({"array": ["first", "second", "third"], "index": 1}),
            &request_schema,
        ),
        ports::source(
            RESULT,
            "Result",
            Position::Right,
            json!({"item": "first", "index": 1}),
            &result_schema,
        ),
    ];
    if settings.enable_error_port {
        defs.push(ports::source(
            ports::ERROR,
            "Error",
            Position::Bottom,
            json!({"error": ""}),
            &error_schema,
        ));
    }
    Ok(defs)
}

/// `value` as an integer index: JSON integers, and floats without a fraction (expressions
/// may compute numbers as floats); `null` is 0, like a missing field.
fn as_index(value: &Value) -> Result<i64, Failure> {
    match value {
        Value::Null => Ok(0),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(i);
            }
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Ok(f as i64),
                _ => Err(Failure::permanent(format!(
                    "invalid request: index must be an integer, got {n}"
                ))),
            }
        }
        other => Err(Failure::permanent(format!(
            "invalid request: index must be an integer, got {other}"
        ))),
    }
}

/// `{context, ...}` with the context left out when it is `null`, as upstream's
/// `omitempty` does.
fn with_context(context: Value, rest: Value) -> Value {
    match rest {
        Value::Object(fields) if !context.is_null() => {
            let mut out = serde_json::Map::new();
            out.insert("context".to_string(), context);
            out.extend(fields);
            Value::Object(out)
        }
        other => other,
    }
}

impl ArrayGet {
    /// Fails the call, or emits on `error` when the error port is enabled.
    fn fail(&self, context: Value, message: String) -> Result<Option<Value>, Failure> {
        if self.settings.enable_error_port {
            host::output(
                ports::ERROR,
                &with_context(context, json!({ "error": message })),
            )
        } else {
            Err(Failure::permanent(message))
        }
    }
}

impl Node for ArrayGet {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = tinyhost_sdk::decode_settings::<Settings>(Some(&settings))?;
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != REQUEST {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let req: Request = tinyhost_sdk::decode("request", payload)?;
        let index = as_index(&req.index)?;
        let array = req.array.unwrap_or_default();
        if array.is_empty() {
            return self.fail(
                req.context,
                "array is empty — run a list command first".to_string(),
            );
        }
        if index < 1 {
            return self.fail(req.context, format!("index must be >= 1, got {index}"));
        }
        let position = usize::try_from(index - 1).unwrap_or(usize::MAX);
        let len = array.len();
        match array.into_iter().nth(position) {
            Some(item) => host::output(
                RESULT,
                &with_context(req.context, json!({ "item": item, "index": index })),
            ),
            None => self.fail(
                req.context,
                format!("item #{index} not found — list has {len} item(s)"),
            ),
        }
    }
}
