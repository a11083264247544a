//! Glue between the generated export traits and [`crate::Node`]; used by
//! [`crate::export_module!`] only.

use std::cell::RefCell;
use std::marker::PhantomData;

use crate::bindings::exports::tinysystems::component::component::GuestNode;
use crate::http_server::{IncomingRequest, OutgoingResponse};
use crate::{ComponentDef, ComponentInfo, Failure, Node, PortDef, Value};

/// A module's component list, known at compile time.
pub trait Module: 'static {
    /// All components of the module.
    fn components() -> &'static [ComponentDef];
}

/// The resource the host holds per node. The host never re-enters an instance while one of
/// its calls is running, so the `RefCell` is never contended.
pub struct NodeHandle<M: Module> {
    inner: RefCell<Box<dyn Node>>,
    _module: PhantomData<M>,
}

/// The component infos of a module.
pub fn component_infos(list: &[ComponentDef]) -> Vec<ComponentInfo> {
    list.iter()
        .map(|c| ComponentInfo {
            name: c.name.to_string(),
            description: c.description.to_string(),
            info: c.info.to_string(),
            tags: c.tags.iter().map(|t| t.to_string()).collect(),
        })
        .collect()
}

fn find<'a>(list: &'a [ComponentDef], name: &str) -> Result<&'a ComponentDef, Failure> {
    list.iter()
        .find(|c| c.name == name)
        .ok_or_else(|| Failure::permanent(format!("unknown component `{name}`")))
}

pub(crate) fn parse(what: &str, text: &str) -> Result<Value, Failure> {
    serde_json::from_str(text).map_err(|e| Failure::permanent(format!("{what} is not JSON: {e}")))
}

fn to_text(value: Option<Value>) -> Option<String> {
    value.map(|v| v.to_string())
}

/// Ports of `component` for the given settings text.
pub fn ports(
    list: &[ComponentDef],
    component: &str,
    settings: Option<String>,
) -> Result<Vec<PortDef>, Failure> {
    let def = find(list, component)?;
    let settings = settings.map(|s| parse("settings", &s)).transpose()?;
    (def.ports)(settings.as_ref())
}

impl<M: Module> GuestNode for NodeHandle<M> {
    fn new(component: String) -> Self {
        // The host only constructs names that `components()` listed; anything else is a
        // host bug, and a trap is the honest answer.
        let def = match find(M::components(), &component) {
            Ok(def) => def,
            Err(e) => panic!("{}", e.message),
        };
        NodeHandle {
            inner: RefCell::new((def.create)()),
            _module: PhantomData,
        }
    }

    fn on_settings(&self, settings: String) -> Result<(), Failure> {
        let settings = parse("settings", &settings)?;
        self.inner.borrow_mut().on_settings(settings)
    }

    fn on_control(&self, control: String) -> Result<Option<String>, Failure> {
        let control = parse("control message", &control)?;
        self.inner.borrow_mut().on_control(control).map(to_text)
    }

    fn on_reconcile(&self) -> Result<(), Failure> {
        self.inner.borrow_mut().on_reconcile()
    }

    fn on_timer(&self, id: String) -> Result<(), Failure> {
        self.inner.borrow_mut().on_timer(&id)
    }

    fn on_http_request(&self, request: IncomingRequest) -> Result<OutgoingResponse, Failure> {
        self.inner.borrow_mut().on_http_request(request)
    }

    fn handle(&self, port: String, payload: String) -> Result<Option<String>, Failure> {
        self.inner.borrow_mut().handle_text(&port, &payload)
    }
}
