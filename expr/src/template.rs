//! Edge configurations: compile once, render per message.
//!
//! A configuration is any JSON value. Strings are examined for `{{expr}}`:
//! * exactly one `{{expr}}` and nothing else → the expression's typed result
//!   (`null` plus an error if it fails, like Tiny Systems);
//! * `{{expr}}` among other text → interpolation: each result is rendered as
//!   text (`null` → empty, numbers without `.0`, containers as compact JSON);
//!   a failing expression leaves its `{{…}}` text in place;
//! * anything else is literal (`"$18.99"` stays as is).
//!
//! Objects and arrays are compiled recursively; subtrees without any
//! expression are kept as ready-made values and cloned on render.

use serde_json::{Map, Value};

use crate::error::ExprError;
use crate::expression::Expression;

/// Maximum nesting of a configuration value that is still compiled; deeper
/// subtrees are passed through literally (with a compile error).
const MAX_CONFIG_DEPTH: usize = 256;

/// A configuration value compiled once (all `{{ }}` parsed up front) and
/// rendered for each message.
#[derive(Debug, Clone)]
pub struct Mapping {
    root: Node,
    parse_errors: Vec<ExprError>,
    empty: bool,
}

/// The result of rendering a [`Mapping`]: the value that was produced
/// (always, even when some expressions failed) and the errors met on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The rendered configuration.
    pub value: Value,
    /// Parse and evaluation errors, in document order.
    pub errors: Vec<ExprError>,
}

/// A compiled configuration node.
#[derive(Debug, Clone)]
enum Node {
    /// No expressions inside: cloned as is.
    Literal(Value),
    /// A string that is exactly one `{{expr}}`.
    Typed(Compiled),
    /// A string mixing text and expressions.
    Interpolated(Vec<Part>),
    /// An object with at least one expression inside.
    Object(Vec<(String, Node)>),
    /// An array with at least one expression inside.
    Array(Vec<Node>),
}

/// One piece of an interpolated string.
#[derive(Debug, Clone)]
enum Part {
    /// Literal text.
    Text(String),
    /// An expression; `raw` is the original `{{…}}` text kept for errors.
    Expr { raw: String, expr: Compiled },
}

/// An expression or the error that prevented parsing it.
type Compiled = Result<Expression, ExprError>;

/// A `{{…}}` occurrence: byte range of the whole match and of the inner text.
struct Span {
    start: usize,
    end: usize,
    inner_start: usize,
    inner_end: usize,
}

/// Finds `{{…}}` occurrences like Tiny Systems' `\{\{(.+?)\}\}`: the
/// shortest non-empty text between `{{` and the next `}}`.
fn find_spans(s: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(rel) = s.get(from..).and_then(|t| t.find("{{")) {
        let start = from + rel;
        let inner_start = start + 2;
        // At least one character of expression text.
        let Some(first) = s.get(inner_start..).and_then(|t| t.chars().next()) else {
            break;
        };
        let search = inner_start + first.len_utf8();
        let Some(close) = s.get(search..).and_then(|t| t.find("}}")) else {
            break;
        };
        let inner_end = search + close;
        spans.push(Span {
            start,
            end: inner_end + 2,
            inner_start,
            inner_end,
        });
        from = inner_end + 2;
    }
    spans
}

/// Parses the text inside `{{ }}` (trimmed).
fn compile_expr(inner: &str) -> Compiled {
    let text = inner.trim();
    if text.is_empty() {
        return Err(ExprError::new(text, 0, "expression is empty"));
    }
    Expression::parse(text)
}

/// Compiles one string.
fn compile_string(s: &str, errors: &mut Vec<ExprError>) -> Node {
    let spans = find_spans(s);
    if spans.is_empty() {
        return Node::Literal(Value::String(s.to_owned()));
    }
    let note = |c: &Compiled, errors: &mut Vec<ExprError>| {
        if let Err(e) = c {
            errors.push(e.clone());
        }
    };
    if let [only] = spans.as_slice()
        && only.start == 0
        && only.end == s.len()
    {
        let compiled = compile_expr(s.get(only.inner_start..only.inner_end).unwrap_or(""));
        note(&compiled, errors);
        return Node::Typed(compiled);
    }
    let mut parts = Vec::new();
    let mut last = 0;
    for span in &spans {
        if span.start > last {
            parts.push(Part::Text(s.get(last..span.start).unwrap_or("").to_owned()));
        }
        let compiled = compile_expr(s.get(span.inner_start..span.inner_end).unwrap_or(""));
        note(&compiled, errors);
        parts.push(Part::Expr {
            raw: s.get(span.start..span.end).unwrap_or("").to_owned(),
            expr: compiled,
        });
        last = span.end;
    }
    if last < s.len() {
        parts.push(Part::Text(s.get(last..).unwrap_or("").to_owned()));
    }
    Node::Interpolated(parts)
}

/// Compiles a configuration value.
fn compile_node(v: &Value, depth: usize, errors: &mut Vec<ExprError>) -> Node {
    if depth > MAX_CONFIG_DEPTH {
        errors.push(ExprError::new(
            "",
            0,
            format!(
                "configuration is nested too deeply (limit {MAX_CONFIG_DEPTH}); kept literally"
            ),
        ));
        return Node::Literal(v.clone());
    }
    match v {
        Value::String(s) => compile_string(s, errors),
        Value::Array(items) => {
            let nodes: Vec<Node> = items
                .iter()
                .map(|i| compile_node(i, depth + 1, errors))
                .collect();
            if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                Node::Literal(v.clone())
            } else {
                Node::Array(nodes)
            }
        }
        Value::Object(map) => {
            let fields: Vec<(String, Node)> = map
                .iter()
                .map(|(k, i)| (k.clone(), compile_node(i, depth + 1, errors)))
                .collect();
            if fields.iter().all(|(_, n)| matches!(n, Node::Literal(_))) {
                Node::Literal(v.clone())
            } else {
                Node::Object(fields)
            }
        }
        other => Node::Literal(other.clone()),
    }
}

impl Mapping {
    /// Compiles a configuration. Never fails: expressions that do not parse
    /// are remembered and reported by [`Mapping::parse_errors`] and on every
    /// [`Mapping::render`].
    pub fn compile(configuration: &Value) -> Mapping {
        let mut parse_errors = Vec::new();
        let root = compile_node(configuration, 0, &mut parse_errors);
        let empty = match configuration {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            _ => false,
        };
        Mapping {
            root,
            parse_errors,
            empty,
        }
    }

    /// Errors found while compiling (expressions that failed to parse), so a
    /// broken configuration can be reported when a flow is deployed rather
    /// than on every message.
    pub fn parse_errors(&self) -> &[ExprError] {
        &self.parse_errors
    }

    /// True for a `null` or `{}` configuration – an edge "without configuration".
    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// Renders the configuration against a message. Always produces a value;
    /// failing expressions become `null` (whole-string expressions) or keep
    /// their `{{…}}` text (interpolation), and are listed in `errors`.
    pub fn render(&self, data: &Value) -> Rendered {
        let mut errors = Vec::new();
        let value = render_node(&self.root, data, &mut errors);
        Rendered { value, errors }
    }
}

/// Renders one node.
fn render_node(node: &Node, data: &Value, errors: &mut Vec<ExprError>) -> Value {
    match node {
        Node::Literal(v) => v.clone(),
        Node::Typed(compiled) => match compiled {
            Ok(expr) => expr.eval(data).unwrap_or_else(|e| {
                errors.push(e);
                Value::Null
            }),
            Err(e) => {
                errors.push(e.clone());
                Value::Null
            }
        },
        Node::Interpolated(parts) => {
            let mut out = String::new();
            for part in parts {
                match part {
                    Part::Text(t) => out.push_str(t),
                    Part::Expr { raw, expr } => {
                        let result = match expr {
                            Ok(expr) => expr.eval_text(data, &mut out),
                            Err(e) => Err(e.clone()),
                        };
                        if let Err(e) = result {
                            errors.push(e);
                            out.push_str(raw);
                        }
                    }
                }
            }
            Value::String(out)
        }
        Node::Object(fields) => {
            let mut map = Map::with_capacity(fields.len());
            for (k, n) in fields {
                map.insert(k.clone(), render_node(n, data, errors));
            }
            Value::Object(map)
        }
        Node::Array(items) => {
            Value::Array(items.iter().map(|n| render_node(n, data, errors)).collect())
        }
    }
}

/// Compiles and renders a configuration once: for a configuration used
/// once; one rendered per message is cheaper compiled once with
/// [`Mapping::compile`].
pub fn render(configuration: &Value, data: &Value) -> Rendered {
    Mapping::compile(configuration).render(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_shortest_matches() {
        let s = "a {{x}} b {{ y }}";
        let spans = find_spans(s);
        assert_eq!(spans.len(), 2);
        assert_eq!(&s[spans[1].inner_start..spans[1].inner_end], " y ");
        assert!(find_spans("{{}}").is_empty());
        assert!(find_spans("{{ x").is_empty());
        assert_eq!(find_spans("{{é}}").len(), 1);
    }
}
