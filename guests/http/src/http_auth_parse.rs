//! `http_auth_parse` (upstream http-module): finds HTTP Basic credentials in a header list
//! (an `http_server` request's `headers`), so a flow can check them without string work.
//! As upstream: the first `Authorization: Basic …` header is decoded and split at `:`;
//! anything else emits `found: false`.

use base64::Engine as _;
use serde::Deserialize;
use tinyhost_sdk::ports::Pair;
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{ComponentDef, Failure, Node, PortDef, Value, json, output};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "http_auth_parse",
    description: "Basic Auth Headers Parser",
    info: "Reads HTTP Basic credentials from a list of headers (such as an HTTP server \
           request's headers) and emits {context, found, user, password}.",
    tags: &["HTTP", "Auth"],
    ports: port_defs,
    create: || Box::new(AuthParse),
};

const PORTS: Pair = Pair::IN_OUT;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Header {
    key: String,
    value: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InMessage {
    context: Value,
    headers: Vec<Header>,
}

struct AuthParse;

fn port_defs(_settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let context = Schema::any("Context")
        .title("Context")
        .description("Arbitrary message to be send further")
        .configurable();
    let header = Schema::object("Header")
        .required_prop("key", Schema::string().title("Key"))
        .required_prop("value", Schema::string().title("Value"));
    let in_schema = Schema::object("InMessage")
        .required_prop("context", context.clone())
        .required_prop(
            "headers",
            Schema::array(header)
                .title("Headers")
                .description("HTTP headers list"),
        );
    let out_schema = Schema::object("OutMessage")
        .prop("context", Schema::any("Context").title("Context"))
        .prop("found", Schema::boolean().title("Found"))
        .prop("user", Schema::string().title("User"))
        .prop("password", Schema::string().title("Password"));
    Ok(PORTS
        .ports(
            json!({"context": null, "headers": null}),
            &in_schema,
            json!({"context": null, "found": false, "user": "", "password": ""}),
            &out_schema,
        )
        .into())
}

/// The user and password of the first Basic `Authorization` header.
fn credentials(headers: &[Header]) -> Option<(String, String)> {
    let header = headers
        .iter()
        .find(|h| h.key.eq_ignore_ascii_case("authorization") && h.value.starts_with("Basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(header.value["Basic ".len()..].trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let mut parts = text.split(':');
    let user = parts.next()?.to_string();
    let password = parts.next()?.to_string();
    Some((user, password))
}

impl Node for AuthParse {
    fn on_settings(&mut self, _settings: Value) -> Result<(), Failure> {
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != PORTS.target {
            return Err(Failure::permanent(format!("unknown port {port}")));
        }
        let message: InMessage = tinyhost_sdk::decode("message", payload)?;
        let out = match credentials(&message.headers) {
            Some((user, password)) => json!({
                "context": message.context, "found": true, "user": user, "password": password,
            }),
            None => json!({"context": message.context, "found": false, "user": "", "password": ""}),
        };
        output::output(PORTS.source, &out)
    }
}
