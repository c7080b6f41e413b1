//! [`ExtractFiles`] — where rendered extracts go (spec §8) — on S3 and on a local folder.
//!
//! S3: the archive bucket's `extracts/` prefix, written WITHOUT Object Lock retention (the
//! bucket has no default retention, so these objects can expire after 7 days by the
//! lifecycle rule in template.yaml), downloaded through presigned GETs.
//!
//! Folder: `<root>/extracts/...` (the same key layout), with a sidecar for the content
//! type and file name, downloaded through links the local server serves at
//! `/local/downloads/{token}`. A token is `{base64url(key)}.{expiry}.{hmac}`: HMAC-SHA256
//! with the local signing key over the key and expiry, so it cannot be altered to reach
//! another file or live longer; the server refuses it once expired.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumAlgorithm;
use aws_sdk_s3::Client;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stamp_domain::ports::{ArchiveError, DownloadedFile, ExtractFiles, LinkError};

/// The only prefix extract files may be written under.
pub const EXTRACTS_PREFIX: &str = "extracts/";

fn check_key(key: &str) -> Result<(), ArchiveError> {
    let ok = key.starts_with(EXTRACTS_PREFIX)
        && !key.contains("..")
        && !key.contains("//")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ArchiveError::Unavailable(format!(
            "invalid extract key {key:?}"
        )))
    }
}

/// `attachment; filename="..."` with only safe characters in the name.
fn disposition(file_name: &str) -> String {
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("attachment; filename=\"{safe}\"")
}

/// Extract files in the archive bucket under `extracts/`.
#[derive(Debug, Clone)]
pub struct S3ExtractFiles {
    client: Client,
    bucket: String,
}

impl S3ExtractFiles {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3ExtractFiles {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn unavailable<E: std::error::Error>(what: &str, err: E) -> ArchiveError {
    ArchiveError::Unavailable(format!("S3 {what}: {}", DisplayErrorContext(err)))
}

#[async_trait]
impl ExtractFiles for S3ExtractFiles {
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        file_name: &str,
    ) -> Result<(), ArchiveError> {
        check_key(key)?;
        // An Object Lock bucket wants a checksum on every put; no retention is set.
        let digest = Sha256::digest(bytes);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.to_vec()))
            .content_type(content_type)
            .content_disposition(disposition(file_name))
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(STANDARD.encode(digest))
            .send()
            .await
            .map_err(|e| unavailable("PutObject", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ArchiveError> {
        check_key(key)?;
        let out = crate::s3::get_object(&self.client, &self.bucket, key).await?;
        let bytes = out.body.collect().await.map_err(|e| {
            ArchiveError::Unavailable(format!("S3 GetObject {key}: reading body: {e}"))
        })?;
        Ok(bytes.into_bytes().to_vec())
    }

    async fn download_url(
        &self,
        key: &str,
        file_name: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<String, ArchiveError> {
        check_key(key)?;
        let config = PresigningConfig::builder()
            .start_time(SystemTime::from(now))
            .expires_in(ttl)
            .build()
            .map_err(|e| ArchiveError::Unavailable(format!("presigning: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(disposition(file_name))
            .presigned(config)
            .await
            .map_err(|e| unavailable("presign GetObject", e))?;
        Ok(request.uri().to_string())
    }
}

/// The sidecar of a local extract file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileMeta {
    content_type: String,
    file_name: String,
    sha256: String,
}

const META_SUFFIX: &str = ".meta.json";
/// Where the local server serves its download links.
pub const LOCAL_DOWNLOADS: &str = "/local/downloads/";

/// Extract files in a local folder, with signed expiring links.
#[derive(Clone)]
pub struct FolderExtractFiles {
    root: PathBuf,
    signing_key: Arc<Vec<u8>>,
}

impl std::fmt::Debug for FolderExtractFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderExtractFiles")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

fn io_err(what: &str, path: &Path, err: std::io::Error) -> ArchiveError {
    ArchiveError::Unavailable(format!("{what} {}: {err}", path.display()))
}

impl FolderExtractFiles {
    /// Files under `root` (keys `extracts/...`), links signed with `signing_key`.
    pub fn new(root: impl Into<PathBuf>, signing_key: Arc<Vec<u8>>) -> Self {
        FolderExtractFiles {
            root: root.into(),
            signing_key,
        }
    }

    fn mac(&self, key: &str, expiry: i64) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.signing_key).expect("hmac takes any key length");
        mac.update(b"stamp-extract-download\x1f");
        mac.update(key.as_bytes());
        mac.update(b"\x1f");
        mac.update(expiry.to_string().as_bytes());
        mac
    }

    /// The token of a link to `key` valid until `expiry` (unix seconds).
    pub fn token(&self, key: &str, expiry: i64) -> String {
        let sig = hex::encode(self.mac(key, expiry).finalize().into_bytes());
        format!("{}.{expiry}.{sig}", URL_SAFE_NO_PAD.encode(key))
    }

    /// The key a token names, if its signature holds; `Expired` once past its expiry.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<String, LinkError> {
        let mut parts = token.split('.');
        let (Some(k), Some(e), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkError::Invalid);
        };
        let key = URL_SAFE_NO_PAD
            .decode(k)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(LinkError::Invalid)?;
        let expiry: i64 = e.parse().map_err(|_| LinkError::Invalid)?;
        let sig = hex::decode(s).map_err(|_| LinkError::Invalid)?;
        self.mac(&key, expiry)
            .verify_slice(&sig)
            .map_err(|_| LinkError::Invalid)?;
        if now.timestamp() >= expiry {
            return Err(LinkError::Expired);
        }
        check_key(&key).map_err(|_| LinkError::Invalid)?;
        Ok(key)
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// Deletes extract files last written before `cutoff` (the local stand-in for the
    /// bucket's 7-day lifecycle rule). Returns how many files went.
    pub async fn expire(&self, cutoff: SystemTime) -> Result<usize, ArchiveError> {
        let dir = self.root.join(EXTRACTS_PREFIX.trim_end_matches('/'));
        tokio::task::spawn_blocking(move || {
            fn walk(dir: &Path, cutoff: SystemTime, n: &mut usize) -> std::io::Result<()> {
                let entries = match std::fs::read_dir(dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(e),
                };
                for entry in entries {
                    let entry = entry?;
                    let meta = entry.metadata()?;
                    if meta.is_dir() {
                        walk(&entry.path(), cutoff, n)?;
                        let _ = std::fs::remove_dir(entry.path());
                    } else if meta.modified()? < cutoff {
                        std::fs::remove_file(entry.path())?;
                        *n += 1;
                    }
                }
                Ok(())
            }
            let mut n = 0;
            walk(&dir, cutoff, &mut n).map_err(|e| io_err("expiring extracts in", &dir, e))?;
            Ok(n)
        })
        .await
        .map_err(|e| ArchiveError::Unavailable(format!("extract files task: {e}")))?
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ArchiveError> {
    let dir = path
        .parent()
        .ok_or_else(|| ArchiveError::Unavailable(format!("no folder for {}", path.display())))?;
    std::fs::create_dir_all(dir).map_err(|e| io_err("creating", dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x"),
        uuid_like()
    ));
    std::fs::write(&tmp, bytes).map_err(|e| io_err("writing", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err("renaming to", path, e)
    })
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[async_trait]
impl ExtractFiles for FolderExtractFiles {
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        file_name: &str,
    ) -> Result<(), ArchiveError> {
        check_key(key)?;
        let meta = FileMeta {
            content_type: content_type.into(),
            file_name: file_name.into(),
            sha256: hex::encode(Sha256::digest(bytes)),
        };
        let meta = serde_json::to_vec_pretty(&meta)
            .map_err(|e| ArchiveError::Unavailable(e.to_string()))?;
        let (path, meta_path, bytes) = (
            self.path(key),
            self.path(&format!("{key}{META_SUFFIX}")),
            bytes.to_vec(),
        );
        tokio::task::spawn_blocking(move || {
            write_atomically(&path, &bytes)?;
            write_atomically(&meta_path, &meta)
        })
        .await
        .map_err(|e| ArchiveError::Unavailable(format!("extract files task: {e}")))?
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ArchiveError> {
        check_key(key)?;
        let path = self.path(key);
        let key = key.to_string();
        tokio::task::spawn_blocking(move || match std::fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ArchiveError::NotFound(key)),
            Err(e) => Err(io_err("reading", &path, e)),
        })
        .await
        .map_err(|e| ArchiveError::Unavailable(format!("extract files task: {e}")))?
    }

    async fn download_url(
        &self,
        key: &str,
        _file_name: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<String, ArchiveError> {
        check_key(key)?;
        let expiry = now.timestamp() + ttl.as_secs() as i64;
        Ok(format!("{LOCAL_DOWNLOADS}{}", self.token(key, expiry)))
    }

    async fn open_link(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<DownloadedFile, LinkError> {
        let token = token.strip_prefix(LOCAL_DOWNLOADS).unwrap_or(token);
        let key = self.verify(token, now)?;
        let bytes = self.get(&key).await.map_err(|e| match e {
            ArchiveError::NotFound(_) => LinkError::Expired,
            other => LinkError::Storage(other),
        })?;
        let meta_path = self.path(&format!("{key}{META_SUFFIX}"));
        let meta: FileMeta = std::fs::read(&meta_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                LinkError::Storage(ArchiveError::Unavailable(format!("no sidecar for {key}")))
            })?;
        Ok(DownloadedFile {
            bytes,
            content_type: meta.content_type,
            file_name: meta.file_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn local_links_open_until_they_expire_and_not_when_altered() {
        let dir = tempfile::tempdir().unwrap();
        let files = FolderExtractFiles::new(dir.path(), Arc::new(b"signing".to_vec()));
        let key = "extracts/cabc/x1/a1.csv";
        files
            .put(key, b"a,b\n", "text/csv", "underlag.csv")
            .await
            .unwrap();
        let now = at("2026-03-01T10:00:00Z");
        let url = files
            .download_url(key, "underlag.csv", now, Duration::from_secs(300))
            .await
            .unwrap();
        assert!(url.starts_with("/local/downloads/"));
        let got = files
            .open_link(&url, now + chrono::Duration::seconds(299))
            .await
            .unwrap();
        assert_eq!(
            (
                got.bytes.as_slice(),
                got.content_type.as_str(),
                got.file_name.as_str()
            ),
            (&b"a,b\n"[..], "text/csv", "underlag.csv")
        );
        assert!(matches!(
            files
                .open_link(&url, now + chrono::Duration::seconds(300))
                .await,
            Err(LinkError::Expired)
        ));
        // A longer life or another key breaks the signature.
        let token = url.trim_start_matches(LOCAL_DOWNLOADS);
        let parts: Vec<&str> = token.split('.').collect();
        let longer = format!(
            "{}.{}.{}",
            parts[0],
            parts[1].parse::<i64>().unwrap() + 3600,
            parts[2]
        );
        assert!(matches!(
            files.open_link(&longer, now).await,
            Err(LinkError::Invalid)
        ));
        let other = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode("extracts/cabc/x2/a1.csv"),
            parts[1],
            parts[2]
        );
        assert!(matches!(
            files.open_link(&other, now).await,
            Err(LinkError::Invalid)
        ));
        let foreign = FolderExtractFiles::new(dir.path(), Arc::new(b"other".to_vec()));
        assert!(matches!(
            foreign.open_link(&url, now).await,
            Err(LinkError::Invalid)
        ));
        assert!(matches!(
            files.open_link("garbage", now).await,
            Err(LinkError::Invalid)
        ));
        // Keys stay under extracts/.
        assert!(files
            .put("batches/x.csv", b"x", "text/csv", "x")
            .await
            .is_err());
        assert!(files
            .put("extracts/../batches/x", b"x", "text/csv", "x")
            .await
            .is_err());
        // Expiry removes old files.
        assert_eq!(
            files
                .expire(SystemTime::now() + Duration::from_secs(1))
                .await
                .unwrap(),
            2
        );
        assert!(matches!(
            files.get(key).await,
            Err(ArchiveError::NotFound(_))
        ));
    }

    #[test]
    fn dispositions_hold_only_safe_names() {
        assert_eq!(
            disposition("registerutdrag-1.pdf"),
            "attachment; filename=\"registerutdrag-1.pdf\""
        );
        assert_eq!(
            disposition("a\"b;c.pdf"),
            "attachment; filename=\"a_b_c.pdf\""
        );
    }
}
