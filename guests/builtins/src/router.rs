//! `router`: sends a message's `context` to the port of the first route whose condition is
//! true, because branching is a per-message decision the editor expresses as data (a list
//! of `{route, condition}` pairs mapped from upstream) rather than as code.
//!
//! Routes come from the settings and become ports (`out_<lowercase route>`), so the port
//! list is a function of the settings; a message whose first true condition names no
//! configured route goes to `default` when that port is enabled and fails otherwise.

use serde::{Deserialize, Serialize};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, Context, Failure, Node, PortDef, Position, Value, json, output, ports,
};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "router",
    description: "Router",
    info: "Routes a message to one of several outputs. The routes are listed in the settings \
           (for example [\"POST\", \"OTHER\"]) and each becomes an output port named \
           out_<route in lower case> (out_post, out_other). A message carries a context (the \
           data to forward) and a list of conditions, each a route name with a boolean; the \
           context goes to the route of the FIRST condition that is true. When no condition \
           is true (or the true one names an unknown route) the message goes to the Default \
           port if enableDefaultPort is on (leave it unwired to drop such messages), and \
           fails back to the sender otherwise. Outputs carry the routed data under \
           `context`, so a downstream edge reads $.context.<field>.",
    tags: &["SDK"],
    ports: port_defs,
    create: || {
        Box::new(Router {
            settings: Settings::default(),
        })
    },
};

const INPUT: &str = "input";
const DEFAULT_PORT: &str = "default";

/// Settings as upstream names them; missing fields take upstream's defaults.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    /// `null` is accepted as "no routes", as Go's decoder does.
    #[serde(deserialize_with = "null_as_empty")]
    routes: Vec<String>,
    enable_default_port: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            routes: vec!["A".into(), "B".into()],
            enable_default_port: false,
        }
    }
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// One routing decision of a message; missing or `null` fields are zero values.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Condition {
    route: Option<String>,
    condition: Option<bool>,
}

/// The `input` message; the context is forwarded unchanged, so it stays text.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct InMessage<'a> {
    #[serde(borrow)]
    context: Context<'a>,
    conditions: Option<Vec<Condition>>,
}

struct Router {
    settings: Settings,
}

/// The port a route is published as.
fn port_name(route: &str) -> String {
    format!("out_{}", route.to_lowercase())
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = tinyhost_sdk::decode_settings::<Settings>(settings)?;

    let settings_schema = Schema::object("Settings")
        .required_prop(
            "routes",
            Schema::array(Schema::string())
                .title("Routes")
                .with("minItems", json!(1))
                .with("uniqueItems", json!(true)),
        )
        .required_prop(
            "enableDefaultPort",
            Schema::boolean().title("Enable default port"),
        );

    let first = settings
        .routes
        .first()
        .cloned()
        .unwrap_or_else(|| "A".to_string());
    let mut route = Schema::string()
        .title("Route")
        .with("default", json!(first))
        .with("shared", json!(true));
    if !settings.routes.is_empty() {
        route = route.with("enum", json!(settings.routes));
    }
    let condition = Schema::object("Condition")
        .required_prop("route", route)
        .required_prop("condition", Schema::boolean().title("Condition"));
    let in_schema = Schema::object("InMessage")
        .required_prop(
            "context",
            Schema::any("Context")
                .title("Context")
                .description("The data to route")
                .configurable(),
        )
        .required_prop(
            "conditions",
            Schema::array(condition)
                .title("Conditions")
                .with("minItems", json!(1))
                .with("uniqueItems", json!(true)),
        );
    let out_schema = Schema::object("OutMessage").prop(
        "context",
        Schema::any("Context")
            .title("Context")
            .description("The routed data, as it arrived")
            .configurable(),
    );

    let mut defs = vec![
        ports::settings(tinyhost_sdk::encode(&settings), &settings_schema),
        ports::target(
            INPUT,
            "IN",
            Position::Left,
            json!({"context": null, "conditions": [{"route": first, "condition": true}]}),
            &in_schema,
        ),
    ];
    for route in &settings.routes {
        let name = port_name(route);
        // Routes differing only in case share one port: a port name is unique per node.
        if defs.iter().any(|p| p.name == name) {
            continue;
        }
        defs.push(ports::source(
            &name,
            &route.to_uppercase(),
            Position::Right,
            json!({"context": null}),
            &out_schema,
        ));
    }
    if settings.enable_default_port {
        defs.push(ports::source(
            DEFAULT_PORT,
            "Default",
            Position::Bottom,
            json!({"context": null}),
            &out_schema,
        ));
    }
    Ok(defs)
}

impl Router {
    /// The configured route a condition names, compared case-insensitively.
    fn find_route(&self, name: &str) -> Option<&str> {
        let wanted = name.to_lowercase();
        self.settings
            .routes
            .iter()
            .find(|r| r.to_lowercase() == wanted)
            .map(String::as_str)
    }
}

impl Node for Router {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = tinyhost_sdk::decode_settings::<Settings>(Some(&settings))?;
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        tinyhost_sdk::handle_through_text(self, port, payload)
    }

    fn handle_text(&mut self, port: &str, payload: &str) -> Result<Option<String>, Failure> {
        if port != INPUT {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let msg: InMessage = tinyhost_sdk::decode_text("message", payload)?;
        let conditions = msg.conditions.unwrap_or_default();
        let out = msg.context.wrap();

        // Only the first true condition decides; an unknown route there is not a reason to
        // look further down the list.
        if let Some(first_true) = conditions.iter().find(|c| c.condition == Some(true))
            && let Some(route) = self.find_route(first_true.route.as_deref().unwrap_or_default())
        {
            return output::output_text(&port_name(route), &out);
        }
        if self.settings.enable_default_port {
            return output::output_text(DEFAULT_PORT, &out);
        }
        Err(Failure::permanent(format!(
            "no matching route: {}",
            serde_json::to_string(&conditions).unwrap_or_default()
        )))
    }
}
