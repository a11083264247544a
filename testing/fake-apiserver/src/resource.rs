//! Resource types: which `apiVersion` + plural a path names, and what the fake
//! knows about it without having seen an object (kind, scope, status subresource).
//!
//! The fake registers types lazily — any group/version/plural works — so this
//! table only supplies defaults for the kinds tinyhost's operator touches.

/// One resource type as addressed in a URL: `apiVersion` ("v1" or "group/version") and plural.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ResourceType {
    pub api_version: String,
    pub plural: String,
}

impl ResourceType {
    pub(crate) fn new(api_version: &str, plural: &str) -> Self {
        Self {
            api_version: api_version.to_string(),
            plural: plural.to_string(),
        }
    }

    /// The API group ("" for the core group).
    pub(crate) fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    /// The version part of `apiVersion`.
    pub(crate) fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or(self.api_version.as_str(), |(_, v)| v)
    }

    /// `plural.group` (or just `plural` for the core group), as the real server
    /// names a resource in error messages.
    pub(crate) fn qualified_plural(&self) -> String {
        match self.group() {
            "" => self.plural.clone(),
            group => format!("{}.{group}", self.plural),
        }
    }
}

/// What the fake assumes about a well-known resource type.
pub(crate) struct BuiltIn {
    pub api_version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub status_subresource: bool,
}

const TINY: &str = "operator.tinysystems.io/v1alpha1";

/// Types the fake knows before any object of them is stored.
#[rustfmt::skip]
pub(crate) const BUILT_INS: &[BuiltIn] = &[
    BuiltIn { api_version: TINY, plural: "tinynodes", kind: "TinyNode", namespaced: true, status_subresource: true },
    BuiltIn { api_version: TINY, plural: "tinymodules", kind: "TinyModule", namespaced: true, status_subresource: true },
    BuiltIn { api_version: TINY, plural: "tinysignals", kind: "TinySignal", namespaced: true, status_subresource: true },
    BuiltIn { api_version: "coordination.k8s.io/v1", plural: "leases", kind: "Lease", namespaced: true, status_subresource: false },
    BuiltIn { api_version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true, status_subresource: false },
    BuiltIn { api_version: "v1", plural: "secrets", kind: "Secret", namespaced: true, status_subresource: false },
    BuiltIn { api_version: "v1", plural: "events", kind: "Event", namespaced: true, status_subresource: false },
    BuiltIn { api_version: "events.k8s.io/v1", plural: "events", kind: "Event", namespaced: true, status_subresource: false },
    BuiltIn { api_version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false, status_subresource: false },
    BuiltIn { api_version: "v1", plural: "pods", kind: "Pod", namespaced: true, status_subresource: false },
    BuiltIn { api_version: "v1", plural: "services", kind: "Service", namespaced: true, status_subresource: false },
    BuiltIn { api_version: "apps/v1", plural: "deployments", kind: "Deployment", namespaced: true, status_subresource: false },
    BuiltIn { api_version: "networking.k8s.io/v1", plural: "ingresses", kind: "Ingress", namespaced: true, status_subresource: true },
    BuiltIn { api_version: "apiextensions.k8s.io/v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false, status_subresource: false },
];

/// The built-in entry for exactly this type, if any.
pub(crate) fn built_in(rt: &ResourceType) -> Option<&'static BuiltIn> {
    BUILT_INS
        .iter()
        .find(|b| b.api_version == rt.api_version && b.plural == rt.plural)
}

/// The kind for a plural nobody told us about: a built-in with that plural in any
/// group, else the plural capitalised without its trailing `s` ("widgets" → "Widget").
pub(crate) fn default_kind(plural: &str) -> String {
    if let Some(b) = BUILT_INS.iter().find(|b| b.plural == plural) {
        return b.kind.to_string();
    }
    let stem = plural.strip_suffix('s').unwrap_or(plural);
    let mut chars = stem.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_kinds() {
        let rt = ResourceType::new(TINY, "tinynodes");
        assert_eq!(rt.group(), "operator.tinysystems.io");
        assert_eq!(rt.version(), "v1alpha1");
        assert_eq!(rt.qualified_plural(), "tinynodes.operator.tinysystems.io");
        let core = ResourceType::new("v1", "configmaps");
        assert_eq!(core.group(), "");
        assert_eq!(core.version(), "v1");
        assert_eq!(core.qualified_plural(), "configmaps");
        assert_eq!(default_kind("tinysignals"), "TinySignal");
        assert_eq!(default_kind("widgets"), "Widget");
        assert_eq!(default_kind("leases"), "Lease");
        assert_eq!(default_kind("ingresses"), "Ingress", "not `Ingresse`");
    }
}
