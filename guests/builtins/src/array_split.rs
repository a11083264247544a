//! `array_split`: emits one message per array element, one after the other, because
//! per-item work (a call per record, a collect that reassembles results by index) needs
//! items in order and needs to stop as soon as one of them fails.

use serde::Deserialize;
use tinyhost_sdk::ports::Pair;
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{ComponentDef, Failure, Node, PortDef, Value, json, output};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "array_split",
    description: "Split Array",
    info: "Iterates over an array. In takes a context and an array; Out emits one message per \
           element as {context, item, index, total}: index is the element's 0-based \
           position, total the array's length, context the incoming context, unchanged, on \
           every item. Items go out one at a time: the next one is sent only after the \
           previous one's downstream work has finished, and the first failure stops the \
           iteration and is returned to the sender. For map-reduce, send each item through \
           its work and into `collect` (mapping index and total, plus a group key unique to \
           the source message); collect rebuilds the array once every item has arrived.",
    tags: &["SDK", "ARRAY"],
    ports: port_defs,
    create: || Box::new(ArraySplit),
};

const PORTS: Pair = Pair::IN_OUT;

/// The `in` message; a missing or `null` array is an empty one, as in upstream.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InMessage {
    context: Value,
    array: Option<Vec<Value>>,
}

/// Stateless: the iteration lives in one `handle` call.
struct ArraySplit;

fn port_defs(_settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let in_schema = Schema::object("InMessage")
        .prop(
            "context",
            Schema::any("Context")
                .title("Context")
                .description("Sent along with every item")
                .configurable(),
        )
        .required_prop(
            "array",
            Schema::array(Schema::any("ItemContext"))
                .title("Array")
                .description("The items to emit one by one")
                .with("default", Value::Null)
                .with("shared", json!(true)),
        );
    let out_schema = Schema::object("OutMessage")
        .prop("context", Schema::any("Context"))
        .prop(
            "item",
            Schema::any("ItemContext").with("shared", json!(true)),
        )
        .prop(
            "index",
            Schema::integer()
                .title("Index")
                .description("Position of the item in the array, from 0"),
        )
        .prop(
            "total",
            Schema::integer()
                .title("Total")
                .description("Length of the array"),
        );
    Ok(Vec::from(PORTS.ports(
        json!({"context": null, "array": null}),
        &in_schema,
        json!({"context": null, "item": null, "index": 0, "total": 0}),
        &out_schema,
    )))
}

impl Node for ArraySplit {
    fn on_settings(&mut self, _settings: Value) -> Result<(), Failure> {
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != PORTS.target {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let msg: InMessage = tinyhost_sdk::decode("message", payload)?;
        let items = msg.array.unwrap_or_default();
        let total = items.len();
        for (index, item) in items.into_iter().enumerate() {
            // Downstream responses are not collected: the split answers for the whole
            // iteration, and only a failure says something about it.
            output::output(
                PORTS.source,
                &json!({ "context": msg.context, "item": item, "index": index, "total": total }),
            )?;
        }
        Ok(None)
    }
}
