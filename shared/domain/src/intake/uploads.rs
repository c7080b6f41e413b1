//! Large deliveries (spec §5: `POST /partner/v1/uploads`): the partner is handed a URL to
//! PUT the delivery straight into storage under `uploads/{partner_id}/{upload_id}`; when
//! it has arrived (S3 notifies the upload-import function; stamp-local imports it
//! in-process) it is imported like a push — but streamed, so its size is not bounded by
//! memory — and archived under object lock by a server-side copy. Its answer is read at
//! `GET /partner/v1/batches/{batch_id}`.

use super::parse::{check_batch_id, DeliveryFormat, EnvelopeError};
use super::service::{
    batch_key, envelope_error, fallback_retention, unreadable_key, BatchAnswer, ImportFailure,
    ImportService, Run, UPLOAD_REJECTED_LISTED,
};
use super::stream::{scan, OwnedRule};
use crate::auth::{require_partner, Claims};
use crate::error::{DomainError, ErrorRecord};
use crate::identity::PartnerId;
use crate::ports::{UploadUrls, UPLOADS_PREFIX};
use crate::table::{Upload, UploadStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long an upload URL stays valid.
pub const UPLOAD_URL_VALIDITY: Duration = Duration::from_secs(3600);
/// The largest upload Stamp imports (about five million events).
pub const MAX_UPLOAD_BYTES: u64 = 1 << 30;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewUpload {
    pub batch_id: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// Where a batch stands, as `GET /partner/v1/batches/{batch_id}` answers it.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchStatus {
    /// Imported: the answer it got (the same a replay gets).
    Answered(BatchAnswer),
    /// An upload not imported yet.
    InProgress(UploadProgress),
    /// An upload that was refused, and why.
    Failed {
        batch_id: String,
        upload_id: String,
        error: ErrorRecord,
    },
}

/// What the import of an upload came to.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadOutcome {
    pub status: UploadStatus,
    pub batch_id: String,
    pub answer: UploadAnswer,
}

/// The answer an imported upload got, or why it was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadAnswer {
    Imported(BatchAnswer),
    Refused(ErrorRecord),
    /// Imported before, but its batch answer is not (or no longer) to be found.
    Unknown,
}

impl UploadAnswer {
    /// The batch answer, when the upload was imported.
    pub fn imported(&self) -> Option<&BatchAnswer> {
        match self {
            UploadAnswer::Imported(a) => Some(a),
            _ => None,
        }
    }
}

/// The storage key of an upload.
pub fn upload_key(partner_id: &PartnerId, upload_id: &str) -> String {
    format!("{UPLOADS_PREFIX}{partner_id}/{upload_id}")
}

/// `(partner_id, upload_id)` of an upload's storage key, if it is one.
pub fn parse_upload_key(key: &str) -> Option<(PartnerId, String)> {
    let rest = key.strip_prefix(UPLOADS_PREFIX)?;
    let (partner, id) = rest.split_once('/')?;
    let ok_id = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let partner = PartnerId::parse(partner).ok()?;
    ok_id.then(|| (partner, id.to_string()))
}

/// Where an upload not yet imported stands (`GET /partner/v1/batches/{batch_id}`, 202).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UploadProgress {
    pub batch_id: String,
    pub upload_id: String,
    pub status: UploadStatus,
    pub expires_at: DateTime<Utc>,
}

/// Where to PUT a large delivery (`POST /partner/v1/uploads`, 201).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UploadTicket {
    pub upload_id: String,
    pub batch_id: String,
    /// `json` or `csv`.
    pub format: &'static str,
    /// A presigned URL valid until `expires_at`.
    pub upload_url: String,
    /// Always `PUT`.
    pub method: &'static str,
    /// The headers to send with the PUT.
    pub headers: UploadHeaders,
    pub expires_at: DateTime<Utc>,
    pub max_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UploadHeaders {
    /// Always `application/octet-stream`.
    #[serde(rename = "Content-Type")]
    pub content_type: &'static str,
}

fn parse_format(raw: Option<&str>) -> Result<DeliveryFormat, DomainError> {
    match raw.unwrap_or("json") {
        "json" => Ok(DeliveryFormat::Json),
        "csv" => Ok(DeliveryFormat::Csv),
        other => Err(DomainError::invalid(
            "format",
            format!("must be json or csv, got {other:?}"),
        )),
    }
}

impl ImportService {
    /// `POST /partner/v1/uploads`: a URL to PUT one large delivery to.
    pub async fn create_upload(
        &self,
        claims: &Claims,
        req: NewUpload,
        urls: &dyn UploadUrls,
    ) -> Result<UploadTicket, DomainError> {
        let partner_id = require_partner(claims)?;
        self.require_accredited(&partner_id).await?;
        let batch_id =
            check_batch_id(req.batch_id.as_deref().unwrap_or("")).map_err(envelope_error)?;
        let format = parse_format(req.format.as_deref())?;
        let now = self.clock.now();
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        let expires_at = now + chrono::Duration::from_std(UPLOAD_URL_VALIDITY).unwrap_or_default();
        let upload = Upload {
            partner_id: partner_id.clone(),
            upload_id: upload_id.clone(),
            batch_id: batch_id.clone(),
            format: format.as_str().into(),
            created_at: now,
            expires_at,
            status: UploadStatus::Pending,
            updated_at: now,
            problem: None,
            archive_key: None,
        };
        let url = urls
            .presign_put(&upload_key(&partner_id, &upload_id), UPLOAD_URL_VALIDITY)
            .await?;
        self.ledger.save_new_upload(&upload).await?;
        tracing::info!(partner_id = %partner_id, upload_id, "upload URL issued");
        Ok(UploadTicket {
            upload_id,
            batch_id,
            format: format.as_str(),
            upload_url: url,
            method: "PUT",
            headers: UploadHeaders {
                content_type: "application/octet-stream",
            },
            expires_at,
            max_bytes: MAX_UPLOAD_BYTES,
        })
    }

    /// `GET /partner/v1/batches/{batch_id}`: the partner's own batch — pushed, uploaded
    /// or pulled.
    pub async fn batch_status(
        &self,
        claims: &Claims,
        batch_id: &str,
    ) -> Result<BatchStatus, DomainError> {
        let partner_id = require_partner(claims)?;
        let answered = self.ledger.batch(&partner_id, batch_id).await?;
        let upload = self.ledger.batch_upload(&partner_id, batch_id).await?;
        // The latest attempt under the batch id speaks: an upload created after the batch
        // was answered (a replay, or other bytes: 409) tells how that attempt went.
        let up = match (answered, upload) {
            (None, None) => {
                return Err(DomainError::NotFound(format!(
                    "this partner has delivered no batch {batch_id:?}"
                )))
            }
            (Some(b), None) => return Ok(BatchStatus::Answered(b.answer)),
            (Some(b), Some(up))
                if up.created_at <= b.received_at || up.status == UploadStatus::Imported =>
            {
                return Ok(BatchStatus::Answered(b.answer))
            }
            (_, Some(up)) => up,
        };
        match (up.status, up.problem) {
            (UploadStatus::Failed, Some(error)) => Ok(BatchStatus::Failed {
                batch_id: up.batch_id,
                upload_id: up.upload_id,
                error,
            }),
            (status, _) => Ok(BatchStatus::InProgress(UploadProgress {
                batch_id: up.batch_id,
                upload_id: up.upload_id,
                status,
                expires_at: up.expires_at,
            })),
        }
    }

    /// Imports an upload that has arrived (its storage key named it). Idempotent: an
    /// upload already imported or refused is answered as it was. Only a passing trouble
    /// (storage unavailable) is an `Err`, so the caller's retry can finish it.
    pub async fn import_upload(
        &self,
        partner_id: &PartnerId,
        upload_id: &str,
    ) -> Result<UploadOutcome, DomainError> {
        let Some(mut up) = self.ledger.upload(partner_id, upload_id).await? else {
            return Err(DomainError::NotFound(format!(
                "no upload {upload_id} of partner {partner_id}"
            )));
        };
        match up.status {
            UploadStatus::Imported => {
                let answer = self
                    .ledger
                    .batch(partner_id, &up.batch_id)
                    .await?
                    .map_or(UploadAnswer::Unknown, |b| UploadAnswer::Imported(b.answer));
                return Ok(UploadOutcome {
                    status: up.status,
                    batch_id: up.batch_id,
                    answer,
                });
            }
            UploadStatus::Failed => {
                // A refused upload's staged object is removed; one staged again means the
                // partner PUT a new body to the same URL: that one is imported, so a PUT
                // the store accepted is never a 200 that does nothing.
                let staged_again = match self.archive.read(&upload_key(partner_id, upload_id)).await
                {
                    Ok(_) => true,
                    Err(crate::ports::ArchiveError::NotFound(_)) => false,
                    Err(e) => return Err(e.into()),
                };
                if !staged_again {
                    return Ok(UploadOutcome {
                        status: up.status,
                        batch_id: up.batch_id,
                        answer: up
                            .problem
                            .map_or(UploadAnswer::Unknown, UploadAnswer::Refused),
                    });
                }
                tracing::info!(
                    partner_id = %partner_id,
                    upload_id,
                    "a refused upload was sent again; importing it"
                );
            }
            UploadStatus::Pending | UploadStatus::Importing => {}
        }
        up.status = UploadStatus::Importing;
        up.updated_at = self.clock.now();
        self.ledger.update_upload(&up).await?;
        let staged = upload_key(partner_id, upload_id);
        let result = self.import_staged(&up, &staged).await;
        up.updated_at = self.clock.now();
        let outcome = match result {
            Ok((answer, archive_key)) => {
                up.status = UploadStatus::Imported;
                up.problem = None;
                up.archive_key = Some(archive_key);
                UploadOutcome {
                    status: up.status,
                    batch_id: up.batch_id.clone(),
                    answer: UploadAnswer::Imported(answer),
                }
            }
            Err(f) if matches!(f.error, DomainError::Unavailable(_)) => {
                up.status = UploadStatus::Pending;
                self.ledger.update_upload(&up).await?;
                return Err(f.error);
            }
            Err(f) => {
                tracing::info!(partner_id = %partner_id, upload_id, error = %f.error, "upload refused");
                up.status = UploadStatus::Failed;
                let error = ErrorRecord::from(&f.error);
                let answer = UploadAnswer::Refused(error.clone());
                up.problem = Some(error);
                up.archive_key = f.archived;
                UploadOutcome {
                    status: up.status,
                    batch_id: up.batch_id.clone(),
                    answer,
                }
            }
        };
        self.ledger.update_upload(&up).await?;
        if let Err(e) = self.archive.remove_staged(&staged).await {
            tracing::warn!(partner_id = %partner_id, upload_id, error = %e, "the staged upload could not be removed");
        }
        Ok(outcome)
    }

    async fn import_staged(
        &self,
        up: &Upload,
        staged: &str,
    ) -> Result<(BatchAnswer, String), ImportFailure> {
        let format = DeliveryFormat::parse(&up.format)
            .filter(|f| *f != DeliveryFormat::FeedPage)
            .ok_or_else(|| DomainError::Internal(format!("upload has format {:?}", up.format)))?;
        let rule = match format {
            DeliveryFormat::Json => OwnedRule::Declared(up.batch_id.clone()),
            _ => OwnedRule::Given(up.batch_id.clone()),
        };
        let too_large = || {
            DomainError::PayloadTooLarge(format!(
                "an upload holds at most {MAX_UPLOAD_BYTES} bytes"
            ))
        };
        let received_at = self.clock.now();
        let object = self.archive.read(staged).await?;
        if object.size.is_some_and(|n| n > MAX_UPLOAD_BYTES) {
            return Err(too_large().into());
        }
        let version = object.version_id.clone();
        // First read: judge the envelope and every event before anything is stored, to
        // lock the archived copy for as long as its events need.
        let survey = scan(object, format, rule.clone(), received_at).await?;
        if survey.bytes > MAX_UPLOAD_BYTES {
            return Err(too_large().into());
        }
        let sha256 = survey.sha256;
        match survey.envelope {
            Ok(_) => {}
            Err(EnvelopeError::Aborted(why)) => return Err(DomainError::Unavailable(why).into()),
            Err(e) => {
                let key = unreadable_key(&up.partner_id, received_at, &sha256, format);
                self.archive
                    .copy_from(
                        staged,
                        version.as_deref(),
                        &key,
                        format.content_type(),
                        fallback_retention(received_at),
                        &sha256,
                    )
                    .await?;
                tracing::info!(partner_id = %up.partner_id, archive_key = %key, "unreadable upload archived and refused");
                return Err(ImportFailure {
                    error: envelope_error(e),
                    archived: Some(key),
                });
            }
        }
        if let Some(previous) = self
            .previous_answer(&up.partner_id, &up.batch_id, &sha256)
            .await?
        {
            let key = previous.archive.key.clone();
            return Ok((previous, key));
        }
        let mut run = Run::new(&up.partner_id, &up.batch_id, &sha256, received_at)
            .streamed(UPLOAD_REJECTED_LISTED);
        let retain_until = self.retention(&mut run, &survey.survey).await?;
        self.begin(
            &mut run,
            &batch_key(&up.partner_id, received_at, &up.batch_id, &sha256, format),
        )
        .await?;
        let archived = self
            .archive
            .copy_from(
                staged,
                version.as_deref(),
                run.archive_key(),
                format.content_type(),
                retain_until,
                &sha256,
            )
            .await?;
        self.write_receipt(
            &run,
            format,
            &archived,
            "upload",
            &survey.survey,
            retain_until,
        )
        .await?;
        // Second read, from the locked copy: index it in chunks.
        self.index_archived(&mut run, &archived.key, format, &rule)
            .await?;
        let answer = self.finish(&mut run).await?;
        Ok((self.keep_answer(&run, answer).await?, archived.key))
    }
}

#[cfg(test)]
mod tests;
