//! `transform` (labelled "Modify"): re-emits the `context` its edge mapping produced, because
//! a node that feeds its own output back into its own input (an HTTP server's request →
//! response loop) needs a place to reshape data between the two, and an edge cannot point
//! back at the port it came from.

use serde::Deserialize;
use tinyhost_sdk::ports::Pair;
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{ComponentDef, Context, Failure, Node, PortDef, Value, json, output};

/// The component's registration (upstream registers it as `transform`, shown as "Modify").
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "transform",
    description: "Modify",
    info: "Reshapes data on its way from a node's output back to an input of the SAME node \
           (for example an http_server request → response loop). Between two different \
           nodes, map the data on the edge instead: edge configuration sets literals and \
           maps fields without a Modify in between. The In edge's mapping builds the \
           context; Out emits it unchanged under `context`.",
    tags: &["SDK"],
    ports: port_defs,
    create: || Box::new(Transform),
};

const PORTS: Pair = Pair::IN_OUT;

/// The `in` message: whatever the edge mapped into `context`, kept as text because it is
/// re-emitted unchanged.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InMessage<'a> {
    #[serde(borrow)]
    context: Context<'a>,
}

/// Stateless: every message is re-emitted as it is mapped.
struct Transform;

fn port_defs(_settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let in_schema = Schema::object("InMessage").required_prop(
        "context",
        Schema::any("Context")
            .title("Context")
            .description("The data to reshape; map it on the incoming edge")
            .configurable(),
    );
    let out_schema = Schema::object("OutMessage").prop(
        "context",
        Schema::any("Context")
            .title("Context")
            .description("The mapped data, unchanged")
            .configurable(),
    );
    Ok(Vec::from(PORTS.ports(
        json!({"context": null}),
        &in_schema,
        json!({"context": null}),
        &out_schema,
    )))
}

impl Node for Transform {
    fn on_settings(&mut self, _settings: Value) -> Result<(), Failure> {
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        tinyhost_sdk::handle_through_text(self, port, payload)
    }

    fn handle_text(&mut self, port: &str, payload: &str) -> Result<Option<String>, Failure> {
        if port != PORTS.target {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let msg: InMessage = tinyhost_sdk::decode_text("message", payload)?;
        output::output_text(PORTS.source, &msg.context.wrap())
    }
}
