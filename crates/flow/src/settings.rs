//! A node's settings: what its component accepted on `_settings`, versioned so each
//! instance knows when to re-apply them ([`SettingsCell`]), and the delivery dedup that
//! keeps an unchanged manifest from re-sending the same settings ([`DeliveredSettings`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// The node's current settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Bumped on every successful change; 0 = never set (component defaults).
    pub version: u64,
    /// JSON text of the settings, if any.
    pub text: Option<Arc<str>>,
}

/// The settings of one node incarnation.
#[derive(Debug, Default)]
pub struct SettingsCell {
    settings: RwLock<Settings>,
    /// `settings.version`, readable without the lock: every call compares it with what
    /// its instance last applied, and a shared lock's counter bounced between cores.
    version: AtomicU64,
}

impl SettingsCell {
    /// The current settings.
    pub fn get(&self) -> Settings {
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// The version of the current settings, without taking the lock.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Records settings that a component accepted; their version.
    pub fn set(&self, text: Arc<str>) -> u64 {
        match self.settings.write() {
            Ok(mut s) => {
                s.version += 1;
                s.text = Some(text);
                self.version.store(s.version, Ordering::Release);
                s.version
            }
            Err(_) => 0,
        }
    }
}

/// Settings text last delivered successfully per node name: an apply re-sends settings
/// only when they changed, and a failed delivery is not remembered (the next apply tries
/// again).
#[derive(Debug, Default)]
pub struct DeliveredSettings {
    by_node: Mutex<HashMap<String, Arc<str>>>,
}

impl DeliveredSettings {
    /// Whether `text` is what `node` last accepted.
    pub fn is_delivered(&self, node: &str, text: &str) -> bool {
        self.by_node
            .lock()
            .ok()
            .is_some_and(|d| d.get(node).is_some_and(|t| &**t == text))
    }

    /// Records that `node` accepted `text`.
    pub fn record(&self, node: &str, text: Arc<str>) {
        if let Ok(mut d) = self.by_node.lock() {
            d.insert(node.to_string(), text);
        }
    }

    /// Forgets a removed node.
    pub fn forget(&self, node: &str) {
        if let Ok(mut d) = self.by_node.lock() {
            d.remove(node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_move_with_accepted_settings_only() {
        let cell = SettingsCell::default();
        assert_eq!((cell.version(), cell.get().text), (0, None));
        assert_eq!(cell.set(Arc::from("{}")), 1);
        assert_eq!(cell.version(), 1);
        let delivered = DeliveredSettings::default();
        assert!(!delivered.is_delivered("n", "{}"));
        delivered.record("n", Arc::from("{}"));
        assert!(delivered.is_delivered("n", "{}"));
        assert!(!delivered.is_delivered("n", "{\"a\":1}"));
        delivered.forget("n");
        assert!(!delivered.is_delivered("n", "{}"));
    }
}
