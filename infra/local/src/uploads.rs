//! Uploads on one machine: the local stand-in for S3's presigned PUT. `POST
//! /partner/v1/uploads` answers a URL `{base}/local/uploads/{token}` whose token names the
//! upload's storage key and expiry, signed (HMAC-SHA256) with the data directory's
//! signing key; `PUT` on it streams the body into the archive folder's `uploads/` and
//! imports it in-process, as the upload-import function does in AWS.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::StreamExt;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use stamp_adapters::FolderArchive;
use stamp_api::AppState;
use stamp_domain::intake::{parse_upload_key, MAX_UPLOAD_BYTES};
use stamp_domain::ports::{ArchiveError, UploadUrls};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Signs and checks local upload URLs, and knows where staged uploads go.
pub struct LocalUploads {
    base_url: String,
    key: Arc<Vec<u8>>,
    folder: FolderArchive,
}

impl LocalUploads {
    /// `base_url`: how partners reach this server (`http://127.0.0.1:3000`).
    pub fn new(base_url: impl Into<String>, key: Arc<Vec<u8>>, folder: FolderArchive) -> Self {
        LocalUploads {
            base_url: base_url.into(),
            key,
            folder,
        }
    }

    fn mac(&self, payload: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("hmac takes any key length");
        mac.update(b"stamp-local upload\x1f");
        mac.update(payload.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    pub fn token(&self, key: &str, expires: chrono::DateTime<chrono::Utc>) -> String {
        let payload = URL_SAFE_NO_PAD
            .encode(serde_json::json!({ "k": key, "e": expires.timestamp() }).to_string());
        let mac = self.mac(&payload);
        format!("{payload}.{mac}")
    }

    /// The storage key a token grants, if its signature holds and it has not expired.
    pub fn verify(&self, token: &str, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
        let (payload, mac) = token.split_once('.')?;
        let expected = self.mac(payload);
        // Constant-time comparison of the hex MACs.
        if expected.len() != mac.len()
            || expected
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                != 0
        {
            return None;
        }
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (claims["e"].as_i64()? > now.timestamp())
            .then(|| claims["k"].as_str().map(str::to_string))?
    }
}

#[async_trait::async_trait]
impl UploadUrls for LocalUploads {
    async fn presign_put(
        &self,
        key: &str,
        expires: std::time::Duration,
    ) -> Result<String, ArchiveError> {
        let until = chrono::Utc::now() + chrono::Duration::from_std(expires).unwrap_or_default();
        Ok(format!(
            "{}/local/uploads/{}",
            self.base_url.trim_end_matches('/'),
            self.token(key, until)
        ))
    }
}

type UploadState = (AppState, Arc<LocalUploads>);

pub fn router(state: AppState, uploads: Arc<LocalUploads>) -> Router {
    Router::new()
        .route("/local/uploads/{token}", put(receive))
        .layer(DefaultBodyLimit::disable())
        .with_state((state, uploads))
}

fn refuse(status: StatusCode, why: &str) -> Response {
    let code = match status {
        StatusCode::FORBIDDEN => "invalid_upload_url",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        _ => "internal",
    };
    stamp_api::problem::problem(status, code, "Upload refused", why, None)
}

/// `PUT /local/uploads/{token}`: stores the body, then imports it in the background.
async fn receive(
    State((state, uploads)): State<UploadState>,
    Path(token): Path<String>,
    body: Body,
) -> Response {
    let Some(key) = uploads.verify(&token, chrono::Utc::now()) else {
        return refuse(
            StatusCode::FORBIDDEN,
            "the upload URL is not valid (or has expired)",
        );
    };
    let Some((partner_id, upload_id)) = parse_upload_key(&key) else {
        return refuse(StatusCode::FORBIDDEN, "the upload URL names no upload");
    };
    let (Ok(path), Ok(tmp)) = (
        uploads.folder.staging_path(&key),
        uploads.folder.temp_path(),
    ) else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "no staging folder");
    };
    let written = async {
        let mut file = tokio::fs::File::create(&tmp).await?;
        let mut stream = body.into_data_stream();
        let mut total: u64 = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(std::io::Error::other)?;
            total += chunk.len() as u64;
            if total > MAX_UPLOAD_BYTES {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::FileTooLarge,
                    "too large",
                ));
            }
            file.write_all(&chunk).await?;
        }
        file.sync_all().await?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::rename(&tmp, &path).await?;
        Ok::<u64, std::io::Error>(total)
    }
    .await;
    let total = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            if e.kind() == std::io::ErrorKind::FileTooLarge {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "an upload holds at most 1 GiB",
                );
            }
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the upload could not be stored",
            );
        }
    };
    tracing::info!(
        partner_id = %partner_id,
        upload_id,
        bytes = total,
        "upload received; importing"
    );
    tokio::spawn(async move {
        if let Err(e) = state.import.import_upload(&partner_id, &upload_id).await {
            tracing::warn!(partner_id = %partner_id, upload_id, error = %e, "upload import failed; PUT it again to retry");
        }
    });
    StatusCode::OK.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_signed_and_expire() {
        let u = LocalUploads::new(
            "http://x",
            Arc::new(b"k1".to_vec()),
            FolderArchive::new("/tmp/none"),
        );
        let now = chrono::Utc::now();
        let t = u.token("uploads/p/0123", now + chrono::Duration::minutes(5));
        assert_eq!(u.verify(&t, now).as_deref(), Some("uploads/p/0123"));
        assert_eq!(u.verify(&t, now + chrono::Duration::minutes(6)), None);
        let other = LocalUploads::new(
            "http://x",
            Arc::new(b"k2".to_vec()),
            FolderArchive::new("/tmp/none"),
        );
        assert_eq!(other.verify(&t, now), None);
        let (payload, mac) = t.split_once('.').unwrap();
        assert_eq!(u.verify(&format!("{payload}x.{mac}"), now), None);
    }
}
