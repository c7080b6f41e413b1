//! A company's directories of people and sites, noted as events arrive (and the
//! employer's directory of the people their events name).

use super::{from_item, item_of, keys, Ledger};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::pseudonym::PersonRef;
use crate::identity::Orgnr;
use crate::model::LedgerEvent;
use crate::pagination::{Cursor, Page};
use crate::ports::{Condition, Item, SkRange, StoreError, WriteOp};
use crate::time::{sortable, Instant};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry in a person's directory of a company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonEntry {
    pub person_ref: PersonRef,
    pub person_name: String,
    pub person_id_masked: String,
    pub person: crate::identity::PersonId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteEntry {
    pub site_id: String,
    pub first_seen: Instant,
    pub last_seen: Instant,
}

/// The writes that note a person in the directory of the employer their event names
/// (none without `employer_orgnr`), and the employer on the person for the purge.
pub(crate) fn employer_directory_ops(
    ck: &CompanyKey,
    e: &LedgerEvent,
) -> Result<Vec<WriteOp>, DomainError> {
    let Some(employer) = e.employer_orgnr.as_ref().map(|o| o.to_string()) else {
        return Ok(Vec::new());
    };
    let entry = PersonEntry {
        person_ref: e.person_ref.clone(),
        person_name: e.person_name.clone(),
        person_id_masked: e.person.masked(),
        person: e.person.clone(),
    };
    let item = item_of(
        keys::employer_people(ck, &employer),
        e.person_ref.to_string(),
        &entry,
    )?
    .with("name_lc", e.person_name.to_lowercase());
    Ok(vec![
        WriteOp::put(item),
        WriteOp::put(Item::new(
            keys::person_employers(ck, &e.person_ref),
            employer,
        )),
    ])
}

impl Ledger {
    // --- directories --------------------------------------------------------------------

    /// Notes the people and sites of newly stored events in the company's directories.
    /// Idempotent, so a replayed batch mends what an interrupted one left out.
    pub async fn note_in_directories(&self, events: &[LedgerEvent]) -> Result<(), DomainError> {
        use std::collections::BTreeMap;
        let mut people: BTreeMap<(CompanyKey, PersonRef), &LedgerEvent> = BTreeMap::new();
        let mut employed: BTreeMap<(CompanyKey, String, PersonRef), &LedgerEvent> = BTreeMap::new();
        let mut sites: BTreeMap<(CompanyKey, String), (Instant, Instant)> = BTreeMap::new();
        for e in events {
            let ck = self.company_key(&e.company_orgnr);
            people.insert((ck.clone(), e.person_ref.clone()), e);
            if let Some(o) = &e.employer_orgnr {
                employed.insert((ck.clone(), o.to_string(), e.person_ref.clone()), e);
            }
            let span = sites
                .entry((ck, e.site_id.to_string()))
                .or_insert((e.occurred_at, e.occurred_at));
            if e.occurred_at < span.0 {
                span.0 = e.occurred_at;
            }
            if e.occurred_at > span.1 {
                span.1 = e.occurred_at;
            }
        }
        let mut ops: Vec<WriteOp> = Vec::new();
        for ((ck, person_ref), e) in people {
            let entry = PersonEntry {
                person_ref: person_ref.clone(),
                person_name: e.person_name.clone(),
                person_id_masked: e.person.masked(),
                person: e.person.clone(),
            };
            let item = item_of(keys::people(&ck), person_ref.to_string(), &entry)?
                .with("name_lc", e.person_name.to_lowercase());
            ops.push(WriteOp::put(item));
        }
        for ((ck, _, _), e) in employed {
            ops.extend(employer_directory_ops(&ck, e)?);
        }
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        for ((ck, site), (first, last)) in sites {
            self.widen_site(&ck, &site, first, last).await?;
        }
        Ok(())
    }

    /// Widens a site's first/last activity, retrying when a concurrent import got there.
    pub(super) async fn widen_site(
        &self,
        ck: &CompanyKey,
        site: &str,
        first: Instant,
        last: Instant,
    ) -> Result<(), DomainError> {
        for _ in 0..10 {
            let existing = self.store.get(&keys::sites(ck), site).await?;
            let (entry, condition, version) = match &existing {
                None => (
                    SiteEntry {
                        site_id: site.into(),
                        first_seen: first,
                        last_seen: last,
                    },
                    Condition::NotExists,
                    0,
                ),
                Some(item) => {
                    let mut e: SiteEntry = from_item(item)?;
                    let v = item.i64("version").unwrap_or(0);
                    if first >= e.first_seen && last <= e.last_seen {
                        return Ok(());
                    }
                    if first < e.first_seen {
                        e.first_seen = first;
                    }
                    if last > e.last_seen {
                        e.last_seen = last;
                    }
                    (
                        e,
                        Condition::AttrEquals("version".into(), Value::from(v)),
                        v + 1,
                    )
                }
            };
            let item = item_of(keys::sites(ck), site.into(), &entry)?
                .with("version", version)
                .with("first_sort", sortable(&entry.first_seen));
            match self
                .store
                .transact(vec![WriteOp::Put { item, condition }])
                .await
            {
                Ok(()) => return Ok(()),
                Err(StoreError::ConditionFailed(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::Unavailable(
            "site directory is busy; retry".into(),
        ))
    }

    /// The company's people; with `employer`, those whose events name that employer.
    pub async fn people(
        &self,
        ck: &CompanyKey,
        q: Option<&str>,
        employer: Option<&Orgnr>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<PersonEntry>, DomainError> {
        let filter = q
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| ("name_lc".to_string(), s.to_lowercase()));
        let pk = match employer {
            Some(o) => keys::employer_people(ck, &o.to_string()),
            None => keys::people(ck),
        };
        self.page(pk, SkRange::All, cursor, limit, filter).await
    }

    pub async fn person(
        &self,
        ck: &CompanyKey,
        person_ref: &PersonRef,
    ) -> Result<Option<PersonEntry>, DomainError> {
        self.store
            .get(&keys::people(ck), person_ref)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    pub async fn sites(
        &self,
        ck: &CompanyKey,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<SiteEntry>, DomainError> {
        self.page(keys::sites(ck), SkRange::All, cursor, limit, None)
            .await
    }

    pub async fn site(
        &self,
        ck: &CompanyKey,
        site_id: &str,
    ) -> Result<Option<SiteEntry>, DomainError> {
        self.store
            .get(&keys::sites(ck), site_id)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }
}
