//! `http_server` (upstream http-module): serves HTTP and answers each request with what
//! its flow returns. The host owns the socket (`http-server` capability); this component
//! turns each request into upstream's `Request` message on `request`, waits for the flow,
//! and turns the `Response` message that came back through the `response` port into the
//! HTTP answer — the blocking `output` carries it back, so no request id is needed.
//!
//! As upstream, the server runs from a message on `start` (its configuration: timeouts,
//! host names, TLS) until `stop`; the configuration and the port it got are kept in node
//! metadata under upstream's keys (`http-start`, `port`), so every replica serves the same
//! port and a restart resumes it. Differences, all on the side of a stricter server: an
//! oversized body gets `413` (upstream truncates it), a flow slower than `writeTimeout`
//! gets `504` (upstream closes the connection), and `start` returns once the port is bound
//! (upstream's call blocks while the server runs). tinyhost adds `port`, `address` and
//! `routes` settings (a path outside `routes` gets `404` without reaching the flow).

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tinyhost_sdk::http_server::{
    self, BoundListener, IncomingRequest, ListenOptions, OutgoingResponse, TlsIdentity,
};
use tinyhost_sdk::ports::{self, CONTROL};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, Failure, Node, PortDef, Position, Value, control, json, log, metadata, node_info,
    output,
};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "http_server",
    description: "HTTP Server",
    info: "HTTP request handler. The server does not run until a message arrives on the \
           Start port (wire a signal into it); read its address from the _control port's \
           listenAddr. Each incoming HTTP request is emitted on the Request port; wire it to \
           the processing logic and wire the result to the Response port with statusCode, \
           contentType, headers and body. Enable the Stop port in settings to stop the \
           server. A body over maxBodySize gets 413, a flow slower than writeTimeout gets \
           504, a failing flow gets 500 naming the node.",
    tags: &["HTTP", "Server"],
    ports: port_defs,
    create: || {
        Box::new(HttpServer {
            settings: Settings::default(),
            replica: None,
        })
    },
};

const REQUEST: &str = "request";
const RESPONSE: &str = "response";
const START: &str = "start";
const STOP: &str = "stop";
const STATUS: &str = "status";
/// The start configuration in force; upstream's key.
const KEY_START: &str = "http-start";
/// The port the server got; upstream's key.
const KEY_PORT: &str = "port";
/// Upstream's default body limit, in MB.
const DEFAULT_MAX_BODY_MB: u64 = 10;

/// Settings as upstream names them, plus where to listen and which paths to serve.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    enable_status_port: bool,
    enable_stop_port: bool,
    /// Megabytes; 0 is the default (10).
    max_body_size: i64,
    /// The port to bind; 0 keeps the one recorded in metadata, or lets the system pick.
    port: u16,
    /// `HOST:PORT` to bind instead of the host's default address.
    address: String,
    /// Route patterns served (`/users/{id}`); empty serves every path.
    routes: Vec<String>,
}

/// The `start` message: the server's configuration, as upstream names it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
struct Start {
    #[serde(skip_serializing_if = "Value::is_null")]
    context: Value,
    auto_host_name: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hostnames: Vec<String>,
    /// Seconds to read a whole request; 0 or less: no limit.
    read_timeout: i64,
    /// Seconds from a request to its response; 0 or less: no limit.
    write_timeout: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    tls_cert: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    tls_key: String,
}

impl Default for Start {
    fn default() -> Self {
        Start {
            context: Value::Null,
            auto_host_name: true,
            hostnames: Vec::new(),
            read_timeout: 60,
            write_timeout: 10,
            tls_cert: String::new(),
            tls_key: String::new(),
        }
    }
}

/// A header as upstream's messages carry it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Header {
    key: String,
    value: String,
}

/// The `request` message (upstream's `Request`), plus `path`, `remoteAddr`, and the matched
/// `route` and its `params` when the server has routes; `bodyEncoding` is `base64` when the
/// body is not text.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestMessage<'a> {
    context: &'a RawValue,
    #[serde(rename = "requestURI")]
    request_uri: &'a str,
    request_params: BTreeMap<String, Vec<String>>,
    host: &'a str,
    method: &'a str,
    #[serde(rename = "realIP")]
    real_ip: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    headers: Vec<Header>,
    body: Cow<'a, str>,
    scheme: &'a str,
    pod_name: &'a str,
    path: &'a str,
    remote_addr: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    route: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    params: BTreeMap<&'a str, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_encoding: Option<&'static str>,
}

/// The `response` message (upstream's `Response`); `body` may also be any JSON value (sent
/// as JSON) or base64 with `bodyEncoding: "base64"`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ResponseMessage<'a> {
    status_code: i64,
    content_type: String,
    headers: Vec<Header>,
    /// Kept as text: a string body is unescaped once, any other value sent as it is.
    #[serde(borrow)]
    body: Option<&'a RawValue>,
    body_encoding: String,
}

struct HttpServer {
    settings: Settings,
    /// This replica's name (upstream's `podName`), asked once: it does not change.
    replica: Option<String>,
}

fn decode_settings(settings: Option<&Value>) -> Result<Settings, Failure> {
    let settings: Settings = tinyhost_sdk::decode_settings(settings)?;
    if settings.max_body_size < 0 {
        return Err(Failure::permanent(format!(
            "invalid settings: maxBodySize must be 0 or more, got {}",
            settings.max_body_size
        )));
    }
    Ok(settings)
}

fn header_schema() -> Schema {
    Schema::object("Header")
        .required_prop("key", Schema::string().title("Key"))
        .required_prop("value", Schema::string().title("Value"))
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = decode_settings(settings)?;
    let settings_schema = Schema::object("Settings")
        .required_prop(
            "enableStatusPort",
            Schema::boolean()
                .title("Enable status port")
                .description("Status port notifies when server is up or down"),
        )
        .required_prop(
            "enableStopPort",
            Schema::boolean()
                .title("Enable stop port")
                .description("Stop port stops the running server when it receives any message"),
        )
        .prop(
            "maxBodySize",
            Schema::integer()
                .title("Max Body Size (MB)")
                .description("Maximum request body size in megabytes. 0 means use default (10MB). A larger body gets 413."),
        )
        .prop(
            "port",
            Schema::integer()
                .title("Port")
                .description("Port to listen on. 0 keeps the port the server got before, or picks a free one."),
        )
        .prop(
            "address",
            Schema::string()
                .title("Address")
                .description("HOST:PORT to listen on instead of the host's default address."),
        )
        .prop(
            "routes",
            Schema::array(Schema::string())
                .title("Routes")
                .description("Paths served, such as /users/{id}; other paths get 404. Empty serves every path."),
        );
    let request_schema = Schema::object("Request")
        .prop("context", Schema::any("StartContext").title("Context"))
        .required_prop("requestURI", Schema::string().title("Request URI"))
        .required_prop(
            "requestParams",
            Schema::object("RequestParams").title("Query parameters"),
        )
        .required_prop("host", Schema::string().title("Host"))
        .required_prop("method", Schema::string().title("Method"))
        .prop("realIP", Schema::string().title("Real IP"))
        .prop("headers", Schema::array(header_schema()).title("Headers"))
        .prop("body", Schema::string().title("Body"))
        .prop("scheme", Schema::string().title("Scheme"))
        .prop(
            "podName",
            Schema::string()
                .title("Pod Name")
                .description("Name of the pod handling this request"),
        )
        .prop("path", Schema::string().title("Path"))
        .prop("remoteAddr", Schema::string().title("Remote address"));
    let response_schema = Schema::object("Response")
        .required_prop(
            "statusCode",
            Schema::integer()
                .title("Status Code")
                .description("HTTP status code for response")
                .with("minimum", json!(100))
                .with("maximum", json!(599))
                .with("default", json!(200)),
        )
        .required_prop("contentType", Schema::string().title("Content Type"))
        .prop(
            "headers",
            Schema::array(header_schema()).title("Response headers"),
        )
        .prop(
            "body",
            Schema::string()
                .title("Response body")
                .with("format", json!("textarea")),
        );
    let start_schema = Schema::object("Start")
        .prop(
            "context",
            Schema::any("StartContext")
                .title("Context")
                .description("Start context")
                .configurable(),
        )
        .prop(
            "autoHostName",
            Schema::boolean()
                .title("Automatically generate hostname")
                .description("Use cluster auto subdomain setup if any."),
        )
        .prop(
            "hostnames",
            Schema::array(Schema::string())
                .title("Hostnames")
                .description("List of virtual host this server should be bound to."),
        )
        .required_prop(
            "readTimeout",
            Schema::integer()
                .title("Read Timeout")
                .description("Maximum duration for reading the entire request in seconds, including the body. Zero or negative: no timeout."),
        )
        .required_prop(
            "writeTimeout",
            Schema::integer()
                .title("Write Timeout")
                .description("Maximum duration from a request to its response in seconds; a slower flow gets 504. Zero or negative: no timeout."),
        )
        .prop(
            "tlsCert",
            Schema::string()
                .title("TLS Certificate")
                .description("PEM or base64-encoded PEM certificate for HTTPS. Leave empty for plain HTTP.")
                .with("format", json!("textarea")),
        )
        .prop(
            "tlsKey",
            Schema::string()
                .title("TLS Private Key")
                .description("PEM or base64-encoded PEM private key for HTTPS. Leave empty for plain HTTP.")
                .with("format", json!("textarea")),
        );
    let control_schema = Schema::object("Control")
        .prop(
            "status",
            Schema::string()
                .title("Status")
                .with("readonly", json!(true)),
        )
        .prop(
            "listenAddr",
            Schema::array(Schema::string())
                .title("Listen Address")
                .with("readonly", json!(true)),
        );
    let mut request = ports::source(
        REQUEST,
        "Request",
        Position::Right,
        json!({"context": null, "requestURI": "", "requestParams": null, "host": "", "method": "", "realIP": "", "body": "", "scheme": "", "podName": ""}),
        &request_schema,
    );
    request.response_configuration = Some(response_default().to_string());
    let mut defs = vec![
        ports::settings(tinyhost_sdk::encode(&settings), &settings_schema),
        request,
        ports::target(
            RESPONSE,
            "Response",
            Position::Right,
            response_default(),
            &response_schema,
        ),
        ports::control(control_state(None), &control_schema),
        ports::target(
            START,
            "Start",
            Position::Left,
            tinyhost_sdk::encode(&Start::default()),
            &start_schema,
        ),
    ];
    if settings.enable_stop_port {
        let stop_schema = Schema::object("Stop").prop(
            "context",
            Schema::any("StartContext")
                .title("Context")
                .description("Ignored — any message on this port stops the server")
                .configurable(),
        );
        defs.push(ports::target(
            STOP,
            "Stop",
            Position::Left,
            json!({}),
            &stop_schema,
        ));
    }
    if settings.enable_status_port {
        let status_schema = Schema::object("Status")
            .prop("context", Schema::any("StartContext").title("Context"))
            .prop(
                "listenAddr",
                Schema::array(Schema::string()).title("Listen Address"),
            )
            .prop("isRunning", Schema::boolean().title("Is running"));
        defs.push(ports::source(
            STATUS,
            "Status",
            Position::Bottom,
            json!({"context": null, "listenAddr": null, "isRunning": false}),
            &status_schema,
        ));
    }
    Ok(defs)
}

fn response_default() -> Value {
    json!({"statusCode": 200, "contentType": "", "body": ""})
}

/// What the dashboard shows: upstream's `{status, listenAddr}`.
fn control_state(running: Option<&BoundListener>) -> Value {
    match running {
        Some(bound) => json!({"status": control::RUNNING, "listenAddr": bound.urls}),
        None => json!({"status": control::NOT_RUNNING, "listenAddr": []}),
    }
}

/// The start configuration recorded by the last `start`, if the server should run.
fn recorded_start() -> Option<Start> {
    let text = metadata::get(KEY_START)?;
    match serde_json::from_str(&text) {
        Ok(start) => Some(start),
        Err(e) => {
            log::warn(&format!(
                "http_server: ignoring unreadable `{KEY_START}` metadata: {e}"
            ));
            None
        }
    }
}

/// PEM text as given, or base64 of it (upstream accepts both).
fn pem(text: &str, what: &str) -> Result<String, Failure> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return Ok(text.to_string());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| Failure::permanent(format!("{what} is neither PEM nor base64 PEM: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::permanent(format!("{what} decodes to something that is not PEM")))
}

fn seconds_to_ms(seconds: i64) -> u64 {
    u64::try_from(seconds).unwrap_or(0).saturating_mul(1000)
}

impl HttpServer {
    fn listen_options(&self, start: &Start) -> Result<ListenOptions, Failure> {
        let port = match self.settings.port {
            0 => metadata::get(KEY_PORT)
                .and_then(|p| p.parse::<u16>().ok())
                .unwrap_or(0),
            port => port,
        };
        let max_body_mb = match self.settings.max_body_size {
            0 => DEFAULT_MAX_BODY_MB,
            mb => u64::try_from(mb).unwrap_or(DEFAULT_MAX_BODY_MB),
        };
        let tls = match (start.tls_cert.is_empty(), start.tls_key.is_empty()) {
            (true, true) => None,
            (false, false) => Some(TlsIdentity {
                cert_pem: pem(&start.tls_cert, "tlsCert")?,
                key_pem: pem(&start.tls_key, "tlsKey")?,
            }),
            _ => {
                return Err(Failure::permanent(
                    "HTTPS needs both tlsCert and tlsKey; give both or neither",
                ));
            }
        };
        Ok(ListenOptions {
            address: self.settings.address.clone(),
            port,
            read_timeout_ms: seconds_to_ms(start.read_timeout),
            response_timeout_ms: seconds_to_ms(start.write_timeout),
            max_body_bytes: max_body_mb.saturating_mul(1024 * 1024),
            routes: self.settings.routes.clone(),
            hostnames: start.hostnames.clone(),
            auto_hostname: start.auto_host_name || start.hostnames.is_empty(),
            tls,
            tag: start.context.to_string(),
        })
    }

    /// Listens as `start` says and records it; publishes the new state.
    fn run(&self, start: &Start) -> Result<BoundListener, Failure> {
        let bound = http_server::listen(&self.listen_options(start)?)?;
        metadata::set(KEY_PORT, Some(&bound.port.to_string()));
        Ok(bound)
    }

    fn start(&mut self, message: Value) -> Result<(), Failure> {
        let start = match message {
            Value::Null => return self.stop(),
            Value::Object(_) => tinyhost_sdk::decode::<Start>("start message", message)?,
            // Not a configuration: the previous one, with this as its context (upstream).
            context => Start {
                context,
                ..recorded_start().unwrap_or_default()
            },
        };
        let bound = self.run(&start)?;
        metadata::set(KEY_START, Some(&tinyhost_sdk::encode(&start).to_string()));
        self.announce(Some(&bound), &start.context);
        Ok(())
    }

    fn stop(&mut self) -> Result<(), Failure> {
        let context = recorded_start().map(|s| s.context).unwrap_or(Value::Null);
        metadata::set(KEY_START, None);
        http_server::close();
        self.announce(None, &context);
        Ok(())
    }

    /// Publishes the dashboard state and, with the status port on, tells the flow.
    fn announce(&self, running: Option<&BoundListener>, context: &Value) {
        control::publish("http_server", &control_state(running));
        if self.settings.enable_status_port {
            let status = json!({
                "context": context,
                "listenAddr": running.map(|b| b.urls.clone()).unwrap_or_default(),
                "isRunning": running.is_some(),
            });
            if let Err(e) = output::output_detached(STATUS, &status) {
                log::warn(&format!("http_server: status port: {}", e.message));
            }
        }
    }
}

impl Node for HttpServer {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = decode_settings(Some(&settings))?;
        Ok(())
    }

    /// Every replica serves (the cluster balances over them): resume from metadata, or stop
    /// when another replica's `stop` removed the configuration.
    fn on_reconcile(&mut self) -> Result<(), Failure> {
        match recorded_start() {
            Some(start) => match self.run(&start) {
                Ok(bound) => control::publish("http_server", &control_state(Some(&bound))),
                Err(e) => {
                    control::publish("http_server", &control_state(None));
                    return Err(e);
                }
            },
            None => {
                if http_server::listening().is_some() {
                    http_server::close();
                }
                control::publish("http_server", &control_state(None));
            }
        }
        Ok(())
    }

    fn on_http_request(&mut self, request: IncomingRequest) -> Result<OutgoingResponse, Failure> {
        let replica = self
            .replica
            .get_or_insert_with(|| node_info::identity().replica);
        let message = request_message(&request, replica)?;
        let reply = output::output_text(REQUEST, &message)?.ok_or_else(|| {
            Failure::permanent(
                "no response: nothing downstream of the request port sent a message to the response port",
            )
        })?;
        response_of(&reply)
    }

    /// The response is passed back as the text it came in: this runs once per request.
    fn handle_text(&mut self, port: &str, payload: &str) -> Result<Option<String>, Failure> {
        if port == RESPONSE {
            return Ok(Some(payload.to_string()));
        }
        let payload = tinyhost_sdk::decode_text::<Value>("message", payload)?;
        self.handle(port, payload)
            .map(|reply| reply.map(|value| value.to_string()))
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        match port {
            START => self.start(payload).map(|()| None),
            STOP if self.settings.enable_stop_port => self.stop().map(|()| None),
            // The response travels back up the blocking output of the request it answers.
            RESPONSE => Ok(Some(payload)),
            CONTROL => Ok(None),
            other => Err(Failure::permanent(format!("port {other} is not supported"))),
        }
    }
}

/// Go's canonical header key: `content-type` → `Content-Type`.
fn canonical_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

/// The first value of a header, by case-insensitive name.
fn header<'a>(request: &'a IncomingRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The client's address as echo's `RealIP` finds it: `X-Forwarded-For` (first), then
/// `X-Real-IP`, then the socket's address.
fn real_ip(request: &IncomingRequest) -> &str {
    if let Some(forwarded) = header(request, "x-forwarded-for") {
        return forwarded.split(',').next().unwrap_or_default().trim();
    }
    if let Some(real) = header(request, "x-real-ip") {
        return real.trim();
    }
    let remote = request.remote_addr.as_str();
    match remote.rsplit_once(':') {
        Some((ip, _)) => ip.trim_start_matches('[').trim_end_matches(']'),
        None => remote,
    }
}

/// The scheme as echo's `Scheme` reports it: the listener's own `https`, else what a proxy
/// in front says, else `http`.
fn scheme(request: &IncomingRequest) -> &str {
    if request.scheme == "https" {
        return "https";
    }
    if let Some(proto) = header(request, "x-forwarded-proto") {
        return proto;
    }
    if let Some(proto) = header(request, "x-forwarded-protocol") {
        return proto;
    }
    if header(request, "x-forwarded-ssl") == Some("on") {
        return "https";
    }
    if let Some(proto) = header(request, "x-url-scheme") {
        return proto;
    }
    "http"
}

fn request_message(request: &IncomingRequest, replica: &str) -> Result<String, Failure> {
    let context: &RawValue = serde_json::from_str(&request.tag)
        .map_err(|e| Failure::permanent(format!("listener tag is not JSON: {e}")))?;
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(request.query.as_bytes()) {
        params
            .entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    let mut headers: Vec<Header> = request
        .headers
        .iter()
        .map(|(k, v)| Header {
            key: canonical_key(k),
            value: v.clone(),
        })
        .collect();
    headers.sort_by(|a, b| a.key.cmp(&b.key));
    let (body, body_encoding) = match std::str::from_utf8(&request.body) {
        Ok(text) => (Cow::Borrowed(text), None),
        Err(_) => (
            Cow::Owned(base64::engine::general_purpose::STANDARD.encode(&request.body)),
            Some("base64"),
        ),
    };
    let message = RequestMessage {
        context,
        request_uri: &request.uri,
        request_params: params,
        host: &request.host,
        method: &request.method,
        real_ip: real_ip(request),
        headers,
        body,
        scheme: scheme(request),
        pod_name: replica,
        path: &request.path,
        remote_addr: &request.remote_addr,
        route: &request.route,
        params: request
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        body_encoding,
    };
    serde_json::to_string(&message)
        .map_err(|e| Failure::permanent(format!("cannot encode the request: {e}")))
}

/// The HTTP answer for the flow's `Response` message.
fn response_of(reply: &str) -> Result<OutgoingResponse, Failure> {
    let message: ResponseMessage = serde_json::from_str(reply).map_err(|e| {
        Failure::permanent(format!(
            "invalid response: expected {{statusCode, contentType, headers, body}}: {e}"
        ))
    })?;
    let status = match message.status_code {
        0 => 200,
        code => u16::try_from(code)
            .ok()
            .filter(|c| (100..=599).contains(c))
            .ok_or_else(|| Failure::permanent(format!("invalid response: statusCode {code}")))?,
    };
    let raw = message.body.map(RawValue::get).unwrap_or("null");
    let (body, json_body) = if raw == "null" {
        (Vec::new(), false)
    } else if raw.starts_with('"') {
        let text: Cow<str> = serde_json::from_str(raw)
            .map_err(|e| Failure::permanent(format!("invalid response: body: {e}")))?;
        if message.body_encoding == "base64" {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| Failure::permanent(format!("invalid response: base64 body: {e}")))?;
            (bytes, false)
        } else {
            (text.into_owned().into_bytes(), false)
        }
    } else {
        (raw.as_bytes().to_vec(), true)
    };
    // Upstream sets each header (the last value of a name wins), then the content type.
    let mut headers: Vec<(String, String)> = Vec::with_capacity(message.headers.len() + 1);
    for h in message.headers {
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&h.key));
        headers.push((h.key, h.value));
    }
    let has_type = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let content_type = if !message.content_type.is_empty() {
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        Some(message.content_type)
    } else if has_type {
        None
    } else if json_body {
        Some("application/json".to_string())
    } else {
        // What upstream's server sends for a string body with no type.
        Some("text/plain; charset=UTF-8".to_string())
    };
    if let Some(content_type) = content_type {
        headers.push(("Content-Type".to_string(), content_type));
    }
    Ok(OutgoingResponse {
        status,
        headers,
        body,
    })
}
