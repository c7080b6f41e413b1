//! Where an effective event stands: its person's timeline and its local day's partition,
//! and the reads over them (a person, a site, a company, one day).

use super::{keys, nested, Ledger, PARTITION_READS};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::pseudonym::PersonRef;
use crate::model::LedgerEvent;
use crate::ports::{Item, SkRange};
use crate::time::{local_date, Instant};
use futures::{StreamExt, TryStreamExt};

/// An effective event's entry in its person's timeline.
pub(super) fn person_key(ck: &CompanyKey, e: &LedgerEvent) -> (String, String) {
    (
        keys::person_timeline(ck, &e.person_ref),
        keys::at(&e.occurred_at, &e.partner_id, &e.event_id),
    )
}

/// The partition of the local day an event falls on.
pub(super) fn day_pk(ck: &CompanyKey, at: &Instant) -> String {
    keys::day_timeline(ck, &local_date(at).to_string())
}

/// A corrected event's own entry in its day's timeline (an uncorrected one is in a
/// day chunk instead).
pub(super) fn day_key(ck: &CompanyKey, e: &LedgerEvent) -> (String, String) {
    (
        day_pk(ck, &e.occurred_at),
        keys::at(&e.occurred_at, &e.partner_id, &e.event_id),
    )
}

/// Where an event stood in the site timelines that older versions of Stamp wrote.
pub(super) fn legacy_site_key(ck: &CompanyKey, e: &LedgerEvent) -> (String, String) {
    (
        keys::site_timeline(ck, e.site_id.as_str()),
        keys::at(&e.occurred_at, &e.partner_id, &e.event_id),
    )
}

/// The events of one day partition, in timeline order: the chunked first versions not
/// superseded by a correction, and the entries of their own (corrected events, and
/// events stored before chunks were written). Each event appears once.
pub(super) fn day_partition_events(items: &[Item]) -> Result<Vec<LedgerEvent>, DomainError> {
    let superseded: std::collections::HashSet<&str> = items
        .iter()
        .filter(|i| i.sk.starts_with(keys::SUPERSEDED_PREFIX))
        .map(|i| i.sk.as_str())
        .collect();
    let mut out = Vec::new();
    for i in items {
        if i.sk.starts_with(keys::DAY_CHUNK_PREFIX) {
            let events: Vec<LedgerEvent> = nested(i, "events")?;
            out.extend(events.into_iter().filter(|e| {
                !superseded.contains(keys::superseded(&e.partner_id, &e.event_id).as_str())
            }));
        } else if !i.sk.starts_with(keys::SUPERSEDED_PREFIX) {
            out.push(nested(i, "event")?);
        }
    }
    out.sort_by_cached_key(|e| keys::at(&e.occurred_at, &e.partner_id, &e.event_id));
    Ok(out)
}

impl Ledger {
    // --- timelines ----------------------------------------------------------------------

    pub(super) async fn timeline(
        &self,
        pk: String,
        from: &Instant,
        to: &Instant,
    ) -> Result<Vec<LedgerEvent>, DomainError> {
        let (lo, hi) = keys::time_range(from, to);
        let items = self.store.query_all(&pk, SkRange::Between(lo, hi)).await?;
        items.iter().map(|i| nested(i, "event")).collect()
    }

    /// A person's events (withdrawn ones included) with `occurred_at` in `[from, to)`.
    pub async fn person_events(
        &self,
        ck: &CompanyKey,
        person_ref: &PersonRef,
        from: &Instant,
        to: &Instant,
    ) -> Result<Vec<LedgerEvent>, DomainError> {
        self.timeline(keys::person_timeline(ck, person_ref), from, to)
            .await
    }

    /// A site's events (withdrawn included) with `occurred_at` in `[from, to)`: the
    /// company's day partitions of the range, read at once, kept to the site.
    pub async fn site_events(
        &self,
        ck: &CompanyKey,
        site_id: &str,
        from: &Instant,
        to: &Instant,
    ) -> Result<Vec<LedgerEvent>, DomainError> {
        let mut events = self.company_events(ck, from, to).await?;
        events.retain(|e| e.site_id.as_str() == site_id);
        Ok(events)
    }

    /// The company's events (withdrawn included) with `occurred_at` in `[from, to)`,
    /// read from its day partitions, at most [`PARTITION_READS`] in flight, in day
    /// order. A span of up to [`PARTITION_READS`] local days (a month's view, widened)
    /// reads every day of it at once — one round trip, an empty day costing one small
    /// query; a longer span first asks the day index which days hold data — two round
    /// trips whatever the span.
    pub async fn company_events(
        &self,
        ck: &CompanyKey,
        from: &Instant,
        to: &Instant,
    ) -> Result<Vec<LedgerEvent>, DomainError> {
        if to <= from {
            return Ok(Vec::new());
        }
        let (first, last) = (local_date(from), local_date(to));
        let span = (last - first).num_days() + 1;
        let days: Vec<chrono::NaiveDate> = if span <= PARTITION_READS as i64 {
            first.iter_days().take(span as usize).collect()
        } else {
            self.data_days(ck, Some(first), Some(last)).await?
        };
        let parts: Vec<Vec<LedgerEvent>> = futures::stream::iter(days)
            .map(|day| self.day_events(ck, day))
            .buffered(PARTITION_READS)
            .try_collect()
            .await?;
        Ok(parts
            .into_iter()
            .flatten()
            .filter(|e| e.occurred_at >= *from && e.occurred_at < *to)
            .collect())
    }

    /// The company's events on one local day (withdrawn included), in timeline order.
    pub async fn day_events(
        &self,
        ck: &CompanyKey,
        day: chrono::NaiveDate,
    ) -> Result<Vec<LedgerEvent>, DomainError> {
        let items = self
            .store
            .query_all(&keys::day_timeline(ck, &day.to_string()), SkRange::All)
            .await?;
        day_partition_events(&items)
    }
}
