//! What a company reads: its sites, its people, and registrations per person and per
//! site as work sessions, unpaired events and duplicates (spec §4), optionally with the
//! history of corrections.

use crate::auth::{require_company_and, Claims, CompanyAccess};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::pseudonym::PersonRef;
use crate::identity::PartnerId;
use crate::identity::{Orgnr, PersonId, SiteId};
use crate::model::LedgerEvent;
use crate::pagination::{Cursor, Page};
use crate::ports::Clock;
use crate::reads::analysis::{analyse, Unpaired, LOOKAHEAD, LOOKBACK};
use crate::reads::present::{self, Present};
use crate::table::{CorrectionEntry, Ledger, PersonEntry, SiteEntry};
use crate::time::{sortable, Instant};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

mod anomalies;
pub use anomalies::{AnomalyQuery, FoundAnomaly};

/// `[from, to)`; absent ends are open.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub from: Instant,
    pub to: Instant,
}

impl Range {
    /// `from`/`to` as RFC 3339 (absent: the ends of the ledger's domain), both in
    /// `[2016-01-01, now + 1 year]` with `from < to` (spec §2.7).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Range, DomainError> {
        let parse = |field: &str, raw: Option<&str>| {
            raw.map(|r| {
                crate::time::parse_rfc3339(r)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|e| DomainError::invalid(field, e))
            })
            .transpose()
        };
        let (from, to) = crate::time::query_range(parse("from", from)?, parse("to", to)?, now)
            .map_err(|(field, e)| DomainError::invalid(field, e))?;
        Ok(Range {
            from: crate::time::to_fixed(from),
            to: crate::time::to_fixed(to),
        })
    }

    fn contains(&self, t: &Instant) -> bool {
        *t >= self.from && *t < self.to
    }

    fn widened(&self) -> (Instant, Instant) {
        let lo = self.from.checked_sub_signed(LOOKBACK).unwrap_or(self.from);
        let hi = self.to.checked_add_signed(LOOKAHEAD).unwrap_or(self.to);
        (lo, hi)
    }
}

pub struct RegistrationQuery {
    pub range: Range,
    pub history: bool,
    /// Only events whose `employer_orgnr` is this (spec §4 `employer=`).
    pub employer: Option<Orgnr>,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

#[derive(Clone)]
pub struct Queries {
    ledger: Ledger,
    clock: Arc<dyn Clock>,
}

/// An event as a read shows it; with `history=true`, its corrections too.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub event: LedgerEvent,
    pub corrections: Option<Vec<CorrectionEntry>>,
}

/// A page of registrations (spec §4): every effective event in the range once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Registrations {
    /// `(check_in, check_out)`.
    pub sessions: Vec<(Shown, Shown)>,
    pub unpaired: Vec<(Shown, Unpaired)>,
    /// `(duplicate, the event it duplicates)`.
    pub duplicates: Vec<(Shown, LedgerEvent)>,
    /// With history: the events a correction withdrew.
    pub withdrawn: Option<Vec<Shown>>,
    pub next: Option<Cursor>,
}

/// One listed thing: a session, an unpaired event or a duplicate, ordered by its first
/// event.
struct Entry {
    order: String,
    kind: EntryKind,
}

enum EntryKind {
    Session {
        check_in: LedgerEvent,
        check_out: LedgerEvent,
    },
    Unpaired {
        event: LedgerEvent,
        reason: Unpaired,
    },
    Duplicate {
        event: LedgerEvent,
        of: LedgerEvent,
    },
    Withdrawn {
        event: LedgerEvent,
    },
}

fn order_key(e: &LedgerEvent) -> String {
    format!(
        "{}#{}#{}",
        sortable(&e.occurred_at),
        e.partner_id,
        e.event_id
    )
}

impl Queries {
    pub fn new(ledger: Ledger, clock: Arc<dyn Clock>) -> Self {
        Queries { ledger, clock }
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The company check with the route's read beside it ([`require_company_and`]):
    /// `read` gets the company's key and must only read.
    async fn company_read<'a, T, F>(
        &'a self,
        claims: &'a Claims,
        orgnr: &'a Orgnr,
        read: impl FnOnce(CompanyKey) -> F,
    ) -> Result<T, DomainError>
    where
        F: std::future::Future<Output = Result<T, DomainError>> + 'a,
    {
        let ck = self.ledger.company_key(orgnr);
        require_company_and(&self.ledger, claims, orgnr, CompanyAccess::Read, read(ck)).await
    }

    pub async fn sites(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<SiteEntry>, DomainError> {
        self.company_read(claims, orgnr, |ck| async move {
            self.ledger.sites(&ck, cursor, limit).await
        })
        .await
    }

    pub async fn people(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        q: Option<&str>,
        employer: Option<&Orgnr>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<PersonEntry>, DomainError> {
        self.company_read(claims, orgnr, |ck| async move {
            self.ledger.people(&ck, q, employer, cursor, limit).await
        })
        .await
    }

    /// Finds the `person_ref` for a full person id (sent in a body, never in a URL).
    pub async fn find_person(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        person: &PersonId,
    ) -> Result<PersonEntry, DomainError> {
        let person_ref = self.ledger.pseudonyms().person_ref(orgnr, person);
        self.company_read(claims, orgnr, |ck| async move {
            self.ledger.person(&ck, &person_ref).await?.ok_or_else(|| {
                DomainError::NotFound("the company's ledger holds no one with that id".into())
            })
        })
        .await
    }

    pub async fn person_registrations(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        person_ref: &PersonRef,
        q: &RegistrationQuery,
    ) -> Result<Registrations, DomainError> {
        let (lo, hi) = q.range.widened();
        // The company check, the directory check and the timeline at once: one round
        // trip (and one more for correction histories the page shows).
        let events = self
            .company_read(claims, orgnr, |ck| async move {
                let (known, events) = futures::try_join!(
                    self.ledger.person(&ck, person_ref),
                    self.ledger.person_events(&ck, person_ref, &lo, &hi),
                )?;
                if known.is_none() {
                    return Err(DomainError::NotFound(
                        "no such person_ref in this company".into(),
                    ));
                }
                Ok(events)
            })
            .await?;
        let entries = self.entries(events, &q.range, None, q);
        self.render(entries, q).await
    }

    /// A person's registrations in a company, without the company check: for callers that
    /// authorized otherwise (an employee reading their own, by the token's `person_id`).
    pub async fn registrations_of(
        &self,
        ck: &CompanyKey,
        person_ref: &PersonRef,
        q: &RegistrationQuery,
    ) -> Result<Registrations, DomainError> {
        let (lo, hi) = q.range.widened();
        let events = self.ledger.person_events(ck, person_ref, &lo, &hi).await?;
        let entries = self.entries(events, &q.range, None, q);
        self.render(entries, q).await
    }

    pub async fn site_registrations(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        site: &SiteId,
        q: &RegistrationQuery,
    ) -> Result<Registrations, DomainError> {
        self.company_read(claims, orgnr, |ck| async move {
            self.site_registrations_of(&ck, site, q).await
        })
        .await
    }

    /// A site's registrations, without the company check: for callers that authorized
    /// otherwise (an inspection link for this site).
    pub async fn site_registrations_of(
        &self,
        ck: &CompanyKey,
        site: &SiteId,
        q: &RegistrationQuery,
    ) -> Result<Registrations, DomainError> {
        let (lo, hi) = q.range.widened();
        // Pairing follows a person across sites, so each person seen here is analysed on
        // their whole timeline for the window — which the company's day partitions of
        // the window hold: the site check, the day index, then every day at once (two
        // round trips, whatever the number of people).
        let (known, all) = futures::try_join!(
            self.ledger.site(ck, site.as_str()),
            self.ledger.company_events(ck, &lo, &hi),
        )?;
        if known.is_none() {
            return Err(DomainError::NotFound(
                "no such site in this company's ledger".into(),
            ));
        }
        let people: BTreeSet<&str> = all
            .iter()
            .filter(|e| &e.site_id == site)
            .map(|e| e.person_ref.as_str())
            .collect();
        let events: Vec<LedgerEvent> = all
            .iter()
            .filter(|e| people.contains(e.person_ref.as_str()))
            .cloned()
            .collect();
        let entries = self.entries(events, &q.range, Some(site), q);
        self.render(entries, q).await
    }

    /// `GET …/sites/{site_id}/present` (spec §10): who is on site at `at` (default now).
    pub async fn present(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        site: &SiteId,
        at: Option<Instant>,
        employer: Option<&Orgnr>,
    ) -> Result<Present, DomainError> {
        self.company_read(claims, orgnr, |ck| async move {
            let (known, present) = futures::try_join!(
                self.ledger.site(&ck, site.as_str()),
                self.present_of(&ck, site, at, employer),
            )?;
            if known.is_none() {
                return Err(DomainError::NotFound(
                    "no such site in this company's ledger".into(),
                ));
            }
            Ok(present)
        })
        .await
    }

    /// Who is on site, without the company check (an inspection link for this site).
    /// One read of the company's day timelines around `at` (two or three partitions):
    /// every person's events at every site are in it, so an `out` elsewhere is seen,
    /// and the work does not grow with the number of people.
    pub async fn present_of(
        &self,
        ck: &CompanyKey,
        site: &SiteId,
        at: Option<Instant>,
        employer: Option<&Orgnr>,
    ) -> Result<Present, DomainError> {
        let at = at.unwrap_or_else(|| crate::time::to_fixed(self.clock.now()));
        let (lo, hi) = present::window(&at);
        let events = self.ledger.company_events(ck, &lo, &hi).await?;
        Ok(present::present_at(events, site, &at, employer))
    }

    fn entries(
        &self,
        events: Vec<LedgerEvent>,
        range: &Range,
        site: Option<&SiteId>,
        q: &RegistrationQuery,
    ) -> Vec<Entry> {
        let history = q.history;
        let (withdrawn, effective): (Vec<LedgerEvent>, Vec<LedgerEvent>) =
            events.into_iter().partition(|e| e.withdrawn);
        let a = analyse(&effective, self.clock.now());
        let at_site = |e: &LedgerEvent| site.is_none_or(|s| &e.site_id == s);
        let of_employer = |e: &LedgerEvent| {
            q.employer
                .as_ref()
                .is_none_or(|o| e.employer_orgnr.as_ref() == Some(o))
        };
        // A session belongs to its `in` (spec §4): its check-in decides site and employer.
        let wanted =
            |e: &LedgerEvent| range.contains(&e.occurred_at) && at_site(e) && of_employer(e);
        let mut out = Vec::new();
        for s in &a.sessions {
            let (i, o) = (&effective[s.check_in], &effective[s.check_out]);
            if wanted(i) {
                out.push(Entry {
                    order: order_key(i),
                    kind: EntryKind::Session {
                        check_in: i.clone(),
                        check_out: o.clone(),
                    },
                });
            }
        }
        for &(i, reason) in &a.unpaired {
            let e = &effective[i];
            if wanted(e) {
                out.push(Entry {
                    order: order_key(e),
                    kind: EntryKind::Unpaired {
                        event: e.clone(),
                        reason,
                    },
                });
            }
        }
        for &(d, k) in &a.duplicates {
            let e = &effective[d];
            if wanted(e) {
                out.push(Entry {
                    order: order_key(e),
                    kind: EntryKind::Duplicate {
                        event: e.clone(),
                        of: effective[k].clone(),
                    },
                });
            }
        }
        if history {
            for e in withdrawn.into_iter().filter(|e| wanted(e)) {
                out.push(Entry {
                    order: order_key(&e),
                    kind: EntryKind::Withdrawn { event: e },
                });
            }
        }
        out.sort_by(|a, b| a.order.cmp(&b.order));
        out
    }

    async fn render(
        &self,
        entries: Vec<Entry>,
        q: &RegistrationQuery,
    ) -> Result<Registrations, DomainError> {
        let start = q.cursor.as_ref().map(|c| c.key.as_str());
        let mut page: Vec<Entry> = entries
            .into_iter()
            .filter(|e| start.is_none_or(|s| e.order.as_str() > s))
            .take(q.limit + 1)
            .collect();
        let next = (page.len() > q.limit).then(|| Cursor::after(page[q.limit - 1].order.clone()));
        page.truncate(q.limit);

        // Every correction history the page shows, read at once (bounded).
        let corrected: BTreeSet<(PartnerId, String)> = page
            .iter()
            .flat_map(|entry| match &entry.kind {
                EntryKind::Session {
                    check_in,
                    check_out,
                } => vec![(check_in, q.history), (check_out, q.history)],
                EntryKind::Unpaired { event, .. } | EntryKind::Duplicate { event, .. } => {
                    vec![(event, q.history)]
                }
                EntryKind::Withdrawn { event } => vec![(event, true)],
            })
            .filter(|(e, history)| *history && e.corrections > 0)
            .map(|(e, _)| (e.partner_id.clone(), e.event_id.clone()))
            .collect();
        let histories: HashMap<(PartnerId, String), Vec<CorrectionEntry>> = stream::iter(corrected)
            .map(|k| async move {
                let c = self.ledger.corrections(&k.0, &k.1).await?;
                Ok::<_, DomainError>((k, c))
            })
            .buffer_unordered(crate::table::PARTITION_READS)
            .try_collect()
            .await?;
        let shown = |e: LedgerEvent, history: bool| -> Shown {
            let corrections = history.then(|| {
                histories
                    .get(&(e.partner_id.clone(), e.event_id.clone()))
                    .cloned()
                    .unwrap_or_default()
            });
            Shown {
                event: e,
                corrections,
            }
        };
        let mut out = Registrations {
            withdrawn: q.history.then(Vec::new),
            next,
            ..Registrations::default()
        };
        for entry in page {
            match entry.kind {
                EntryKind::Session {
                    check_in,
                    check_out,
                } => out
                    .sessions
                    .push((shown(check_in, q.history), shown(check_out, q.history))),
                EntryKind::Unpaired { event, reason } => {
                    out.unpaired.push((shown(event, q.history), reason))
                }
                EntryKind::Duplicate { event, of } => {
                    out.duplicates.push((shown(event, q.history), of))
                }
                EntryKind::Withdrawn { event } => {
                    let e = shown(event, true);
                    if let Some(w) = out.withdrawn.as_mut() {
                        w.push(e);
                    }
                }
            }
        }
        Ok(out)
    }
}
