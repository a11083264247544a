//! `http_request` (upstream http-module's client): sends the HTTP request a message
//! describes and emits the response, because calling an API is half of what flows do.
//! It goes out through `wasi:http` like any component's request (the host lets the
//! built-ins reach any host; author components only the hosts their module allows).
//!
//! Upstream's behaviour is kept: a status of 400 or more is a failure whose text is the
//! body (retryable for 429 and 5xx), bodies over `maxResponseBytes` fail, redirects are
//! followed, and with `enableErrorPort` failures leave on `error` as
//! `{context, error, retryable, response}`. Upstream's `tls` certificate details are not
//! reported (`wasi:http` does not expose the peer's certificate), and a `timeout` of 0 or
//! less uses the default of 10 s where upstream fails at once.

use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tinyhost_sdk::http::{self, HttpError};
use tinyhost_sdk::ports::{self, Pair};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{ComponentDef, Failure, Node, PortDef, Position, Value, json, output};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "http_request",
    description: "HTTP Client",
    info: "Sends an HTTP request (method, URL, headers, body, timeout, bearer or basic \
           auth) and emits the response on the Response port. A status of 400 or more is \
           an error (retryable for 429 and 5xx). With the error port enabled, errors are \
           emitted there with the response instead of failing the flow.",
    tags: &["HTTP", "Client"],
    ports: port_defs,
    create: || {
        Box::new(HttpRequest {
            settings: Settings::default(),
        })
    },
};

const PORTS: Pair = Pair::REQUEST_RESPONSE;
const ERROR: &str = "error";
/// Upstream's response body cap.
const DEFAULT_MAX_RESPONSE_BYTES: i64 = 10 * 1024 * 1024;
/// Seconds, when a request names no timeout.
const DEFAULT_TIMEOUT_SECONDS: i64 = 10;

/// Settings as upstream names them.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    enable_error_port: bool,
    max_response_bytes: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enable_error_port: false,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Header {
    key: String,
    value: String,
}

/// The `request` message, as upstream names it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Request {
    context: Value,
    method: String,
    /// Seconds.
    timeout: i64,
    url: String,
    bearer_token: String,
    basic_auth_user: String,
    basic_auth_password: String,
    headers: Vec<Header>,
    content_type: String,
    body: String,
}

/// What a response looks like on `response` and `error` (upstream's `ResponseResponse`).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResponseData {
    headers: Vec<Header>,
    status: String,
    status_code: u16,
    body: String,
}

struct HttpRequest {
    settings: Settings,
}

fn decode_settings(settings: Option<&Value>) -> Result<Settings, Failure> {
    let settings: Settings = tinyhost_sdk::decode_settings(settings)?;
    if settings.max_response_bytes < 0 {
        return Err(Failure::permanent(format!(
            "invalid settings: maxResponseBytes must be 0 or more, got {}",
            settings.max_response_bytes
        )));
    }
    Ok(settings)
}

fn header_schema() -> Schema {
    Schema::object("Header")
        .required_prop("key", Schema::string().title("Key"))
        .required_prop("value", Schema::string().title("Value"))
}

fn response_schema() -> Schema {
    Schema::object("ResponseResponse")
        .title("Response")
        .required_prop("headers", Schema::array(header_schema()).title("Headers"))
        .prop("status", Schema::string().title("Status"))
        .prop("statusCode", Schema::integer().title("Status Code"))
        .prop("body", Schema::string().title("Body"))
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = decode_settings(settings)?;
    let context = Schema::any("Context")
        .title("Context")
        .description("Message to be sent further")
        .configurable();
    let methods = json!(["GET", "POST", "PATCH", "PUT", "DELETE"]);
    let request_schema = Schema::object("Request")
        .prop("context", context.clone())
        .required_prop(
            "method",
            Schema::string()
                .title("Method")
                .with("enum", methods.clone())
                .with("enumTitles", methods),
        )
        .required_prop("timeout", Schema::integer().title("Request Timeout"))
        .required_prop(
            "url",
            Schema::string().title("URL").with("format", json!("uri")),
        )
        .prop(
            "bearerToken",
            Schema::string()
                .title("Bearer Token")
                .with("format", json!("password")),
        )
        .prop("basicAuthUser", Schema::string().title("Basic Auth User"))
        .prop(
            "basicAuthPassword",
            Schema::string()
                .title("Basic Auth Password")
                .with("format", json!("password")),
        )
        .prop("headers", Schema::array(header_schema()).title("Headers"))
        .required_prop(
            "contentType",
            Schema::string().title("Request Content Type"),
        )
        .prop(
            "body",
            Schema::string()
                .title("Request Body")
                .with("format", json!("textarea")),
        );
    let out_schema = Schema::object("Response")
        .required_prop("context", context.clone())
        .required_prop("response", response_schema());
    let settings_schema = Schema::object("Settings")
        .required_prop(
            "enableErrorPort",
            Schema::boolean()
                .title("Enable Error Port")
                .description("If request fail, error port will emit an error message. HTTP responses with status code >= 400 will emit an error message."),
        )
        .prop(
            "maxResponseBytes",
            Schema::integer()
                .title("Max Response Bytes")
                .description("Cap on response body size; larger responses fail. Defaults to 10485760 (10MB)."),
        );
    let mut defs = vec![
        PORTS.target_port(
            json!({"method": "GET", "timeout": 10, "url": "", "headers": [], "contentType": "application/json", "body": ""}),
            &request_schema,
        ),
        PORTS.source_port(
            json!({"context": null, "response": ResponseData::default()}),
            &out_schema,
        ),
        ports::settings(tinyhost_sdk::encode(&settings), &settings_schema),
    ];
    if settings.enable_error_port {
        let error_schema = Schema::object("Error")
            .required_prop("context", context)
            .required_prop("error", Schema::string().title("Error"))
            .prop("retryable", Schema::boolean().title("Retryable"))
            .prop("response", response_schema());
        defs.push(ports::source(
            ERROR,
            "Error",
            Position::Bottom,
            json!({"context": null, "error": "", "retryable": false, "response": ResponseData::default()}),
            &error_schema,
        ));
    }
    Ok(defs)
}

/// Upstream's `Authorization` rules: a bearer token wins over basic auth; headers given
/// explicitly win over both.
fn headers_of(request: &Request) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut set = |name: &str, value: String| {
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        headers.push((name.to_string(), value));
    };
    if !request.content_type.is_empty() {
        set("Content-Type", request.content_type.clone());
    }
    if !request.bearer_token.is_empty() {
        set("Authorization", format!("Bearer {}", request.bearer_token));
    } else if !request.basic_auth_user.is_empty() || !request.basic_auth_password.is_empty() {
        let pair = format!(
            "{}:{}",
            request.basic_auth_user, request.basic_auth_password
        );
        set(
            "Authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            ),
        );
    }
    for h in &request.headers {
        set(&h.key, h.value.clone());
    }
    headers
}

fn response_data(response: &http::Response) -> ResponseData {
    ResponseData {
        headers: response
            .headers
            .iter()
            .map(|(k, v)| Header {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
        status: format!("{} {}", response.status, http::reason(response.status)),
        status_code: response.status,
        body: String::from_utf8_lossy(&response.body).into_owned(),
    }
}

impl HttpRequest {
    fn fail(
        &self,
        context: Value,
        failure: Failure,
        response: ResponseData,
    ) -> Result<Option<Value>, Failure> {
        if !self.settings.enable_error_port {
            return Err(failure);
        }
        let message = json!({
            "context": context,
            "error": failure.message,
            "retryable": failure.retryable,
            "response": response,
        });
        output::output(ERROR, &message)
    }
}

impl Node for HttpRequest {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = decode_settings(Some(&settings))?;
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != PORTS.target {
            return Err(Failure::permanent(format!("unknown port {port}")));
        }
        let request: Request = tinyhost_sdk::decode("request", payload)?;
        let timeout = match request.timeout {
            t if t > 0 => t,
            _ => DEFAULT_TIMEOUT_SECONDS,
        };
        let method = match request.method.trim() {
            "" => "GET".to_string(),
            m => m.to_ascii_uppercase(),
        };
        let outgoing = http::Request {
            method,
            url: request.url.clone(),
            headers: headers_of(&request),
            body: request.body.clone().into_bytes(),
            timeout: Duration::from_secs(u64::try_from(timeout).unwrap_or(10)),
            max_response_bytes: match self.settings.max_response_bytes {
                0 => DEFAULT_MAX_RESPONSE_BYTES as u64,
                n => u64::try_from(n).unwrap_or(DEFAULT_MAX_RESPONSE_BYTES as u64),
            },
        };
        let response = match http::send(&outgoing) {
            Ok(response) => response,
            Err(e @ HttpError::Invalid(_)) => {
                return self.fail(
                    request.context,
                    Failure::permanent(e.to_string()),
                    ResponseData::default(),
                );
            }
            Err(e) => return self.fail(request.context, e.into(), ResponseData::default()),
        };
        let data = response_data(&response);
        if response.status >= 400 {
            let retryable = response.status == 429 || response.status >= 500;
            let failure = Failure {
                message: data.body.clone(),
                retryable,
            };
            return self.fail(request.context, failure, data);
        }
        output::output(
            PORTS.source,
            &json!({"context": request.context, "response": data}),
        )
    }
}
