//! The archived objects as the retention purge sees them: what is kept until when.

use super::{from_item, item_of, keys, Ledger};
use crate::error::DomainError;
use crate::identity::PartnerId;
use crate::ports::{Condition, SkRange, WriteOp};
use serde::{Deserialize, Serialize};

/// An archived object as the retention purge sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedEntry {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub retain_until: chrono::NaiveDate,
    /// Company keys whose events it holds, with the first and last local day of each.
    pub companies: Vec<(String, chrono::NaiveDate, chrono::NaiveDate)>,
    /// `(partner_id, batch_id)` of the batch answer kept with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<(String, String)>,
}

impl Ledger {
    // --- retention -------------------------------------------------------------------

    /// Notes an archived object under the year its retention ends, with the companies
    /// and local days it holds, so the purge can find it without listing the archive.
    pub async fn note_archived(&self, entry: &ArchivedEntry) -> Result<(), DomainError> {
        let item = item_of(
            keys::retention(chrono::Datelike::year(&entry.retain_until)),
            format!("{}#{}", entry.retain_until, entry.key),
            entry,
        )?;
        Ok(self.store.transact(vec![WriteOp::put(item)]).await?)
    }

    /// Archived objects whose retention ended before `today`.
    pub async fn expired_archive_objects(
        &self,
        today: chrono::NaiveDate,
    ) -> Result<Vec<ArchivedEntry>, DomainError> {
        let mut out = Vec::new();
        // Sort keys are `{retain_until}#{key}`: every one dated before today sorts below
        // the bare date. Retention years start with the service.
        for year in 2000..=chrono::Datelike::year(&today) {
            let items = self
                .store
                .query_all(
                    &keys::retention(year),
                    SkRange::Between("0".to_string(), today.to_string()),
                )
                .await?;
            for i in &items {
                let e: ArchivedEntry = from_item(i)?;
                if e.retain_until < today {
                    out.push(e);
                }
            }
        }
        Ok(out)
    }

    /// Every entry of the retention index whose retention ends in one of `years`.
    pub async fn archived_entries(
        &self,
        years: std::ops::RangeInclusive<i32>,
    ) -> Result<Vec<ArchivedEntry>, DomainError> {
        let mut out = Vec::new();
        for year in years {
            for i in self
                .store
                .query_all(&keys::retention(year), SkRange::All)
                .await?
            {
                out.push(from_item(&i)?);
            }
        }
        Ok(out)
    }

    pub async fn forget_archived(&self, entry: &ArchivedEntry) -> Result<(), DomainError> {
        let mut ops = vec![WriteOp::Delete {
            pk: keys::retention(chrono::Datelike::year(&entry.retain_until)),
            sk: format!("{}#{}", entry.retain_until, entry.key),
            condition: Condition::None,
        }];
        if let Some((partner, batch)) = &entry.batch {
            ops.push(WriteOp::Delete {
                pk: keys::batch(&PartnerId::from_stored(partner.as_str()), batch),
                sk: keys::BATCH.into(),
                condition: Condition::None,
            });
        }
        Ok(self.store.transact(ops).await?)
    }
}
