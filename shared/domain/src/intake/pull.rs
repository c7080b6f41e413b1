//! Pulling partners' feeds (spec §5 Pull). For each activated company and each partner
//! with a `feed_url`, a round reads every page after the stored cursor:
//! `GET {feed_url}/companies/{orgnr}/events?after={cursor}&limit={n}` answering
//! `{"events": [...], "next_cursor", "has_more"}`.
//!
//! - Each page goes through [`ImportService::import`] like a push — archived first, then
//!   indexed — as a batch whose id is derived from the company, the cursor and the
//!   page's own hash: a retried page is a replay, a page that changed is a new batch
//!   (its events already stored are duplicates, stored once).
//! - The cursor moves on only after its page has been archived and indexed, and only
//!   forward (a conditional write: two rounds never move it back).
//! - A page that cannot be read is archived as it came, reported in the partner's pull
//!   status and a log line (no personal data), and the pair stops there for this round:
//!   the cursor never passes data Stamp has not stored. The next round asks again.
//! - Fetches and imports are retried with exponential backoff; pairs run concurrently
//!   and independently, so a partner that is slow, down or answers garbage does not
//!   hold up the others.
//! - A company with no cursor is pulled from the start: activation triggers a backfill
//!   of its whole history.

use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::pseudonym::{id_fragment, sha256_hex};
use crate::identity::Orgnr;
use crate::identity::PartnerId;
use crate::intake::{
    feed_page_envelope, BatchAnswer, DeliveryFormat, ImportFailure, ImportService,
};
use crate::model::Partner;
use crate::ports::{Clock, FeedClient, FeedError, FeedRequest};
use crate::table::{FeedCursor, Ledger, PullStatus};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct PullSettings {
    /// The `limit` asked of each page.
    pub page_limit: usize,
    /// Tries per page (fetch and import each) before the pair gives up for this round.
    pub attempts: u32,
    /// The first retry waits this long, each further one twice as long.
    pub backoff: Duration,
    /// Company–partner pairs pulled at once.
    pub parallel: usize,
    /// Pages per pair and round, at most.
    pub max_pages: usize,
    /// No new page is started after this (a Lambda's remaining time); the cursor keeps
    /// the place for the next round.
    pub deadline: Option<DateTime<Utc>>,
}

impl Default for PullSettings {
    fn default() -> Self {
        PullSettings {
            page_limit: 500,
            attempts: 3,
            backoff: Duration::from_millis(200),
            parallel: 4,
            max_pages: 10_000,
            deadline: None,
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct PullSummary {
    /// Company–partner pairs pulled.
    pub pairs: usize,
    pub pairs_failed: usize,
    pub pages: usize,
    pub events_accepted: u64,
    pub events_duplicate: u64,
    pub events_rejected: u64,
    pub malformed_pages: usize,
    /// Each failure, with its `partner_id`.
    pub errors: Vec<PullFailure>,
}

/// Why pulling one company's feed from one partner stopped this round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullFailure {
    /// The partner (in a round's summary; a partner's own status leaves it out).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "PartnerId::deserialize_stored_option"
    )]
    pub partner_id: Option<PartnerId>,
    /// The company's pseudonymous key `ck` (never its orgnr: the status is no ledger data).
    pub company: String,
    /// `storage`, `unavailable`, `refused`, `malformed`, `too_large`, `refused_by_stamp`
    /// or `stuck`.
    pub kind: String,
    pub detail: String,
    /// A malformed page: the SHA-256 of its bytes, and where it was archived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_key: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug)]
struct PairOutcome {
    partner_id: PartnerId,
    pages: usize,
    accepted: u64,
    duplicates: u64,
    rejected: u64,
    malformed: bool,
    error: Option<PullFailure>,
}

#[derive(Clone)]
pub struct Puller {
    ledger: Ledger,
    import: ImportService,
    client: Arc<dyn FeedClient>,
    clock: Arc<dyn Clock>,
    settings: PullSettings,
}

/// The batch id of a pulled page: its company (pseudonymous), the cursor it follows and
/// its own hash — never a personnummer, at most 64 characters.
pub fn page_batch_id(ck: &CompanyKey, after: Option<&str>, sha256: &str) -> String {
    format!(
        "pull-{ck}-{}-{}",
        &id_fragment(after.unwrap_or(""))[..16],
        &sha256[..16]
    )
}

impl Puller {
    pub fn new(import: ImportService, client: Arc<dyn FeedClient>, clock: Arc<dyn Clock>) -> Self {
        Puller {
            ledger: import.ledger().clone(),
            import,
            client,
            clock,
            settings: PullSettings::default(),
        }
    }

    pub fn with_settings(mut self, settings: PullSettings) -> Self {
        self.settings = settings;
        self
    }

    async fn pulling_partners(&self) -> Result<Vec<Partner>, DomainError> {
        Ok(self
            .ledger
            .all_partners()
            .await?
            .into_iter()
            .filter(|p| p.feed_url.is_some() && !p.suspended)
            .collect())
    }

    /// One scheduled round: every activated company, every pulling partner.
    pub async fn run_once(&self) -> Result<PullSummary, DomainError> {
        let partners = self.pulling_partners().await?;
        let mut pairs = Vec::new();
        for (_, orgnr, active) in self.ledger.companies().await? {
            if active {
                pairs.extend(partners.iter().map(|p| (p.clone(), orgnr.clone())));
            }
        }
        self.run_pairs(pairs).await
    }

    /// One company's feeds now (after its activation: a backfill from the start).
    pub async fn pull_company(&self, orgnr: &Orgnr) -> Result<PullSummary, DomainError> {
        if !self
            .ledger
            .activation(orgnr)
            .await?
            .is_some_and(|a| a.is_active())
        {
            return Ok(PullSummary::default());
        }
        let pairs = self
            .pulling_partners()
            .await?
            .into_iter()
            .map(|p| (p, orgnr.clone()))
            .collect();
        self.run_pairs(pairs).await
    }

    async fn run_pairs(&self, pairs: Vec<(Partner, Orgnr)>) -> Result<PullSummary, DomainError> {
        let started = self.clock.now();
        let outcomes: Vec<PairOutcome> = stream::iter(pairs)
            .map(|(p, orgnr)| async move { self.pull_pair(&p, &orgnr).await })
            .buffer_unordered(self.settings.parallel.max(1))
            .collect()
            .await;
        let mut summary = PullSummary::default();
        let mut by_partner: BTreeMap<PartnerId, PullStatus> = BTreeMap::new();
        for o in outcomes {
            summary.pairs += 1;
            summary.pages += o.pages;
            summary.events_accepted += o.accepted;
            summary.events_duplicate += o.duplicates;
            summary.events_rejected += o.rejected;
            summary.malformed_pages += usize::from(o.malformed);
            let status = by_partner
                .entry(o.partner_id.clone())
                .or_insert_with(|| PullStatus {
                    partner_id: o.partner_id.clone(),
                    last_round_at: started,
                    last_success_at: None,
                    companies: 0,
                    companies_failed: 0,
                    pages: 0,
                    events_accepted: 0,
                    events_duplicate: 0,
                    events_rejected: 0,
                    errors: Vec::new(),
                });
            status.companies += 1;
            status.pages += o.pages as u64;
            status.events_accepted += o.accepted;
            status.events_duplicate += o.duplicates;
            status.events_rejected += o.rejected;
            if let Some(e) = o.error {
                summary.pairs_failed += 1;
                status.companies_failed += 1;
                summary.errors.push(PullFailure {
                    partner_id: Some(o.partner_id.clone()),
                    ..e.clone()
                });
                status.errors.push(e);
            }
        }
        let now = self.clock.now();
        for (partner_id, mut status) in by_partner {
            let previous = self.ledger.pull_status(&partner_id).await?;
            status.last_success_at = if status.companies_failed == 0 {
                Some(now)
            } else {
                previous.and_then(|p| p.last_success_at)
            };
            self.ledger.save_pull_status(&status).await?;
        }
        tracing::info!(
            pairs = summary.pairs,
            pairs_failed = summary.pairs_failed,
            pages = summary.pages,
            events_accepted = summary.events_accepted,
            malformed_pages = summary.malformed_pages,
            "pull round done"
        );
        Ok(summary)
    }

    async fn pull_pair(&self, partner: &Partner, orgnr: &Orgnr) -> PairOutcome {
        let mut outcome = PairOutcome {
            partner_id: partner.partner_id.clone(),
            pages: 0,
            accepted: 0,
            duplicates: 0,
            rejected: 0,
            malformed: false,
            error: None,
        };
        let ck = self.ledger.company_key(orgnr);
        if let Err(e) = self.pull_pages(partner, orgnr, &ck, &mut outcome).await {
            self.fail(&mut outcome, &ck, "storage", e.to_string());
        }
        if let Some(e) = &outcome.error {
            tracing::warn!(
                partner_id = %partner.partner_id,
                company = %ck,
                kind = %e.kind,
                sha256 = e.sha256.as_deref().unwrap_or(""),
                "pulling a feed stopped; its cursor stays before the data not stored"
            );
        }
        outcome
    }

    fn fail(&self, outcome: &mut PairOutcome, ck: &CompanyKey, kind: &str, detail: String) {
        outcome.error = Some(PullFailure {
            partner_id: None,
            company: ck.to_string(),
            kind: kind.to_string(),
            detail,
            sha256: None,
            archive_key: None,
            at: self.clock.now(),
        });
    }

    async fn pull_pages(
        &self,
        partner: &Partner,
        orgnr: &Orgnr,
        ck: &CompanyKey,
        outcome: &mut PairOutcome,
    ) -> Result<(), DomainError> {
        let Some(feed_url) = partner.feed_url.as_deref() else {
            return Ok(());
        };
        let partner_id = &partner.partner_id;
        let mut state = self.ledger.feed_cursor(ck, partner_id).await?;
        for _ in 0..self.settings.max_pages {
            if self
                .settings
                .deadline
                .is_some_and(|d| self.clock.now() >= d)
            {
                break;
            }
            let after = state.as_ref().and_then(|s| s.cursor.clone());
            let request = FeedRequest {
                feed_url,
                orgnr: orgnr.as_str(),
                after: after.as_deref(),
                limit: self.settings.page_limit,
            };
            let page = match self.fetch(&request).await {
                Ok(p) => p,
                Err(e) => {
                    let kind = match e {
                        FeedError::Unavailable(_) => "unavailable",
                        FeedError::Refused { .. } => "refused",
                    };
                    self.fail(outcome, ck, kind, e.to_string());
                    return Ok(());
                }
            };
            let sha256 = sha256_hex(&page);
            let batch_id = page_batch_id(ck, after.as_deref(), &sha256);
            let info = match feed_page_envelope(&page) {
                Ok(info) => info,
                Err(envelope) => {
                    // Archived as it came (the import path keeps unreadable deliveries),
                    // reported, and not passed: the next round asks for it again.
                    let archived = match self.import_page(partner_id, &page, &batch_id).await {
                        Err(f) => f.archived,
                        Ok(_) => None,
                    };
                    outcome.malformed = true;
                    self.fail(outcome, ck, "malformed", envelope.to_string());
                    if let Some(e) = &mut outcome.error {
                        e.sha256 = Some(sha256);
                        e.archive_key = archived;
                    }
                    return Ok(());
                }
            };
            if info.events > 0 {
                match self.import_page(partner_id, &page, &batch_id).await {
                    Ok(answer) => {
                        outcome.accepted += answer.accepted;
                        outcome.duplicates += answer.duplicates;
                        outcome.rejected += answer.rejected.len() as u64;
                    }
                    Err(f) => {
                        let kind = match f.error {
                            DomainError::Unavailable(_) => "storage",
                            DomainError::PayloadTooLarge(_) => "too_large",
                            _ => "refused_by_stamp",
                        };
                        self.fail(outcome, ck, kind, f.error.to_string());
                        return Ok(());
                    }
                }
            }
            outcome.pages += 1;
            let next = info.next_cursor.clone().or_else(|| after.clone());
            if info.has_more && next == after {
                self.fail(
                    outcome,
                    ck,
                    "stuck",
                    "the page says more follow but its next_cursor does not move on".into(),
                );
                return Ok(());
            }
            if next != after || info.events > 0 {
                let moved = FeedCursor {
                    partner_id: partner_id.clone(),
                    cursor: next,
                    updated_at: self.clock.now(),
                    pages: state.as_ref().map_or(0, |s| s.pages) + 1,
                    events: state.as_ref().map_or(0, |s| s.events) + info.events as u64,
                    version: state.as_ref().map_or(0, |s| s.version + 1),
                };
                if !self
                    .ledger
                    .save_feed_cursor(ck, state.as_ref(), &moved)
                    .await?
                {
                    // Another round is pulling this pair and got further: leave it to it.
                    return Ok(());
                }
                state = Some(moved);
            }
            if !info.has_more {
                break;
            }
        }
        Ok(())
    }

    async fn backoff(&self, attempt: u32) {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        tokio::time::sleep(self.settings.backoff.saturating_mul(factor)).await;
    }

    async fn fetch(&self, request: &FeedRequest<'_>) -> Result<Vec<u8>, FeedError> {
        let mut attempt = 1;
        loop {
            match self.client.fetch(request).await {
                Ok(page) => return Ok(page),
                Err(FeedError::Unavailable(why)) if attempt < self.settings.attempts => {
                    tracing::info!(attempt, error = %why, "feed page unavailable; retrying");
                    self.backoff(attempt).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn import_page(
        &self,
        partner_id: &PartnerId,
        page: &[u8],
        batch_id: &str,
    ) -> Result<BatchAnswer, ImportFailure> {
        let mut attempt = 1;
        loop {
            match self
                .import
                .import_detailed(partner_id, DeliveryFormat::FeedPage, page, Some(batch_id))
                .await
            {
                Ok(answer) => return Ok(answer),
                Err(f)
                    if matches!(f.error, DomainError::Unavailable(_))
                        && attempt < self.settings.attempts =>
                {
                    self.backoff(attempt).await;
                    attempt += 1;
                }
                Err(f) => return Err(f),
            }
        }
    }
}
