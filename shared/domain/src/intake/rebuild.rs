//! Rebuilding a company's index from the archive (spec §5: the archive is the system of
//! record and the index can be rebuilt from it), and checking a rebuilt index against
//! the live one.
//!
//! Every delivery is archived with a *receipt* (partner, batch id, envelope, receipt
//! time, hash, the companies it names) before any of it is indexed. A rebuild lists
//! the receipts, keeps those naming the company, and replays them in the order they were
//! received through the same import path, with each delivery's original receipt time:
//! defaulted `recorded_at`s, records, corrections and their history come out as they
//! were; the pseudonym key makes the `person_ref`s the same.
//!
//! Administration (partners, activation, grants) is not in the archive: a rebuild needs
//! it in the target store first ([`copy_administration`]); events are indexed only as
//! the company's activation allowed when they were received.

use crate::error::DomainError;
use crate::identity::pseudonym::PersonRef;
use crate::identity::Orgnr;
use crate::identity::PartnerId;
use crate::intake::{ImportService, Receipt, RECEIPTS_PREFIX};
use crate::ports::{Archive, Item};
use crate::table::{keys, Ledger};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct RebuildSummary {
    /// Receipts in the archive (all companies).
    pub receipts: usize,
    /// Deliveries naming the company, replayed.
    pub replayed: usize,
}

/// Every receipt in the archive, in the order the deliveries were received.
pub async fn receipts(archive: &dyn Archive) -> Result<Vec<Receipt>, DomainError> {
    let mut out = Vec::new();
    for key in archive.list(RECEIPTS_PREFIX).await? {
        let bytes = archive.get(&key).await?;
        let r: Receipt = serde_json::from_slice(&bytes)
            .map_err(|e| DomainError::Internal(format!("receipt {key} is unreadable: {e}")))?;
        out.push(r);
    }
    out.sort_by(|a, b| (a.received_at, &a.archive_key).cmp(&(b.received_at, &b.archive_key)));
    Ok(out)
}

/// Replays every archived delivery naming the company into `import`'s store.
pub async fn rebuild_company(
    import: &ImportService,
    orgnr: &Orgnr,
) -> Result<RebuildSummary, DomainError> {
    let ck = import.ledger().company_key(orgnr);
    let all = receipts(import.archive().as_ref()).await?;
    let mut summary = RebuildSummary {
        receipts: all.len(),
        replayed: 0,
    };
    for r in all.iter().filter(|r| r.companies.iter().any(|c| *c == ck)) {
        import.replay(r, orgnr).await?;
        summary.replayed += 1;
    }
    tracing::info!(company = %ck, receipts = summary.receipts, replayed = summary.replayed, "company index rebuilt from the archive");
    Ok(summary)
}

/// Copies what a rebuild needs besides the archive: the partners, the company's
/// activation and list entry, and its grants.
pub async fn copy_administration(
    from: &Ledger,
    to: &Ledger,
    orgnr: &Orgnr,
) -> Result<(), DomainError> {
    let ck = from.company_key(orgnr);
    let mut items = from.partition(keys::PARTNERS).await?;
    items.extend(from.item(keys::COMPANIES, &ck).await?);
    items.extend(from.item(&keys::company(&ck), keys::ACTIVATION).await?);
    items.extend(from.partition(&keys::users(&ck)).await?);
    to.put_items(items).await
}

/// Attributes that legitimately differ between two indexes of the same deliveries: a
/// site entry's version counts how often it was widened, which depends on chunking.
fn comparable(pk: &str, item: &Item, sites_pk: &str) -> Map<String, Value> {
    let mut attrs = item.attrs.clone();
    if pk == sites_pk {
        attrs.remove("version");
    }
    attrs
}

async fn compare_partition(
    live: &Ledger,
    rebuilt: &Ledger,
    pk: &str,
    sites_pk: &str,
    diffs: &mut Vec<String>,
) -> Result<(Vec<Item>, Vec<Item>), DomainError> {
    let a = live.partition(pk).await?;
    let b = rebuilt.partition(pk).await?;
    let am: BTreeMap<&str, Map<String, Value>> = a
        .iter()
        .map(|i| (i.sk.as_str(), comparable(pk, i, sites_pk)))
        .collect();
    let bm: BTreeMap<&str, Map<String, Value>> = b
        .iter()
        .map(|i| (i.sk.as_str(), comparable(pk, i, sites_pk)))
        .collect();
    for (sk, attrs) in &am {
        match bm.get(sk) {
            None => diffs.push(format!("{pk} {sk}: only in the live index")),
            Some(other) if other != attrs => {
                let mut names: BTreeSet<&String> = attrs.keys().chain(other.keys()).collect();
                names.retain(|n| attrs.get(*n) != other.get(*n));
                diffs.push(format!("{pk} {sk}: differs in {names:?}"));
            }
            Some(_) => {}
        }
    }
    for sk in bm.keys().filter(|sk| !am.contains_key(*sk)) {
        diffs.push(format!("{pk} {sk}: only in the rebuilt index"));
    }
    Ok((a, b))
}

/// Compares a company's index in two stores: directories, the day index, every person
/// timeline item by item, every day's events, and every event's record, effective state
/// and corrections. Answers the differences (none when they are equal). Derived
/// statistics (dirty marks and day aggregates) are left out: they are recomputed from the
/// timelines.
pub async fn compare_company(
    live: &Ledger,
    rebuilt: &Ledger,
    orgnr: &Orgnr,
) -> Result<Vec<String>, DomainError> {
    Ok(compare_company_counted(live, rebuilt, orgnr).await?.0)
}

/// [`compare_company`], also telling how many items (of either index) were compared.
/// The day timelines compared are those of the days either index lists as holding
/// events, so the work follows the data, not the calendar span.
pub async fn compare_company_counted(
    live: &Ledger,
    rebuilt: &Ledger,
    orgnr: &Orgnr,
) -> Result<(Vec<String>, usize), DomainError> {
    let ck = live.company_key(orgnr);
    let sites_pk = keys::sites(&ck);
    let mut diffs = Vec::new();
    // Partner health by what it answers: one index may have folded batch rows into
    // rollups that the other still holds row by row (see `table::health`).
    let now = chrono::Utc::now();
    let (h1, h2) = (
        live.partner_health(&ck, now).await?,
        rebuilt.partner_health(&ck, now).await?,
    );
    // As answered (the kept delivery days behind `silent_since` are bounded in a rollup).
    if serde_json::to_value(&h1).ok() != serde_json::to_value(&h2).ok() {
        diffs.push(format!(
            "partner health differs: live {h1:?}, rebuilt {h2:?}"
        ));
    }
    let mut compared = h1.len().max(h2.len());
    let mut count = |(a, b): (Vec<Item>, Vec<Item>)| {
        compared += a.len().max(b.len());
        (a, b)
    };
    let (p1, p2) =
        count(compare_partition(live, rebuilt, &keys::people(&ck), &sites_pk, &mut diffs).await?);
    count(compare_partition(live, rebuilt, &sites_pk, &sites_pk, &mut diffs).await?);
    let (d1, d2) = count(
        compare_partition(live, rebuilt, &keys::data_days(&ck), &sites_pk, &mut diffs).await?,
    );

    let people: BTreeSet<String> = p1.iter().chain(&p2).map(|i| i.sk.clone()).collect();
    for p in people.into_iter().map(PersonRef::from_stored) {
        count(
            compare_partition(
                live,
                rebuilt,
                &keys::person_timeline(&ck, &p),
                &sites_pk,
                &mut diffs,
            )
            .await?,
        );
    }
    // The days either index lists as holding events, not every calendar day of the span.
    // Day partitions are compared by the events they hold: how new events were grouped
    // into day chunks follows the transactions of each import, which a replay of one
    // company's deliveries need not repeat.
    let days: BTreeSet<chrono::NaiveDate> = d1
        .iter()
        .chain(&d2)
        .filter_map(|i| i.sk.parse().ok())
        .collect();
    let mut events: BTreeSet<(PartnerId, String)> = BTreeSet::new();
    let mut day_events_compared = 0;
    for day in days {
        let by_key = |list: Vec<crate::model::LedgerEvent>| {
            list.into_iter()
                .map(|e| {
                    let v = serde_json::to_value(&e).unwrap_or_default();
                    ((e.partner_id, e.event_id), v)
                })
                .collect::<BTreeMap<(PartnerId, String), Value>>()
        };
        let a = by_key(live.day_events(&ck, day).await?);
        let b = by_key(rebuilt.day_events(&ck, day).await?);
        day_events_compared += a.len().max(b.len());
        for (k, v) in &a {
            match b.get(k) {
                None => diffs.push(format!(
                    "day {day} event {}/{}: only in the live index",
                    k.0, k.1
                )),
                Some(w) if w != v => {
                    diffs.push(format!("day {day} event {}/{}: differs", k.0, k.1))
                }
                Some(_) => {}
            }
        }
        for k in b.keys().filter(|k| !a.contains_key(*k)) {
            diffs.push(format!(
                "day {day} event {}/{}: only in the rebuilt index",
                k.0, k.1
            ));
        }
        events.extend(a.into_keys().chain(b.into_keys()));
    }
    let mut corrections: BTreeSet<(PartnerId, String)> = BTreeSet::new();
    for (p, id) in &events {
        let (a, b) = count(
            compare_partition(live, rebuilt, &keys::event(p, id), &sites_pk, &mut diffs).await?,
        );
        for item in a
            .iter()
            .chain(&b)
            .filter(|i| i.sk.starts_with(keys::CORRECTION_PREFIX))
        {
            if let Some(c) = item.str("event_id") {
                corrections.insert((p.clone(), c.to_string()));
            }
        }
    }
    for (p, id) in corrections {
        count(
            compare_partition(live, rebuilt, &keys::event(&p, &id), &sites_pk, &mut diffs).await?,
        );
    }
    Ok((diffs, compared + day_events_compared))
}
