//! What a company reads: its sites, its people, and registrations per person and per
//! site as work sessions, unpaired events and duplicates (spec §4), optionally with the
//! history of corrections.

use crate::analysis::{analyse, Unpaired, LOOKAHEAD, LOOKBACK};
use crate::auth::{require_company, Claims, CompanyAccess};
use crate::error::DomainError;
use crate::identity::{Orgnr, PersonId, SiteId};
use crate::ledger::{CorrectionEntry, Ledger, PersonEntry, SiteEntry};
use crate::model::LedgerEvent;
use crate::pagination::{Cursor, Page};
use crate::ports::Clock;
use crate::time::{format_rfc3339, sortable, Instant};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

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

pub struct AnomalyQuery {
    pub range: Range,
    pub site: Option<SiteId>,
    pub kind: Option<crate::analysis::AnomalyKind>,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

pub struct RegistrationQuery {
    pub range: Range,
    pub history: bool,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

#[derive(Clone)]
pub struct Queries {
    ledger: Ledger,
    clock: Arc<dyn Clock>,
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

    async fn company(&self, claims: &Claims, orgnr: &Orgnr) -> Result<String, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Read).await?;
        Ok(self.ledger.company_key(orgnr))
    }

    pub async fn sites(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<SiteEntry>, DomainError> {
        let ck = self.company(claims, orgnr).await?;
        self.ledger.sites(&ck, cursor, limit).await
    }

    pub async fn people(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        q: Option<&str>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<PersonEntry>, DomainError> {
        let ck = self.company(claims, orgnr).await?;
        self.ledger.people(&ck, q, cursor, limit).await
    }

    /// Finds the `person_ref` for a full person id (sent in a body, never in a URL).
    pub async fn find_person(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        person: &PersonId,
    ) -> Result<PersonEntry, DomainError> {
        let ck = self.company(claims, orgnr).await?;
        let person_ref = self.ledger.pseudonyms().person_ref(orgnr, person);
        self.ledger.person(&ck, &person_ref).await?.ok_or_else(|| {
            DomainError::NotFound("the company's ledger holds no one with that id".into())
        })
    }

    pub async fn person_registrations(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        person_ref: &str,
        q: &RegistrationQuery,
    ) -> Result<Value, DomainError> {
        let ck = self.company(claims, orgnr).await?;
        if self.ledger.person(&ck, person_ref).await?.is_none() {
            return Err(DomainError::NotFound(
                "no such person_ref in this company".into(),
            ));
        }
        let (lo, hi) = q.range.widened();
        let events = self.ledger.person_events(&ck, person_ref, &lo, &hi).await?;
        let entries = self.entries(events, &q.range, None, q.history);
        self.render(entries, q).await
    }

    /// A person's registrations in a company, without the company check: for callers that
    /// authorized otherwise (an employee reading their own, by the token's `person_id`).
    pub async fn registrations_of(
        &self,
        ck: &str,
        person_ref: &str,
        q: &RegistrationQuery,
    ) -> Result<Value, DomainError> {
        let (lo, hi) = q.range.widened();
        let events = self.ledger.person_events(ck, person_ref, &lo, &hi).await?;
        let entries = self.entries(events, &q.range, None, q.history);
        self.render(entries, q).await
    }

    pub async fn site_registrations(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        site: &SiteId,
        q: &RegistrationQuery,
    ) -> Result<Value, DomainError> {
        let ck = self.company(claims, orgnr).await?;
        if self.ledger.site(&ck, site.as_str()).await?.is_none() {
            return Err(DomainError::NotFound(
                "no such site in this company's ledger".into(),
            ));
        }
        let (lo, hi) = q.range.widened();
        // Pairing follows a person across sites, so each person seen here is analysed
        // on their own whole timeline for the window.
        let at_site = self
            .ledger
            .site_events(&ck, site.as_str(), &lo, &hi)
            .await?;
        let people: BTreeSet<String> = at_site.into_iter().map(|e| e.person_ref).collect();
        let timelines: Vec<Vec<LedgerEvent>> = stream::iter(people)
            .map(|p| {
                let ck = ck.clone();
                async move { self.ledger.person_events(&ck, &p, &lo, &hi).await }
            })
            .buffer_unordered(8)
            .try_collect()
            .await?;
        let entries = self.entries(
            timelines.into_iter().flatten().collect(),
            &q.range,
            Some(site),
            q.history,
        );
        self.render(entries, q).await
    }

    /// `GET …/anomalies`: spec §6 over the company, those whose flagged event lies in the
    /// range, optionally of one site and one kind.
    pub async fn anomalies(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        q: &AnomalyQuery,
    ) -> Result<Value, DomainError> {
        let ck = self.company(claims, orgnr).await?;
        // An open range is bounded by the company's activity.
        let Some((first, last)) = self.ledger.company_span(&ck).await? else {
            return Ok(json!({ "anomalies": [] }));
        };
        let from = q.range.from.max(first);
        let to = q.range.to.min(last + chrono::Duration::seconds(1));
        if to <= from {
            return Ok(json!({ "anomalies": [] }));
        }
        let range = Range { from, to };
        let (lo, hi) = range.widened();
        let events: Vec<LedgerEvent> = self
            .ledger
            .company_events(&ck, &lo, &hi)
            .await?
            .into_iter()
            .filter(|e| !e.withdrawn)
            .collect();
        let a = analyse(&events, self.clock.now());
        let mut found: Vec<(String, Value)> = a
            .anomalies
            .iter()
            .filter(|x| {
                let e = &events[x.event];
                range.contains(&e.occurred_at)
                    && q.site.as_ref().is_none_or(|s| &e.site_id == s)
                    && q.kind.is_none_or(|k| k == x.kind)
            })
            .map(|x| {
                let e = &events[x.event];
                let key = |i: usize| json!({ "partner_id": events[i].partner_id, "event_id": events[i].event_id });
                (
                    format!("{}#{}", order_key(e), x.kind.as_str()),
                    json!({
                        "kind": x.kind,
                        "event": key(x.event),
                        "related": x.related.iter().map(|&r| key(r)).collect::<Vec<_>>(),
                        "person_ref": e.person_ref,
                        "person_name": e.person_name,
                        "site_id": e.site_id,
                        "occurred_at": format_rfc3339(&e.occurred_at),
                        "detail": x.detail,
                    }),
                )
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let start = q.cursor.as_ref().map(|c| c.key.as_str());
        let mut page: Vec<(String, Value)> = found
            .into_iter()
            .filter(|(k, _)| start.is_none_or(|s| k.as_str() > s))
            .take(q.limit + 1)
            .collect();
        let next = (page.len() > q.limit).then(|| Cursor::after(page[q.limit - 1].0.clone()));
        page.truncate(q.limit);
        let mut body = json!({ "anomalies": page.into_iter().map(|(_, v)| v).collect::<Vec<_>>() });
        if let Some(c) = next {
            body["next_cursor"] = json!(c.encode());
        }
        Ok(body)
    }

    fn entries(
        &self,
        events: Vec<LedgerEvent>,
        range: &Range,
        site: Option<&SiteId>,
        history: bool,
    ) -> Vec<Entry> {
        let (withdrawn, effective): (Vec<LedgerEvent>, Vec<LedgerEvent>) =
            events.into_iter().partition(|e| e.withdrawn);
        let a = analyse(&effective, self.clock.now());
        let at_site = |e: &LedgerEvent| site.is_none_or(|s| &e.site_id == s);
        let wanted = |e: &LedgerEvent| range.contains(&e.occurred_at) && at_site(e);
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
    ) -> Result<Value, DomainError> {
        let start = q.cursor.as_ref().map(|c| c.key.as_str());
        let mut page: Vec<Entry> = entries
            .into_iter()
            .filter(|e| start.is_none_or(|s| e.order.as_str() > s))
            .take(q.limit + 1)
            .collect();
        let next = (page.len() > q.limit).then(|| Cursor::after(page[q.limit - 1].order.clone()));
        page.truncate(q.limit);

        let mut sessions = Vec::new();
        let mut unpaired = Vec::new();
        let mut duplicates = Vec::new();
        let mut withdrawn = Vec::new();
        for entry in page {
            match entry.kind {
                EntryKind::Session {
                    check_in,
                    check_out,
                } => {
                    let minutes = (check_out.occurred_at - check_in.occurred_at).num_minutes();
                    sessions.push(json!({
                        "site_id": check_in.site_id,
                        "person_ref": check_in.person_ref,
                        "check_in": self.event_json(&check_in, q.history).await?,
                        "check_out": self.event_json(&check_out, q.history).await?,
                        "duration_minutes": minutes,
                    }));
                }
                EntryKind::Unpaired { event, reason } => {
                    let mut v = self.event_json(&event, q.history).await?;
                    v["reason"] = json!(reason);
                    unpaired.push(v);
                }
                EntryKind::Duplicate { event, of } => {
                    let mut v = self.event_json(&event, q.history).await?;
                    v["duplicate_of"] =
                        json!({ "partner_id": of.partner_id, "event_id": of.event_id });
                    duplicates.push(v);
                }
                EntryKind::Withdrawn { event } => {
                    withdrawn.push(self.event_json(&event, true).await?)
                }
            }
        }
        let mut body =
            json!({ "sessions": sessions, "unpaired": unpaired, "duplicates": duplicates });
        if q.history {
            body["withdrawn"] = json!(withdrawn);
        }
        if let Some(c) = next {
            body["next_cursor"] = json!(c.encode());
        }
        Ok(body)
    }

    async fn event_json(&self, e: &LedgerEvent, history: bool) -> Result<Value, DomainError> {
        let mut v = event_view(e);
        if history {
            let corrections: Vec<CorrectionEntry> = if e.corrections > 0 {
                self.ledger.corrections(&e.partner_id, &e.event_id).await?
            } else {
                Vec::new()
            };
            v["corrections"] = json!(corrections);
        }
        Ok(v)
    }
}

/// An event as the API shows it.
pub fn event_view(e: &LedgerEvent) -> Value {
    let mut v = json!({
        "partner_id": e.partner_id,
        "event_id": e.event_id,
        "site_id": e.site_id,
        "direction": e.direction,
        "occurred_at": format_rfc3339(&e.occurred_at),
        "recorded_at": format_rfc3339(&e.recorded_at),
        "source": e.source,
        "person_ref": e.person_ref,
        "person_name": e.person_name,
        "corrected": e.corrections > 0,
    });
    if let Some(r) = &e.recorded_by {
        v["recorded_by"] = json!(r);
    }
    if e.withdrawn {
        v["withdrawn"] = json!(true);
    }
    v
}
