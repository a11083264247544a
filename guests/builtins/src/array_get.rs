//! `array_get`: picks one element of an array by its 1-based number, because users (and
//! agents) refer to items of a list they were shown as "#2", not by a 0-based offset.
//!
//! It is also the canonical error-port component: an out-of-range number fails the call,
//! or, with `enableErrorPort`, goes out on `error` as `{context, error}` instead.

use serde::{Deserialize, Serialize};
use tinyhost_sdk::ports::{self, Pair};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, ErrorPort, Failure, Node, PortDef, Value, json, output, with_context,
};

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

const PORTS: Pair = Pair::REQUEST_RESULT;

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

impl Settings {
    /// Upstream leaves a `null` context out of its error messages.
    fn error_port(&self) -> ErrorPort {
        ErrorPort::new(self.enable_error_port).omit_null_context()
    }
}

struct ArrayGet {
    settings: Settings,
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
            Schema::context().description("Passed through to the output"),
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
        .prop("context", Schema::context())
        .prop("item", Schema::any("Item").title("Item").configurable())
        .prop(
            "index",
            Schema::integer()
                .title("Index")
                .description("Number of the element returned, from 1"),
        );
    let mut defs = vec![ports::settings(
        tinyhost_sdk::encode(&settings),
        &settings_schema,
    )];
    defs.extend(PORTS.ports(
        json!({"array": ["first", "second", "third"], "index": 1}),
        &request_schema,
        json!({"item": "first", "index": 1}),
        &result_schema,
    ));
    defs.extend(settings.error_port().port(&Schema::context()));
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

impl Node for ArrayGet {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = tinyhost_sdk::decode_settings::<Settings>(Some(&settings))?;
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != PORTS.target {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let req: Request = tinyhost_sdk::decode("request", payload)?;
        let index = as_index(&req.index)?;
        let array = req.array.unwrap_or_default();
        let errors = self.settings.error_port();
        if array.is_empty() {
            return errors.fail(
                req.context,
                Failure::permanent("array is empty — run a list command first"),
            );
        }
        if index < 1 {
            return errors.fail(
                req.context,
                Failure::permanent(format!("index must be >= 1, got {index}")),
            );
        }
        let position = usize::try_from(index - 1).unwrap_or(usize::MAX);
        let len = array.len();
        match array.into_iter().nth(position) {
            Some(item) => output::output(
                PORTS.source,
                &with_context(req.context, json!({ "item": item, "index": index })),
            ),
            None => errors.fail(
                req.context,
                Failure::permanent(format!("item #{index} not found — list has {len} item(s)")),
            ),
        }
    }
}
