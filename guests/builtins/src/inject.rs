//! `inject`: remembers a configuration sent once on `config` and attaches it to every
//! message passing through `message`, because a flow's triggers (cron ticks, signals)
//! carry no configuration of their own and re-mapping it on every edge repeats it.
//!
//! The configuration is durable node state: it lives in metadata, never only in guest
//! memory, since any instance of the node may serve the next message and instances do not
//! survive restarts. It is stored exactly as upstream's metadata-backed state stores it
//! (`_state/config`, base64 of the JSON), so a node moved from an upstream module keeps it.

use serde::{Deserialize, Serialize};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, ErrorPort, Failure, Node, PortDef, Position, Value, json, metadata, output, ports,
};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "inject",
    description: "Inject",
    info: "Attaches a stored configuration to the messages passing through. Send the \
           configuration once on Config; from then on every message arriving on Message \
           leaves on Output as {context, config}. The configuration is kept in the node's \
           metadata, so it survives restarts. With configRequired on, a message that \
           arrives before any configuration goes to the Error port instead.",
    tags: &["Data", "Config", "Enrich"],
    ports: port_defs,
    create: || {
        Box::new(Inject {
            settings: Settings::default(),
        })
    },
};

const CONFIG: &str = "config";
const MESSAGE: &str = "message";
const OUTPUT: &str = "output";
/// Upstream's state key, with the prefix its metadata backend adds.
const STATE_KEY: &str = "_state/config";
const NOT_SET: &str = "config not set";

/// Settings as upstream names them.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    config_required: bool,
}

/// The `config` message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConfigMessage {
    data: Value,
}

/// The `message` message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Message {
    context: Value,
}

impl Settings {
    /// The error port exists for `configRequired`: it is where messages without a
    /// configuration go.
    fn error_port(&self) -> ErrorPort {
        ErrorPort::new(self.config_required).schema_name("ErrorOutput")
    }
}

struct Inject {
    settings: Settings,
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = tinyhost_sdk::decode_settings::<Settings>(settings)?;
    let settings_schema = Schema::object("Settings").prop(
        "configRequired",
        Schema::boolean().title("Config Required").description(
            "Send messages that arrive before any config to the error port instead of output",
        ),
    );
    let config_schema = Schema::object("Config").required_prop(
        "data",
        Schema::any("Data")
            .title("Data")
            .description("The configuration attached to every message")
            .configurable(),
    );
    let message_schema = Schema::object("Message").prop(
        "context",
        Schema::context().description("Passed through for correlation"),
    );
    let output_schema = Schema::object("Output")
        .prop("context", Schema::context())
        .prop(
            "config",
            Schema::any("Data")
                .title("Config")
                .description("The stored configuration"),
        );
    let mut defs = vec![
        ports::settings(tinyhost_sdk::encode(&settings), &settings_schema),
        ports::target(
            CONFIG,
            "Config",
            Position::Top,
            json!({"data": null}),
            &config_schema,
        ),
        ports::target(
            MESSAGE,
            "Message",
            Position::Left,
            json!({"context": null}),
            &message_schema,
        ),
        ports::source(
            OUTPUT,
            "Output",
            Position::Right,
            json!({"context": null, "config": null}),
            &output_schema,
        ),
    ];
    defs.extend(settings.error_port().port(&Schema::context()));
    Ok(defs)
}

/// The stored configuration; anything unreadable counts as not set, as upstream treats it.
fn load_config() -> Value {
    metadata::get(STATE_KEY)
        .and_then(|encoded| base64_decode(&encoded))
        .and_then(|raw| serde_json::from_slice(&raw).ok())
        .unwrap_or(Value::Null)
}

impl Node for Inject {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = tinyhost_sdk::decode_settings::<Settings>(Some(&settings))?;
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        match port {
            CONFIG => {
                let msg: ConfigMessage = tinyhost_sdk::decode("config", payload)?;
                metadata::set(
                    STATE_KEY,
                    Some(&base64_encode(msg.data.to_string().as_bytes())),
                );
                Ok(None)
            }
            MESSAGE => {
                let msg: Message = tinyhost_sdk::decode("message", payload)?;
                let config = load_config();
                // A stored `null` is no configuration at all, as it is upstream.
                let errors = self.settings.error_port();
                if errors.enabled() && config.is_null() {
                    return errors.emit(msg.context, NOT_SET);
                }
                output::output(OUTPUT, &json!({ "context": msg.context, "config": config }))
            }
            other => Err(Failure::permanent(format!("unknown port: {other}"))),
        }
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard padded base64, the encoding upstream's state layer writes.
fn base64_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let byte = |i: usize| chunk.get(i).copied().unwrap_or(0);
        let b = [byte(0), byte(1), byte(2)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` for anything malformed.
fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let trimmed = input.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in trimmed.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    // Six leftover bits cannot come from whole bytes.
    if bits >= 6 {
        return None;
    }
    Some(out)
}
