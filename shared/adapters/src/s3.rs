//! [`Archive`] on an S3 bucket with Object Lock.
//!
//! Every object is written with Object Lock mode COMPLIANCE until the end (23:59:59 UTC) of
//! its `retain_until` day, so nobody (not even the root account) can delete or overwrite
//! that version before then. Writes carry a SHA-256 checksum that S3 verifies, and
//! `If-None-Match: *` so that a key is written once: a second put of the same bytes returns
//! the existing object, a second put of other bytes is refused.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, DateTime as AwsDateTime};
use aws_sdk_s3::types::{
    BucketLocationConstraint, ChecksumAlgorithm, CreateBucketConfiguration, MetadataDirective,
    ObjectLockEnabled, ObjectLockMode, TaggingDirective,
};
use aws_sdk_s3::Client;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sha2::{Digest, Sha256};
use stamp_domain::ports::{
    Archive, ArchiveError, ArchivedObject, ObjectStream, UploadUrls, UPLOADS_PREFIX,
};

use crate::aws::SetupError;

/// GetObject, with a missing key as [`ArchiveError::NotFound`] (shared by the archive and
/// the extract files, which live in the same bucket).
pub(crate) async fn get_object(
    client: &Client,
    bucket: &str,
    key: &str,
) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, ArchiveError> {
    client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| match &e {
            SdkError::ServiceError(s) if s.err().is_no_such_key() => {
                ArchiveError::NotFound(key.to_string())
            }
            _ => unavailable("GetObject", e),
        })
}

/// The archive bucket.
#[derive(Debug, Clone)]
pub struct S3Archive {
    client: Client,
    bucket: String,
}

/// The instant an object archived with `retain_until` stays locked until: the last second
/// of that day in UTC.
pub fn retain_until_instant(retain_until: NaiveDate) -> DateTime<Utc> {
    let end_of_day = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
    retain_until.and_time(end_of_day).and_utc()
}

fn unavailable<E: std::error::Error>(what: &str, err: E) -> ArchiveError {
    ArchiveError::Unavailable(format!("S3 {what}: {}", DisplayErrorContext(err)))
}

impl S3Archive {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Archive {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A URL that lets its holder GET the object until `expires` has passed (at most 7 days).
    pub async fn presign_get(&self, key: &str, expires: Duration) -> Result<String, ArchiveError> {
        let config = PresigningConfig::expires_in(expires)
            .map_err(|e| ArchiveError::Unavailable(format!("presigning: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| unavailable("presign GetObject", e))?;
        Ok(request.uri().to_string())
    }

    /// The object's bytes and version id.
    async fn fetch(&self, key: &str) -> Result<(Vec<u8>, Option<String>), ArchiveError> {
        let out = get_object(&self.client, &self.bucket, key).await?;
        let version_id = out.version_id.clone();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| {
                ArchiveError::Unavailable(format!("S3 GetObject {key}: reading body: {e}"))
            })?
            .into_bytes()
            .to_vec();
        Ok((bytes, version_id))
    }

    /// The SHA-256 of an object, read as a stream (`None` if there is no such key).
    async fn sha_of(&self, key: &str) -> Result<Option<(String, Option<String>)>, ArchiveError> {
        let mut object = match Archive::read(self, key).await {
            Ok(o) => o,
            Err(ArchiveError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut hasher = Sha256::new();
        while let Some(chunk) = futures::StreamExt::next(&mut object.chunks).await {
            hasher.update(&chunk?);
        }
        Ok(Some((hex::encode(hasher.finalize()), object.version_id)))
    }
}

/// Content-MD5 of an empty request body.
const EMPTY_BODY_MD5: &str = "1B2M2Y8AsgTpgAEAAAAAAA==";

/// A key as the `x-amz-copy-source` header needs it: percent-encoded but for `/`.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[async_trait]
impl UploadUrls for S3Archive {
    async fn presign_put(&self, key: &str, expires: Duration) -> Result<String, ArchiveError> {
        if !key.starts_with(UPLOADS_PREFIX) {
            return Err(ArchiveError::Unavailable(format!(
                "uploads go under {UPLOADS_PREFIX}, not {key}"
            )));
        }
        let config = PresigningConfig::expires_in(expires)
            .map_err(|e| ArchiveError::Unavailable(format!("presigning: {e}")))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| unavailable("presign PutObject", e))?;
        Ok(request.uri().to_string())
    }
}

#[async_trait]
impl Archive for S3Archive {
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        retain_until: NaiveDate,
    ) -> Result<ArchivedObject, ArchiveError> {
        let digest = Sha256::digest(bytes);
        let sha256 = hex::encode(digest);
        let until = AwsDateTime::from_secs(retain_until_instant(retain_until).timestamp());
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.to_vec()))
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(base64::engine::general_purpose::STANDARD.encode(digest))
            .object_lock_mode(ObjectLockMode::Compliance)
            .object_lock_retain_until_date(until)
            .if_none_match("*")
            .send()
            .await;
        match result {
            Ok(out) => Ok(ArchivedObject {
                key: key.to_string(),
                sha256,
                version_id: out.version_id,
            }),
            // 412: the key exists. 409: a concurrent conditional write to the key won.
            Err(SdkError::ServiceError(s))
                if matches!(s.raw().status().as_u16(), 409 | 412)
                    || matches!(
                        s.err().code(),
                        Some("PreconditionFailed" | "ConditionalRequestConflict")
                    ) =>
            {
                let (existing, version_id) = self.fetch(key).await?;
                if existing == bytes {
                    Ok(ArchivedObject {
                        key: key.to_string(),
                        sha256,
                        version_id,
                    })
                } else {
                    Err(ArchiveError::Unavailable(format!(
                        "archive object {key} already exists with different content (write-once)"
                    )))
                }
            }
            Err(e) => Err(unavailable("PutObject", e)),
        }
    }

    /// Deletes the object version for good; S3 refuses while its lock holds.
    async fn delete(
        &self,
        key: &str,
        version_id: Option<&str>,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ArchiveError> {
        let result = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_string))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // S3 answers 403 AccessDenied while the lock holds (moto: 400 with that code).
            Err(SdkError::ServiceError(s))
                if s.raw().status().as_u16() == 403 || s.err().code() == Some("AccessDenied") =>
            {
                Err(ArchiveError::Locked(key.to_string()))
            }
            Err(e) => Err(unavailable("DeleteObject", e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ArchiveError> {
        Ok(self.fetch(key).await?.0)
    }

    async fn read(&self, key: &str) -> Result<ObjectStream, ArchiveError> {
        let out = get_object(&self.client, &self.bucket, key).await?;
        let size = out.content_length.and_then(|n| u64::try_from(n).ok());
        let version_id = out.version_id.clone();
        let what = key.to_string();
        let chunks = futures::stream::unfold(Some(out.body), move |body| {
            let what = what.clone();
            async move {
                let mut body = body?;
                match body.next().await {
                    None => None,
                    Some(Ok(bytes)) => Some((Ok(bytes), Some(body))),
                    Some(Err(e)) => Some((
                        Err(ArchiveError::Unavailable(format!(
                            "S3 GetObject {what}: reading body: {e}"
                        ))),
                        None,
                    )),
                }
            }
        });
        Ok(ObjectStream {
            version_id,
            size,
            chunks: Box::pin(chunks),
        })
    }

    /// A server-side CopyObject of the staged version, locked like [`S3Archive::put`].
    /// The bytes never pass through the function: a 100 MB upload costs no memory.
    async fn copy_from(
        &self,
        source: &str,
        source_version: Option<&str>,
        key: &str,
        content_type: &str,
        retain_until: NaiveDate,
        sha256: &str,
    ) -> Result<ArchivedObject, ArchiveError> {
        // Write-once: a key that exists (a retried import) must hold the same bytes.
        if let Some((existing, version_id)) = self.sha_of(key).await? {
            if existing == sha256 {
                return Ok(ArchivedObject {
                    key: key.to_string(),
                    sha256: existing,
                    version_id,
                });
            }
            return Err(ArchiveError::Unavailable(format!(
                "archive object {key} already exists with different content (write-once)"
            )));
        }
        let mut copy_source = format!("{}/{}", self.bucket, encode_key(source));
        if let Some(v) = source_version {
            copy_source.push_str(&format!("?versionId={}", encode_key(v)));
        }
        let until = AwsDateTime::from_secs(retain_until_instant(retain_until).timestamp());
        let out = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(key)
            .copy_source(copy_source)
            .metadata_directive(MetadataDirective::Replace)
            // No tags are carried over (so no s3:GetObjectTagging on the upload is needed).
            .tagging_directive(TaggingDirective::Replace)
            .content_type(content_type)
            .metadata("sha256", sha256)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .object_lock_mode(ObjectLockMode::Compliance)
            .object_lock_retain_until_date(until)
            // A write with a retention period must carry Content-MD5 (or a checksum) of
            // its request body; a copy's body is empty.
            .customize()
            .mutate_request(|req| {
                req.headers_mut().insert("content-md5", EMPTY_BODY_MD5);
            })
            .send()
            .await
            .map_err(|e| unavailable("CopyObject", e))?;
        // S3 computes the copy's checksum: it must be the hash the import read.
        if let Some(sum) = out.copy_object_result().and_then(|r| r.checksum_sha256()) {
            let expected = hex::decode(sha256)
                .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
                .unwrap_or_default();
            if sum != expected {
                return Err(ArchiveError::Unavailable(format!(
                    "archive object {key}: the copy's checksum {sum} is not the imported bytes' {expected}"
                )));
            }
        }
        Ok(ArchivedObject {
            key: key.to_string(),
            sha256: sha256.to_string(),
            version_id: out.version_id,
        })
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ArchiveError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| unavailable("ListObjectsV2", e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        keys.sort();
        Ok(keys)
    }

    async fn remove_staged(&self, key: &str) -> Result<(), ArchiveError> {
        if !key.starts_with(UPLOADS_PREFIX) {
            return Ok(());
        }
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| unavailable("DeleteObject", e))?;
        Ok(())
    }
}

/// Creates the archive bucket with Object Lock enabled (which turns versioning on). A bucket
/// that already exists is accepted only if it has Object Lock enabled.
pub async fn create_bucket(client: &Client, name: &str) -> Result<(), SetupError> {
    let mut request = client
        .create_bucket()
        .bucket(name)
        .object_lock_enabled_for_bucket(true);
    // us-east-1 is the one region that must not be named as a location constraint.
    if let Some(region) = client.config().region().map(|r| r.as_ref().to_string()) {
        if region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
    }
    match request.send().await {
        Ok(_) => return Ok(()),
        Err(SdkError::ServiceError(s))
            if s.err().is_bucket_already_owned_by_you() || s.err().is_bucket_already_exists() => {}
        Err(e) => {
            return Err(SetupError::Aws(format!(
                "CreateBucket {name}: {}",
                DisplayErrorContext(e)
            )))
        }
    }
    let lock = client
        .get_object_lock_configuration()
        .bucket(name)
        .send()
        .await
        .map_err(|e| {
            SetupError::Aws(format!(
                "bucket {name} exists, reading its Object Lock configuration failed: {}",
                DisplayErrorContext(e)
            ))
        })?;
    let enabled = lock
        .object_lock_configuration()
        .and_then(|c| c.object_lock_enabled())
        == Some(&ObjectLockEnabled::Enabled);
    if enabled {
        Ok(())
    } else {
        Err(SetupError::Definition(format!(
            "bucket {name} exists without Object Lock; the archive needs it"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_ends_at_the_last_second_of_the_day() {
        let date = NaiveDate::from_ymd_opt(2031, 6, 30).unwrap();
        assert_eq!(
            retain_until_instant(date).to_rfc3339(),
            "2031-06-30T23:59:59+00:00"
        );
    }
}
