//! `delay`: holds a message for a number of milliseconds and then passes its `context` on,
//! because rate limiting and pauses between steps are part of a flow's design, not of the
//! components around them. The wait blocks the sender, as upstream's does.

use serde::Deserialize;
use tinyhost_sdk::ports::Pair;
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{ComponentDef, Failure, Node, PortDef, Value, json, output, timers};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "delay",
    description: "Delay",
    info: "Pauses a message. In takes a context and a delay in milliseconds; the sender waits \
           while the component sleeps, then the context goes out on Out as {context}, so a \
           downstream edge reads $.context.<field>. A delay of zero or less is an error. Use \
           it for rate limiting or to space out steps of a flow.",
    tags: &["SDK"],
    ports: port_defs,
    create: || Box::new(Delay),
};

const PORTS: Pair = Pair::IN_OUT;

/// The `in` message. `delay` is read as a number so that an edge expression producing
/// `100.0` works as well as `100`; fractions of a millisecond are dropped.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Request {
    context: Value,
    delay: Option<f64>,
}

/// Stateless: the wait lives in one `handle` call.
struct Delay;

fn port_defs(_settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let in_schema = Schema::object("Request")
        .prop(
            "context",
            Schema::any("Context")
                .title("Context")
                .description("Arbitrary message to be delayed")
                .configurable(),
        )
        .required_prop("delay", Schema::integer().title("Delay (ms)"));
    let out_schema = Schema::object("OutMessage").prop(
        "context",
        Schema::any("Context")
            .title("Context")
            .description("Passthrough: the message, unchanged")
            .configurable(),
    );
    Ok(Vec::from(PORTS.ports(
        json!({"context": null, "delay": 1000}),
        &in_schema,
        json!({"context": null}),
        &out_schema,
    )))
}

impl Node for Delay {
    fn on_settings(&mut self, _settings: Value) -> Result<(), Failure> {
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != PORTS.target {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let msg: Request = tinyhost_sdk::decode("message", payload)?;
        let delay = match msg.delay {
            Some(ms) if ms.is_finite() && ms >= 1.0 => ms as u64,
            Some(ms) => {
                return Err(Failure::permanent(format!(
                    "invalid delay: {ms} (must be at least 1 ms)"
                )));
            }
            None => return Err(Failure::permanent("invalid delay: `delay` is missing")),
        };
        timers::sleep_ms(delay);
        output::output(PORTS.source, &json!({ "context": msg.context }))
    }
}
