//! Test data built from the domain's own types (feature `test-support`, with the
//! in-memory store): the card event that unit tests and benchmarks build their ledgers
//! from. Personnummer and generated feeds are in `stamp-testdata`.

use crate::identity::{Orgnr, PersonId, SiteId};
use crate::model::{Direction, LedgerEvent, Source};
use crate::time::Instant;
use chrono::Utc;

/// The company every built event belongs to unless a test says otherwise.
pub const ORGNR: &str = "5569999997";

/// A card check-in or check-out by `person` at `site`, recorded and received at `at`,
/// for partner `p1` and the company [`ORGNR`] ("Bygg AB"), never corrected. Override
/// any other field with struct update syntax: `LedgerEvent { partner_id, ..card_event(..) }`.
pub fn card_event(
    event_id: impl Into<String>,
    person_ref: impl Into<String>,
    person: PersonId,
    person_name: impl Into<String>,
    site: SiteId,
    direction: Direction,
    at: Instant,
) -> LedgerEvent {
    LedgerEvent {
        partner_id: pid("p1"),
        event_id: event_id.into(),
        company_orgnr: Orgnr::parse(ORGNR).expect("a valid orgnr"),
        company_name: "Bygg AB".into(),
        person_ref: crate::identity::pseudonym::PersonRef::from_stored(person_ref),
        person,
        person_name: person_name.into(),
        site_id: site,
        direction,
        occurred_at: at,
        source: Source::Card,
        recorded_by: None,
        card_number: None,
        employer_orgnr: None,
        recorded_at: at,
        first_occurred_at: at,
        received_at: at.with_timezone(&Utc),
        withdrawn: false,
        corrections: 0,
    }
}

/// A partner id of test data, parsed as the edge would (panics on an invalid one).
pub fn pid(id: &str) -> crate::identity::PartnerId {
    crate::identity::PartnerId::parse(id).expect("a valid partner id")
}
