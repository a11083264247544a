//! The disk tier of the artifact cache: `cache_dir/artifacts/<key>.wasm` plus `<key>.json`
//! metadata, written atomically, touched on use, and kept under a size bound by deleting the
//! least-recently-used artifacts (by modification time).

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Metadata stored beside each module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Metadata {
    /// The artifact key (also the file stem).
    pub key: String,
    /// `Language::as_str` of the source.
    pub language: String,
    /// `Artifact::compiler`.
    pub compiler: String,
    /// `Artifact::compile_ms`.
    pub compile_ms: u64,
    /// Module size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the module, checked on load.
    pub sha256: String,
    /// When it was compiled, in seconds since the Unix epoch.
    pub created_unix: u64,
}

impl Metadata {
    /// Metadata for a freshly compiled module.
    pub fn new(key: &str, language: &str, compiler: &str, compile_ms: u64, wasm: &[u8]) -> Self {
        Metadata {
            key: key.to_owned(),
            language: language.to_owned(),
            compiler: compiler.to_owned(),
            compile_ms,
            size: wasm.len() as u64,
            sha256: hex::encode(Sha256::digest(wasm)),
            created_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }
}

/// The artifacts directory and its size bound.
#[derive(Debug, Clone)]
pub(crate) struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
}

/// One artifact found on disk, for eviction.
struct Entry {
    key: String,
    bytes: u64,
    modified: SystemTime,
}

impl DiskCache {
    /// A cache in `dir` (created on first store) bounded to `max_bytes`.
    pub fn new(dir: PathBuf, max_bytes: u64) -> Self {
        DiskCache { dir, max_bytes }
    }

    fn wasm_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.wasm"))
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The module and metadata for `key`, if both are present and consistent; a damaged entry
    /// is deleted and reported as absent. Marks the entry as recently used.
    pub fn load(&self, key: &str) -> io::Result<Option<(Vec<u8>, Metadata)>> {
        let meta = match fs::read(self.meta_path(key)) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        let wasm = match fs::read(self.wasm_path(key)) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        let valid = serde_json::from_slice::<Metadata>(&meta)
            .ok()
            .filter(|meta| {
                meta.key == key
                    && meta.size == wasm.len() as u64
                    && meta.sha256 == hex::encode(Sha256::digest(&wasm))
            });
        match valid {
            Some(meta) => {
                self.touch(key);
                Ok(Some((wasm, meta)))
            }
            None => {
                tracing::warn!(key, "damaged artifact in the disk cache; deleting it");
                self.remove(key);
                Ok(None)
            }
        }
    }

    /// Marks `key` as recently used (sets its modification time to now). Best effort.
    pub fn touch(&self, key: &str) {
        let touched = fs::OpenOptions::new()
            .write(true)
            .open(self.wasm_path(key))
            .and_then(|file| file.set_modified(SystemTime::now()));
        if let Err(err) = touched
            && err.kind() != io::ErrorKind::NotFound
        {
            tracing::debug!(key, %err, "could not touch artifact");
        }
    }

    /// Writes the module and its metadata (each atomically), then evicts least-recently-used
    /// artifacts other than this one while the directory is over its bound. Returns the number
    /// of artifacts evicted.
    pub fn store(&self, wasm: &[u8], meta: &Metadata) -> io::Result<u64> {
        fs::create_dir_all(&self.dir)?;
        let json = serde_json::to_vec_pretty(meta).map_err(io::Error::other)?;
        self.write_atomic(&self.wasm_path(&meta.key), wasm)?;
        self.write_atomic(&self.meta_path(&meta.key), &json)?;
        self.evict(&meta.key)
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_data()?;
        tmp.persist(path).map_err(|err| err.error)?;
        Ok(())
    }

    /// Deletes both files of `key`; returns the bytes freed. Best effort.
    fn remove(&self, key: &str) -> u64 {
        let mut freed = 0;
        for path in [self.wasm_path(key), self.meta_path(key)] {
            let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if fs::remove_file(&path).is_ok() {
                freed += size;
            }
        }
        freed
    }

    /// Every artifact (`.wasm` with its `.json`), with its size and last use.
    fn entries(&self) -> io::Result<Vec<Entry>> {
        let read = match fs::read_dir(&self.dir) {
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut entries = Vec::new();
        for dirent in read {
            let dirent = dirent?;
            let name = dirent.file_name();
            let Some(key) = name.to_str().and_then(|n| n.strip_suffix(".wasm")) else {
                continue;
            };
            if key.starts_with('.') {
                continue;
            }
            let Ok(meta) = dirent.metadata() else {
                continue; // deleted meanwhile
            };
            let json = fs::metadata(self.meta_path(key))
                .map(|m| m.len())
                .unwrap_or(0);
            entries.push(Entry {
                key: key.to_owned(),
                bytes: meta.len() + json,
                modified: meta.modified().unwrap_or(UNIX_EPOCH),
            });
        }
        Ok(entries)
    }

    fn evict(&self, keep: &str) -> io::Result<u64> {
        let mut entries = self.entries()?;
        let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
        if total <= self.max_bytes {
            return Ok(0);
        }
        entries.sort_by(|a, b| a.modified.cmp(&b.modified).then_with(|| a.key.cmp(&b.key)));
        let mut evicted = 0;
        for entry in entries {
            if total <= self.max_bytes {
                break;
            }
            if entry.key == keep {
                continue;
            }
            self.remove(&entry.key);
            total = total.saturating_sub(entry.bytes);
            evicted += 1;
            tracing::debug!(key = entry.key, bytes = entry.bytes, "evicted artifact");
        }
        Ok(evicted)
    }

    /// Deletes every file in the artifacts directory; returns the bytes freed.
    pub fn clear(&self) -> io::Result<u64> {
        let read = match fs::read_dir(&self.dir) {
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(err) => return Err(err),
        };
        let mut freed = 0;
        for dirent in read {
            let dirent = dirent?;
            let Ok(meta) = dirent.metadata() else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            match fs::remove_file(dirent.path()) {
                Ok(()) => freed += meta.len(),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(err),
            }
        }
        Ok(freed)
    }

    /// `(artifacts, bytes)` on disk, metadata included in the bytes.
    pub fn usage(&self) -> io::Result<(u64, u64)> {
        let entries = self.entries()?;
        Ok((entries.len() as u64, entries.iter().map(|e| e.bytes).sum()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(n: u8, len: usize) -> Vec<u8> {
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        bytes.resize(len, n);
        bytes
    }

    fn store(cache: &DiskCache, key: &str, wasm: &[u8]) -> u64 {
        cache
            .store(wasm, &Metadata::new(key, "go", "go1.0", 5, wasm))
            .unwrap()
    }

    #[test]
    fn round_trip_and_usage() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path().join("artifacts"), u64::MAX);
        assert_eq!(cache.usage().unwrap(), (0, 0));
        assert!(cache.load("k1").unwrap().is_none());
        let wasm = module(1, 100);
        assert_eq!(store(&cache, "k1", &wasm), 0);
        let (loaded, meta) = cache.load("k1").unwrap().unwrap();
        assert_eq!(loaded, wasm);
        assert_eq!(meta.compiler, "go1.0");
        assert_eq!(meta.compile_ms, 5);
        let (files, bytes) = cache.usage().unwrap();
        assert_eq!(files, 1);
        assert!(bytes > 100);
        assert_eq!(cache.clear().unwrap(), bytes);
        assert_eq!(cache.usage().unwrap(), (0, 0));
    }

    #[test]
    fn damaged_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path().to_path_buf(), u64::MAX);
        store(&cache, "k1", &module(1, 100));
        fs::write(cache.wasm_path("k1"), b"\0asm truncated").unwrap();
        assert!(cache.load("k1").unwrap().is_none());
        assert!(!cache.meta_path("k1").exists());
    }

    #[test]
    fn evicts_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path().to_path_buf(), 2500);
        let old = SystemTime::now() - std::time::Duration::from_secs(100);
        for (i, key) in ["a", "b"].into_iter().enumerate() {
            store(&cache, key, &module(1, 1000));
            let file = fs::OpenOptions::new()
                .write(true)
                .open(cache.wasm_path(key))
                .unwrap();
            file.set_modified(old + std::time::Duration::from_secs(i as u64))
                .unwrap();
        }
        // "a" is older but used now, so "b" is the least recently used.
        assert!(cache.load("a").unwrap().is_some());
        assert_eq!(store(&cache, "c", &module(3, 1000)), 1);
        assert!(cache.load("b").unwrap().is_none());
        assert!(cache.load("a").unwrap().is_some());
        assert!(cache.load("c").unwrap().is_some());
    }

    #[test]
    fn never_evicts_the_new_artifact() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(dir.path().to_path_buf(), 1);
        store(&cache, "a", &module(1, 1000));
        assert_eq!(store(&cache, "b", &module(2, 1000)), 1);
        assert_eq!(cache.usage().unwrap().0, 1);
        assert!(cache.load("b").unwrap().is_some());
    }
}
