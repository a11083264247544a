//! The disk copy of pulled components, content-addressed like a registry's own storage:
//! `blobs/sha256/<hex>` holds a component's bytes, `manifests/sha256/<hex>.json` says which
//! blob a manifest names, and `tags/<hash>.json` remembers what a tag last resolved to.
//! Every file is written to a temporary name and renamed, so a host killed mid-pull
//! leaves no half file behind, and a blob is hashed again before it is trusted.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::OciError;

/// What a cached manifest points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    /// The reference it was first pulled as (for `cache` listings and messages).
    pub reference: String,
    /// The digest of its one wasm layer.
    pub layer: String,
    /// The layer's size in bytes.
    pub size: u64,
}

#[derive(Serialize, Deserialize)]
struct TagRecord {
    reference: String,
    digest: String,
}

/// A folder of pulled components.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    /// Its folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with `digest` lives (whether or not it is there).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.root.join("blobs").join(digest_path(digest))
    }

    /// The blob for `digest`, if present and its content still hashes to it. A blob that
    /// does not (a damaged disk, a hand edit) is removed so the next pull replaces it.
    pub fn verified_blob(&self, digest: &str) -> Option<PathBuf> {
        let path = self.blob_path(digest);
        let bytes = std::fs::read(&path).ok()?;
        if sha256_digest(&bytes) == digest {
            return Some(path);
        }
        tracing::warn!(path = %path.display(), "a cached component does not match its digest; it will be pulled again");
        let _ = std::fs::remove_file(&path);
        None
    }

    /// The record of the manifest with `digest`, if it was pulled before.
    pub fn manifest(&self, digest: &str) -> Option<ManifestRecord> {
        let path = self.manifest_path(digest);
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Remembers what the manifest with `digest` points at.
    pub fn put_manifest(&self, digest: &str, record: &ManifestRecord) -> Result<(), OciError> {
        let json = serde_json::to_vec_pretty(record).unwrap_or_default();
        write_atomically(&self.manifest_path(digest), &json)
    }

    /// The manifest digest `reference` (a tag) resolved to last time.
    pub fn tag(&self, reference: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.tag_path(reference)).ok()?;
        let record: TagRecord = serde_json::from_str(&text).ok()?;
        (record.reference == reference).then_some(record.digest)
    }

    /// Remembers that `reference` resolved to `digest`.
    pub fn put_tag(&self, reference: &str, digest: &str) -> Result<(), OciError> {
        let record = TagRecord {
            reference: reference.to_string(),
            digest: digest.to_string(),
        };
        let json = serde_json::to_vec_pretty(&record).unwrap_or_default();
        write_atomically(&self.tag_path(reference), &json)
    }

    /// A temporary file beside the blobs, renamed into place by [`Store::commit_blob`].
    pub fn new_blob(&self) -> Result<tempfile::NamedTempFile, OciError> {
        let dir = self.root.join("blobs").join("sha256");
        std::fs::create_dir_all(&dir).map_err(OciError::io(&dir))?;
        tempfile::NamedTempFile::new_in(&dir).map_err(OciError::io(&dir))
    }

    /// Moves a fully written and verified blob to its place.
    pub fn commit_blob(
        &self,
        file: tempfile::NamedTempFile,
        digest: &str,
    ) -> Result<PathBuf, OciError> {
        let path = self.blob_path(digest);
        file.persist(&path)
            .map_err(|e| OciError::io(&path)(e.error))?;
        Ok(path)
    }

    fn manifest_path(&self, digest: &str) -> PathBuf {
        let mut path = self.root.join("manifests").join(digest_path(digest));
        path.set_extension("json");
        path
    }

    fn tag_path(&self, reference: &str) -> PathBuf {
        let key = hex::encode(Sha256::digest(reference.as_bytes()));
        self.root.join("tags").join(format!("{key}.json"))
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// `sha256:<hex>` → `sha256/<hex>`; anything else (which the client never produces for a
/// verified pull) is hashed so it cannot name a path outside the store.
fn digest_path(digest: &str) -> PathBuf {
    match digest.split_once(':') {
        Some((algorithm, hex))
            if algorithm == "sha256" && hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Path::new(algorithm).join(hex)
        }
        _ => Path::new("other").join(hex::encode(Sha256::digest(digest.as_bytes()))),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), OciError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(OciError::io(dir))?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(OciError::io(dir))?;
    file.write_all(bytes).map_err(OciError::io(path))?;
    file.persist(path)
        .map_err(|e| OciError::io(path)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_manifests_and_tags_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let bytes = b"\0asm\x0d\0\x01\0";
        let digest = sha256_digest(bytes);
        assert!(store.verified_blob(&digest).is_none());
        let mut file = store.new_blob().unwrap();
        file.write_all(bytes).unwrap();
        let path = store.commit_blob(file, &digest).unwrap();
        assert_eq!(store.verified_blob(&digest), Some(path.clone()));

        let record = ManifestRecord {
            reference: "oci://r.example/c:1".into(),
            layer: digest.clone(),
            size: 8,
        };
        store.put_manifest("sha256:ab", &record).unwrap();
        assert_eq!(store.manifest("sha256:ab"), Some(record));
        store.put_tag("oci://r.example/c:1", "sha256:ab").unwrap();
        assert_eq!(
            store.tag("oci://r.example/c:1").as_deref(),
            Some("sha256:ab")
        );
        assert_eq!(store.tag("oci://r.example/c:2"), None);

        // A damaged blob is not trusted, and is removed.
        std::fs::write(&path, b"changed").unwrap();
        assert!(store.verified_blob(&digest).is_none());
        assert!(!path.exists());
    }

    #[test]
    fn digests_cannot_escape_the_store() {
        let store = Store::new("/store");
        assert_eq!(
            store.blob_path("sha256:abc"),
            Path::new("/store/blobs/sha256/abc")
        );
        assert!(
            store
                .blob_path("sha256:../../etc")
                .starts_with("/store/blobs/other")
        );
    }
}
