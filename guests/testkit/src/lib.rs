//! `chaos`: a component for the host's own tests. Each message on `in` is a command —
//! echo, emit downstream, fail, panic, loop forever, allocate without bound, fetch a URL
//! over `wasi:http` — so every error path of the host (traps, time and memory limits,
//! blocking output, cycles, outbound policy) can be exercised against a real wasm
//! component. Not shipped in the binary.

use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, Failure, Node, PortDef, Position, Value, json, metadata, output, ports, timers,
};

fn components() -> &'static [ComponentDef] {
    &[CHAOS]
}

tinyhost_sdk::export_module!(components);

const CHAOS: ComponentDef = ComponentDef {
    name: "chaos",
    description: "Chaos",
    info: "Test component: obeys commands that misbehave.",
    tags: &["test"],
    ports: port_defs,
    create: || {
        Box::new(Chaos {
            settings: Value::Null,
        })
    },
};

struct Chaos {
    settings: Value,
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    // Settings may make the port list loop forever, to test introspection time limits.
    if settings.and_then(|s| s.get("loopInPorts")) == Some(&Value::Bool(true)) {
        let mut x: u64 = 0;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
    let any = Schema::object("Command").with("additionalProperties", json!(true));
    let mut list = vec![
        ports::settings(settings.cloned().unwrap_or(json!({})), &any),
        ports::target("in", "In", Position::Left, json!({}), &any),
        ports::source("out", "Out", Position::Right, json!({}), &any),
        ports::source("other", "Other", Position::Right, json!({}), &any),
    ];
    // Settings may add ports, to test that ports are re-read.
    if let Some(extra) = settings
        .and_then(|s| s.get("extraPorts"))
        .and_then(Value::as_array)
    {
        for name in extra.iter().filter_map(Value::as_str) {
            list.push(ports::source(name, name, Position::Right, json!({}), &any));
        }
    }
    Ok(list)
}

impl Node for Chaos {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        if let Some(message) = settings.get("reject").and_then(Value::as_str) {
            return Err(Failure::permanent(message));
        }
        // Opt-in delivery counter in durable metadata, for tests of the `_settings` dedup.
        if settings.get("countDeliveries") == Some(&Value::Bool(true)) {
            let n = metadata::get("settings-deliveries")
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
                + 1;
            metadata::set("settings-deliveries", Some(&n.to_string()));
        }
        self.settings = settings;
        Ok(())
    }

    fn handle(&mut self, _port: &str, payload: Value) -> Result<Option<Value>, Failure> {
        let command = payload.get("do").and_then(Value::as_str).unwrap_or("echo");
        match command {
            "echo" => Ok(Some(payload.get("value").cloned().unwrap_or(Value::Null))),
            "settings" => Ok(Some(self.settings.clone())),
            "emit" => {
                let port = payload.get("port").and_then(Value::as_str).unwrap_or("out");
                let value = payload.get("value").cloned().unwrap_or(Value::Null);
                let reply = output::output(port, &value)?;
                Ok(Some(json!({ "downstream": reply })))
            }
            "fail" => Err(Failure::permanent(
                payload
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("failed"),
            )),
            "retryable" => Err(Failure::retryable("try again")),
            "panic" => panic!("chaos was asked to panic"),
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "sleep" => {
                timers::sleep_ms(payload.get("ms").and_then(Value::as_u64).unwrap_or(10));
                Ok(Some(json!("slept")))
            }
            "fetch" => {
                let request = tinyhost_sdk::http::Request {
                    method: "GET".into(),
                    url: payload
                        .get("url")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .into(),
                    timeout: std::time::Duration::from_secs(30),
                    max_response_bytes: 1 << 20,
                    ..Default::default()
                };
                let response = tinyhost_sdk::http::send(&request)?;
                Ok(Some(json!({
                    "status": response.status,
                    "body": String::from_utf8_lossy(&response.body),
                })))
            }
            "count" => {
                let n = metadata::get("count")
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
                    + 1;
                metadata::set("count", Some(&n.to_string()));
                Ok(Some(json!(n)))
            }
            other => Err(Failure::permanent(format!("unknown command `{other}`"))),
        }
    }
}
