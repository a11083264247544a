//! `async`: answers the sender at once and delivers the message downstream in the
//! background, because some flows must not hold their caller (an HTTP request that only
//! starts a job) while the rest of the work runs.
//!
//! Background deliveries are bounded by `maxConcurrency`: when that many are still
//! running, the message is delivered inline instead, so a flood of messages slows the
//! sender down rather than piling up unbounded work in the host.

use serde::{Deserialize, Serialize};
use tinyhost_sdk::ports::{self, Pair};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{ComponentDef, Failure, Node, PortDef, Value, json, output};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "async",
    description: "Async",
    info: "Non-blocking pass-through. A message on In is answered immediately (the sender is \
           unblocked) and its context is emitted on Out as {context} in the background. At \
           most maxConcurrency background emits run at a time (0 means the default of 100); \
           when they are all busy, the next message is emitted inline and its sender waits, \
           which applies back-pressure instead of queueing without bound.",
    tags: &["SDK"],
    ports: port_defs,
    create: || {
        Box::new(Async {
            settings: Settings::default(),
        })
    },
};

const PORTS: Pair = Pair::IN_OUT;
const DEFAULT_MAX_CONCURRENCY: u32 = 100;

/// Settings as upstream names them.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    /// `0` (or less) means [`DEFAULT_MAX_CONCURRENCY`].
    max_concurrency: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_concurrency: i64::from(DEFAULT_MAX_CONCURRENCY),
        }
    }
}

impl Settings {
    /// The effective bound on background deliveries.
    fn limit(&self) -> u32 {
        match u32::try_from(self.max_concurrency) {
            Ok(n) if n > 0 => n,
            _ => DEFAULT_MAX_CONCURRENCY,
        }
    }
}

/// The `in` message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InMessage {
    context: Value,
}

struct Async {
    settings: Settings,
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = tinyhost_sdk::decode_settings::<Settings>(settings)?;
    let settings_schema = Schema::object("Settings").prop(
        "maxConcurrency",
        Schema::integer().title("Max Concurrency").description(
            "Maximum number of concurrent async operations. 0 means use default (100).",
        ),
    );
    let in_schema = Schema::object("InMessage").required_prop(
        "context",
        Schema::any("Context")
            .title("Context")
            .description("Arbitrary message to pass on in the background")
            .configurable(),
    );
    let out_schema = Schema::object("OutMessage").prop(
        "context",
        Schema::any("Context")
            .title("Context")
            .description("Passthrough: the message, unchanged")
            .configurable(),
    );
    let [input, out] = PORTS.ports(
        json!({"context": null}),
        &in_schema,
        json!({"context": null}),
        &out_schema,
    );
    Ok(vec![
        ports::settings(tinyhost_sdk::encode(&settings), &settings_schema),
        input,
        out,
    ])
}

impl Node for Async {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = tinyhost_sdk::decode_settings::<Settings>(Some(&settings))?;
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != PORTS.target {
            return Err(Failure::permanent(format!("port {port} is not supported")));
        }
        let msg: InMessage = tinyhost_sdk::decode("message", payload)?;
        let out = json!({ "context": msg.context });
        if output::detached_in_flight() >= self.settings.limit() {
            // Every background slot is busy: deliver inline so the sender feels the load.
            return output::output(PORTS.source, &out);
        }
        output::output_detached(PORTS.source, &out)?;
        Ok(None)
    }
}
