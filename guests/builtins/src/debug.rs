//! `debug`: a sink that shows the last message it received on `_control`, with
//! credential-shaped fields masked, because what it shows is stored and displayed.

use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{ComponentDef, Failure, Node, PortDef, Position, Value, json, output, ports};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "debug",
    description: "Debug",
    info: "Message sink for inspection. Receives messages on In (no output ports) and shows \
           the last received message on the Control port. Credential-shaped fields \
           (password, token, secret, api key, ...) are masked.",
    tags: &["SDK"],
    ports: port_defs,
    create: || {
        Box::new(Debug {
            settings: json!({"context": null}),
        })
    },
};

const IN: &str = "in";
const MASK: &str = "<redacted>";

struct Debug {
    settings: Value,
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = settings
        .cloned()
        .unwrap_or_else(|| json!({"context": null}));
    let settings_schema = Schema::object("Settings").required_prop(
        "context",
        Schema::any("Context").title("Context").configurable(),
    );
    let in_schema = Schema::object("InMessage").with("additionalProperties", json!(true));
    let control_schema = Schema::object("Control").required_prop(
        "context",
        Schema::any("Context")
            .title("Context")
            .with("readonly", json!(true)),
    );
    Ok(vec![
        ports::target(IN, "In", Position::Left, json!({}), &in_schema),
        ports::control(json!({"context": null}), &control_schema),
        ports::settings(settings, &settings_schema),
    ])
}

impl Node for Debug {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = settings;
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != IN {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        output::output(
            ports::CONTROL,
            &json!({ "context": mask_secrets("", payload) }),
        )?;
        Ok(None)
    }
}

/// Whether a key conventionally holds a credential (matching is by name: payloads carry
/// no schema here).
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['_', '-'], "");
    [
        "apikey",
        "secret",
        "token",
        "passw",
        "authorization",
        "bearer",
        "credential",
        "privatekey",
        "accesskey",
    ]
    .iter()
    .any(|needle| k.contains(needle))
}

/// Replaces non-empty, non-expression strings under secret-looking keys; containers are
/// walked whatever their own key, so `headers[0].authorization` is caught too.
fn mask_secrets(key: &str, value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let masked = mask_secrets(&k, v);
                    (k, masked)
                })
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| mask_secrets(key, v)).collect())
        }
        Value::String(s) if !s.is_empty() && !s.contains("{{") && is_secret_key(key) => {
            Value::String(MASK.into())
        }
        other => other,
    }
}
