//! The notification ports: webhooks over HTTPS (reqwest), e-mail through Amazon SES
//! (aws-sdk-sesv2, the raw MIME message) or as `.eml` files in a local outbox folder,
//! and the object-lock probes of archive verification (S3 HeadObject, the folder's
//! sidecar).

use async_trait::async_trait;
use aws_sdk_s3::error::SdkError;
use chrono::NaiveDate;
use stamp_domain::ports::{ArchiveError, LockProbe, Mailer, OutgoingMail, WebhookSender};
use std::path::PathBuf;

use crate::{FolderArchive, S3Archive};

/// Posts webhook messages. Redirects are not followed (they could lead to an address
/// the target check refused).
#[derive(Clone)]
pub struct HttpWebhookSender {
    client: reqwest::Client,
}

impl Default for HttpWebhookSender {
    fn default() -> Self {
        HttpWebhookSender {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("Stamp-Webhooks/1")
                .build()
                .unwrap_or_default(),
        }
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        timeout: std::time::Duration,
    ) -> Result<u16, String> {
        let mut req = self.client.post(url).timeout(timeout).body(body.to_vec());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        match req.send().await {
            Ok(r) => Ok(r.status().as_u16()),
            Err(e) if e.is_timeout() => Err(format!("timed out after {} s", timeout.as_secs_f32())),
            Err(e) if e.is_connect() => Err("connection failed".into()),
            Err(_) => Err("request failed".into()),
        }
    }
}

/// The local stand-in for SES: each message as an `.eml` file under `DATA/outbox/`.
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        OutboxMailer { dir: dir.into() }
    }
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, String> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| format!("outbox: {e}"))?;
        let name = format!(
            "{}-{}.eml",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            uuid::Uuid::new_v4().simple()
        );
        let tmp = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, &mail.raw)
            .await
            .map_err(|e| format!("outbox: {e}"))?;
        tokio::fs::rename(&tmp, self.dir.join(&name))
            .await
            .map_err(|e| format!("outbox: {e}"))?;
        Ok(name)
    }
}

/// Amazon SES (v2): the message as built, sent raw.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client) -> Self {
        SesMailer { client }
    }

    pub async fn from_env() -> Self {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(crate::aws::https_client())
            .load()
            .await;
        SesMailer::new(aws_sdk_sesv2::Client::new(&conf))
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, String> {
        use aws_sdk_sesv2::primitives::Blob;
        use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
        let raw = RawMessage::builder()
            .data(Blob::new(mail.raw.clone()))
            .build()
            .map_err(|e| e.to_string())?;
        let out = self
            .client
            .send_email()
            .from_email_address(&mail.from)
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(mail.to.clone()))
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "SES SendEmail: {}",
                    aws_sdk_sesv2::error::DisplayErrorContext(&e)
                )
            })?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }
}

#[async_trait]
impl LockProbe for FolderArchive {
    async fn locked_until(&self, key: &str) -> Result<Option<NaiveDate>, ArchiveError> {
        let meta = self.meta(key).await?;
        // The sidecar without its object is a missing object.
        let path = self.root().join(key);
        if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return Err(ArchiveError::NotFound(key.to_string()));
        }
        Ok(Some(meta.retain_until))
    }
}

#[async_trait]
impl LockProbe for S3Archive {
    /// HeadObject's object-lock retain-until date (moto's GetObjectRetention is broken).
    async fn locked_until(&self, key: &str) -> Result<Option<NaiveDate>, ArchiveError> {
        let head = self
            .client()
            .head_object()
            .bucket(self.bucket())
            .key(key)
            .send()
            .await
            .map_err(|e| match &e {
                SdkError::ServiceError(s) if s.err().is_not_found() => {
                    ArchiveError::NotFound(key.to_string())
                }
                _ => ArchiveError::Unavailable(format!(
                    "HeadObject: {}",
                    aws_sdk_s3::error::DisplayErrorContext(&e)
                )),
            })?;
        if head.object_lock_mode().is_none() {
            return Ok(None);
        }
        Ok(head
            .object_lock_retain_until_date()
            .and_then(|d| chrono::DateTime::from_timestamp(d.secs(), 0))
            .map(|d| d.date_naive()))
    }
}
