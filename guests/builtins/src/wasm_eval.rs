//! `wasm_eval`: a program written inline in the node's settings (Go, TinyGo, Rust or WAT),
//! compiled by the host when the settings change — cached by content, so equal sources
//! compile once — and run in a fresh sandboxed instance for every request. The program
//! reads `inputData` as JSON on stdin and writes `outputData` as JSON on stdout.
//!
//! Compilation happens while settings are applied, off the message path: until a new
//! program compiles, the previous one keeps serving; a program that fails to compile is a
//! settings error (node status shows the diagnostics). A request that arrives before any
//! program compiled gets a clear "not ready" error.

use serde::{Deserialize, Serialize};
use tinyhost_sdk::ports::{self, Pair};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, ErrorPort, Failure, Node, PortDef, Position, Value, json, output, sandbox, timers,
};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "wasm_eval",
    description: "Wasm Eval",
    info: "Runs a small program written inline in the settings (Go, TinyGo, Rust or WebAssembly \
           text) for every request. The program reads inputData as JSON on standard input and \
           writes outputData as JSON on standard output; it has no filesystem and no network. \
           The host compiles the program when the settings change and caches it by content.",
    tags: &["SDK", "WASM"],
    ports: port_defs,
    create: || {
        Box::new(WasmEval {
            settings: Settings::default(),
            program: None,
        })
    },
};

const PORTS: Pair = Pair::REQUEST_RESPONSE;
const STATUS: &str = "status";

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
struct Source {
    language: String,
    content: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
struct Settings {
    enable_error_port: bool,
    enable_status_port: bool,
    input_data: Value,
    output_data: Value,
    source: Source,
    /// Wall-clock limit of one run (tinyhost extension).
    timeout_ms: u64,
    /// Memory limit of one run in MiB (tinyhost extension).
    memory_limit_mb: u64,
    /// Standard output cap of one run in bytes (tinyhost extension).
    max_output_bytes: u64,
    /// Let the program read the clocks (tinyhost extension); off, time stands still.
    enable_clock: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enable_error_port: false,
            enable_status_port: false,
            input_data: Value::Null,
            output_data: Value::Null,
            source: Source {
                language: "go".into(),
                content: String::new(),
            },
            timeout_ms: 5000,
            memory_limit_mb: 64,
            max_output_bytes: 1 << 20,
            enable_clock: false,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    #[serde(default)]
    context: Value,
    #[serde(default)]
    input_data: Value,
}

struct WasmEval {
    settings: Settings,
    program: Option<String>,
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings: Settings = tinyhost_sdk::decode_settings(settings)?;
    let source_schema = Schema::object("Source")
        .required_prop(
            "language",
            Schema::string()
                .title("Language")
                .with("enum", json!(["go", "tinygo", "rust", "wat"]))
                .with("default", json!("go")),
        )
        .required_prop(
            "content",
            Schema::string()
                .title("Source")
                .with("format", json!("code"))
                .with("language", json!(settings.source.language)),
        );
    let settings_schema = Schema::object("Settings")
        .prop(
            "enableErrorPort",
            Schema::boolean().title("Enable error port"),
        )
        .prop(
            "enableStatusPort",
            Schema::boolean().title("Enable status port"),
        )
        .prop(
            "inputData",
            Schema::any("InputData").title("Input data").configurable(),
        )
        .prop(
            "outputData",
            Schema::any("OutputData")
                .title("Output data")
                .configurable(),
        )
        .required_prop("source", source_schema)
        .prop(
            "timeoutMs",
            Schema::integer()
                .title("Time limit (ms)")
                .with("minimum", json!(1)),
        )
        .prop(
            "memoryLimitMb",
            Schema::integer()
                .title("Memory limit (MiB)")
                .with("minimum", json!(1)),
        )
        .prop(
            "maxOutputBytes",
            Schema::integer()
                .title("Output limit (bytes)")
                .with("minimum", json!(1)),
        )
        .prop(
            "enableClock",
            Schema::boolean()
                .title("Enable clock")
                .description("Without it, time stands still at 1970-01-01T00:00:00Z."),
        );
    let request = Schema::object("Request")
        .prop("context", Schema::context())
        .prop(
            "inputData",
            Schema::any("InputData").title("Input data").configurable(),
        );
    let response = Schema::object("Response")
        .prop("context", Schema::context())
        .prop("outputData", Schema::any("OutputData").title("Output data"));
    let mut list = vec![ports::settings(
        tinyhost_sdk::encode(&settings),
        &settings_schema,
    )];
    list.extend(PORTS.ports(
        json!({"context": null, "inputData": settings.input_data}),
        &request,
        json!({"context": null, "outputData": settings.output_data}),
        &response,
    ));
    list.extend(ErrorPort::new(settings.enable_error_port).port(&Schema::context()));
    if settings.enable_status_port {
        let status = Schema::object("Status")
            .prop(
                "phase",
                Schema::string()
                    .title("Phase")
                    .with("enum", json!(["compiling", "ready", "error"])),
            )
            .prop("message", Schema::string().title("Message"))
            .prop("elapsedMs", Schema::integer().title("Elapsed (ms)"));
        list.push(ports::source(
            STATUS,
            "Status",
            Position::Bottom,
            json!({"phase": "", "message": "", "elapsedMs": 0}),
            &status,
        ));
    }
    Ok(list)
}

impl WasmEval {
    fn status(&self, settings: &Settings, phase: &str, message: &str, elapsed_ms: u64) {
        if settings.enable_status_port {
            let _ = output::output(
                STATUS,
                &json!({"phase": phase, "message": message, "elapsedMs": elapsed_ms}),
            );
        }
    }
}

impl Node for WasmEval {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        let settings: Settings = tinyhost_sdk::decode("settings", settings)?;
        if settings.source.content.trim().is_empty() {
            // Nothing to compile yet: accepted, but requests are refused until a source arrives.
            self.settings = settings;
            self.program = None;
            return Ok(());
        }
        let started = timers::now_ms();
        self.status(&settings, "compiling", &settings.source.language, 0);
        match sandbox::compile(&settings.source.language, &settings.source.content) {
            Ok(program) => {
                if !program.cached {
                    let elapsed = timers::now_ms().saturating_sub(started);
                    self.status(&settings, "ready", &program.compiler, elapsed);
                }
                self.program = Some(program.id);
                self.settings = settings;
                Ok(())
            }
            Err(e) => {
                let elapsed = timers::now_ms().saturating_sub(started);
                self.status(&settings, "error", &e.message, elapsed);
                // The previous settings, and program, stay in force.
                Err(Failure::permanent(format!("compile error: {}", e.message)))
            }
        }
    }

    fn handle(&mut self, port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        if port != PORTS.target {
            return Err(Failure::permanent(format!("unknown port: {port}")));
        }
        let request: Request = tinyhost_sdk::decode("request", payload)?;
        let outcome = self.evaluate(&request.input_data);
        match outcome {
            Ok(data) => output::output(
                PORTS.source,
                &json!({"context": request.context, "outputData": data}),
            ),
            Err(failure) => {
                ErrorPort::new(self.settings.enable_error_port).fail(request.context, failure)
            }
        }
    }
}

impl WasmEval {
    fn evaluate(&self, input: &Value) -> Result<Value, Failure> {
        let Some(program) = &self.program else {
            return Err(Failure::permanent(
                "not ready: no program has compiled (check the source in the settings)",
            ));
        };
        let limits = sandbox::Limits {
            timeout_ms: self.settings.timeout_ms,
            memory_bytes: self.settings.memory_limit_mb.saturating_mul(1 << 20),
            max_output_bytes: self.settings.max_output_bytes,
            allow_clock: self.settings.enable_clock,
        };
        let stdout = sandbox::run(program, input.to_string().as_bytes(), limits)?;
        let text = String::from_utf8_lossy(&stdout);
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(text.trim()).map_err(|e| {
            let preview: String = text.chars().take(120).collect();
            Failure::permanent(format!("program output is not JSON ({e}): {preview}"))
        })
    }
}
