//! The ports a Lambda function runs on, from its environment (set by template.yaml):
//! `TABLE_NAME`, `ARCHIVE_BUCKET` and `PSEUDONYM_KEY`.

use crate::{aws_clients, DynamoItemStore, S3Archive};
use stamp_domain::identity::pseudonym::PseudonymKey;
use stamp_domain::ports::{Archive, ItemStore};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} must be set: {1}")]
pub struct ConfigError(pub &'static str, pub &'static str);

pub struct AwsPorts {
    pub store: Arc<dyn ItemStore>,
    pub archive: Arc<S3Archive>,
    pub pseudonym_key: PseudonymKey,
}

impl AwsPorts {
    pub fn archive_port(&self) -> Arc<dyn Archive> {
        self.archive.clone()
    }

    /// Rendered extracts: the archive bucket's `extracts/` prefix, without retention.
    pub fn extract_files(&self) -> Arc<dyn stamp_domain::ports::ExtractFiles> {
        Arc::new(crate::S3ExtractFiles::new(
            self.archive.client().clone(),
            self.archive.bucket(),
        ))
    }
}

fn var(name: &'static str, why: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError(name, why))
}

/// Builds the SDK clients once, at cold start.
pub async fn ports_from_env() -> Result<AwsPorts, ConfigError> {
    let table = var("TABLE_NAME", "the ledger table")?;
    let bucket = var("ARCHIVE_BUCKET", "the archive bucket")?;
    let key = var(
        "PSEUDONYM_KEY",
        "the secret behind person_ref and company keys (at least 32 characters)",
    )?;
    if key.len() < 32 {
        return Err(ConfigError(
            "PSEUDONYM_KEY",
            "must be at least 32 characters",
        ));
    }
    let (dynamodb, s3) = aws_clients().await;
    Ok(AwsPorts {
        store: Arc::new(DynamoItemStore::new(dynamodb, table)),
        archive: Arc::new(S3Archive::new(s3, bucket)),
        pseudonym_key: PseudonymKey::new(key.into_bytes()),
    })
}
