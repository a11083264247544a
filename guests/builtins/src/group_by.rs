//! `group_by`: buckets an array's items by the value found at a dot-separated path, because
//! reports and fan-outs ("pods per app", "events per namespace") need the grouping and the
//! expression language has no way to express it.
//!
//! The path is a plain dot path walked through objects (`labels.app`), as upstream walks
//! it, not an expression; group keys are the found values printed the way upstream's Go
//! `%v` prints them, so keys (and their order) match what upstream produces.

use std::collections::BTreeMap;

use serde::Deserialize;
use tinyhost_sdk::ports::Pair;
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{ComponentDef, Failure, Node, PortDef, Value, json, output, with_context};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "group_by",
    description: "Group By",
    info: "Groups the items of an array by the value at a field path. In takes items and \
           groupByPath (a dot path such as labels.app, namespace or kind); Out emits the \
           groups sorted by key, each with its key, its items and their count, plus the \
           total number of items. Items without the field are grouped under the empty key.",
    tags: &["SDK", "Array", "Aggregate"],
    ports: port_defs,
    create: || Box::new(GroupBy),
};

const PORTS: Pair = Pair::IN_OUT;

/// The `in` message; a missing or `null` item list is an empty one.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct InMessage {
    context: Value,
    items: Option<Vec<Value>>,
    group_by_path: Option<String>,
}

/// Stateless: one message in, one grouping out.
struct GroupBy;

fn port_defs(_settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let in_schema = Schema::object("InMessage")
        .prop(
            "context",
            Schema::any("Context")
                .title("Context")
                .description("Passed through to the output")
                .configurable(),
        )
        .required_prop(
            "items",
            Schema::array(Schema::any("Item"))
                .title("Items")
                .description("The items to group")
                .configurable(),
        )
        .required_prop(
            "groupByPath",
            Schema::string()
                .title("Group By Path")
                .description("Dot path of the field to group by, e.g. labels.app, namespace, kind")
                .configurable(),
        );
    let group = Schema::object("Group")
        .prop(
            "key",
            Schema::string()
                .title("Key")
                .description("The value the items share"),
        )
        .prop(
            "items",
            Schema::array(Schema::any("Item"))
                .title("Items")
                .description("The items of the group"),
        )
        .prop(
            "count",
            Schema::integer()
                .title("Count")
                .description("How many items the group has"),
        );
    let out_schema = Schema::object("OutMessage")
        .prop("context", Schema::any("Context").title("Context"))
        .prop(
            "groups",
            Schema::array(group)
                .title("Groups")
                .description("The groups, sorted by key"),
        )
        .prop(
            "total",
            Schema::integer()
                .title("Total")
                .description("How many items were grouped"),
        );
    Ok(Vec::from(PORTS.ports(
        json!({"context": null, "items": null, "groupByPath": ""}),
        &in_schema,
        json!({
            "groups": [
                {"key": "group-a", "items": [], "count": 2},
                {"key": "group-b", "items": [], "count": 1}
            ],
            "total": 3
        }),
        &out_schema,
    )))
}

/// The group key of `item`: the value at `parts`, printed as Go's `%v` prints it; empty
/// when the path leads nowhere (a missing field, or a non-object on the way).
fn extract_key(item: &Value, parts: &[&str]) -> String {
    let mut current = item;
    for part in parts {
        match current {
            Value::Object(map) => match map.get(*part) {
                Some(next) => current = next,
                None => return String::new(),
            },
            _ => return String::new(),
        }
    }
    match current {
        Value::Null => String::new(),
        other => go_format(other),
    }
}

/// Formats a decoded JSON value the way Go's `fmt` `%v` prints an `any` holding it
/// (numbers are float64, objects `map[string]any` with sorted keys, `null` is `<nil>`),
/// because upstream's group keys and messages are built that way.
pub(crate) fn go_format(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_float(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_format).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let sorted: BTreeMap<&String, &Value> = map.iter().collect();
            let parts: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_format(v)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%v` for a float64: the shortest representation, in exponent form (`1e+06`) when
/// the decimal exponent is below -4 or at least 6.
fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".to_string()
        } else {
            "-Inf".to_string()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".to_string()
        } else {
            "0".to_string()
        };
    }
    // Rust's `{:e}` is the shortest round-trip form too, e.g. `1.5e-7`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = match sci.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => return f.to_string(),
    };
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        f.to_string()
    }
}

impl Node for GroupBy {
    fn on_settings(&mut self, _settings: Value) -> Result<(), Failure> {
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != PORTS.target {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let msg: InMessage = tinyhost_sdk::decode("message", payload)?;
        let path = msg.group_by_path.unwrap_or_default();
        if path.is_empty() {
            return Err(Failure::permanent("groupByPath is required"));
        }
        let parts: Vec<&str> = path.split('.').collect();
        let items = msg.items.unwrap_or_default();
        let total = items.len();

        // Keys sort byte-wise, as Go's sort.Strings does; items keep their order per group.
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for item in items {
            groups
                .entry(extract_key(&item, &parts))
                .or_default()
                .push(item);
        }
        let groups: Vec<Value> = groups
            .into_iter()
            .map(|(key, items)| {
                let count = items.len();
                json!({ "key": key, "items": items, "count": count })
            })
            .collect();

        // Upstream omits an empty context (`omitempty`).
        let out = with_context(msg.context, json!({ "groups": groups, "total": total }));
        output::output(PORTS.source, &out)
    }
}
