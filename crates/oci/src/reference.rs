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
        let host = registry.split_once(':').map_or(registry, |(h, _)| h);
        let port = registry.split_once(':').map(|(_, p)| p);
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            || port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad("the registry must be HOST or HOST:PORT"));
        }
        let (name, digest) = match path.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (path, None),
        };
        let (repository, tag) = match name.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => (repository, Some(tag)),
            _ => (name, None),
        };
        if repository.is_empty() {
            return Err(bad("the repository is missing"));
        }
        if !repository.split('/').all(is_path_component) {
            return Err(bad(
                "each part of the repository is lower-case letters and digits, joined by `.`, `_`, `__` or dashes",
            ));
        }
        if let Some(tag) = tag
            && !is_tag(tag)
        {
            return Err(bad(
                "a tag is 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`",
            ));
        }
        if let Some(digest) = digest {
            let hex = digest
                .strip_prefix("sha256:")
                .ok_or_else(|| bad("only sha256 digests are supported"))?;
            if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(bad("a sha256 digest is 64 lower-case hex digits"));
            }
        }
        // Built from its parts: the client's own parser compiles a large Unicode regular
        // expression on first use (tens of milliseconds at every start).
        let (registry, repository) = (registry.to_string(), repository.to_string());
        let inner = match (tag, digest) {
            (Some(tag), Some(digest)) => oci_client::Reference::with_tag_and_digest(
                registry,
                repository,
                tag.to_string(),
                digest.to_string(),
            ),
            (None, Some(digest)) => {
                oci_client::Reference::with_digest(registry, repository, digest.to_string())
            }
            (tag, None) => oci_client::Reference::with_tag(
                registry,
                repository,
                tag.unwrap_or("latest").to_string(),
            ),
        };
        Ok(ComponentRef { inner })
    }
}

/// One `/`-separated part of a repository name: `[a-z0-9]+` runs joined by `.`, `_`,
/// `__` or any number of `-` (the distribution spec's grammar).
fn is_path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &part[start..i];
        if !(separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-'))
        {
            return false;
        }
    }
    true
}

/// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-')
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
    fn the_distribution_grammar_is_followed() {
        for ok in [
            "oci://r.example/a/b-c/d__e/f.g/h---i:v1.0_rc-2",
            "oci://localhost/c",
            "oci://r.example:5000/c:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            let r: ComponentRef = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(
                r.to_string(),
                ok.replace("oci://localhost/c", "oci://localhost/c:latest")
            );
        }
        let both: ComponentRef = format!("oci://r.example/c:1@sha256:{}", "f".repeat(64))
            .parse()
            .unwrap();
        assert_eq!(both.tag(), Some("1"));
        assert!(both.digest().is_some());
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
            (
                "oci://ghcr.example/Org/C:1",
                "lower-case letters and digits",
            ),
            (
                "oci://ghcr.example/org/c@sha256:abc",
                "64 lower-case hex digits",
            ),
            ("oci://ghcr.example/org/c:-x", "a tag is 1 to 128"),
            (
                "oci://ghcr.example/org//c:1",
                "lower-case letters and digits",
            ),
            (
                "oci://ghcr.example/org/c.:1",
                "lower-case letters and digits",
            ),
            ("oci://ghcr.example:http/org/c:1", "HOST or HOST:PORT"),
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
