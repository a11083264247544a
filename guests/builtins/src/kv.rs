//! `kv`: a small document store kept in the node's metadata, because flows often need to
//! remember a handful of records (endpoints being watched, jobs seen) across messages and
//! restarts without running a database.
//!
//! Records live in metadata the way upstream's State primitive keeps them: key
//! `_state/<primary key>`, value the document's JSON in standard base64, so a node's
//! records carry over between upstream and tinyhost. Queries are evaluated by the host's
//! expression engine against each record, the same language the edges use.

use serde::{Deserialize, Serialize};
use serde_json::Map;
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, Failure, Node, PortDef, Position, Value, control, expr, json, log, metadata,
    output, ports, with_context,
};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "kv",
    description: "Key-Value Store",
    info: "Key-value store kept in the node's metadata, so it survives restarts and is the \
           same on every replica. Store takes {context, operation, document}: operation \
           store (the default) saves the document under the value of its primary key field \
           (a non-empty string), delete removes it. Query takes {context, query} and emits \
           {context, results: [{key, document}], count, query} on Query Result; the query \
           is an expression evaluated against each document (e.g. $.status == 'DOWN') and a \
           document matches when it yields true; an empty query returns every record. \
           Limits: maxRecords records (0 = 100), 32 KB per document, about 900 KB in all. \
           Reset on the dashboard deletes every record. Store Ack, when enabled, \
           acknowledges each store or delete.",
    tags: &["KV", "Storage", "Data"],
    ports: port_defs,
    create: || {
        Box::new(Kv {
            settings: Settings::default(),
        })
    },
};

const STORE: &str = "store";
const QUERY: &str = "query";
const QUERY_RESULT: &str = "query_result";
const STORE_ACK: &str = "store_ack";

/// Metadata prefix of records; upstream's State keeps its keys under it.
const STATE_PREFIX: &str = "_state/";
const DEFAULT_MAX_RECORDS: i64 = 100;
const MAX_RECORD_BYTES: usize = 32 * 1024;
/// Upstream's cap on all `_state/*` metadata of a node (keys plus encoded values): a
/// TinyNode must stay well below etcd's object size limit.
const MAX_STATE_BYTES: usize = 900 * 1024;

/// Settings as upstream names them; missing fields take upstream's defaults.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    /// An example document: it shapes the ports' schemas and must hold the primary key.
    document: Map<String, Value>,
    primary_key: String,
    /// `0` (or less) means [`DEFAULT_MAX_RECORDS`].
    max_records: i64,
    #[serde(rename = "enableStoreAckPort")]
    enable_store_ack: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let mut document = Map::new();
        document.insert("id".into(), json!("ID"));
        Settings {
            document,
            primary_key: "id".into(),
            max_records: DEFAULT_MAX_RECORDS,
            enable_store_ack: false,
        }
    }
}

/// The `store` message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StoreRequest {
    context: Value,
    /// `store` or `delete`; absent or empty means `store`, the port's default.
    operation: Option<String>,
    document: Option<Map<String, Value>>,
}

/// The `query` message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QueryRequest {
    context: Value,
    query: Option<String>,
}

/// The `_control` message: the dashboard's Reset button.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Control {
    reset: bool,
}

struct Kv {
    settings: Settings,
}

/// Checks what upstream checks when settings arrive and applies the record default.
fn validate(mut settings: Settings) -> Result<Settings, Failure> {
    if settings.document.is_empty() {
        return Err(Failure::permanent(
            "invalid settings: document must have at least one field",
        ));
    }
    if settings.primary_key.is_empty() {
        return Err(Failure::permanent(
            "invalid settings: primary key cannot be empty",
        ));
    }
    if !settings.document.contains_key(&settings.primary_key) {
        return Err(Failure::permanent(format!(
            "invalid settings: primary key {:?} not found in document",
            settings.primary_key
        )));
    }
    if settings.max_records <= 0 {
        settings.max_records = DEFAULT_MAX_RECORDS;
    }
    Ok(settings)
}

/// A schema for an example value, so the editor offers the configured document's fields;
/// `name` names nested objects in `$defs`.
fn schema_of(name: &str, value: &Value) -> Schema {
    match value {
        Value::String(_) | Value::Null => Schema::string(),
        Value::Bool(_) => Schema::boolean(),
        Value::Number(n) if n.is_i64() || n.is_u64() => Schema::integer(),
        Value::Number(_) => Schema::number(),
        Value::Array(items) => Schema::array(
            items
                .first()
                .map_or_else(Schema::string, |v| schema_of(name, v)),
        ),
        Value::Object(map) => map.iter().fold(Schema::object(name), |s, (k, v)| {
            s.prop(k, schema_of(&format!("{name}_{k}"), v).title(k))
        }),
    }
}

/// The schema of stored documents; the primary key is required.
fn document_schema(settings: &Settings) -> Schema {
    let mut schema = Schema::object("Document").title("Document");
    for (key, value) in &settings.document {
        let field = schema_of(&format!("Document_{key}"), value).title(key);
        schema = if *key == settings.primary_key {
            schema.required_prop(key, field)
        } else {
            schema.prop(key, field)
        };
    }
    if settings.document.is_empty() {
        schema = schema.required_prop("id", Schema::string().title("ID"));
    }
    schema
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = tinyhost_sdk::decode_settings::<Settings>(settings)?;
    let document = document_schema(&settings);
    let store_context = Schema::any("StoreContext").title("Context").configurable();
    let query_context = Schema::any("QueryContext").title("Context").configurable();

    let settings_schema = Schema::object("Settings")
        .required_prop(
            "document",
            document
                .clone()
                .description("Structure of stored documents; it must hold the primary key below.")
                .configurable(),
        )
        .required_prop("primaryKey", Schema::string().title("Primary Key").with("default", json!("id")))
        .prop(
            "maxRecords",
            Schema::integer()
                .title("Max Records")
                .description("Maximum number of records (0 = default 100); all records together are capped at about 900 KB.")
                .with("default", json!(DEFAULT_MAX_RECORDS)),
        )
        .required_prop(
            "enableStoreAckPort",
            Schema::boolean()
                .title("Enable Store Ack Port")
                .description("Emits an acknowledgement after each store or delete"),
        );
    let store_request = Schema::object("StoreRequest")
        .prop("context", store_context.clone())
        .required_prop(
            "operation",
            Schema::string()
                .title("Operation")
                .with("enum", json!(["store", "delete"]))
                .with("enumTitles", json!(["Store", "Delete"]))
                .with("default", json!("store")),
        )
        .required_prop(
            "document",
            document.clone().description("Document to store or delete"),
        );
    let store_ack = Schema::object("StoreAck")
        .prop("context", store_context)
        .prop("request", store_request.clone().title("Request"));
    let query_request = Schema::object("QueryRequest")
        .prop("context", query_context.clone())
        .required_prop(
            "query",
            Schema::string()
                .title("Query")
                .description("Expression evaluated against each record (e.g. $.status == 'DOWN')"),
        );
    let query_result = Schema::object("QueryResult")
        .prop("context", query_context)
        .prop(
            "results",
            Schema::array(
                Schema::object("QueryResultItem")
                    .prop("key", Schema::string().title("Key"))
                    .prop("document", document),
            )
            .title("Results"),
        )
        .prop("count", Schema::integer().title("Count"))
        .prop("query", Schema::string().title("Query"));
    let control_schema = Schema::object("Control")
        .prop(
            "records",
            Schema::integer()
                .title("Records")
                .with("readonly", json!(true)),
        )
        .required_prop(
            "reset",
            Schema::boolean()
                .title("Reset")
                .with("format", json!("button")),
        );

    let doc = Value::Object(settings.document.clone());
    let mut defs = vec![
        ports::settings(tinyhost_sdk::encode(&settings), &settings_schema),
        ports::control(json!({"records": 0, "reset": false}), &control_schema),
        ports::target(
            STORE,
            "Store",
            Position::Left,
            json!({"operation": "store", "document": doc}),
            &store_request,
        ),
        ports::target(
            QUERY,
            "Query",
            Position::Left,
            json!({"query": "$.status == 'DOWN'"}),
            &query_request,
        ),
        ports::source(
            QUERY_RESULT,
            "Query Result",
            Position::Right,
            json!({"results": [{"key": "", "document": doc}], "count": 0, "query": ""}),
            &query_result,
        ),
    ];
    if settings.enable_store_ack {
        defs.push(ports::source(
            STORE_ACK,
            "Store Ack",
            Position::Right,
            json!({"request": {"operation": "", "document": doc}}),
            &store_ack,
        ));
    }
    Ok(defs)
}

/// Every record as `(key, document)`, in key order. An entry that does not decode (edited
/// by hand, say) is skipped with a warning rather than failing every query.
fn records() -> Vec<(String, Value)> {
    metadata::entries()
        .into_iter()
        .filter_map(|(key, encoded)| {
            let name = key.strip_prefix(STATE_PREFIX)?.to_string();
            let doc = base64::decode(&encoded)
                .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
            if doc.is_none() {
                log::warn(&format!(
                    "kv: record {name:?} is not base64-encoded JSON; skipped"
                ));
            }
            Some((name, doc?))
        })
        .collect()
}

fn record_count() -> usize {
    metadata::entries()
        .iter()
        .filter(|(k, _)| k.starts_with(STATE_PREFIX))
        .count()
}

/// Shows the record count on the dashboard; failing to show it must not fail the store.
fn publish_control() {
    control::publish("kv", &json!({"records": record_count(), "reset": false}));
}

/// Bytes all records would take with `key` set to `encoded`.
fn state_bytes_with(key: &str, encoded: &str) -> usize {
    let others: usize = metadata::entries()
        .iter()
        .filter(|(k, _)| k.starts_with(STATE_PREFIX) && k != key)
        .map(|(k, v)| k.len() + v.len())
        .sum();
    others + key.len() + encoded.len()
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Kv {
    fn store(&mut self, req: StoreRequest) -> Result<Option<Value>, Failure> {
        let pk = &self.settings.primary_key;
        let document = req.document.unwrap_or_default();
        let key = match document.get(pk) {
            None => {
                return Err(Failure::permanent(format!(
                    "primary key {pk:?} not found in document"
                )));
            }
            Some(Value::String(s)) if s.is_empty() => {
                return Err(Failure::permanent("primary key cannot be empty"));
            }
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(Failure::permanent(format!(
                    "primary key must be a string, got {}",
                    type_name(other)
                )));
            }
        };
        let meta_key = format!("{STATE_PREFIX}{key}");
        let operation = req
            .operation
            .filter(|op| !op.is_empty())
            .unwrap_or_else(|| STORE.to_string());
        let document = Value::Object(document);

        match operation.as_str() {
            "store" => {
                let data = document.to_string();
                if data.len() > MAX_RECORD_BYTES {
                    return Err(Failure::permanent(format!(
                        "document too large: {} bytes (max {MAX_RECORD_BYTES})",
                        data.len()
                    )));
                }
                if metadata::get(&meta_key).is_none() {
                    let count = record_count();
                    let max = usize::try_from(self.settings.max_records).unwrap_or(0);
                    if count >= max {
                        return Err(Failure::permanent(format!(
                            "store full: {count} records (max {max})"
                        )));
                    }
                }
                let encoded = base64::encode(data.as_bytes());
                if state_bytes_with(&meta_key, &encoded) > MAX_STATE_BYTES {
                    return Err(Failure::permanent(format!(
                        "state budget exhausted: all records together are capped at {MAX_STATE_BYTES} bytes; \
                         store smaller records or lower maxRecords"
                    )));
                }
                metadata::set(&meta_key, Some(&encoded));
            }
            "delete" => metadata::set(&meta_key, None),
            other => {
                return Err(Failure::permanent(format!(
                    "unknown operation: {other:?} (expected store or delete)"
                )));
            }
        }
        publish_control();

        if !self.settings.enable_store_ack {
            return Ok(None);
        }
        let request = with_context(
            req.context.clone(),
            json!({ "operation": operation, "document": document }),
        );
        let ack = with_context(req.context, json!({ "request": request }));
        output::output(STORE_ACK, &ack)
    }

    fn query(&mut self, req: QueryRequest) -> Result<Option<Value>, Failure> {
        let query = req.query.unwrap_or_default();
        let mut results = Vec::new();
        let mut first_error = None;
        for (key, document) in records() {
            let matched = query.is_empty()
                || match expr::eval(&query, &document) {
                    Ok(v) => v == Value::Bool(true),
                    Err(e) => {
                        first_error.get_or_insert(e.message);
                        false
                    }
                };
            if matched {
                results.push(json!({"key": key, "document": document}));
            }
        }
        // A record the query cannot be evaluated against does not match, as upstream; the
        // log says why so a broken query does not look like an empty store.
        if let Some(e) = first_error {
            log::warn(&format!("kv: query {query:?} failed on some records: {e}"));
        }
        let count = results.len();
        let out = with_context(
            req.context,
            json!({ "results": results, "count": count, "query": query }),
        );
        output::output(QUERY_RESULT, &out)
    }
}

impl Node for Kv {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = validate(tinyhost_sdk::decode_settings::<Settings>(Some(&settings))?)?;
        Ok(())
    }

    fn on_control(&mut self, control: Value) -> Result<Option<Value>, Failure> {
        let control: Control = control::decode(control)?;
        if !control.reset {
            return Ok(None);
        }
        for (key, _) in metadata::entries() {
            if key.starts_with(STATE_PREFIX) {
                metadata::set(&key, None);
            }
        }
        publish_control();
        Ok(None)
    }

    fn on_reconcile(&mut self) -> Result<(), Failure> {
        // The dashboard's record count after a restart.
        publish_control();
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        match port {
            STORE => self.store(tinyhost_sdk::decode("store request", payload)?),
            QUERY => self.query(tinyhost_sdk::decode("query request", payload)?),
            _ => Err(Failure::permanent(format!("unknown port: {port}"))),
        }
    }
}

/// Standard base64 (RFC 4648, with padding), the encoding upstream's State writes.
mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// Encodes `bytes`.
    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    /// The 6-bit value of one base64 character.
    fn value(c: u8) -> Option<u32> {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    }

    /// Decodes `text`; `None` when it is not valid padded base64.
    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let text = text.as_bytes();
        if !text.len().is_multiple_of(4) {
            return None;
        }
        let mut out = Vec::with_capacity(text.len() / 4 * 3);
        for (index, chunk) in text.chunks(4).enumerate() {
            let last = index + 1 == text.len() / 4;
            let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
            if pad > 2 || (pad > 0 && !last) {
                return None;
            }
            let mut n = 0u32;
            for &c in &chunk[..4 - pad] {
                n = (n << 6) | value(c)?;
            }
            n <<= 6 * pad as u32;
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.extend_from_slice(&bytes[..3 - pad]);
        }
        Some(out)
    }
}
