//! Where an extract's events come from: the table, read a few days at a time, with the
//! correction histories the authority extract shows; and the authority file's writer.

use super::{
    attach_corrections, build_rows, corrected_events, AuthorityWriter, RowFilter, Span, CHUNK_DAYS,
};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::model::{EventKey, LedgerEvent};
use crate::reads::analysis::{DUPLICATE_WINDOW, LOOKAHEAD, LOOKBACK};
use crate::table::{CorrectionEntry, Ledger};
use crate::time::{local_date, local_day_start, Instant};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::{BTreeSet, HashMap};

/// Where an authority extract's events come from: the ledger, or a generator in the
/// benchmark.
#[async_trait]
pub trait EventSource: Send + Sync {
    /// The events (withdrawn ones included) with `occurred_at` in `[lo, hi)`.
    async fn window(&self, lo: &Instant, hi: &Instant) -> Result<Vec<LedgerEvent>, DomainError>;
    /// The correction history of each of these events.
    async fn corrections(
        &self,
        events: &[EventKey],
    ) -> Result<HashMap<EventKey, Vec<CorrectionEntry>>, DomainError>;
}

/// Builds an authority extract's rows over `range`, [`CHUNK_DAYS`] local days at a time
/// (each analysed on a window widened as the views widen theirs), into `writer`.
pub async fn write_authority(
    source: &dyn EventSource,
    range: Span,
    filter: &RowFilter,
    now: DateTime<Utc>,
    writer: &mut AuthorityWriter,
) -> Result<(), DomainError> {
    let mut chunk_from = range.from;
    while chunk_from < range.to {
        let next_day = local_date(&chunk_from)
            .checked_add_days(chrono::Days::new(CHUNK_DAYS))
            .map(local_day_start)
            .unwrap_or(range.to);
        let chunk = Span {
            from: chunk_from,
            to: next_day.min(range.to),
        };
        let lo = chunk
            .from
            .checked_sub_signed(LOOKBACK)
            .unwrap_or(chunk.from);
        let hi = chunk
            .to
            .checked_add_signed(LOOKAHEAD + DUPLICATE_WINDOW)
            .unwrap_or(chunk.to);
        let events = source.window(&lo, &hi).await?;
        let mut rows = build_rows(events, chunk, range, filter, now);
        let history = source.corrections(&corrected_events(&rows)).await?;
        attach_corrections(&mut rows, &history);
        writer.write(&rows)?;
        chunk_from = chunk.to;
    }
    Ok(())
}

/// The ledger as an [`EventSource`] for one company and filter.
pub(super) struct LedgerSource<'a> {
    pub(super) ledger: &'a Ledger,
    pub(super) ck: CompanyKey,
    pub(super) filter: RowFilter,
}

pub(super) async fn histories(
    ledger: &Ledger,
    events: &[EventKey],
) -> Result<HashMap<EventKey, Vec<CorrectionEntry>>, DomainError> {
    let unique: BTreeSet<EventKey> = events.iter().cloned().collect();
    stream::iter(unique)
        .map(|k| async move {
            let history = ledger.corrections(&k.partner_id, &k.event_id).await?;
            Ok::<_, DomainError>((k, history))
        })
        .buffer_unordered(crate::table::PARTITION_READS)
        .try_collect()
        .await
}

#[async_trait]
impl EventSource for LedgerSource<'_> {
    async fn window(&self, lo: &Instant, hi: &Instant) -> Result<Vec<LedgerEvent>, DomainError> {
        if let Some(p) = &self.filter.person_ref {
            return self.ledger.person_events(&self.ck, p, lo, hi).await;
        }
        if let Some(site) = &self.filter.site {
            // Pairing follows a person across sites: each person seen at the site, on
            // their whole timeline of the window — the company's day partitions of the
            // window hold it, read at once.
            let all = self.ledger.company_events(&self.ck, lo, hi).await?;
            let people: BTreeSet<&str> = all
                .iter()
                .filter(|e| &e.site_id == site)
                .map(|e| e.person_ref.as_str())
                .collect();
            return Ok(all
                .iter()
                .filter(|e| people.contains(e.person_ref.as_str()))
                .cloned()
                .collect());
        }
        self.ledger.company_events(&self.ck, lo, hi).await
    }

    async fn corrections(
        &self,
        events: &[EventKey],
    ) -> Result<HashMap<EventKey, Vec<CorrectionEntry>>, DomainError> {
        histories(self.ledger, events).await
    }
}
