//! A small JSON-schema builder that emits the Tiny Systems editor's conventions: every
//! object (and every `configurable`/`shared` field) hoisted into `$defs` and referenced
//! with `$ref`, each def carrying `path` (JSONPath from the port root), properties
//! carrying `propertyOrder`. Components describe their messages with it instead of
//! hand-writing that structure.

use serde_json::{Map, Value, json};

/// A schema under construction.
#[derive(Clone, Debug)]
pub struct Schema {
    body: Map<String, Value>,
    /// Named objects and hoisted fields become `$defs` entries.
    def_name: Option<String>,
    props: Vec<(String, Schema)>,
    items: Option<Box<Schema>>,
    required: Vec<String>,
}

impl Schema {
    fn with_type(ty: &str) -> Self {
        let mut body = Map::new();
        if !ty.is_empty() {
            body.insert("type".into(), Value::String(ty.into()));
        }
        Schema {
            body,
            def_name: None,
            props: Vec::new(),
            items: None,
            required: Vec::new(),
        }
    }

    /// A named object; `name` becomes its `$defs` key.
    pub fn object(name: &str) -> Self {
        let mut s = Self::with_type("object");
        s.def_name = Some(name.to_string());
        s
    }
    /// A string.
    pub fn string() -> Self {
        Self::with_type("string")
    }
    /// A number.
    pub fn number() -> Self {
        Self::with_type("number")
    }
    /// An integer.
    pub fn integer() -> Self {
        Self::with_type("integer")
    }
    /// A boolean.
    pub fn boolean() -> Self {
        Self::with_type("boolean")
    }
    /// Any JSON value (the usual type of a passthrough `context`), hoisted as `name`.
    pub fn any(name: &str) -> Self {
        let mut s = Self::with_type("");
        s.def_name = Some(name.to_string());
        s
    }
    /// The passthrough `context` field most messages carry: any value, hoisted as
    /// `Context`, titled `Context`, mappable in the editor. One definition so that every
    /// component's context renders (and is mapped) the same way.
    pub fn context() -> Self {
        Self::any("Context").title("Context").configurable()
    }
    /// An array of `items`.
    pub fn array(items: Schema) -> Self {
        let mut s = Self::with_type("array");
        s.items = Some(Box::new(items));
        s
    }

    /// Adds a property (order of calls = `propertyOrder`).
    pub fn prop(mut self, name: &str, schema: Schema) -> Self {
        self.props.push((name.to_string(), schema));
        self
    }
    /// Adds a required property.
    pub fn required_prop(mut self, name: &str, schema: Schema) -> Self {
        self.required.push(name.to_string());
        self.props.push((name.to_string(), schema));
        self
    }
    /// Sets any keyword (`title`, `description`, `default`, `enum`, `format`, ...).
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.body.insert(key.to_string(), value);
        self
    }
    /// Sets the title.
    pub fn title(self, title: &str) -> Self {
        self.with("title", Value::String(title.to_string()))
    }
    /// Sets the description.
    pub fn description(self, text: &str) -> Self {
        self.with("description", Value::String(text.to_string()))
    }
    /// Marks the field as mappable from upstream data in the editor.
    pub fn configurable(self) -> Self {
        self.with("configurable", Value::Bool(true))
    }

    /// The schema as published on a port: the root as a `$ref` into `$defs`.
    pub fn to_port_schema(&self) -> Value {
        let mut defs = Map::new();
        let root = self.render("$", &mut defs);
        let mut out = match root {
            Value::Object(m) => m,
            other => {
                let mut m = Map::new();
                m.insert("allOf".into(), json!([other]));
                m
            }
        };
        if !defs.is_empty() {
            out.insert("$defs".into(), Value::Object(defs));
        }
        Value::Object(out)
    }

    fn render(&self, path: &str, defs: &mut Map<String, Value>) -> Value {
        let mut body = self.body.clone();
        if !self.props.is_empty() {
            let mut props = Map::new();
            for (order, (name, schema)) in self.props.iter().enumerate() {
                let child_path = format!("{path}.{name}");
                let mut child = schema.render(&child_path, defs);
                if let Value::Object(m) = &mut child {
                    m.insert("propertyOrder".into(), json!(order + 1));
                }
                props.insert(name.clone(), child);
            }
            body.insert("properties".into(), Value::Object(props));
        }
        if !self.required.is_empty() {
            body.insert("required".into(), json!(self.required));
        }
        if let Some(items) = &self.items {
            body.insert("items".into(), items.render(&format!("{path}[0]"), defs));
        }
        let hoist = self.def_name.is_some()
            || body.get("configurable") == Some(&Value::Bool(true))
            || body.get("shared") == Some(&Value::Bool(true));
        if !hoist {
            return Value::Object(body);
        }
        let name = self
            .def_name
            .clone()
            .unwrap_or_else(|| def_name_from_path(path));
        body.insert("path".into(), Value::String(path.to_string()));
        defs.insert(name.clone(), Value::Object(body));
        json!({ "$ref": format!("#/$defs/{name}") })
    }
}

fn def_name_from_path(path: &str) -> String {
    let last = path.rsplit(['.', '[']).next().unwrap_or("Value");
    let mut chars = last.chars().filter(|c| c.is_alphanumeric());
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Value".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_a_configurable_hoisted_any() {
        let schema = Schema::object("M").prop("context", Schema::context());
        assert_eq!(
            schema.to_port_schema().to_string(),
            r##"{"$ref":"#/$defs/M","$defs":{"Context":{"title":"Context","configurable":true,"path":"$.context"},"M":{"type":"object","properties":{"context":{"$ref":"#/$defs/Context","propertyOrder":1}},"path":"$"}}}"##
        );
    }
}
