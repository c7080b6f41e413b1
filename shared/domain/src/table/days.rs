//! The days a company has data on, the days an import made dirty, and the per-day
//! statistics rows refreshed from them (spec §7).

use super::{from_item, keys, Ledger, SiteEntry};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::ports::{Condition, Item, SkRange, StoreError, WriteOp};
use crate::time::Instant;
use chrono::{DateTime, Utc};
use serde_json::Value;

impl Ledger {
    /// Notes local days as holding events (idempotent). Written before the events
    /// themselves, so a reader never misses a stored event's day.
    pub async fn note_days(
        &self,
        ck: &CompanyKey,
        days: &std::collections::BTreeSet<chrono::NaiveDate>,
    ) -> Result<(), DomainError> {
        let ops: Vec<WriteOp> = days
            .iter()
            .map(|d| WriteOp::put(Item::new(keys::data_days(ck), d.to_string())))
            .collect();
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// The local days in `[from, to]` (open ends: all) that hold events, in order.
    pub async fn data_days(
        &self,
        ck: &CompanyKey,
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
    ) -> Result<Vec<chrono::NaiveDate>, DomainError> {
        let range = match (from, to) {
            (None, None) => SkRange::All,
            (f, t) => {
                let lo = f.map(|d| d.to_string()).unwrap_or_else(|| "0".into());
                let hi = t.map(|d| d.to_string()).unwrap_or_else(|| "9".into());
                if lo > hi {
                    return Ok(Vec::new());
                }
                SkRange::Between(lo, hi)
            }
        };
        let items = self.store.query_all(&keys::data_days(ck), range).await?;
        Ok(items.iter().filter_map(|i| i.sk.parse().ok()).collect())
    }

    /// Forgets a day whose events have all been purged.
    pub async fn forget_day(
        &self,
        ck: &CompanyKey,
        day: chrono::NaiveDate,
    ) -> Result<(), DomainError> {
        Ok(self
            .store
            .transact(vec![WriteOp::Delete {
                pk: keys::data_days(ck),
                sk: day.to_string(),
                condition: Condition::None,
            }])
            .await?)
    }

    /// The span of the company's activity, from its site directory (`None` if empty).
    pub async fn company_span(
        &self,
        ck: &CompanyKey,
    ) -> Result<Option<(Instant, Instant)>, DomainError> {
        let items = self.store.query_all(&keys::sites(ck), SkRange::All).await?;
        let sites: Vec<SiteEntry> = items.iter().map(from_item).collect::<Result<_, _>>()?;
        let first = sites.iter().map(|s| s.first_seen).min();
        let last = sites.iter().map(|s| s.last_seen).max();
        Ok(first.zip(last))
    }

    /// Drops the aggregate rows of a purged day.
    pub async fn forget_day_stats(
        &self,
        ck: &CompanyKey,
        day: chrono::NaiveDate,
    ) -> Result<(), DomainError> {
        self.replace_day_stats(ck, day, Vec::new()).await
    }

    // --- statistics bookkeeping ---------------------------------------------------------

    /// Marks local days whose aggregates an import changed.
    pub async fn mark_dirty(
        &self,
        ck: &CompanyKey,
        days: &[chrono::NaiveDate],
        marker: &str,
    ) -> Result<(), DomainError> {
        // A day an import touched holds data (or held it: a stale day entry costs one
        // empty query, a missing one would hide events).
        let mut ops: Vec<WriteOp> = days
            .iter()
            .map(|d| {
                WriteOp::put(
                    Item::new(keys::dirty_days(ck), d.to_string())
                        .with("marker", marker.to_string()),
                )
            })
            .collect();
        ops.extend(
            days.iter()
                .map(|d| WriteOp::put(Item::new(keys::data_days(ck), d.to_string()))),
        );
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// The dirty days of a company, each with the marker it was last marked with.
    pub async fn dirty_days(
        &self,
        ck: &CompanyKey,
    ) -> Result<Vec<(chrono::NaiveDate, String)>, DomainError> {
        let items = self
            .store
            .query_all(&keys::dirty_days(ck), SkRange::All)
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| Some((i.sk.parse().ok()?, i.str("marker")?.to_string())))
            .collect())
    }

    /// Clears a dirty mark unless it was marked again since it was read.
    pub async fn clear_dirty(
        &self,
        ck: &CompanyKey,
        day: chrono::NaiveDate,
        marker: &str,
    ) -> Result<(), DomainError> {
        let op = WriteOp::Delete {
            pk: keys::dirty_days(ck),
            sk: day.to_string(),
            condition: Condition::AttrEquals("marker".into(), Value::String(marker.into())),
        };
        match self.store.transact(vec![op]).await {
            Ok(()) | Err(StoreError::ConditionFailed(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces one day's aggregate rows (a row per site and `None` for the total).
    pub async fn replace_day_stats(
        &self,
        ck: &CompanyKey,
        day: chrono::NaiveDate,
        rows: Vec<(Option<String>, Value)>,
    ) -> Result<(), DomainError> {
        let pk = keys::day_stats(ck);
        let prefix = format!("{day}#");
        let existing = self.store.query_all(&pk, SkRange::Prefix(prefix)).await?;
        let mut ops = Vec::new();
        let new_keys: Vec<String> = rows
            .iter()
            .map(|(site, _)| keys::stats_row(&day.to_string(), site.as_deref()))
            .collect();
        for it in existing {
            if !new_keys.contains(&it.sk) {
                ops.push(WriteOp::Delete {
                    pk: pk.clone(),
                    sk: it.sk,
                    condition: Condition::None,
                });
            }
        }
        for ((_, row), sk) in rows.into_iter().zip(new_keys) {
            let Value::Object(attrs) = row else {
                return Err(DomainError::Internal(
                    "a statistics row must be an object".into(),
                ));
            };
            ops.push(WriteOp::put(Item {
                pk: pk.clone(),
                sk,
                attrs,
            }));
        }
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// When the company's stored aggregates were last refreshed: the start of the last
    /// complete refresh (`None` before the first).
    pub async fn stats_refreshed_at(
        &self,
        ck: &CompanyKey,
    ) -> Result<Option<DateTime<Utc>>, DomainError> {
        Ok(self
            .store
            .get(&keys::day_stats(ck), keys::STATS_REFRESHED)
            .await?
            .and_then(|i| DateTime::parse_from_rfc3339(i.str("refreshed_at")?).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    /// Notes a complete refresh that started at `at`.
    pub async fn set_stats_refreshed_at(
        &self,
        ck: &CompanyKey,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let item = Item::new(keys::day_stats(ck), keys::STATS_REFRESHED).with(
            "refreshed_at",
            at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
        Ok(self.store.transact(vec![WriteOp::put(item)]).await?)
    }

    /// Stored aggregate rows for local days `[from, to]`, with their sort keys.
    pub async fn day_stats(
        &self,
        ck: &CompanyKey,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<(String, Value)>, DomainError> {
        let items = self
            .store
            .query_all(
                &keys::day_stats(ck),
                // `~~` also covers the per-employer rows (`{day}#~E{orgnr}#…`).
                SkRange::Between(format!("{from}#"), format!("{to}#~~")),
            )
            .await?;
        Ok(items
            .into_iter()
            .map(|i| (i.sk, Value::Object(i.attrs)))
            .collect())
    }
}
