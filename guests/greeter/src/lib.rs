//! `greeter`: the smallest useful author component, and the responder of the
//! request/response example. A request on `request` is answered with a value — which is
//! what the sender's blocking `output` returns — and also shown on `_control`.

use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{ComponentDef, Failure, Node, PortDef, Position, Value, json, output, ports};

fn components() -> &'static [ComponentDef] {
    &[GREETER]
}

tinyhost_sdk::export_module!(components);

const GREETER: ComponentDef = ComponentDef {
    name: "greeter",
    description: "Greeter",
    info: "Answers {context, name} with {context, greeting}: an example of a component whose response travels back to the sender.",
    tags: &["example"],
    ports: port_defs,
    create: || {
        Box::new(Greeter {
            salutation: "Hello".into(),
        })
    },
};

struct Greeter {
    salutation: String,
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings_schema = Schema::object("Settings").prop(
        "salutation",
        Schema::string()
            .title("Salutation")
            .with("default", json!("Hello")),
    );
    let request = Schema::object("Request")
        .prop(
            "context",
            Schema::any("Context").title("Context").configurable(),
        )
        .required_prop("name", Schema::string().title("Name").configurable());
    let control = Schema::object("Control").prop(
        "greeting",
        Schema::string()
            .title("Last greeting")
            .with("readonly", json!(true)),
    );
    Ok(vec![
        ports::settings(
            settings.cloned().unwrap_or(json!({"salutation": "Hello"})),
            &settings_schema,
        ),
        ports::target(
            "request",
            "Request",
            Position::Left,
            json!({"context": null, "name": ""}),
            &request,
        ),
        ports::control(json!({"greeting": ""}), &control),
    ])
}

impl Node for Greeter {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        match settings.get("salutation") {
            None => Ok(()),
            Some(Value::String(s)) if !s.trim().is_empty() => {
                self.salutation = s.clone();
                Ok(())
            }
            Some(other) => Err(Failure::permanent(format!(
                "invalid settings: salutation must be a non-empty string, got {other}"
            ))),
        }
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != "request" {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let name = payload
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim();
        if name.is_empty() {
            return Err(Failure::permanent("invalid request: `name` is required"));
        }
        let greeting = format!("{}, {name}!", self.salutation);
        output::output(ports::CONTROL, &json!({ "greeting": greeting }))?;
        Ok(Some(
            json!({ "context": payload.get("context").cloned().unwrap_or(Value::Null), "greeting": greeting }),
        ))
    }
}
