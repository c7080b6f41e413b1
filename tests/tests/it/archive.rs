//! The `Archive` adapters: S3 with Object Lock (against moto), the local folder and the
//! in-memory fake. One write-once suite runs against all three.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use stamp_adapters::s3::retain_until_instant;
use stamp_adapters::FolderArchive;
use stamp_domain::memory::MemoryArchive;
use stamp_domain::ports::{Archive, ArchiveError};

use crate::helpers;

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn retain_until() -> NaiveDate {
    Utc::now()
        .date_naive()
        .checked_add_days(Days::new(400))
        .unwrap()
}

/// Write-once semantics shared by every archive. Returns the key it wrote.
///
/// `atomic`: whether racing writers of one key are guaranteed a single winner. Real S3
/// guarantees it for `If-None-Match: *`; moto does not (it checks, then writes, in a threaded
/// server), so against moto the race only checks that the stored bytes are a winner's.
async fn write_once(archive: Arc<dyn Archive>, atomic: bool) -> String {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let key = format!("batches/2026/11/{run}.csv");
    let bytes = "personnummer;in;ut\n19800101-1234;07:00;16:00\n"
        .as_bytes()
        .to_vec();

    let put = archive
        .put(&key, &bytes, "text/csv", retain_until())
        .await
        .unwrap();
    assert_eq!(put.key, key);
    assert_eq!(put.sha256, sha256_hex(&bytes));
    assert_eq!(put.sha256.len(), 64);
    assert!(
        put.sha256
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "lowercase hex"
    );
    assert_eq!(archive.get(&key).await.unwrap(), bytes);

    // Other bytes under the same key: refused, the original stays.
    let other = b"tampered".to_vec();
    let refused = archive.put(&key, &other, "text/csv", retain_until()).await;
    assert!(
        matches!(refused, Err(ArchiveError::Unavailable(_))),
        "{refused:?}"
    );
    assert_eq!(archive.get(&key).await.unwrap(), bytes);

    // The same bytes again (a retried import): the existing object comes back.
    let again = archive
        .put(&key, &bytes, "text/csv", retain_until())
        .await
        .unwrap();
    assert_eq!(again, put);

    // Binary content and an empty object.
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let bin_key = format!("extracts/{run}/blob.bin");
    let put_bin = archive
        .put(
            &bin_key,
            &binary,
            "application/octet-stream",
            retain_until(),
        )
        .await
        .unwrap();
    assert_eq!(put_bin.sha256, sha256_hex(&binary));
    assert_eq!(archive.get(&bin_key).await.unwrap(), binary);
    let empty_key = format!("extracts/{run}/empty");
    let put_empty = archive
        .put(&empty_key, b"", "text/plain", retain_until())
        .await
        .unwrap();
    assert_eq!(put_empty.sha256, sha256_hex(b""));
    assert_eq!(archive.get(&empty_key).await.unwrap(), Vec::<u8>::new());

    let missing = archive.get(&format!("batches/{run}/missing")).await;
    assert!(
        matches!(missing, Err(ArchiveError::NotFound(_))),
        "{missing:?}"
    );

    // Racing writers of different bytes: exactly one wins, and its bytes are stored.
    let race_key = format!("batches/{run}/race");
    let tasks: Vec<_> = (0..6u8)
        .map(|i| {
            let archive = archive.clone();
            let key = race_key.clone();
            tokio::spawn(async move {
                archive
                    .put(&key, &[i; 100], "text/plain", retain_until())
                    .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        if task.await.unwrap().is_ok() {
            winners.push(i as u8);
        }
    }
    let stored = archive.get(&race_key).await.unwrap();
    if atomic {
        assert_eq!(winners.len(), 1, "winners {winners:?}");
    }
    assert!(
        winners.iter().any(|w| stored == vec![*w; 100]),
        "winners {winners:?}, stored {:?}",
        stored.first()
    );
    key
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_archive_is_write_once() {
    write_once(Arc::new(MemoryArchive::new()), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_archive_is_write_once_and_keeps_a_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let archive = FolderArchive::new(dir.path().join("archive"));
    let key = write_once(Arc::new(archive.clone()), true).await;

    let file = dir.path().join("archive").join(&key);
    let bytes = std::fs::read(&file).unwrap();
    assert!(std::fs::metadata(&file).unwrap().permissions().readonly());
    let meta = archive.meta(&key).await.unwrap();
    assert_eq!(meta.retain_until, retain_until());
    assert_eq!(meta.sha256, sha256_hex(&bytes));
    assert_eq!(meta.content_type, "text/csv");
    let sidecar: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{}.meta.json", file.display())).unwrap())
            .unwrap();
    assert_eq!(
        sidecar["retain_until"],
        retain_until().format("%Y-%m-%d").to_string()
    );
    assert_eq!(sidecar["sha256"], sha256_hex(&bytes));

    // No temp files are left behind.
    let tmp = dir.path().join("archive").join(".tmp");
    assert_eq!(std::fs::read_dir(tmp).unwrap().count(), 0);

    for bad in [
        "../escape",
        "a/../../b",
        "/etc/passwd",
        "a//b",
        "x.meta.json",
        ".tmp/x",
        "",
    ] {
        let r = archive.put(bad, b"x", "text/plain", retain_until()).await;
        assert!(
            matches!(r, Err(ArchiveError::Unavailable(_))),
            "{bad}: {r:?}"
        );
    }
    assert!(!dir.path().join("escape").exists());

    // A fresh FolderArchive on the same folder sees the objects (they live on disk).
    let reopened = FolderArchive::new(dir.path().join("archive"));
    assert_eq!(reopened.get(&key).await.unwrap(), bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_archive_is_write_once_and_locked() {
    let Some(archive) = helpers::fresh_s3_archive("s3_archive_is_write_once_and_locked").await
    else {
        return;
    };
    // Creating the bucket again is fine.
    stamp_adapters::create_bucket(archive.client(), archive.bucket())
        .await
        .unwrap();

    let key = write_once(Arc::new(archive.clone()), false).await;
    let bytes = archive.get(&key).await.unwrap();

    // Object Lock as asked. (HeadObject: moto's GetObjectRetention is broken.)
    let head = archive
        .client()
        .head_object()
        .bucket(archive.bucket())
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("COMPLIANCE")
    );
    let until = head
        .object_lock_retain_until_date()
        .expect("retain-until date");
    assert_eq!(
        until.secs(),
        retain_until_instant(retain_until()).timestamp()
    );
    assert_eq!(head.content_type(), Some("text/csv"));
    assert!(head.version_id().is_some());

    // The put reported the version it wrote.
    let versions = archive
        .client()
        .list_object_versions()
        .bucket(archive.bucket())
        .prefix(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.versions().len(),
        1,
        "the refused put added no version"
    );

    // The locked version cannot be deleted.
    let version = head.version_id().unwrap();
    let deleted = archive
        .client()
        .delete_object()
        .bucket(archive.bucket())
        .key(&key)
        .version_id(version)
        .send()
        .await;
    assert!(deleted.is_err(), "deleting a locked version must fail");
    assert_eq!(archive.get(&key).await.unwrap(), bytes);

    // A presigned GET works without credentials.
    let url = archive
        .presign_get(&key, Duration::from_secs(300))
        .await
        .unwrap();
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_bucket_has_object_lock_and_versioning() {
    let Some(archive) = helpers::fresh_s3_archive("s3_bucket_has_object_lock_and_versioning").await
    else {
        return;
    };
    let client = archive.client();
    let lock = client
        .get_object_lock_configuration()
        .bucket(archive.bucket())
        .send()
        .await
        .unwrap();
    assert_eq!(
        lock.object_lock_configuration()
            .and_then(|c| c.object_lock_enabled())
            .map(|e| e.as_str()),
        Some("Enabled")
    );
    let versioning = client
        .get_bucket_versioning()
        .bucket(archive.bucket())
        .send()
        .await
        .unwrap();
    assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));
}
