//! The ledger items of getting deliveries in: a batch's start, uploads, feed cursors and
//! pull status, and the directories a streamed delivery notes once at its end.

use super::{created, from_item, item_of, keys, Ledger, PersonEntry};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::PartnerId;
use crate::model::{LedgerEvent, Partner};
use crate::ports::{Condition, Item, WriteOp};
use crate::time::Instant;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UploadStatus {
    /// The URL was handed out; nothing has arrived (or its import has not started).
    Pending,
    Importing,
    Imported,
    Failed,
}

/// A large delivery a partner uploads straight to storage (`POST /partner/v1/uploads`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    #[serde(deserialize_with = "PartnerId::deserialize_stored")]
    pub partner_id: PartnerId,
    pub upload_id: String,
    pub batch_id: String,
    /// `json` or `csv`.
    pub format: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: UploadStatus,
    pub updated_at: DateTime<Utc>,
    /// Why it failed: the error's kind, code, detail and field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<crate::error::ErrorRecord>,
    /// Where the upload was archived (also when it was unreadable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_key: Option<String>,
}

/// Where pulling a partner's feed of one company continues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedCursor {
    #[serde(deserialize_with = "PartnerId::deserialize_stored")]
    pub partner_id: PartnerId,
    /// `None`: from the start of the history (a backfill).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// Pages and events pulled through this cursor so far.
    #[serde(default)]
    pub pages: u64,
    #[serde(default)]
    pub events: u64,
    /// Optimistic concurrency: two pull rounds never move a cursor back.
    #[serde(default)]
    pub version: i64,
}

/// A pulling partner after its last round: what went well and what did not. Holds no
/// personal data: companies appear by their pseudonymous key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullStatus {
    #[serde(deserialize_with = "PartnerId::deserialize_stored")]
    pub partner_id: PartnerId,
    pub last_round_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<DateTime<Utc>>,
    pub companies: u64,
    pub companies_failed: u64,
    pub pages: u64,
    pub events_accepted: u64,
    pub events_duplicate: u64,
    pub events_rejected: u64,
    /// Each failure of the round.
    #[serde(default)]
    pub errors: Vec<crate::intake::pull::PullFailure>,
}

impl Ledger {
    // --- batches ----------------------------------------------------------------------

    /// Claims `(partner, batch_id)` for a delivery with `sha256` about to be archived
    /// under `archive_key`. Answers the receipt time and archive key to use: the given
    /// ones, or those of an earlier attempt at the same bytes. Other bytes under the same
    /// batch id are a `batch_conflict`.
    pub async fn begin_batch(
        &self,
        partner_id: &PartnerId,
        batch_id: &str,
        sha256: &str,
        received_at: DateTime<Utc>,
        archive_key: &str,
    ) -> Result<(DateTime<Utc>, String), DomainError> {
        let pk = keys::batch(partner_id, batch_id);
        let item = Item::new(pk.clone(), keys::START)
            .with("sha256", sha256)
            .with(
                "received_at",
                serde_json::to_value(received_at).unwrap_or_default(),
            )
            .with("archive_key", archive_key);
        if created(self.store.transact(vec![WriteOp::create(item)]).await)? {
            return Ok((received_at, archive_key.to_string()));
        }
        let Some(existing) = self.store.get(&pk, keys::START).await? else {
            return Err(DomainError::Unavailable(
                "the batch is being started concurrently; retry".into(),
            ));
        };
        if existing.str("sha256") != Some(sha256) {
            return Err(DomainError::Conflict {
                code: "batch_conflict",
                detail: format!("batch_id {batch_id:?} is being delivered with different content; a batch is never replaced"),
            });
        }
        let at: DateTime<Utc> = existing
            .attrs
            .get("received_at")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| {
                DomainError::Internal(format!("stored item {pk}/START lacks received_at"))
            })?;
        let key = existing
            .str("archive_key")
            .unwrap_or(archive_key)
            .to_string();
        Ok((at, key))
    }

    // --- uploads ----------------------------------------------------------------------

    /// Records a new upload, and points its batch id at it.
    pub async fn save_new_upload(&self, u: &Upload) -> Result<(), DomainError> {
        let pointer = Item::new(keys::batch(&u.partner_id, &u.batch_id), keys::UPLOAD)
            .with("upload_id", u.upload_id.clone());
        let ops = vec![
            WriteOp::create(item_of(
                keys::upload(&u.partner_id, &u.upload_id),
                keys::UPLOAD.into(),
                u,
            )?),
            WriteOp::put(pointer),
        ];
        Ok(self.store.transact(ops).await?)
    }

    pub async fn update_upload(&self, u: &Upload) -> Result<(), DomainError> {
        let item = item_of(
            keys::upload(&u.partner_id, &u.upload_id),
            keys::UPLOAD.into(),
            u,
        )?;
        Ok(self.store.transact(vec![WriteOp::put(item)]).await?)
    }

    pub async fn upload(
        &self,
        partner_id: &PartnerId,
        upload_id: &str,
    ) -> Result<Option<Upload>, DomainError> {
        self.store
            .get(&keys::upload(partner_id, upload_id), keys::UPLOAD)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    /// The latest upload created for a batch id.
    pub async fn batch_upload(
        &self,
        partner_id: &PartnerId,
        batch_id: &str,
    ) -> Result<Option<Upload>, DomainError> {
        let Some(pointer) = self
            .store
            .get(&keys::batch(partner_id, batch_id), keys::UPLOAD)
            .await?
        else {
            return Ok(None);
        };
        match pointer.str("upload_id") {
            Some(id) => self.upload(partner_id, id).await,
            None => Ok(None),
        }
    }

    // --- feeds ------------------------------------------------------------------------

    pub async fn feed_cursor(
        &self,
        ck: &CompanyKey,
        partner_id: &PartnerId,
    ) -> Result<Option<FeedCursor>, DomainError> {
        self.store
            .get(&keys::feeds(ck), partner_id)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    /// Moves a cursor on, unless another round moved it since `previous` was read;
    /// `false` then.
    pub async fn save_feed_cursor(
        &self,
        ck: &CompanyKey,
        previous: Option<&FeedCursor>,
        next: &FeedCursor,
    ) -> Result<bool, DomainError> {
        let condition = match previous {
            None => Condition::NotExists,
            Some(p) => Condition::AttrEquals("version".into(), Value::from(p.version)),
        };
        let mut next = next.clone();
        next.version = previous.map_or(0, |p| p.version + 1);
        let item = item_of(keys::feeds(ck), next.partner_id.to_string(), &next)?;
        created(
            self.store
                .transact(vec![WriteOp::Put { item, condition }])
                .await,
        )
    }

    pub async fn save_pull_status(&self, s: &PullStatus) -> Result<(), DomainError> {
        let item = item_of(keys::pull_status(&s.partner_id), keys::STATUS.into(), s)?;
        Ok(self.store.transact(vec![WriteOp::put(item)]).await?)
    }

    pub async fn pull_status(
        &self,
        partner_id: &PartnerId,
    ) -> Result<Option<PullStatus>, DomainError> {
        self.store
            .get(&keys::pull_status(partner_id), keys::STATUS)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    /// Every accredited partner (one partition).
    pub async fn all_partners(&self) -> Result<Vec<Partner>, DomainError> {
        let items = self
            .store
            .query_all(keys::PARTNERS, crate::ports::SkRange::All)
            .await?;
        items.iter().map(from_item).collect()
    }

    /// Writes a partner as given (an operator's correction, or the demo pointing its
    /// simulated feed at a new port).
    pub async fn save_partner(&self, p: &Partner) -> Result<(), DomainError> {
        let item = item_of(keys::PARTNERS.into(), p.partner_id.to_string(), p)?;
        Ok(self.store.transact(vec![WriteOp::put(item)]).await?)
    }

    // --- directories --------------------------------------------------------------------

    /// Notes people (each with the event that names them last) and sites (with the span
    /// of a delivery's events) in the companies' directories. Idempotent.
    pub async fn note_people_and_sites(
        &self,
        people: &[(CompanyKey, LedgerEvent)],
        sites: &[(CompanyKey, String, Instant, Instant)],
    ) -> Result<(), DomainError> {
        let mut ops: Vec<WriteOp> = Vec::new();
        for (ck, e) in people {
            let entry = PersonEntry {
                person_ref: e.person_ref.clone(),
                person_name: e.person_name.clone(),
                person_id_masked: e.person.masked(),
                person: e.person.clone(),
            };
            let item = item_of(keys::people(ck), e.person_ref.to_string(), &entry)?
                .with("name_lc", e.person_name.to_lowercase());
            ops.push(WriteOp::put(item));
            ops.extend(super::employer_directory_ops(ck, e)?);
        }
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        for (ck, site, first, last) in sites {
            self.widen_site(ck, site, *first, *last).await?;
        }
        Ok(())
    }

    // --- rebuilding -----------------------------------------------------------------------

    /// Every item of a partition (for copying and comparing indexes).
    pub async fn partition(&self, pk: &str) -> Result<Vec<Item>, DomainError> {
        Ok(self.store.query_all(pk, crate::ports::SkRange::All).await?)
    }

    /// Writes items as they are (copying administration into a store being rebuilt).
    pub async fn put_items(&self, items: Vec<Item>) -> Result<(), DomainError> {
        for chunk in items.chunks(25) {
            self.store
                .transact(chunk.iter().cloned().map(WriteOp::put).collect())
                .await?;
        }
        Ok(())
    }

    pub async fn item(&self, pk: &str, sk: &str) -> Result<Option<Item>, DomainError> {
        Ok(self.store.get(pk, sk).await?)
    }
}
