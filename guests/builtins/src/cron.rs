//! `cron`: emits a context on a cron schedule, because reports, clean-ups and polls run at
//! wall-clock times (every weekday at 9:00), which a ticker's fixed pause cannot express.
//!
//! The schedule comes with the Start control message. Like the ticker, the loop is a host
//! timer re-armed after each emit, and whether the cron runs (with which schedule and
//! context) lives in node metadata under upstream's keys, so `on_reconcile` resumes it
//! after a restart or a change of leader. The next fire time is a pure function of the
//! schedule and the clock, so re-arming on every reconcile lands on the same moment.
//!
//! Schedules are parsed here rather than with a crate: upstream's parser
//! (`robfig/cron/v3`, five fields, no descriptors) has semantics of its own (a `*` in
//! day-of-month or day-of-week makes the two AND instead of OR; `N/step` runs to the end
//! of the range) that general-purpose crates do not share, and a faithful parser is about
//! as long as the glue around a date library would be. Times are UTC, the host's clock.

use serde::Deserialize;
use tinyhost_sdk::control::{self, Button};
use tinyhost_sdk::schema::Schema;
use tinyhost_sdk::{
    ComponentDef, Failure, Node, PortDef, Position, Value, json, log, metadata, node_info, output,
    ports, timers,
};

/// The component's registration.
pub const COMPONENT: ComponentDef = ComponentDef {
    name: "cron",
    description: "Cron",
    info: "Scheduled emitter. Press Start with a cron expression to emit the context on Out \
           at each time the schedule names (five fields, in UTC: minute hour day-of-month \
           month day-of-week; e.g. '*/5 * * * *' every 5 minutes, '0 */2 * * *' every two \
           hours, '0 9 * * 1-5' at 9:00 on weekdays). A Start without a schedule or context \
           uses the settings' ones. An invalid schedule is reported and nothing starts. \
           Press Stop to pause; sending a new context while running replaces the one sent \
           from then on. The cron survives restarts and changes of leader; only the \
           leader fires.",
    tags: &["SDK"],
    ports: port_defs,
    create: || {
        Box::new(Cron {
            settings: Settings::default(),
        })
    },
};

const OUT: &str = "out";
/// The id of the one timer that drives the schedule; re-arming replaces it.
const FIRE: &str = "fire";
const DEFAULT_SCHEDULE: &str = "*/1 * * * *";
/// Upstream's metadata keys.
const KEY_RUNNING: &str = "cron-running";
const KEY_SCHEDULE: &str = "cron-schedule";
const KEY_CONTEXT: &str = "cron-context";
const KEY_ERROR: &str = "cron-error";

/// Settings as upstream names them: the defaults of the dashboard's Start form.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
struct Settings {
    context: Value,
    schedule: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            context: Value::Null,
            schedule: DEFAULT_SCHEDULE.into(),
        }
    }
}

/// A `_control` message; which fields are present matters, so they are options.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Control {
    context: Option<Value>,
    schedule: Option<String>,
    start: bool,
    stop: bool,
}

struct Cron {
    settings: Settings,
}

fn port_defs(settings: Option<&Value>) -> Result<Vec<PortDef>, Failure> {
    let settings = tinyhost_sdk::decode_settings::<Settings>(settings)?;
    let settings_schema = Schema::object("Settings")
        .prop(
            "context",
            Schema::any("Context")
                .title("Context")
                .description("Arbitrary message to send on each scheduled execution")
                .configurable(),
        )
        .required_prop(
            "schedule",
            Schema::string()
                .title("Schedule")
                .description("Cron expression (e.g. '*/5 * * * *' every 5 minutes, '0 9 * * 1-5' 9:00 on weekdays)")
                .with("default", json!(DEFAULT_SCHEDULE)),
        );
    let control_schema = control::start_stop_schema(
        Schema::object("Control")
            .required_prop("context", Schema::any("Context").title("Context"))
            .required_prop(
                "schedule",
                Schema::string()
                    .title("Schedule")
                    .description("Cron expression"),
            )
            .prop(
                "nextRun",
                Schema::string()
                    .title("Next Run")
                    .with("readonly", json!(true)),
            ),
    );
    let out_schema = Schema::any("Context").title("Context");
    let stopped = stopped_state(&settings.context, &settings.schedule, None);
    Ok(vec![
        ports::settings(
            json!({"context": settings.context, "schedule": settings.schedule}),
            &settings_schema,
        ),
        ports::source(OUT, "Out", Position::Right, Value::Null, &out_schema),
        ports::control(stopped, &control_schema),
    ])
}

fn stopped_state(context: &Value, schedule: &str, error: Option<&str>) -> Value {
    control::stopped_state(json!({ "context": context, "schedule": schedule }), error)
}

fn running_state(context: &Value, schedule: &str, next_ms: u64) -> Value {
    control::running_state(json!({
        "context": context,
        "schedule": schedule,
        "nextRun": rfc3339(next_ms),
    }))
}

/// Publishes the control state; a failure to show it must not fail the action itself.
fn publish(state: &Value) {
    control::publish("cron", state);
}

fn is_running() -> bool {
    metadata::get(KEY_RUNNING).is_some()
}

/// Milliseconds from now until `at`.
fn wait_until(at: u64) -> u64 {
    at.saturating_sub(timers::now_ms())
}

impl Cron {
    /// The context in force: the one recorded at Start, else the settings' one.
    fn context(&self) -> Value {
        metadata::get(KEY_CONTEXT)
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_else(|| self.settings.context.clone())
    }

    fn schedule_text(&self) -> String {
        metadata::get(KEY_SCHEDULE).unwrap_or_else(|| self.settings.schedule.clone())
    }

    /// The next fire time of `text` after `after_ms`, or why there is none.
    fn next_fire(text: &str, after_ms: u64) -> Result<u64, String> {
        let schedule =
            Schedule::parse(text).map_err(|e| format!("invalid schedule {text:?}: {e}"))?;
        schedule.next_after(after_ms).ok_or_else(|| {
            format!("invalid schedule {text:?}: it matches no time in the next five years")
        })
    }

    fn start(&mut self, control: Control) -> Result<(), Failure> {
        let schedule = control
            .schedule
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| self.settings.schedule.clone());
        let context = control
            .context
            .filter(|c| !c.is_null())
            .unwrap_or_else(|| self.settings.context.clone());
        let next = match Self::next_fire(&schedule, timers::now_ms()) {
            Ok(next) => next,
            Err(message) => {
                metadata::set(KEY_ERROR, Some(&message));
                if !is_running() {
                    publish(&stopped_state(&context, &schedule, Some(&message)));
                }
                return Err(Failure::permanent(message));
            }
        };
        metadata::set(KEY_RUNNING, Some("true"));
        metadata::set(KEY_SCHEDULE, Some(&schedule));
        metadata::set(KEY_CONTEXT, Some(&context.to_string()));
        metadata::set(KEY_ERROR, None);
        timers::set_timer(FIRE, wait_until(next));
        publish(&running_state(&context, &schedule, next));
        Ok(())
    }

    /// Stops the schedule and shows why (`error`) or that it was asked to.
    fn stop(&mut self, error: Option<&str>) {
        let (context, schedule) = (self.context(), self.schedule_text());
        timers::cancel_timer(FIRE);
        for key in [KEY_RUNNING, KEY_SCHEDULE, KEY_CONTEXT, KEY_ERROR] {
            metadata::set(key, None);
        }
        if let Some(message) = error {
            metadata::set(KEY_ERROR, Some(message));
        }
        publish(&stopped_state(&context, &schedule, error));
    }

    /// Arms the timer for the schedule's next time after `after_ms` and shows it; a
    /// schedule that stopped making sense (metadata edited by hand) stops the cron.
    fn arm(&mut self, after_ms: u64) {
        let schedule = self.schedule_text();
        match Self::next_fire(&schedule, after_ms) {
            Ok(next) => {
                timers::set_timer(FIRE, wait_until(next));
                publish(&running_state(&self.context(), &schedule, next));
            }
            Err(message) => self.stop(Some(&message)),
        }
    }
}

impl Node for Cron {
    fn on_settings(&mut self, settings: Value) -> Result<(), Failure> {
        self.settings = tinyhost_sdk::decode_settings::<Settings>(Some(&settings))?;
        Ok(())
    }

    fn on_control(&mut self, control: Value) -> Result<Option<Value>, Failure> {
        if !node_info::is_leader() {
            return Ok(None);
        }
        let control: Control = control::decode(control)?;
        match Button::from_flags(control.start, control.stop) {
            Button::Stop => self.stop(None),
            Button::Start => self.start(control)?,
            Button::Neither => {
                // The running form carries no Start flag: a context sent to a running cron
                // (a credential typed in later, say) applies from the next fire on.
                if let Some(context) = control.context.filter(|_| is_running())
                    && context != self.context()
                {
                    metadata::set(KEY_CONTEXT, Some(&context.to_string()));
                    self.arm(timers::now_ms());
                }
            }
        }
        Ok(None)
    }

    fn on_reconcile(&mut self) -> Result<(), Failure> {
        if !node_info::is_leader() {
            return Ok(());
        }
        if is_running() {
            // Same schedule, same clock, same moment: re-arming is harmless when the timer
            // is pending and resumes the cron when it is not (after a restart).
            self.arm(timers::now_ms());
        } else {
            let error = metadata::get(KEY_ERROR);
            publish(&stopped_state(
                &self.settings.context,
                &self.settings.schedule,
                error.as_deref(),
            ));
        }
        Ok(())
    }

    fn on_timer(&mut self, id: &str) -> Result<(), Failure> {
        if id != FIRE || !is_running() {
            return Ok(());
        }
        if let Err(e) = output::output(OUT, &self.context()) {
            log::warn(&format!(
                "cron: downstream error on out port: {}",
                e.message
            ));
        }
        if is_running() {
            // A second past now: a timer that fires a little early must not fire again
            // for the same minute.
            self.arm(timers::now_ms().saturating_add(1000));
        }
        Ok(())
    }

    fn handle(&mut self, port: &str, _payload: Value) -> Result<Option<Value>, Failure> {
        Err(Failure::permanent(format!(
            "cron has no input ports: got {port:?}"
        )))
    }
}

/// Set in a field's bits when it was written as `*` or `?` (without a step): day-of-month
/// and day-of-week then combine with AND instead of OR, as in `robfig/cron`.
const STAR: u64 = 1 << 63;

/// One field's range of values and, for months and weekdays, its names.
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [&'static str],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DAYS_OF_MONTH: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
/// Names start at `min`: `jan` is 1.
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const DAYS_OF_WEEK: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

/// A parsed five-field schedule: one bit per allowed value of each field.
#[derive(Debug, PartialEq)]
struct Schedule {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
}

impl Schedule {
    /// Parses `minute hour day-of-month month day-of-week`, with `*`, `?`, lists, ranges,
    /// steps and month/weekday names, like upstream's parser. A `TZ=`/`CRON_TZ=` prefix is
    /// accepted for UTC only: the host has no time-zone database.
    fn parse(spec: &str) -> Result<Schedule, String> {
        let mut spec = spec.trim();
        if spec.is_empty() {
            return Err("empty spec string".into());
        }
        if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
            let (tz, rest) = spec.split_once(char::is_whitespace).unwrap_or((spec, ""));
            let zone = tz.split_once('=').map_or("", |(_, z)| z);
            if zone != "UTC" && zone != "Etc/UTC" {
                return Err(format!(
                    "time zone {zone:?} is not supported: schedules run in UTC"
                ));
            }
            spec = rest.trim();
        }
        if spec.starts_with('@') {
            return Err(format!(
                "descriptors such as {spec} are not accepted; use five fields"
            ));
        }
        let fields: Vec<&str> = spec.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "expected exactly 5 fields, found {}: {spec}",
                fields.len()
            ));
        }
        Ok(Schedule {
            minute: field(fields[0], &MINUTES)?,
            hour: field(fields[1], &HOURS)?,
            dom: field(fields[2], &DAYS_OF_MONTH)?,
            month: field(fields[3], &MONTHS)?,
            dow: field(fields[4], &DAYS_OF_WEEK)?,
        })
    }

    /// The first whole minute strictly after `after_ms` that the schedule names, in ms
    /// since the epoch (UTC); `None` when nothing matches within five years, where
    /// upstream stops looking too.
    fn next_after(&self, after_ms: u64) -> Option<u64> {
        let has = |bits: u64, v: u64| bits & (1 << v) != 0;
        let mut t = (after_ms / 60_000).checked_add(1)?; // minutes since the epoch
        let year_limit = civil_from_days(t / 1440).0 + 5;
        loop {
            let days = t / 1440;
            let (year, month, day) = civil_from_days(days);
            let (hour, minute) = ((t % 1440) / 60, t % 60);
            if year > year_limit {
                return None;
            }
            if !has(self.month, month) {
                let (y, m) = if month == 12 {
                    (year + 1, 1)
                } else {
                    (year, month + 1)
                };
                t = days_from_civil(y, m, 1) * 1440;
            } else if !self.day_matches(day, (days + 4) % 7) {
                t = (days + 1) * 1440;
            } else if !has(self.hour, hour) {
                t = (t / 60 + 1) * 60;
            } else if !has(self.minute, minute) {
                t += 1;
            } else {
                return t.checked_mul(60_000);
            }
        }
    }

    /// Day-of-month and day-of-week restrict together (AND) when either is a star, and
    /// either may match (OR) when both are restricted: Vixie cron's rule, kept upstream.
    fn day_matches(&self, day: u64, weekday: u64) -> bool {
        let dom = self.dom & (1 << day) != 0;
        let dow = self.dow & (1 << weekday) != 0;
        if self.dom & STAR != 0 || self.dow & STAR != 0 {
            dom && dow
        } else {
            dom || dow
        }
    }
}

/// The bits of a comma-separated list of ranges; empty items are skipped as upstream does.
fn field(text: &str, bounds: &Bounds) -> Result<u64, String> {
    text.split(',')
        .filter(|r| !r.is_empty())
        .try_fold(0, |bits, r| Ok(bits | range(r, bounds)?))
}

/// The bits of `*`, `?`, `N`, `N-M`, each optionally followed by `/step`; `N/step` runs
/// from N to the field's maximum.
fn range(expr: &str, bounds: &Bounds) -> Result<u64, String> {
    let (span, step) = match expr.split_once('/') {
        None => (expr, None),
        Some((_, s)) if s.contains('/') => return Err(format!("too many slashes: {expr}")),
        Some((span, s)) => (span, Some(number(s)?)),
    };
    let parts: Vec<&str> = span.split('-').collect();
    let (mut start, mut end, mut extra) = if parts[0] == "*" || parts[0] == "?" {
        (bounds.min, bounds.max, STAR)
    } else {
        let start = value(parts[0], bounds)?;
        let end = match parts.len() {
            1 => start,
            2 => value(parts[1], bounds)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
        (start, end, 0)
    };
    let step = match step {
        None => 1,
        Some(step) => {
            if parts.len() == 1 {
                end = bounds.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
    };
    if start < bounds.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            bounds.min
        ));
    }
    if end > bounds.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            bounds.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    let mut bits = extra;
    while start <= end {
        bits |= 1 << start;
        start += step;
    }
    Ok(bits)
}

/// A field value: a name (case-insensitive) or a non-negative number.
fn value(text: &str, bounds: &Bounds) -> Result<u64, String> {
    let lower = text.to_ascii_lowercase();
    match bounds.names.iter().position(|n| *n == lower) {
        Some(i) => Ok(bounds.min + i as u64),
        None => number(text),
    }
}

fn number(text: &str) -> Result<u64, String> {
    match text.parse::<i64>() {
        Ok(n) if n < 0 => Err(format!("negative number ({n}) not allowed: {text}")),
        Ok(n) => Ok(n as u64),
        Err(e) => Err(format!("failed to parse int from {text}: {e}")),
    }
}

/// `(year, month 1-12, day 1-31)` of a day count since 1970-01-01 (H. Hinnant's algorithm,
/// restricted to dates after the epoch, which is all a clock reading can be).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a date on or after it; the inverse of [`civil_from_days`].
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for ms since the epoch, as upstream shows Next Run.
fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (year, month, day) = civil_from_days(secs / 86_400);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
