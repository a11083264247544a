//! `signal`: a Send button that starts a flow, because most flows need an entry point a
//! person (or an API call to `_control`) can press without wiring a trigger of their own.
//!
//! It is fire-and-forget like upstream's: the emit runs in the background and nothing can
//! stop it from here, so there is no running state to show and no Reset.

use serde::Deserialize;
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, Failure, Node, PortDef, Position, Value, control, json, node_info, output, ports,
};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "signal",
    description: "Signal",
    info: "Flow trigger. Pressing Send on the dashboard emits the context on Out once, in the \
           background, and returns. A Send without a context (for example a bare \
           {\"send\": true} from the API) emits the context configured in the settings. \
           There is no running state and no Reset: to stop work the flow started, wire a \
           component that can be stopped downstream. Only the module's leader acts on Send.",
    tags: &["SDK"],
    ports: port_defs,
    create: || {
        Box::new(Signal {
            settings: Settings::default(),
        })
    },
};

const OUT: &str = "out";

/// Settings as upstream names them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Settings {
    context: Value,
}

/// The `_control` message: the dashboard form with its Send button.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Control {
    context: Value,
    send: bool,
}

struct Signal {
    settings: Settings,
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = tinyhost_sdk::decode_settings::<Settings>(settings)?;
    let settings_schema = Schema::object("Settings").required_prop(
        "context",
        Schema::any("Context")
            .title("Context")
            .description("Arbitrary message to send")
            .configurable(),
    );
    // The context is configurable on the control form too, so a schema authored for the
    // node (a masked credential field, say) also shapes the Send dialog.
    let control_schema = Schema::object("Control")
        .required_prop(
            "context",
            Schema::any("Context").title("Context").configurable(),
        )
        .required_prop(
            "send",
            Schema::boolean()
                .title("Send")
                .with("format", json!("button")),
        );
    let out_schema = Schema::any("Context").title("Context");
    Ok(vec![
        ports::settings(json!({ "context": settings.context }), &settings_schema),
        ports::source(OUT, "Out", Position::Right, Value::Null, &out_schema),
        ports::control(
            json!({ "context": settings.context, "send": false }),
            &control_schema,
        ),
    ])
}

impl Node for Signal {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = tinyhost_sdk::decode_settings::<Settings>(Some(&settings))?;
        Ok(())
    }

    fn on_control(&mut self, control: Value) -> Result<Option<Value>, Failure> {
        if !node_info::is_leader() {
            return Ok(None);
        }
        let control: Control = control::decode(control)?;
        if !control.send {
            return Ok(None);
        }
        // The dashboard pre-fills the form; an API caller may not, and a null emit helps
        // nobody, so the configured context stands in.
        let context = if control.context.is_null() {
            self.settings.context.clone()
        } else {
            control.context
        };
        output::output_detached(OUT, &context)?;
        Ok(None)
    }

    fn handle(&mut self, port: &str, _payload: Value) -> Result<Option<Value>, Failure> {
        Err(Failure::permanent(format!(
            "signal has no input ports: got {port:?}"
        )))
    }
}
