//! Label and field selectors, so list and watch return what a real server would
//! for `watcher::Config::labels(..)` / `fields(..)` (and `watch_object`, which
//! filters by `metadata.name`).

use serde_json::Value;

use crate::error::ApiError;

/// One label requirement.
#[derive(Debug, Clone, PartialEq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

/// One field requirement (`path=value` or `path!=value`).
#[derive(Debug, Clone, PartialEq)]
struct FieldReq {
    path: String,
    value: String,
    negate: bool,
}

/// A parsed `labelSelector` plus `fieldSelector`; all requirements must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Selector {
    labels: Vec<LabelReq>,
    fields: Vec<FieldReq>,
}

impl Selector {
    /// Parses the two query parameters; either may be absent or empty.
    pub(crate) fn parse(labels: Option<&str>, fields: Option<&str>) -> Result<Self, ApiError> {
        let mut sel = Selector::default();
        if let Some(labels) = labels {
            for term in split_top_level(labels) {
                sel.labels.push(parse_label_term(&term)?);
            }
        }
        if let Some(fields) = fields {
            for term in split_top_level(fields) {
                sel.fields.push(parse_field_term(&term)?);
            }
        }
        Ok(sel)
    }

    /// Whether `obj` satisfies every requirement.
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        let labels_ok = self.labels.iter().all(|req| match req {
            LabelReq::Eq(k, v) => label(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => label(k) != Some(v.as_str()),
            LabelReq::Exists(k) => label(k).is_some(),
            LabelReq::NotExists(k) => label(k).is_none(),
            LabelReq::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            LabelReq::NotIn(k, vs) => label(k).is_none_or(|l| vs.iter().all(|v| v != l)),
        });
        labels_ok
            && self.fields.iter().all(|req| {
                let pointer = format!("/{}", req.path.replace('.', "/"));
                let actual = match obj.pointer(&pointer) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                (actual == req.value) != req.negate
            })
    }
}

/// Splits on commas that are not inside parentheses (`a in (x,y),b=c`).
fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn parse_set(term: &str, rest: &str) -> Result<Vec<String>, ApiError> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| ApiError::bad_request(format!("unable to parse requirement: {term:?}")))?;
    Ok(inner
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

fn parse_label_term(term: &str) -> Result<LabelReq, ApiError> {
    let bad = || ApiError::bad_request(format!("unable to parse requirement: {term:?}"));
    if let Some(key) = term.strip_prefix('!') {
        let key = key.trim();
        if key.is_empty() {
            return Err(bad());
        }
        return Ok(LabelReq::NotExists(key.to_string()));
    }
    if let Some((key, rest)) = term.split_once(" notin ") {
        return Ok(LabelReq::NotIn(
            key.trim().to_string(),
            parse_set(term, rest)?,
        ));
    }
    if let Some((key, rest)) = term.split_once(" in ") {
        return Ok(LabelReq::In(key.trim().to_string(), parse_set(term, rest)?));
    }
    if let Some((key, value)) = term.split_once("!=") {
        return Ok(LabelReq::NotEq(
            key.trim().to_string(),
            value.trim().to_string(),
        ));
    }
    if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
        let key = key.trim();
        if key.is_empty() {
            return Err(bad());
        }
        return Ok(LabelReq::Eq(key.to_string(), value.trim().to_string()));
    }
    if term.contains(char::is_whitespace) || term.contains(['(', ')']) {
        return Err(bad());
    }
    Ok(LabelReq::Exists(term.to_string()))
}

fn parse_field_term(term: &str) -> Result<FieldReq, ApiError> {
    let (path, value, negate) = if let Some((p, v)) = term.split_once("!=") {
        (p, v, true)
    } else if let Some((p, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        (p, v, false)
    } else {
        return Err(ApiError::bad_request(format!(
            "invalid field selector: {term:?}: expected key=value or key!=value"
        )));
    };
    let path = path.trim();
    if path.is_empty() {
        return Err(ApiError::bad_request(format!(
            "invalid field selector: {term:?}"
        )));
    }
    Ok(FieldReq {
        path: path.to_string(),
        value: value.trim().to_string(),
        negate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj() -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x", "tier": "db"}}})
    }

    #[test]
    fn label_selectors() {
        let o = obj();
        let m = |l: &str| Selector::parse(Some(l), None).unwrap().matches(&o);
        assert!(m("app=x"));
        assert!(m("app==x,tier"));
        assert!(!m("app=y"));
        assert!(m("app!=y"));
        assert!(!m("!tier"));
        assert!(m("!missing"));
        assert!(m("tier in (db,cache)"));
        assert!(!m("tier notin (db,cache)"));
        assert!(m("missing notin (a)"));
        assert!(m(""));
        assert!(Selector::parse(Some("tier in db"), None).is_err());
    }

    #[test]
    fn field_selectors() {
        let o = obj();
        let m = |f: &str| Selector::parse(None, Some(f)).unwrap().matches(&o);
        assert!(m("metadata.name=a"));
        assert!(m("metadata.namespace==ns,metadata.name!=b"));
        assert!(!m("metadata.name=b"));
        assert!(Selector::parse(None, Some("metadata.name")).is_err());
    }
}
