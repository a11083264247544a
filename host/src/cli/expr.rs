//! `tinyhost expr`: an edge configuration rendered against a message, errors pointed at.

use std::process::ExitCode;

use serde_json::Value;

use super::shared::read_json_arg;

#[derive(clap::Args, Debug)]
pub(crate) struct ExprArgs {
    /// A template string (`'{{$.count + 1}}'`, `'Hello {{$.name}}!'`) or a JSON configuration object.
    config: String,
    /// The incoming message as JSON, or `-` to read it from standard input. Any JSON is a
    /// message, negative numbers included (`--input -1`).
    #[arg(long, short = 'i', allow_hyphen_values = true)]
    input: Option<String>,
}

pub(crate) fn expr(args: ExprArgs) -> anyhow::Result<ExitCode> {
    let input: Value = match args.input.as_deref() {
        None => Value::Null,
        Some(text) => read_json_arg(text, "--input")?,
    };
    // A JSON object/array is a whole configuration; anything else is one template string.
    let config = match serde_json::from_str::<Value>(&args.config) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
        _ => Value::String(args.config.clone()),
    };
    let rendered = tinyhost_expr::render(&config, &input);
    if rendered.errors.is_empty() {
        println!("{}", serde_json::to_string_pretty(&rendered.value)?);
        return Ok(ExitCode::SUCCESS);
    }
    for e in &rendered.errors {
        eprintln!("error: {}", e.message);
        eprintln!("  {{{{{}}}}}", e.expression);
        eprintln!("  {}^ position {}", " ".repeat(e.position + 2), e.position);
    }
    Ok(ExitCode::from(2))
}
