//! Registry credentials from a Docker config file (`config.json`, or the
//! `.dockerconfigjson` of a Kubernetes image-pull Secret, which has the same shape): the
//! file every registry tool already writes (`docker login`, `oras login`, `skopeo login
//! --authfile`), so tinyhost needs no login of its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use crate::error::OciError;

/// User name and password (or token) per registry host.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    auths: BTreeMap<String, RegistryAuth>,
    source: Option<PathBuf>,
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
    registrytoken: Option<String>,
}

impl Credentials {
    /// No credentials: every registry is asked anonymously.
    pub fn anonymous() -> Credentials {
        Credentials::default()
    }

    /// Reads a Docker config file. A missing or malformed file is an error: a path given
    /// on purpose that does not work must not silently become anonymous access.
    pub fn from_file(path: &Path) -> Result<Credentials, OciError> {
        let bad = |message: String| OciError::Credentials {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let config: DockerConfig =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a Docker config: {e}")))?;
        let mut auths = BTreeMap::new();
        for (server, entry) in config.auths {
            let auth = entry_auth(&entry).map_err(|m| bad(format!("`{server}`: {m}")))?;
            auths.insert(registry_key(&server), auth);
        }
        Ok(Credentials {
            auths,
            source: Some(path.to_path_buf()),
        })
    }

    /// The Docker config a registry tool would use: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`; none = anonymous.
    pub fn discover() -> Result<Credentials, OciError> {
        let file = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
            .map(|dir| dir.join("config.json"));
        match file {
            Some(file) if file.is_file() => Credentials::from_file(&file),
            _ => Ok(Credentials::anonymous()),
        }
    }

    /// What to present to `registry` (a host with its port).
    pub fn for_registry(&self, registry: &str) -> RegistryAuth {
        self.auths
            .get(&registry_key(registry))
            .cloned()
            .unwrap_or(RegistryAuth::Anonymous)
    }

    /// The file they came from, for messages.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }
}

fn entry_auth(entry: &AuthEntry) -> Result<RegistryAuth, String> {
    if let Some(token) = entry
        .registrytoken
        .as_ref()
        .or(entry.identitytoken.as_ref())
    {
        return Ok(RegistryAuth::Bearer(token.clone()));
    }
    if let (Some(user), Some(password)) = (&entry.username, &entry.password) {
        return Ok(RegistryAuth::Basic(user.clone(), password.clone()));
    }
    let Some(encoded) = &entry.auth else {
        return Ok(RegistryAuth::Anonymous);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("`auth` is not base64: {e}"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| "`auth` is not UTF-8".to_string())?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| "`auth` is not base64 of `user:password`".to_string())?;
    Ok(RegistryAuth::Basic(user.to_string(), password.to_string()))
}

/// Docker config keys come as `host:port`, `https://host:port` or `https://host/v1/`;
/// Docker Hub has three names. All become the bare host the client resolves to.
fn registry_key(server: &str) -> String {
    let host = server
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    match host {
        "docker.io" | "registry-1.docker.io" => "index.docker.io".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(c: &Credentials, registry: &str) -> Option<(String, String)> {
        match c.for_registry(registry) {
            RegistryAuth::Basic(u, p) => Some((u, p)),
            _ => None,
        }
    }

    #[test]
    fn docker_and_kubernetes_configs_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("ada:s3cret:x");
        std::fs::write(
            &file,
            format!(
                r#"{{"auths": {{
                    "127.0.0.1:5000": {{"auth": "{auth}"}},
                    "https://registry.example:8443/v1/": {{"username": "bob", "password": "pw"}},
                    "https://index.docker.io/v1/": {{"identitytoken": "tok"}}
                }}, "credsStore": "desktop"}}"#
            ),
        )
        .unwrap();
        let c = Credentials::from_file(&file).unwrap();
        assert_eq!(
            basic(&c, "127.0.0.1:5000"),
            Some(("ada".into(), "s3cret:x".into()))
        );
        assert_eq!(
            basic(&c, "registry.example:8443"),
            Some(("bob".into(), "pw".into()))
        );
        assert!(matches!(c.for_registry("index.docker.io"), RegistryAuth::Bearer(t) if t == "tok"));
        assert!(matches!(
            c.for_registry("elsewhere.example"),
            RegistryAuth::Anonymous
        ));
    }

    #[test]
    fn broken_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.json");
        let e = Credentials::from_file(&missing).unwrap_err().to_string();
        assert!(e.contains("nope.json") && e.contains("cannot read"), "{e}");

        let file = dir.path().join("config.json");
        std::fs::write(&file, "{not json").unwrap();
        let e = Credentials::from_file(&file).unwrap_err().to_string();
        assert!(e.contains("not a Docker config"), "{e}");

        std::fs::write(&file, r#"{"auths": {"r.example": {"auth": "%%%"}}}"#).unwrap();
        let e = Credentials::from_file(&file).unwrap_err().to_string();
        assert!(e.contains("`r.example`") && e.contains("not base64"), "{e}");
    }
}
