//! `ticker`: emits a context over and over with a pause in between, because polling and
//! heartbeats are flows of their own that something has to start on a schedule.
//!
//! The loop is built from host timers rather than a guest thread: `on_timer` emits on
//! `out`, waits for the downstream subtree, then arms the next timer `delay` ms later. Guest
//! memory does not outlive a call, so whether the ticker runs (and with which context) is
//! kept in node metadata under upstream's keys (`ticker-running`, `ticker-config`), which
//! is also what lets `on_reconcile` resume the loop after a restart or a change of leader.
//! Only the leader acts: timers fire there, and control messages elsewhere are ignored.

use serde::{Deserialize, Serialize};
use tinyhost_sdk::control::{self, Button};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, Failure, Node, PortDef, Position, Value, json, log, metadata, node_info, output,
    ports, timers,
};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "ticker",
    description: "Ticker",
    info: "Periodic emitter. Press Start to begin emitting the context on Out; each emit \
           waits until everything downstream of Out has finished, then the ticker waits \
           [delay] ms before the next one. Press Stop to pause. A Start without a context \
           uses the context from the settings. The running state is kept in the node's \
           metadata, so the ticker resumes after a restart. Only the module's leader ticks.",
    tags: &["SDK"],
    ports: port_defs,
    create: || {
        Box::new(Ticker {
            settings: Settings::default(),
        })
    },
};

const OUT: &str = "out";
/// The id of the one timer that drives the loop; re-arming replaces it.
const TICK: &str = "tick";
/// Present (value `"true"`) while the ticker runs; upstream's key.
const KEY_RUNNING: &str = "ticker-running";
/// The settings in force while running (`{context, delay}`); upstream's key.
const KEY_CONFIG: &str = "ticker-config";
/// The earliest moment (ms since the epoch) the next tick is due, so a reconcile re-arms
/// the timer for then instead of ticking at once.
const KEY_NEXT: &str = "ticker-next";

/// Settings as upstream names them.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
struct Settings {
    context: Value,
    /// Pause between the end of one emit and the next one, in ms.
    delay: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            context: Value::Null,
            delay: 1000,
        }
    }
}

struct Ticker {
    settings: Settings,
}

fn decode_settings(settings: Option<&Value>) -> Result<Settings, Failure> {
    let settings: Settings = match settings {
        None => return Ok(Settings::default()),
        Some(v) => tinyhost_sdk::decode("settings", v.clone())?,
    };
    if settings.delay < 0 {
        return Err(Failure::permanent(format!(
            "invalid settings: delay must be 0 or more, got {}",
            settings.delay
        )));
    }
    Ok(settings)
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = decode_settings(settings)?;
    let settings_schema = Schema::object("Settings")
        .prop(
            "context",
            Schema::any("Context")
                .title("Context")
                .description("Arbitrary message to be sent each period of time")
                .configurable(),
        )
        .required_prop(
            "delay",
            Schema::integer()
                .title("Delay (ms)")
                .description("Delay between signals")
                .with("minimum", json!(0))
                .with("default", json!(1000)),
        );
    let control_schema = control::start_stop_schema(
        Schema::object("Control").required_prop("context", Schema::any("Context").title("Context")),
    );
    let out_schema = Schema::any("Context").title("Context");
    Ok(vec![
        ports::settings(tinyhost_sdk::encode(&settings), &settings_schema),
        ports::source(OUT, "Out", Position::Right, Value::Null, &out_schema),
        ports::control(control_state(false, &settings.context), &control_schema),
    ])
}

/// What the dashboard shows: the Start form when stopped, the Stop button when running.
fn control_state(running: bool, context: &Value) -> Value {
    let fields = json!({ "context": context });
    if running {
        control::running_state(fields)
    } else {
        control::stopped_state(fields, None)
    }
}

/// Publishes the control state; a failure to show it must not fail the action itself.
fn publish(running: bool, context: &Value) {
    control::publish("ticker", &control_state(running, context));
}

fn is_running() -> bool {
    metadata::get(KEY_RUNNING).is_some()
}

impl Ticker {
    /// The context in force: the one recorded at Start, else the settings' one.
    fn context(&self) -> Value {
        metadata::get(KEY_CONFIG)
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|config| config.get("context").cloned())
            .unwrap_or_else(|| self.settings.context.clone())
    }

    fn start(&mut self, context: Value) {
        let config = json!({ "context": context, "delay": self.settings.delay });
        metadata::set(KEY_CONFIG, Some(&config.to_string()));
        if !is_running() {
            metadata::set(KEY_RUNNING, Some("true"));
            metadata::set(KEY_NEXT, Some(&timers::now_ms().to_string()));
            timers::set_timer(TICK, 0);
        }
        publish(true, &context);
    }

    fn stop(&mut self) {
        let context = self.context();
        timers::cancel_timer(TICK);
        for key in [KEY_RUNNING, KEY_CONFIG, KEY_NEXT] {
            metadata::set(key, None);
        }
        publish(false, &context);
    }

    fn delay_ms(&self) -> u64 {
        u64::try_from(self.settings.delay).unwrap_or(0)
    }
}

impl Node for Ticker {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = decode_settings(Some(&settings))?;
        Ok(())
    }

    fn on_control(&mut self, control: Value) -> Result<Option<Value>, Failure> {
        if !node_info::is_leader() {
            return Ok(None);
        }
        let Value::Object(control) = control else {
            return Err(Failure::permanent(
                "invalid control message: expected an object with `start` or `stop`",
            ));
        };
        match Button::read(&control) {
            Button::Stop => self.stop(),
            Button::Start => {
                let context = match control.get("context") {
                    Some(c) if !c.is_null() => c.clone(),
                    _ => self.settings.context.clone(),
                };
                self.start(context);
            }
            Button::Neither => {}
        }
        Ok(None)
    }

    fn on_reconcile(&mut self) -> Result<(), Failure> {
        if !node_info::is_leader() {
            return Ok(());
        }
        let running = is_running();
        if running {
            // Re-arming replaces a pending timer for the moment it was due, so doing it on
            // every reconcile is harmless while the loop is alive, and resumes the loop
            // when it is not (after a restart).
            let due = metadata::get(KEY_NEXT)
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(0);
            timers::set_timer(TICK, due.saturating_sub(timers::now_ms()));
        }
        publish(running, &self.context());
        Ok(())
    }

    fn on_timer(&mut self, id: &str) -> Result<(), Failure> {
        if id != TICK || !is_running() {
            return Ok(());
        }
        let delay = self.delay_ms();
        // The earliest the next tick may come is a delay from now. Recorded before the emit
        // (one durable write per tick), it keeps a reconcile during a long emit from
        // starting a second one; a reconcile during the pause then re-arms early by at
        // most the emit's duration, which beats writing twice per tick.
        metadata::set(
            KEY_NEXT,
            Some(&timers::now_ms().saturating_add(delay).to_string()),
        );
        if let Err(e) = output::output(OUT, &self.context()) {
            log::warn(&format!(
                "ticker: downstream error on out port: {}",
                e.message
            ));
        }
        // Stopped while the emit ran: let the loop end here.
        if is_running() {
            timers::set_timer(TICK, delay);
        }
        Ok(())
    }

    fn handle(&mut self, port: &str, _payload: Value) -> Result<Option<Value>, Failure> {
        Err(Failure::permanent(format!(
            "ticker has no input ports: got {port:?}"
        )))
    }
}
