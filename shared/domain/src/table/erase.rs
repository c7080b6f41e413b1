//! Erasing what the retention purge found expired: events from every index that names
//! them, and a person from the directories once nothing of theirs is left.

use super::{day_key, day_pk, keys, legacy_site_key, nested, person_key, Ledger};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::pseudonym::PersonRef;
use crate::model::LedgerEvent;
use crate::ports::{Condition, Item, Query, SkRange, WriteOp};
use serde_json::Value;

impl Ledger {
    /// Erases events whose retention has ended (spec §2.3: purged from the index once
    /// kept as long as the law requires): their timeline entries (and day-chunk
    /// entries), effective state, record, and every correction with its record. The
    /// writes go in an order after which an interruption leaves each event still
    /// visible in its day, so the next run finds it again: uncorrected events lose
    /// their other items before their chunk entry; corrected ones lose their chunked
    /// first version (hidden already) before their own entries.
    pub async fn purge_events(
        &self,
        ck: &CompanyKey,
        events: &[LedgerEvent],
    ) -> Result<(), DomainError> {
        use std::collections::{BTreeMap, HashSet};
        let mut first: Vec<WriteOp> = Vec::new();
        let mut last: Vec<WriteOp> = Vec::new();
        let mut chunked: BTreeMap<String, HashSet<(String, String)>> = BTreeMap::new();
        for e in events {
            let ops = if e.corrections == 0 {
                &mut first
            } else {
                &mut last
            };
            let delete = |(pk, sk): (String, String)| WriteOp::Delete {
                pk,
                sk,
                condition: Condition::None,
            };
            ops.push(delete(person_key(ck, e)));
            ops.push(delete(day_key(ck, e)));
            ops.push(delete(legacy_site_key(ck, e)));
            let pk = keys::event(&e.partner_id, &e.event_id);
            ops.push(delete((pk.clone(), keys::EFFECTIVE.into())));
            ops.push(delete((pk.clone(), keys::RECORD.into())));
            for c in self.corrections(&e.partner_id, &e.event_id).await? {
                ops.push(delete((pk.clone(), keys::correction(c.seq))));
                ops.push(delete((
                    keys::event(&c.partner_id, &c.event_id),
                    keys::RECORD.into(),
                )));
            }
            // The first version's day holds it in a chunk (superseded once corrected).
            let first_pk = day_pk(ck, &e.first_occurred_at);
            if e.corrections > 0 {
                ops.push(delete((
                    first_pk.clone(),
                    keys::superseded(&e.partner_id, &e.event_id),
                )));
            }
            chunked
                .entry(first_pk)
                .or_default()
                .insert((e.partner_id.to_string(), e.event_id.clone()));
        }
        let mut chunk_ops = Vec::new();
        for (pk, gone) in chunked {
            let chunks = self
                .store
                .query_all(&pk, SkRange::Prefix(keys::DAY_CHUNK_PREFIX.into()))
                .await?;
            for chunk in chunks {
                let events: Vec<Value> = nested(&chunk, "events")?;
                let kept: Vec<Value> = events
                    .iter()
                    .filter(|e| {
                        let key = (
                            e["partner_id"].as_str().unwrap_or_default().to_string(),
                            e["event_id"].as_str().unwrap_or_default().to_string(),
                        );
                        !gone.contains(&key)
                    })
                    .cloned()
                    .collect();
                if kept.len() == events.len() {
                    continue;
                }
                chunk_ops.push(if kept.is_empty() {
                    WriteOp::Delete {
                        pk: chunk.pk,
                        sk: chunk.sk,
                        condition: Condition::None,
                    }
                } else {
                    WriteOp::put(Item::new(chunk.pk, chunk.sk).with("events", Value::Array(kept)))
                });
            }
        }
        // Chunks go one per transaction: each may be large.
        for chunk in first.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        for op in chunk_ops {
            self.store.transact(vec![op]).await?;
        }
        for chunk in last.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// Removes a person from the directory once no event of theirs is left.
    pub async fn forget_person_if_gone(
        &self,
        ck: &CompanyKey,
        person_ref: &PersonRef,
    ) -> Result<bool, DomainError> {
        let mut q = Query::new(keys::person_timeline(ck, person_ref), SkRange::All);
        q.limit = 1;
        if !self.store.query(q).await?.items.is_empty() {
            return Ok(false);
        }
        let mut ops = vec![WriteOp::Delete {
            pk: keys::people(ck),
            sk: person_ref.to_string(),
            condition: Condition::None,
        }];
        let employers = self
            .store
            .query_all(&keys::person_employers(ck, person_ref), SkRange::All)
            .await?;
        for e in employers {
            ops.push(WriteOp::Delete {
                pk: keys::employer_people(ck, &e.sk),
                sk: person_ref.to_string(),
                condition: Condition::None,
            });
            ops.push(WriteOp::Delete {
                pk: e.pk,
                sk: e.sk,
                condition: Condition::None,
            });
        }
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        Ok(true)
    }
}
