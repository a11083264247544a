//! `oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]`: the one spelling of a component in a
//! registry, accepted wherever a component file is. The `oci://` prefix keeps a reference
//! apart from a relative path such as `build/hello.wasm`.

use std::fmt;
use std::str::FromStr;

use crate::error::OciError;

/// The prefix that marks a reference.
pub const SCHEME: &str = "oci://";

/// Whether `text` names a component in a registry rather than a file.
pub fn is_oci_reference(text: &str) -> bool {
    text.starts_with(SCHEME)
}

/// A parsed reference to a component in a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRef {
    inner: oci_client::Reference,
}

impl ComponentRef {
    /// The registry host (with port), e.g. `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        self.inner.resolve_registry()
    }

    /// The repository inside the registry.
    pub fn repository(&self) -> &str {
        self.inner.repository()
    }

    /// The tag, if the reference has one.
    pub fn tag(&self) -> Option<&str> {
        self.inner.tag()
    }

    /// The manifest digest, if the reference pins one.
    pub fn digest(&self) -> Option<&str> {
        self.inner.digest()
    }

    /// The same repository pinned to `digest`.
    pub fn with_digest(&self, digest: &str) -> ComponentRef {
        ComponentRef {
            inner: oci_client::Reference::with_digest(
                self.inner.registry().to_string(),
                self.inner.repository().to_string(),
                digest.to_string(),
            ),
        }
    }

    pub(crate) fn client_reference(&self) -> &oci_client::Reference {
        &self.inner
    }
}

impl FromStr for ComponentRef {
    type Err = OciError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| OciError::BadReference {
            reference: text.to_string(),
            reason: reason.to_string(),
        };
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or_else(|| bad("it must start with `oci://`"))?;
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("expected oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]"))?;
        // A registry is a host name: without a dot, a port or `localhost`, the first path
        // element would silently be read as a Docker Hub organisation.
        if registry.is_empty()
            || !(registry.contains('.') || registry.contains(':') || registry == "localhost")
        {
            return Err(bad(
                "the first part must be a registry host (with a dot or a port, or `localhost`)",
            ));
        }
        if path.is_empty() {
            return Err(bad("the repository is missing"));
        }
        let inner: oci_client::Reference = rest.parse().map_err(|e| bad(&format!("{e}")))?;
        if inner.digest().is_some_and(|d| !d.starts_with("sha256:")) {
            return Err(bad("only sha256 digests are supported"));
        }
        Ok(ComponentRef { inner })
    }
}

impl fmt::Display for ComponentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}", self.inner.whole())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_digests_and_ports_parse() {
        let r: ComponentRef = "oci://127.0.0.1:5000/authors/hello:0.1.0".parse().unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "authors/hello");
        assert_eq!(r.tag(), Some("0.1.0"));
        assert_eq!(r.digest(), None);
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/authors/hello:0.1.0");

        let digest = format!("sha256:{}", "a".repeat(64));
        let r: ComponentRef = format!("oci://ghcr.example/org/c@{digest}")
            .parse()
            .unwrap();
        assert_eq!(r.digest(), Some(digest.as_str()));
        assert_eq!(r.registry(), "ghcr.example");
    }

    #[test]
    fn a_tagless_reference_means_latest() {
        let r: ComponentRef = "oci://localhost:5000/c".parse().unwrap();
        assert_eq!(r.tag(), Some("latest"));
    }

    #[test]
    fn malformed_references_say_why() {
        for (text, why) in [
            ("ghcr.example/org/c:1", "must start with `oci://`"),
            ("oci://ghcr.example", "expected oci://REGISTRY/REPOSITORY"),
            ("oci://org/c:1", "must be a registry host"),
            ("oci://ghcr.example/", "repository is missing"),
            ("oci://ghcr.example/Org/C:1", "not an OCI reference"),
            (
                "oci://ghcr.example/org/c@sha256:abc",
                "invalid reference format",
            ),
        ] {
            let e = text.parse::<ComponentRef>().unwrap_err().to_string();
            assert!(e.contains(why), "{text}: {e}");
        }
        let sha512 = format!("oci://ghcr.example/org/c@sha512:{}", "a".repeat(128));
        let e = sha512.parse::<ComponentRef>().unwrap_err().to_string();
        assert!(e.contains("only sha256"), "{e}");
        assert!(is_oci_reference("oci://x.y/z"));
        assert!(!is_oci_reference("build/hello.wasm"));
    }
}
