//! Whether the replica can serve: `/readyz` answers from the flags set here as the
//! components load, each watch completes its first list, and the module's nodes have been
//! applied once (which binds the HTTP servers' listeners: a replica that took traffic
//! before would refuse it).

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the replica can serve: `/readyz` answers from this.
#[derive(Debug, Default)]
pub struct Readiness {
    components: AtomicBool,
    nodes: AtomicBool,
    modules: AtomicBool,
    signals: AtomicBool,
    applied: AtomicBool,
}

impl Readiness {
    /// Marks the components loaded.
    pub fn components_loaded(&self) {
        self.components.store(true, Ordering::Release);
    }

    /// Marks the TinyNode watch listed.
    pub fn nodes_listed(&self) {
        self.nodes.store(true, Ordering::Release);
    }

    /// Marks the TinyModule watch listed.
    pub fn modules_listed(&self) {
        self.modules.store(true, Ordering::Release);
    }

    /// Marks the TinySignal watch listed.
    pub fn signals_listed(&self) {
        self.signals.store(true, Ordering::Release);
    }

    /// Marks the first apply of the listed TinyNodes finished (their `on-reconcile` ran,
    /// so HTTP servers that were running listen again).
    pub fn nodes_applied(&self) {
        self.applied.store(true, Ordering::Release);
    }

    /// `Ok` when ready, else what is still missing.
    pub fn check(&self) -> Result<(), String> {
        let missing: Vec<&str> = [
            (&self.components, "components not loaded"),
            (&self.nodes, "TinyNode watch not listed"),
            (&self.modules, "TinyModule watch not listed"),
            (&self.signals, "TinySignal watch not listed"),
            (&self.applied, "TinyNodes not applied yet"),
        ]
        .into_iter()
        .filter(|(flag, _)| !flag.load(Ordering::Acquire))
        .map(|(_, what)| what)
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(missing.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_names_what_is_missing() {
        let readiness = Readiness::default();
        let missing = readiness.check().expect_err("not ready at first");
        assert!(missing.contains("components not loaded"), "{missing}");
        readiness.components_loaded();
        readiness.nodes_listed();
        readiness.signals_listed();
        assert_eq!(
            readiness.check(),
            Err("TinyModule watch not listed, TinyNodes not applied yet".to_string())
        );
        readiness.modules_listed();
        assert_eq!(
            readiness.check(),
            Err("TinyNodes not applied yet".to_string()),
            "listed is not enough: the nodes (and their listeners) must have been applied"
        );
        readiness.nodes_applied();
        assert_eq!(readiness.check(), Ok(()));
    }
}
