//! Who is on site (spec §10): the people whose latest kept event at an instant is an
//! open check-in at the site under the §6 pairing rules — the evacuation list.
//!
//! The rules are not restated here: the events are handed to [`analyse`] at the instant
//! asked for, and a person is present when the analysis leaves their last `in` open
//! ([`Unpaired::OnSite`], which already means "less than 16 h ago") at this site. A
//! person who checked in here and then out (or in) at another site has no open `in`
//! here; a duplicate is never the open `in`.

use crate::identity::pseudonym::PersonRef;
use crate::identity::PartnerId;
use crate::identity::{Orgnr, SiteId};
use crate::model::{Direction, LedgerEvent};
use crate::reads::analysis::{analyse, Unpaired, LOOKBACK, MAX_SESSION};
use crate::time::{format_rfc3339, Instant};
use serde::Serialize;
use std::collections::BTreeSet;

/// One person on site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PresentPerson {
    #[schema(value_type = String)]
    pub person_ref: PersonRef,
    pub person_name: String,
    pub person_id_masked: String,
    /// `null` when the event names no employer (the person works for the company).
    #[schema(value_type = Option<String>)]
    pub employer_orgnr: Option<Orgnr>,
    pub checked_in_at: String,
    #[schema(value_type = String)]
    pub partner_id: PartnerId,
    /// The open check-in's id at its partner.
    pub event_id: String,
}

/// `GET …/sites/{site_id}/present`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Present {
    #[schema(value_type = String)]
    pub site_id: SiteId,
    pub at: String,
    pub people: Vec<PresentPerson>,
}

/// The window of events that decides who is present at `at`: an open `in` is at most
/// 16 h old, and whether it is a duplicate depends on the events before it — the same
/// look-back every other view reads with. `at` itself is included.
pub fn window(at: &Instant) -> (Instant, Instant) {
    let lo = at.checked_sub_signed(LOOKBACK).unwrap_or(*at);
    let hi = at
        .checked_add_signed(chrono::Duration::microseconds(1))
        .unwrap_or(*at);
    (lo, hi)
}

/// Who is present at `site` at `at`, from the company's events around it (withdrawn
/// ones and those after `at` are left out here). Ordered by name, then `person_ref`.
pub fn present_at(
    events: Vec<LedgerEvent>,
    site: &SiteId,
    at: &Instant,
    employer: Option<&Orgnr>,
) -> Present {
    let recent = at.checked_sub_signed(MAX_SESSION).unwrap_or(*at);
    // Only people with a recent check-in here can be present: analyse just them.
    let candidates: BTreeSet<PersonRef> = events
        .iter()
        .filter(|e| {
            !e.withdrawn
                && e.direction == Direction::In
                && &e.site_id == site
                && e.occurred_at >= recent
                && e.occurred_at <= *at
        })
        .map(|e| e.person_ref.clone())
        .collect();
    let effective: Vec<LedgerEvent> = events
        .into_iter()
        .filter(|e| !e.withdrawn && e.occurred_at <= *at && candidates.contains(&e.person_ref))
        .collect();
    let analysis = analyse(&effective, at.with_timezone(&chrono::Utc));
    let mut people: Vec<PresentPerson> = analysis
        .unpaired
        .iter()
        .filter(|(_, why)| *why == Unpaired::OnSite)
        .map(|&(i, _)| &effective[i])
        .filter(|e| &e.site_id == site)
        .filter(|e| employer.is_none_or(|o| e.employer_orgnr.as_ref() == Some(o)))
        .map(|e| PresentPerson {
            person_ref: e.person_ref.clone(),
            person_name: e.person_name.clone(),
            person_id_masked: e.person.masked(),
            employer_orgnr: e.employer_orgnr.clone(),
            checked_in_at: format_rfc3339(&e.occurred_at),
            partner_id: e.partner_id.clone(),
            event_id: e.event_id.clone(),
        })
        .collect();
    people.sort_by(|a, b| {
        a.person_name
            .cmp(&b.person_name)
            .then_with(|| a.person_ref.cmp(&b.person_ref))
    });
    Present {
        site_id: site.clone(),
        at: format_rfc3339(at),
        people,
    }
}

#[cfg(test)]
mod tests;
