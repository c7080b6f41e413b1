//! The phases that index a delivery: uncorrected events in full transactions, then
//! corrections one by one, then the run's directories and answer; streamed deliveries
//! and replays from the archive go chunk by chunk through the same phases.

use super::{
    conflict, id_hash, raw_at, raw_orgnr, read_chunks, ArchivedDelivery, BatchAnswer,
    DeliveryFormat, EnvelopeError, Fate, ImportService, OwnedRule, RawEvent, Receipt, Run,
    StreamPhase, Touched, STREAM_CHUNK_EVENTS,
};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::Orgnr;
use crate::intake::directories::list_first;
use crate::model::{EventFields, LedgerEvent};
use crate::time::{local_date, Instant};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::HashMap;

impl ImportService {
    /// Validates a chunk's events and stores its uncorrected ones; corrections wait for
    /// [`ImportService::correction_phase`].
    pub(crate) async fn plain_phase(
        &self,
        run: &mut Run,
        chunk: &[(usize, RawEvent)],
    ) -> Result<(), DomainError> {
        let mut firsts: HashMap<usize, EventFields> = HashMap::new();
        let mut to_store: Vec<(usize, EventFields)> = Vec::new();
        let mut repeats: Vec<(usize, EventFields)> = Vec::new();
        let mut fates: Vec<(usize, Fate)> = Vec::new();
        for (i, raw) in chunk {
            let Some(checked) = self.check(run, raw).await? else {
                continue;
            };
            if let Some(o) = raw_orgnr(raw) {
                run.health.entry(o).or_default().0 += 1;
            }
            let f = match checked {
                Err(r) => {
                    fates.push((*i, Fate::Rejected(r)));
                    continue;
                }
                Ok(f) => f,
            };
            let h = id_hash(&f.event_id);
            match run.first.get(&h).copied() {
                None => {
                    run.first.insert(h, (*i, f.corrects.is_some()));
                    if f.corrects.is_none() {
                        to_store.push((*i, f.clone()));
                    }
                    firsts.insert(*i, f);
                }
                // The same event id again in this delivery: a correction is judged in its
                // phase; a plain event against the first occurrence.
                Some(_) if f.corrects.is_some() => {}
                Some((_, true)) => fates.push((*i, Fate::Rejected(conflict()))),
                Some((j, false)) => match firsts.get(&j) {
                    Some(first) if first.same_delivery_as(&f) => {
                        fates.push((*i, Fate::Duplicate(self.first_effective(&run.ctx, &f))))
                    }
                    Some(_) => fates.push((*i, Fate::Rejected(conflict()))),
                    // The first is in an earlier chunk and stored by now: judge against it.
                    None => repeats.push((*i, f)),
                },
            }
        }

        // The day index and the directories first: a reader finds every stored event's
        // day, person and site at every moment.
        let events = to_store
            .iter()
            .map(|(_, f)| self.first_effective(&run.ctx, f))
            .collect();
        list_first(&self.ledger, &mut run.listed, events).await?;
        let mut days: Touched = Touched::new();
        for (_, f) in &to_store {
            days.entry(self.ledger.company_key(&f.company_orgnr))
                .or_default()
                .insert(local_date(&f.occurred_at));
        }
        for (ck, d) in &days {
            self.ledger.note_days(ck, d).await?;
        }
        let ctx = run.ctx.clone();
        let chunks = self.transactions(to_store);
        let stored: Vec<Vec<(usize, Fate)>> = stream::iter(chunks)
            .map(|c| self.store_plain(&ctx, c))
            .buffer_unordered(run.parallel)
            .try_collect()
            .await?;
        fates.extend(stored.into_iter().flatten());
        for (i, f) in repeats {
            fates.push((i, self.judge_existing(&ctx, &f, false).await?));
        }

        let mut touched = Touched::new();
        for (i, fate) in fates {
            let raw = raw_at(chunk, i);
            self.apply(run, &mut touched, i, raw, fate);
        }
        self.mark(run, touched).await
    }

    /// Applies a chunk's corrections in delivery order (after every plain event of the
    /// delivery has been stored).
    pub(crate) async fn correction_phase(
        &self,
        run: &mut Run,
        chunk: &[(usize, RawEvent)],
    ) -> Result<(), DomainError> {
        let mut firsts: HashMap<usize, EventFields> = HashMap::new();
        let mut touched = Touched::new();
        let ctx = run.ctx.clone();
        for (i, raw) in chunk {
            let Some(Ok(f)) = self.check(run, raw).await? else {
                continue;
            };
            if f.corrects.is_none() {
                continue;
            }
            let (j, first_is_correction) = run
                .first
                .get(&id_hash(&f.event_id))
                .copied()
                .unwrap_or((*i, true));
            let fate = if j == *i {
                let fate = self.store_correction(&ctx, &f).await?;
                firsts.insert(*i, f);
                fate
            } else if !first_is_correction {
                Fate::Rejected(conflict())
            } else {
                match firsts.get(&j) {
                    Some(first) if first.same_delivery_as(&f) => {
                        Fate::Duplicate(self.first_effective(&ctx, &f))
                    }
                    Some(_) => Fate::Rejected(conflict()),
                    None => self.judge_existing(&ctx, &f, false).await?,
                }
            };
            self.apply(run, &mut touched, *i, raw, fate);
        }
        self.mark(run, touched).await
    }

    /// Notes the delivery's people, sites and partner health, and answers it.
    pub(crate) async fn finish(&self, run: &mut Run) -> Result<BatchAnswer, DomainError> {
        // What the chunks did not list before their events: corrections' changes, and a
        // person's last name when an earlier event of theirs was listed.
        let listed = &run.listed;
        let people: Vec<(CompanyKey, LedgerEvent)> = std::mem::take(&mut run.people)
            .into_iter()
            .filter(|((ck, _), (_, e))| !listed.has_person(ck, e))
            .map(|((ck, _), (_, e))| (ck, e))
            .collect();
        let sites: Vec<(CompanyKey, String, Instant, Instant)> = std::mem::take(&mut run.sites)
            .into_iter()
            .filter(|((ck, site), (first, last))| !listed.covers_site(ck, site, *first, *last))
            .map(|((ck, site), (first, last))| (ck, site, first, last))
            .collect();
        self.ledger.note_people_and_sites(&people, &sites).await?;
        // Delivery health per company that has activated Stamp.
        for (orgnr, (received, refused)) in std::mem::take(&mut run.health) {
            let active = run
                .activations
                .get(&orgnr)
                .and_then(Option::as_ref)
                .is_some_and(|a| run.active(a));
            if active {
                let ck = self.ledger.company_key(&orgnr);
                // Bookkeeping, not the delivery: its events are stored, so a failure here
                // does not fail the push (a rebuild derives the row again from the archive).
                if let Err(e) = self
                    .ledger
                    .note_delivery(
                        &ck,
                        &run.ctx.partner_id,
                        &run.ctx.batch_id,
                        received,
                        refused,
                        run.ctx.received_at,
                    )
                    .await
                {
                    tracing::warn!(partner_id = %run.ctx.partner_id, error = %e, "partner health not noted");
                }
            }
        }
        run.rejected.sort_by_key(|r| r.index);
        if let Some(cap) = run.rejected_cap {
            run.rejected.truncate(cap);
        }
        Ok(BatchAnswer {
            batch_id: run.ctx.batch_id.clone(),
            archive: ArchivedDelivery {
                key: run.ctx.archive_key.clone(),
                sha256: run.sha256.clone(),
            },
            accepted: run.accepted as u64,
            duplicates: run.duplicates as u64,
            rejected: std::mem::take(&mut run.rejected),
            rejected_count: run.rejected_cap.map(|_| run.rejected_total as u64),
        })
    }

    // --- streamed deliveries ------------------------------------------------------------

    /// Indexes an archived delivery by streaming it twice at most: the plain phase over
    /// every chunk, then (only if it holds any) the corrections phase.
    pub(crate) async fn index_archived(
        &self,
        run: &mut Run,
        key: &str,
        format: DeliveryFormat,
        rule: &OwnedRule,
    ) -> Result<(), DomainError> {
        let corrections = self
            .stream_phase(run, key, format, rule, StreamPhase::Plain)
            .await?;
        if corrections > 0 {
            self.stream_phase(run, key, format, rule, StreamPhase::Corrections)
                .await?;
        }
        Ok(())
    }

    /// One pass over an archived delivery; answers how many of its events name a
    /// `corrects`.
    pub(super) async fn stream_phase(
        &self,
        run: &mut Run,
        key: &str,
        format: DeliveryFormat,
        rule: &OwnedRule,
        phase: StreamPhase,
    ) -> Result<usize, DomainError> {
        let object = self.archive.read(key).await?;
        let mut reading = read_chunks(object, format, rule.clone(), STREAM_CHUNK_EVENTS, phase);
        while let Some(chunk) = reading.chunks.recv().await {
            match phase {
                StreamPhase::Plain => self.plain_phase(run, &chunk).await?,
                StreamPhase::Corrections => self.correction_phase(run, &chunk).await?,
            }
        }
        let done = reading.finished().await?;
        match done.envelope {
            Ok(_) => {}
            Err(EnvelopeError::Aborted(why)) => {
                return Err(DomainError::Unavailable(format!(
                    "reading archived {key}: {why}"
                )))
            }
            Err(e) => {
                return Err(DomainError::Internal(format!(
                    "archived delivery {key} became unreadable: {e}"
                )))
            }
        }
        if done.sha256 != run.sha256 {
            return Err(DomainError::Internal(format!(
                "archived delivery {key} has sha256 {}, expected {}",
                done.sha256, run.sha256
            )));
        }
        Ok(done.corrections)
    }

    /// Replays one archived delivery into this service's (rebuilt) index: only the
    /// company's events, with the receipt's time, batch id and archive key, so the
    /// records come out as they were written when it was received.
    pub async fn replay(&self, receipt: &Receipt, company: &Orgnr) -> Result<(), DomainError> {
        let format = DeliveryFormat::parse(&receipt.format).ok_or_else(|| {
            DomainError::Internal(format!(
                "receipt names an unknown format {:?}",
                receipt.format
            ))
        })?;
        let rule = match format {
            DeliveryFormat::Json => OwnedRule::Declared(receipt.batch_id.clone()),
            _ => OwnedRule::Given(receipt.batch_id.clone()),
        };
        let mut run = Run::new(
            &receipt.partner_id,
            &receipt.batch_id,
            &receipt.sha256,
            receipt.received_at,
        )
        .streamed(0)
        .replaying(company.clone());
        run.set_archive_key(&receipt.archive_key);
        self.index_archived(&mut run, &receipt.archive_key, format, &rule)
            .await?;
        self.finish(&mut run).await?;
        Ok(())
    }
}
