//! The people, employer and site directories of a delivery, written *before* its events
//! (like the day index): a reader finds the person and site of every stored event at
//! every moment, also while an import runs or after it was interrupted, so every read
//! agrees with the others. An interruption leaves at most a directory entry whose events
//! are not stored yet; the partner's retry stores them.
//!
//! [`Listed`] remembers what a run has written, so each chunk writes only what is new
//! and the end of the delivery only what its corrections changed.

use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::pseudonym::PersonRef;
use crate::model::LedgerEvent;
use crate::table::Ledger;
use crate::time::Instant;
use std::collections::{HashMap, HashSet};

/// What one run has written to the directories so far.
#[derive(Default)]
pub(crate) struct Listed {
    /// (company key, person_ref) → the name written.
    names: HashMap<(CompanyKey, PersonRef), String>,
    /// (company key, employer orgnr, person_ref).
    employers: HashSet<(CompanyKey, String, PersonRef)>,
    /// (company key, site id) → the span written.
    sites: HashMap<(CompanyKey, String), (Instant, Instant)>,
}

impl Listed {
    /// Whether the person's entry (with this name) is written.
    pub(crate) fn has_person(&self, ck: &CompanyKey, e: &LedgerEvent) -> bool {
        self.names
            .get(&(ck.clone(), e.person_ref.clone()))
            .is_some_and(|n| *n == e.person_name)
            && e.employer_orgnr.as_ref().is_none_or(|o| {
                self.employers
                    .contains(&(ck.clone(), o.to_string(), e.person_ref.clone()))
            })
    }

    /// Whether the site's written span already covers `[first, last]`.
    pub(crate) fn covers_site(
        &self,
        ck: &CompanyKey,
        site: &str,
        first: Instant,
        last: Instant,
    ) -> bool {
        self.sites
            .get(&(ck.clone(), site.to_string()))
            .is_some_and(|(f, l)| *f <= first && *l >= last)
    }

    /// Notes what [`Ledger::note_in_directories`] wrote for `events` (in its order: the
    /// last event of a person gives the name).
    fn add(&mut self, ck_of: impl Fn(&LedgerEvent) -> CompanyKey, events: &[LedgerEvent]) {
        for e in events {
            let ck = ck_of(e);
            self.names
                .insert((ck.clone(), e.person_ref.clone()), e.person_name.clone());
            if let Some(o) = &e.employer_orgnr {
                self.employers
                    .insert((ck.clone(), o.to_string(), e.person_ref.clone()));
            }
            let span = self
                .sites
                .entry((ck, e.site_id.to_string()))
                .or_insert((e.occurred_at, e.occurred_at));
            span.0 = span.0.min(e.occurred_at);
            span.1 = span.1.max(e.occurred_at);
        }
    }
}

/// Writes the directory entries of `events` (about to be stored) that the run has not
/// written yet.
pub(crate) async fn list_first(
    ledger: &Ledger,
    listed: &mut Listed,
    events: Vec<LedgerEvent>,
) -> Result<(), DomainError> {
    let new: Vec<LedgerEvent> = events
        .into_iter()
        .filter(|e| {
            let ck = ledger.company_key(&e.company_orgnr);
            !listed.has_person(&ck, e)
                || !listed.covers_site(&ck, e.site_id.as_str(), e.occurred_at, e.occurred_at)
        })
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    ledger.note_in_directories(&new).await?;
    listed.add(|e| ledger.company_key(&e.company_orgnr), &new);
    Ok(())
}
