//! `retry`: the explicit retry loop of a flow, because edges deliver once by default and a
//! flow author, not the runtime, decides which failures deserve another attempt and how
//! long to wait.
//!
//! Wire a component's error port (`{context, error, retryable}`) into `request` and
//! `retry` back into that component. The component keeps no state: the attempt count rides
//! in the message, so one node can supervise any number of concurrent loops.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use serde::{Deserialize, Serialize};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, Failure, Node, PortDef, Position, Value, json, output, ports, timers,
};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "retry",
    description: "Retry",
    info: "Retry supervisor with bounded attempts and backoff. Wire the error port of a \
           component ({context, error, retryable}) into Request and Retry back into that \
           component's input. A retryable failure waits (exponential: initial * 2^n, \
           linear: initial * (n+1), constant: initial; capped at maxDelayMs; jitter \
           randomises by +-25%) and goes out on Retry with the attempt count incremented; \
           a non-retryable failure, or one that reaches maxAttempts (counting the first \
           attempt), goes out on Failed with the reason (not_retryable or max_attempts). \
           The attempt count travels in the message: map it through the loop's context.",
    tags: &["SDK", "Resilience", "Backoff"],
    ports: port_defs,
    create: || {
        Box::new(Retry {
            settings: Settings::default(),
        })
    },
};

const REQUEST: &str = "request";
const RETRY: &str = "retry";
const FAILED: &str = "failed";

const DEFAULT_MAX_ATTEMPTS: i64 = 5;
const DEFAULT_INITIAL_MS: i64 = 500;
const DEFAULT_MAX_MS: i64 = 30_000;

/// Settings as upstream names them; missing fields take upstream's defaults.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    max_attempts: i64,
    initial_delay_ms: i64,
    max_delay_ms: i64,
    /// `exponential`, `linear` or `constant`; anything else counts as `exponential`, as
    /// upstream treats it.
    backoff: String,
    jitter: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_delay_ms: DEFAULT_INITIAL_MS,
            max_delay_ms: DEFAULT_MAX_MS,
            backoff: "exponential".into(),
            jitter: true,
        }
    }
}

/// The `request` message: an error-port message plus the attempt count. Numbers are read
/// as `f64` so an edge expression yielding `1.0` counts as `1`; `null` fields are zero.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Request {
    context: Value,
    attempt: Option<f64>,
    retryable: Option<bool>,
    error: Option<String>,
}

struct Retry {
    settings: Settings,
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = tinyhost_sdk::decode_settings::<Settings>(settings)?;
    let settings_schema = Schema::object("Settings")
        .required_prop(
            "maxAttempts",
            Schema::integer()
                .title("Max Attempts")
                .description("Upper bound on attempts, counting the first one: 5 = the original + 4 retries.")
                .with("minimum", json!(1))
                .with("default", json!(DEFAULT_MAX_ATTEMPTS)),
        )
        .required_prop(
            "initialDelayMs",
            Schema::integer()
                .title("Initial Delay (ms)")
                .description("Wait before the first retry.")
                .with("minimum", json!(0))
                .with("default", json!(DEFAULT_INITIAL_MS)),
        )
        .required_prop(
            "maxDelayMs",
            Schema::integer()
                .title("Max Delay (ms)")
                .description("Upper bound on a single wait.")
                .with("minimum", json!(0))
                .with("default", json!(DEFAULT_MAX_MS)),
        )
        .required_prop(
            "backoff",
            Schema::string()
                .title("Backoff")
                .description("exponential: initial * 2^n; linear: initial * (n+1); constant: always initial.")
                .with("enum", json!(["exponential", "linear", "constant"]))
                .with("default", json!("exponential")),
        )
        .prop(
            "jitter",
            Schema::boolean()
                .title("Jitter")
                .description("Randomise each wait by +-25% so that many loops do not retry in step."),
        );
    let request_schema = Schema::object("Request")
        .prop(
            "context",
            Schema::context().description("The original request, passed through unchanged"),
        )
        .prop(
            "attempt",
            Schema::integer()
                .title("Attempt")
                .description("Zero or absent on first arrival; incremented on every retry"),
        )
        .prop(
            "retryable",
            Schema::boolean()
                .title("Retryable")
                .description("From the error port; false goes straight to Failed"),
        )
        .prop("error", Schema::string().title("Last Error"));
    let retry_schema = Schema::object("Retry")
        .prop("context", Schema::context())
        .prop("attempt", Schema::integer().title("Attempt"))
        .prop("nextDelayMs", Schema::integer().title("Slept (ms)"));
    let failed_schema = Schema::object("Failed")
        .prop("context", Schema::context())
        .prop("attempt", Schema::integer().title("Attempt"))
        .prop("error", Schema::string().title("Last Error"))
        .prop(
            "reason",
            Schema::string()
                .title("Reason")
                .description("max_attempts | not_retryable"),
        );
    Ok(vec![
        ports::settings(tinyhost_sdk::encode(&settings), &settings_schema),
        ports::target(
            REQUEST,
            "Request",
            Position::Left,
            json!({"attempt": 0, "retryable": false}),
            &request_schema,
        ),
        ports::source(
            RETRY,
            "Retry",
            Position::Right,
            json!({"attempt": 0, "nextDelayMs": 0}),
            &retry_schema,
        ),
        ports::source(
            FAILED,
            "Failed",
            Position::Bottom,
            json!({"attempt": 0, "reason": ""}),
            &failed_schema,
        ),
    ])
}

/// Builds an output object from `(key, value)` pairs in upstream's field order, leaving
/// out a `null` context and an empty error as upstream's `omitempty` does.
fn message(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter(|(key, value)| match *key {
                "context" => !value.is_null(),
                "error" => value.as_str().is_some_and(|e| !e.is_empty()),
                _ => true,
            })
            .map(|(key, value)| (key.to_string(), value))
            .collect(),
    )
}

/// A number in `[0, 1)`, fresh per call. The randomness comes from the per-process keys
/// std seeds from the WASI random source for `HashMap`, which avoids a dependency for
/// what only spreads retry times apart.
fn random_unit(salt: u64) -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(salt);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

impl Retry {
    /// The wait in ms before attempt `previous + 1`, never above `maxDelayMs`.
    fn delay_ms(&self, previous: i64) -> i64 {
        let s = &self.settings;
        let initial = if s.initial_delay_ms < 0 {
            DEFAULT_INITIAL_MS
        } else {
            s.initial_delay_ms
        } as f64;
        let max = if s.max_delay_ms <= 0 {
            DEFAULT_MAX_MS
        } else {
            s.max_delay_ms
        } as f64;
        let n = previous.max(0) as f64;
        let mut raw = match s.backoff.as_str() {
            "linear" => initial * (n + 1.0),
            "constant" => initial,
            _ => initial * 2f64.powf(n),
        };
        raw = raw.min(max);
        if s.jitter {
            raw = (raw * (0.75 + random_unit(timers::now_ms()) * 0.5)).min(max);
        }
        raw.max(0.0) as i64
    }
}

impl Node for Retry {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = tinyhost_sdk::decode_settings::<Settings>(Some(&settings))?;
        Ok(())
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != REQUEST {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let req: Request = tinyhost_sdk::decode("request", payload)?;
        let attempt = req
            .attempt
            .filter(|a| a.is_finite())
            .map_or(0, |a| a as i64);

        let error = Value::String(req.error.unwrap_or_default());
        if !req.retryable.unwrap_or(false) {
            let failed = message(vec![
                ("context", req.context),
                ("attempt", json!(attempt)),
                ("error", error),
                ("reason", json!("not_retryable")),
            ]);
            return output::output(FAILED, &failed);
        }

        let max_attempts = if self.settings.max_attempts <= 0 {
            DEFAULT_MAX_ATTEMPTS
        } else {
            self.settings.max_attempts
        };
        let next = attempt.saturating_add(1);
        if next >= max_attempts {
            let failed = message(vec![
                ("context", req.context),
                ("attempt", json!(next)),
                ("error", error),
                ("reason", json!("max_attempts")),
            ]);
            return output::output(FAILED, &failed);
        }

        let delay = self.delay_ms(attempt);
        timers::sleep_ms(u64::try_from(delay).unwrap_or(0));
        let retry = message(vec![
            ("context", req.context),
            ("attempt", json!(next)),
            ("nextDelayMs", json!(delay)),
        ]);
        output::output(RETRY, &retry)
    }
}
