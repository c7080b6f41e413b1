//! A company's anomalies (spec §6) as a list: the analysis over the company's days, the
//! flagged events in the range, paged in the order of their first event.

use super::{order_key, Queries, Range};
use crate::auth::Claims;
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::PartnerId;
use crate::identity::{Orgnr, SiteId};
use crate::model::LedgerEvent;
use crate::pagination::{Cursor, Page};
use crate::reads::analysis::{analyse, AnomalyKind};

pub struct AnomalyQuery {
    pub range: Range,
    pub site: Option<SiteId>,
    pub kind: Option<crate::reads::analysis::AnomalyKind>,
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

/// One anomaly as listed (spec §6).
#[derive(Debug, Clone, PartialEq)]
pub struct FoundAnomaly {
    pub kind: AnomalyKind,
    pub event: LedgerEvent,
    /// `(partner_id, event_id)` of the related events.
    pub related: Vec<(PartnerId, String)>,
    pub detail: String,
}

impl Queries {
    /// `GET …/anomalies`: spec §6 over the company, those whose flagged event lies in the
    /// range, optionally of one site and one kind.
    pub async fn anomalies(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        q: &AnomalyQuery,
    ) -> Result<Page<FoundAnomaly>, DomainError> {
        self.company_read(claims, orgnr, |ck| async move {
            self.anomalies_of(&ck, q).await
        })
        .await
    }

    /// Anomalies without the company check (an inspection link, for its site).
    pub async fn anomalies_of(
        &self,
        ck: &CompanyKey,
        q: &AnomalyQuery,
    ) -> Result<Page<FoundAnomaly>, DomainError> {
        // An open range is bounded by the company's activity.
        let Some((first, last)) = self.ledger.company_span(ck).await? else {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        };
        let from = q.range.from.max(first);
        let to = q.range.to.min(last + chrono::Duration::seconds(1));
        if to <= from {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        }
        let range = Range { from, to };
        let (lo, hi) = range.widened();
        let events: Vec<LedgerEvent> = self
            .ledger
            .company_events(ck, &lo, &hi)
            .await?
            .into_iter()
            .filter(|e| !e.withdrawn)
            .collect();
        let a = analyse(&events, self.clock.now());
        let mut found: Vec<(String, FoundAnomaly)> = a
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
                (
                    format!("{}#{}", order_key(e), x.kind.as_str()),
                    FoundAnomaly {
                        kind: x.kind,
                        event: e.clone(),
                        related: x
                            .related
                            .iter()
                            .map(|&r| (events[r].partner_id.clone(), events[r].event_id.clone()))
                            .collect(),
                        detail: x.detail.clone(),
                    },
                )
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let start = q.cursor.as_ref().map(|c| c.key.as_str());
        let mut page: Vec<(String, FoundAnomaly)> = found
            .into_iter()
            .filter(|(k, _)| start.is_none_or(|s| k.as_str() > s))
            .take(q.limit + 1)
            .collect();
        let next = (page.len() > q.limit).then(|| Cursor::after(page[q.limit - 1].0.clone()));
        page.truncate(q.limit);
        Ok(Page {
            items: page.into_iter().map(|(_, v)| v).collect(),
            next,
        })
    }
}
