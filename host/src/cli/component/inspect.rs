//! `tinyhost component inspect FILE|REF`: what a component file carries — its world, digest
//! and size, the components with their default ports and schemas, its imports and exports —
//! read by loading it the way the host does (the same check as `validate`).

use std::io::Write;
use std::process::ExitCode;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::super::shared::{EngineArgs, OutputFormat};
use super::super::sources::RegistryArgs;
use super::new::host_world;
use super::validate::{self, Checked};
use crate::capabilities::bindings::PortDef;

#[derive(clap::Args, Debug)]
pub(crate) struct InspectArgs {
    /// A component file, or an OCI reference (`oci://…`).
    target: String,
    /// Output format: readable text, or one JSON object with every port's schema.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

pub(crate) async fn inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let path =
        crate::cli::sources::resolve_target(&args.target, &args.registry, &args.engine).await?;
    let bytes = validate::read(&path)?;
    let engine = validate::engine(&args.engine)?;
    let origin = path.display().to_string();
    let checked = validate::check(&engine, &origin, &bytes).await?;
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Json => {
            let report = json!({
                "file": origin,
                "size": bytes.len(),
                "digest": digest,
                "world": checked.world,
                "hostWorld": host_world(),
                "valid": checked.problems.is_empty(),
                "problems": checked.problems,
                "components": checked.components.iter().map(|c| json!({
                    "name": c.info.name,
                    "description": c.info.description,
                    "info": c.info.info,
                    "tags": c.info.tags,
                    "ports": c.default_ports.iter().map(port_json).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "imports": checked.imports,
                "exports": checked.exports,
            });
            writeln!(out, "{report}")?;
        }
        OutputFormat::Text => write_text(&mut out, &origin, bytes.len(), &digest, &checked)?,
    }
    for problem in &checked.problems {
        eprintln!("error: {origin}: {problem}");
    }
    Ok(if checked.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn direction(port: &PortDef) -> &'static str {
    if port.source { "out" } else { "in" }
}

fn position(port: &PortDef) -> &'static str {
    port.position.name()
}

/// JSON text from the component as a value (kept as a string if it is not JSON).
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn port_json(port: &PortDef) -> Value {
    json!({
        "name": port.name,
        "label": port.label,
        "direction": direction(port),
        "position": position(port),
        "configuration": parse(&port.configuration),
        "schema": port.schema.as_deref().map(parse),
        "responseConfiguration": port.response_configuration.as_deref().map(parse),
    })
}

fn write_text(
    out: &mut impl Write,
    origin: &str,
    size: usize,
    digest: &str,
    checked: &Checked,
) -> std::io::Result<()> {
    writeln!(out, "file     {origin}")?;
    writeln!(out, "size     {size} bytes")?;
    writeln!(out, "digest   {digest}")?;
    let world = checked
        .world
        .as_deref()
        .unwrap_or("none (not a flow component)");
    let verdict = if checked.problems.is_empty() {
        "loads in this host"
    } else {
        "does not load in this host"
    };
    writeln!(
        out,
        "world    {world} ({verdict}, which runs {})",
        host_world()
    )?;
    for component in &checked.components {
        let info = &component.info;
        writeln!(out)?;
        let tags = if info.tags.is_empty() {
            String::new()
        } else {
            format!("  [{}]", info.tags.join(", "))
        };
        writeln!(out, "component {} — {}{tags}", info.name, info.description)?;
        if !info.info.is_empty() {
            writeln!(out, "  {}", info.info)?;
        }
        writeln!(out, "  ports:")?;
        let width = component
            .default_ports
            .iter()
            .map(|p| p.name.len())
            .max()
            .unwrap_or(0);
        for port in &component.default_ports {
            let schema = port
                .schema
                .as_deref()
                .map(|s| summarize(&parse(s)))
                .unwrap_or_else(|| "no schema".into());
            writeln!(
                out,
                "    {:<3} {:<width$}  {:<6}  {:<12}  {schema}",
                direction(port),
                port.name,
                position(port),
                port.label,
            )?;
        }
    }
    for (title, names) in [("imports", &checked.imports), ("exports", &checked.exports)] {
        writeln!(out)?;
        writeln!(out, "{title}:")?;
        if names.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for name in names {
            writeln!(out, "  {name}")?;
        }
    }
    Ok(())
}

/// A one-line reading of a port schema in the editor's conventions (`$ref` into `$defs`):
/// `{context: any, name: string (required)}`.
fn summarize(schema: &Value) -> String {
    let defs = schema.get("$defs").and_then(Value::as_object);
    let empty = Map::new();
    describe(schema, defs.unwrap_or(&empty), 0)
}

fn describe(schema: &Value, defs: &Map<String, Value>, depth: usize) -> String {
    let schema = resolve(schema, defs);
    if depth > 3 {
        return "…".into();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("|");
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                return "object".into();
            };
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut fields: Vec<(&String, &Value)> = props.iter().collect();
            fields.sort_by_key(|(_, v)| resolve_order(v).unwrap_or(u64::MAX));
            let fields: Vec<String> = fields
                .into_iter()
                .map(|(name, prop)| {
                    let mark = if required.contains(&name.as_str()) {
                        " (required)"
                    } else {
                        ""
                    };
                    format!("{name}: {}{mark}", describe(prop, defs, depth + 1))
                })
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        Some("array") => match schema.get("items") {
            Some(items) => format!("[{}]", describe(items, defs, depth + 1)),
            None => "[any]".into(),
        },
        Some(other) => other.to_string(),
        None => "any".into(),
    }
}

fn resolve_order(schema: &Value) -> Option<u64> {
    schema.get("propertyOrder").and_then(Value::as_u64)
}

/// `schema`, or the `$defs` entry its `$ref` points to.
fn resolve<'a>(schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| defs.get(name))
        .unwrap_or(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_read_as_one_line() {
        let schema = json!({
            "$ref": "#/$defs/Request",
            "$defs": {
                "Context": {"title": "Context", "configurable": true},
                "Request": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "propertyOrder": 2},
                    "context": {"$ref": "#/$defs/Context", "propertyOrder": 1},
                    "tags": {"type": "array", "items": {"type": "string"}, "propertyOrder": 3},
                    "mode": {"enum": ["a", "b"], "propertyOrder": 4}
                }}
            }
        });
        assert_eq!(
            summarize(&schema),
            r#"{context: any, name: string (required), tags: [string], mode: "a"|"b"}"#
        );
    }
}
