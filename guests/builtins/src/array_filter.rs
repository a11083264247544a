//! `array_filter`: keeps the elements of an array for which a predicate is true and counts
//! them, because "which of these matter" (unhealthy pods, failed jobs) is the most common
//! question about a list and otherwise needs a script.
//!
//! The predicate is an expression of the edge-mapping language evaluated with the host's
//! evaluator against each item on its own (`$` = the item), so there is one dialect across
//! edges and components. Only a boolean `true` keeps an item: a predicate is a yes/no
//! question, and treating numbers or strings as truthy would keep items for reasons nobody
//! wrote down.

use serde::{Deserialize, Serialize};
use tinyhost_sdk::ports::{self, Pair};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, ErrorPort, Failure, Node, PortDef, Value, expr, json, output, with_context,
};

use crate::group_by::go_format;

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "array_filter",
    description: "Array Filter",
    info: "Keeps the array elements for which a JSONPath predicate is true, and counts them. \
           The query is evaluated against each item on its own, so $.hasProblem, \
           $.phase == 'Running' or $.restarts > 3 all work, in the same dialect as edge \
           mappings and kv's query port. Result carries items (in their original order), \
           count and total; map count into a router to branch on whether anything matched. \
           An item the predicate cannot be evaluated against (or that yields something other \
           than true or false) fails the call by default, so a mistyped field name is \
           reported instead of silently filtering everything out; turn on skipUnevaluable \
           when the array is expected to be ragged.",
    tags: &["SDK", "ARRAY", "agent_tool"],
    ports: port_defs,
    create: || {
        Box::new(ArrayFilter {
            settings: Settings::default(),
        })
    },
};

const PORTS: Pair = Pair::REQUEST_RESULT;

/// Settings as upstream names them.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    skip_unevaluable: bool,
    enable_error_port: bool,
}

/// The `request` message; missing fields are Go's zero values.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Request {
    context: Value,
    array: Option<Vec<Value>>,
    query: Option<String>,
}

impl Settings {
    /// Upstream leaves a `null` context out of its error messages.
    fn error_port(&self) -> ErrorPort {
        ErrorPort::new(self.enable_error_port).omit_null_context()
    }
}

struct ArrayFilter {
    settings: Settings,
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = tinyhost_sdk::decode_settings::<Settings>(settings)?;
    let settings_schema = Schema::object("Settings")
        .prop(
            "skipUnevaluable",
            Schema::boolean()
                .title("Skip Items The Query Cannot Evaluate")
                .description(
                    "On: an item the query cannot be evaluated against counts as not matching. \
                 Off (default): such an item fails the call, so a mistyped field is reported.",
                ),
        )
        .prop(
            "enableErrorPort",
            Schema::boolean()
                .title("Enable Error Port")
                .description("Send errors to the error port instead of failing"),
        );
    let request_schema = Schema::object("Request")
        .prop("context", Schema::context().description("Passed through to the result"))
        .required_prop(
            "array",
            Schema::array(Schema::any("Item"))
                .title("Array")
                .description("The items to filter, e.g. {{$.pods}}"),
        )
        .required_prop(
            "query",
            Schema::string().title("Query").description(
                "Predicate evaluated against each item, e.g. $.hasProblem, $.phase == 'Running', $.restarts > 3",
            ),
        );
    let result_schema = Schema::object("Result")
        .prop("context", Schema::context())
        .prop(
            "items",
            Schema::array(Schema::any("Item"))
                .title("Items")
                .description("The matching items, in their original order"),
        )
        .prop(
            "count",
            Schema::integer()
                .title("Count")
                .description("How many items matched"),
        )
        .prop(
            "total",
            Schema::integer()
                .title("Total")
                .description("How many items were examined"),
        );
    let mut defs = Vec::from(PORTS.ports(
        json!({"array": null, "query": ""}),
        &request_schema,
        json!({"items": null, "count": 0, "total": 0}),
        &result_schema,
    ));
    defs.push(ports::settings(
        tinyhost_sdk::encode(&settings),
        &settings_schema,
    ));
    defs.extend(settings.error_port().port(&Schema::context()));
    Ok(defs)
}

/// Go's `%T` name for a decoded JSON value, for messages that match upstream's.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Whether `item` satisfies `query`; an error when it cannot be evaluated or does not
/// answer with a boolean.
fn matches(item: &Value, query: &str) -> Result<bool, String> {
    match expr::eval(query, item).map_err(|f| f.message)? {
        Value::Bool(kept) => Ok(kept),
        other => Err(format!(
            "predicate answered {} ({}), not true or false",
            go_format(&other),
            go_type(&other)
        )),
    }
}

impl Node for ArrayFilter {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = tinyhost_sdk::decode_settings::<Settings>(Some(&settings))?;
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != PORTS.target {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let req: Request = tinyhost_sdk::decode("message", payload)?;
        let query = req.query.unwrap_or_default();
        if query.is_empty() {
            return self.settings.error_port().fail(
                req.context,
                Failure::permanent(
                    "query is required — a filter with no predicate is the array it was given",
                ),
            );
        }
        let array = req.array.unwrap_or_default();
        let total = array.len();
        let mut items = Vec::new();
        for (index, item) in array.into_iter().enumerate() {
            match matches(&item, &query) {
                Ok(true) => items.push(item),
                Ok(false) => {}
                Err(_) if self.settings.skip_unevaluable => {}
                Err(e) => {
                    return self.settings.error_port().fail(
                        req.context,
                        Failure::permanent(format!(
                            "query {query:?} could not be evaluated against item {index}: {e} — check the \
                             field name, or turn on skipUnevaluable if the array is ragged"
                        )),
                    );
                }
            }
        }
        let count = items.len();
        output::output(
            PORTS.source,
            &with_context(
                req.context,
                json!({ "items": items, "count": count, "total": total }),
            ),
        )
    }
}
