//! [`Archive`] in a local folder, for running Stamp on a single machine.
//!
//! The object `a/b.csv` is the file `<root>/a/b.csv`; its retention and checksum are in the
//! sidecar `<root>/a/b.csv.meta.json` (`{"retain_until": "YYYY-MM-DD", "sha256": ..,
//! "content_type": ..}`). Nothing enforces the retention on a plain folder: the file is made
//! read-only and never overwritten by this code, which is all a folder can offer.
//!
//! Write-once and durability: the bytes go to a temp file under `<root>/.tmp`, which is
//! fsynced and then *hard-linked* to the final name. Unlike rename, a link fails if the name
//! exists, so two concurrent writers of one key cannot both win. A put finding the key
//! already there returns it when the bytes are the same and is refused otherwise.

use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stamp_domain::ports::{Archive, ArchiveError, ArchivedObject, ObjectStream, UPLOADS_PREFIX};

const TMP_DIR: &str = ".tmp";
const META_SUFFIX: &str = ".meta.json";

/// The sidecar next to each archived file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveMeta {
    pub retain_until: NaiveDate,
    pub sha256: String,
    pub content_type: String,
}

/// An archive folder.
#[derive(Debug, Clone)]
pub struct FolderArchive {
    root: PathBuf,
}

fn io_err(what: &str, path: &Path, err: std::io::Error) -> ArchiveError {
    ArchiveError::Unavailable(format!("{what} {}: {err}", path.display()))
}

/// Keys are relative paths of plain names: no `..`, no empty or hidden segments (the temp
/// folder is `.tmp`), no sidecar names.
fn check_key(key: &str) -> Result<(), ArchiveError> {
    let bad = |why: &str| {
        Err(ArchiveError::Unavailable(format!(
            "invalid archive key {key:?}: {why}"
        )))
    };
    if key.is_empty() {
        return bad("empty");
    }
    if key.contains("..") {
        return bad("contains ..");
    }
    if key.contains('\\') || key.contains('\0') {
        return bad("contains a backslash or NUL");
    }
    if key.ends_with(META_SUFFIX) {
        return bad("ends with .meta.json, the sidecar suffix");
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return bad("empty path segment (leading, trailing or double /)");
        }
        if segment.starts_with('.') {
            return bad("a path segment starts with .");
        }
    }
    Ok(())
}

fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn sync_dir(dir: &Path) -> Result<(), ArchiveError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("syncing folder", dir, e))
}

/// Writes `bytes` to a new fsynced temp file and returns its path.
fn write_temp(tmp_dir: &Path, bytes: &[u8], read_only: bool) -> Result<PathBuf, ArchiveError> {
    fs::create_dir_all(tmp_dir).map_err(|e| io_err("creating", tmp_dir, e))?;
    let path = tmp_dir.join(temp_name());
    let result = (|| {
        let mut file = File::create_new(&path)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        if read_only {
            let mut perms = file.metadata()?.permissions();
            perms.set_readonly(true);
            file.set_permissions(perms)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(path),
        Err(e) => {
            let _ = fs::remove_file(&path);
            Err(io_err("writing", &path, e))
        }
    }
}

impl FolderArchive {
    /// An archive in `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FolderArchive { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The sidecar of an archived object.
    pub async fn meta(&self, key: &str) -> Result<ArchiveMeta, ArchiveError> {
        check_key(key)?;
        let path = self.meta_path(key);
        let key = key.to_string();
        tokio::task::spawn_blocking(move || match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ArchiveError::Unavailable(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(ArchiveError::NotFound(key)),
            Err(e) => Err(io_err("reading", &path, e)),
        })
        .await
        .map_err(|e| ArchiveError::Unavailable(format!("archive task: {e}")))?
    }

    fn object_path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.root.join(format!("{key}{META_SUFFIX}"))
    }

    fn write_meta(&self, key: &str, meta: &ArchiveMeta) -> Result<(), ArchiveError> {
        let path = self.meta_path(key);
        let json = serde_json::to_vec_pretty(meta)
            .map_err(|e| ArchiveError::Unavailable(format!("encoding sidecar: {e}")))?;
        let tmp = write_temp(&self.root.join(TMP_DIR), &json, false)?;
        fs::rename(&tmp, &path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io_err("renaming sidecar to", &path, e)
        })
    }

    /// The answer to a put of `bytes` when the key already holds `existing`.
    fn existing(
        &self,
        key: &str,
        existing: &[u8],
        bytes: &[u8],
        meta: &ArchiveMeta,
    ) -> Result<ArchivedObject, ArchiveError> {
        if existing != bytes {
            return Err(ArchiveError::Unavailable(format!(
                "archive object {key} already exists with different content (write-once)"
            )));
        }
        // A crash between linking the file and writing its sidecar leaves no sidecar.
        if !self.meta_path(key).exists() {
            self.write_meta(key, meta)?;
        }
        Ok(ArchivedObject {
            key: key.to_string(),
            sha256: meta.sha256.clone(),
            version_id: None,
        })
    }

    fn put_blocking(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        retain_until: NaiveDate,
    ) -> Result<ArchivedObject, ArchiveError> {
        let path = self.object_path(key);
        let meta = ArchiveMeta {
            retain_until,
            sha256: hex::encode(Sha256::digest(bytes)),
            content_type: content_type.to_string(),
        };
        match fs::read(&path) {
            Ok(existing) => return self.existing(key, &existing, bytes, &meta),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("reading", &path, e)),
        }
        let dir = path.parent().ok_or_else(|| {
            ArchiveError::Unavailable(format!("no folder for {}", path.display()))
        })?;
        fs::create_dir_all(dir).map_err(|e| io_err("creating", dir, e))?;
        let tmp = write_temp(&self.root.join(TMP_DIR), bytes, true)?;
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                // Another writer got there first.
                let existing = fs::read(&path).map_err(|e| io_err("reading", &path, e))?;
                return self.existing(key, &existing, bytes, &meta);
            }
            Err(e) => return Err(io_err("linking", &path, e)),
        }
        self.write_meta(key, &meta)?;
        sync_dir(dir)?;
        Ok(ArchivedObject {
            key: key.to_string(),
            sha256: meta.sha256,
            version_id: None,
        })
    }

    /// Where a staged upload is written (`uploads/...`; the local upload route writes it
    /// to a temp file first and renames it here).
    pub fn staging_path(&self, key: &str) -> Result<PathBuf, ArchiveError> {
        check_key(key)?;
        if !key.starts_with(UPLOADS_PREFIX) {
            return Err(ArchiveError::Unavailable(format!(
                "uploads go under {UPLOADS_PREFIX}, not {key}"
            )));
        }
        Ok(self.object_path(key))
    }

    /// A temp file next to the archive (same file system, so a rename is atomic).
    pub fn temp_path(&self) -> Result<PathBuf, ArchiveError> {
        let dir = self.root.join(TMP_DIR);
        fs::create_dir_all(&dir).map_err(|e| io_err("creating", &dir, e))?;
        Ok(dir.join(temp_name()))
    }

    /// Archives a staged file under `key`, streaming it through a hash (never whole in
    /// memory), write-once like [`FolderArchive::put_blocking`].
    fn copy_blocking(
        &self,
        source: &str,
        key: &str,
        content_type: &str,
        retain_until: NaiveDate,
        sha256: &str,
    ) -> Result<ArchivedObject, ArchiveError> {
        let path = self.object_path(key);
        let meta = ArchiveMeta {
            retain_until,
            sha256: sha256.to_string(),
            content_type: content_type.to_string(),
        };
        if path.exists() {
            let existing = hash_file(&path)?;
            if existing != sha256 {
                return Err(ArchiveError::Unavailable(format!(
                    "archive object {key} already exists with different content (write-once)"
                )));
            }
            if !self.meta_path(key).exists() {
                self.write_meta(key, &meta)?;
            }
            return Ok(ArchivedObject {
                key: key.to_string(),
                sha256: existing,
                version_id: None,
            });
        }
        let dir = path.parent().ok_or_else(|| {
            ArchiveError::Unavailable(format!("no folder for {}", path.display()))
        })?;
        fs::create_dir_all(dir).map_err(|e| io_err("creating", dir, e))?;
        let from = self.object_path(source);
        let tmp = self.temp_path()?;
        let copied = (|| {
            let mut input = File::open(&from)?;
            let mut output = File::create_new(&tmp)?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                output.write_all(&buf[..n])?;
            }
            output.sync_all()?;
            let mut perms = output.metadata()?.permissions();
            perms.set_readonly(true);
            output.set_permissions(perms)?;
            Ok::<String, std::io::Error>(hex::encode(hasher.finalize()))
        })();
        let copied = match copied {
            Ok(sha) => sha,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(match e.kind() {
                    ErrorKind::NotFound => ArchiveError::NotFound(source.to_string()),
                    _ => io_err("copying", &from, e),
                });
            }
        };
        if copied != sha256 {
            let _ = fs::remove_file(&tmp);
            return Err(ArchiveError::Unavailable(format!(
                "staged object {source} changed while it was imported"
            )));
        }
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return self.copy_blocking(source, key, content_type, retain_until, sha256);
            }
            Err(e) => return Err(io_err("linking", &path, e)),
        }
        self.write_meta(key, &meta)?;
        sync_dir(dir)?;
        Ok(ArchivedObject {
            key: key.to_string(),
            sha256: copied,
            version_id: None,
        })
    }

    fn list_blocking(&self, prefix: &str) -> Result<Vec<String>, ArchiveError> {
        let mut keys = Vec::new();
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err("listing", &dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| io_err("listing", &dir, e))?;
                let name = entry.file_name().to_string_lossy().to_string();
                if name.starts_with('.') {
                    continue;
                }
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if name.ends_with(META_SUFFIX) {
                    continue;
                }
                let Ok(rel) = path.strip_prefix(&self.root) else {
                    continue;
                };
                let key = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                if key.starts_with(prefix) {
                    keys.push(key);
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}

fn hash_file(path: &Path) -> Result<String, ArchiveError> {
    let mut f = File::open(path).map_err(|e| io_err("reading", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(|e| io_err("reading", path, e))?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ArchiveError> + Send + 'static,
) -> Result<T, ArchiveError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ArchiveError::Unavailable(format!("archive task: {e}")))?
}

#[async_trait]
impl Archive for FolderArchive {
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        retain_until: NaiveDate,
    ) -> Result<ArchivedObject, ArchiveError> {
        check_key(key)?;
        let this = self.clone();
        let (key, bytes, content_type) =
            (key.to_string(), bytes.to_vec(), content_type.to_string());
        tokio::task::spawn_blocking(move || {
            this.put_blocking(&key, &bytes, &content_type, retain_until)
        })
        .await
        .map_err(|e| ArchiveError::Unavailable(format!("archive task: {e}")))?
    }

    /// Emulates object lock: refused until the retain-until day has passed.
    async fn delete(
        &self,
        key: &str,
        _version_id: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ArchiveError> {
        check_key(key)?;
        let meta = self.meta(key).await?;
        if meta.retain_until >= now.date_naive() {
            return Err(ArchiveError::Locked(key.to_string()));
        }
        let path = self.object_path(key);
        let sidecar = self.meta_path(key);
        tokio::task::spawn_blocking(move || {
            for p in [&path, &sidecar] {
                match fs::remove_file(p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err("deleting", p, e)),
                }
            }
            Ok(())
        })
        .await
        .map_err(|e| ArchiveError::Unavailable(format!("archive task: {e}")))?
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ArchiveError> {
        check_key(key)?;
        let path = self.object_path(key);
        let key = key.to_string();
        tokio::task::spawn_blocking(move || match fs::read(&path) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(ArchiveError::NotFound(key)),
            Err(e) => Err(io_err("reading", &path, e)),
        })
        .await
        .map_err(|e| ArchiveError::Unavailable(format!("archive task: {e}")))?
    }

    async fn read(&self, key: &str) -> Result<ObjectStream, ArchiveError> {
        check_key(key)?;
        let path = self.object_path(key);
        let name = key.to_string();
        let file = blocking(move || match File::open(&path) {
            Ok(f) => Ok(f),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(ArchiveError::NotFound(name)),
            Err(e) => Err(io_err("reading", &path, e)),
        })
        .await?;
        let size = file.metadata().ok().map(|m| m.len());
        let chunks = futures::stream::unfold(Some(file), |state| async move {
            let mut file = state?;
            let read = blocking(move || {
                let mut buf = vec![0u8; 256 * 1024];
                let n = file.read(&mut buf).map_err(|e| {
                    ArchiveError::Unavailable(format!("reading an archived file: {e}"))
                })?;
                buf.truncate(n);
                Ok((file, buf))
            })
            .await;
            match read {
                Ok((_, buf)) if buf.is_empty() => None,
                Ok((file, buf)) => Some((Ok(bytes::Bytes::from(buf)), Some(file))),
                Err(e) => Some((Err(e), None)),
            }
        });
        Ok(ObjectStream {
            version_id: None,
            size,
            chunks: Box::pin(chunks),
        })
    }

    async fn copy_from(
        &self,
        source: &str,
        _source_version: Option<&str>,
        key: &str,
        content_type: &str,
        retain_until: NaiveDate,
        sha256: &str,
    ) -> Result<ArchivedObject, ArchiveError> {
        check_key(source)?;
        check_key(key)?;
        let this = self.clone();
        let (source, key, content_type, sha256) = (
            source.to_string(),
            key.to_string(),
            content_type.to_string(),
            sha256.to_string(),
        );
        blocking(move || this.copy_blocking(&source, &key, &content_type, retain_until, &sha256))
            .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ArchiveError> {
        let this = self.clone();
        let prefix = prefix.to_string();
        blocking(move || this.list_blocking(&prefix)).await
    }

    async fn remove_staged(&self, key: &str) -> Result<(), ArchiveError> {
        let path = self.staging_path(key)?;
        blocking(move || match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("removing", &path, e)),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        for ok in ["a", "batches/2024/x.csv", "a-b_c.d"] {
            assert!(check_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../x",
            "a/../b",
            "a..b",
            "/abs",
            "a//b",
            "a/",
            ".hidden",
            "a/.tmp/x",
            "x.meta.json",
            "a\\b",
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }
}
