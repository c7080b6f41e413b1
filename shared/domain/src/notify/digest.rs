//! The daily digest (spec §11), run at 06:00 Europe/Stockholm: the previous local day's
//! anomalies by kind and site, the people still checked in from that day, and
//! partner-silence notices — an e-mail in Swedish (plain text and HTML) and a webhook
//! JSON message (schema in docs/webhooks.md). Names and `person_ref`s only: nothing
//! here ever holds a personnummer.

use super::silence::{is_weekday, local_day};
use super::{Notifications, StoredSettings};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::pseudonym::PersonRef;
use crate::identity::Orgnr;
use crate::identity::PartnerId;
use crate::model::{Direction, LedgerEvent};
use crate::ports::{Item, WriteOp};
use crate::reads::analysis::{analyse, AnomalyKind, Unpaired, LOOKBACK};
use crate::table::keys;
use crate::time::{local_date, local_day_start, to_fixed};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

mod mail;

pub use mail::{kind_sv, mail, render, test_mail};
use mail::{local_hm, silence_text};

/// The webhook payload's envelope (the Standard Webhooks recommended shape).
#[derive(Debug, Clone, Serialize)]
pub struct Envelope<'a, T: Serialize> {
    /// `daily_digest`, `partner_silence` or `test`.
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub timestamp: DateTime<Utc>,
    pub data: &'a T,
}

pub fn envelope<T: Serialize>(
    kind: &str,
    at: DateTime<Utc>,
    data: &T,
) -> Result<Vec<u8>, DomainError> {
    serde_json::to_vec(&Envelope {
        kind,
        timestamp: at,
        data,
    })
    .map_err(|e| DomainError::Internal(format!("webhook payload: {e}")))
}

#[derive(Debug, Clone, Serialize)]
pub struct TestPayload {
    pub company_orgnr: String,
    pub sent_at: DateTime<Utc>,
}

/// One flagged registration in the digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigestAnomaly {
    pub person_ref: PersonRef,
    pub person_name: String,
    pub occurred_at: String,
    pub partner_id: PartnerId,
    pub event_id: String,
}

/// The anomalies of one kind at one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyGroup {
    pub kind: AnomalyKind,
    pub site_id: String,
    pub count: usize,
    pub anomalies: Vec<DigestAnomaly>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StillCheckedIn {
    pub person_ref: PersonRef,
    pub person_name: String,
    pub site_id: String,
    pub checked_in_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SilenceNotice {
    pub partner_id: PartnerId,
    pub partner_name: Option<String>,
    pub silent_since: DateTime<Utc>,
}

/// The digest's data: the `data` of a `daily_digest` webhook message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    pub company_orgnr: String,
    pub company_name: String,
    /// The local day it covers.
    pub day: NaiveDate,
    pub anomalies: Vec<AnomalyGroup>,
    pub still_checked_in: Vec<StillCheckedIn>,
    pub partner_silence: Vec<SilenceNotice>,
}

/// What a digest round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DigestSummary {
    pub companies: usize,
    pub digests: usize,
    pub silence_notices: usize,
    pub emails: usize,
    pub webhooks: usize,
}

/// Builds the digest of `day` from the company's events (effective, withdrawn left out)
/// read from the day before it to `now`, so pairing across midnight is seen.
pub fn build_digest(
    orgnr: &Orgnr,
    company_name: &str,
    day: NaiveDate,
    events: &[LedgerEvent],
    now: DateTime<Utc>,
    silences: Vec<SilenceNotice>,
) -> Digest {
    let a = analyse(events, now);
    let mut groups: BTreeMap<(AnomalyKind, String), Vec<DigestAnomaly>> = BTreeMap::new();
    for x in &a.anomalies {
        let e = &events[x.event];
        if local_date(&e.occurred_at) != day {
            continue;
        }
        groups
            .entry((x.kind, e.site_id.to_string()))
            .or_default()
            .push(DigestAnomaly {
                person_ref: e.person_ref.clone(),
                person_name: e.person_name.clone(),
                occurred_at: local_hm(&e.occurred_at),
                partner_id: e.partner_id.clone(),
                event_id: e.event_id.clone(),
            });
    }
    let mut still: Vec<StillCheckedIn> = a
        .unpaired
        .iter()
        .filter(|(_, why)| matches!(why, Unpaired::MissingCheckOut | Unpaired::OnSite))
        .map(|(i, _)| &events[*i])
        .filter(|e| e.direction == Direction::In && local_date(&e.occurred_at) == day)
        .map(|e| StillCheckedIn {
            person_ref: e.person_ref.clone(),
            person_name: e.person_name.clone(),
            site_id: e.site_id.to_string(),
            checked_in_at: local_hm(&e.occurred_at),
        })
        .collect();
    still.sort_by(|a, b| {
        a.person_name
            .cmp(&b.person_name)
            .then(a.checked_in_at.cmp(&b.checked_in_at))
    });
    Digest {
        company_orgnr: orgnr.to_string(),
        company_name: company_name.to_string(),
        day,
        anomalies: groups
            .into_iter()
            .map(|((kind, site_id), anomalies)| AnomalyGroup {
                kind,
                site_id,
                count: anomalies.len(),
                anomalies,
            })
            .collect(),
        still_checked_in: still,
        partner_silence: silences,
    }
}

impl Notifications {
    /// The partners of the company silent now whose silence has not been noticed yet.
    /// `all` answers every current silence, noticed or not.
    pub async fn silences(
        &self,
        ck: &CompanyKey,
        now: DateTime<Utc>,
        all: bool,
    ) -> Result<Vec<SilenceNotice>, DomainError> {
        let health = self.ledger.partner_health(ck, now).await?;
        let mut out = Vec::new();
        for h in health {
            let Some(since) = h.silent_since else {
                continue;
            };
            let partner_id = h.partner_id;
            if !all {
                let marker = self
                    .ledger
                    .store()
                    .get(&keys::notifications(ck), &format!("SILENCE#{partner_id}"))
                    .await?;
                if marker.as_ref().and_then(|m| m.str("silent_since"))
                    == Some(since.to_rfc3339().as_str())
                {
                    continue;
                }
            }
            let partner_name = self.ledger.partner(&partner_id).await?.map(|p| p.name);
            out.push(SilenceNotice {
                partner_id,
                partner_name,
                silent_since: since,
            });
        }
        Ok(out)
    }

    async fn mark_noticed(
        &self,
        ck: &CompanyKey,
        notices: &[SilenceNotice],
    ) -> Result<(), DomainError> {
        let ops: Vec<WriteOp> = notices
            .iter()
            .map(|n| {
                WriteOp::put(
                    Item::new(keys::notifications(ck), format!("SILENCE#{}", n.partner_id))
                        .with("silent_since", n.silent_since.to_rfc3339()),
                )
            })
            .collect();
        for chunk in ops.chunks(crate::ports::MAX_TRANSACTION_OPS) {
            self.ledger.store().transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// The digest of `day` for one company (what the job sends; also for benchmarks).
    pub async fn digest_of(
        &self,
        ck: &CompanyKey,
        orgnr: &Orgnr,
        day: NaiveDate,
        now: DateTime<Utc>,
        silences: Vec<SilenceNotice>,
    ) -> Result<Digest, DomainError> {
        let name = self
            .ledger
            .activation(orgnr)
            .await?
            .map(|a| a.company_name)
            .unwrap_or_default();
        let from = local_day_start(day) - LOOKBACK;
        let to = to_fixed(now).max(local_day_start(day.succ_opt().unwrap_or(day)));
        let events: Vec<LedgerEvent> = self
            .ledger
            .company_events(ck, &from, &to)
            .await?
            .into_iter()
            .filter(|e| !e.withdrawn)
            .collect();
        Ok(build_digest(orgnr, &name, day, &events, now, silences))
    }

    /// One round of the daily-digest job (06:00 Europe/Stockholm): for every active
    /// company with settings, yesterday's digest (once per day) and new partner-silence
    /// notices (not at weekends), by e-mail and webhook; then the webhook queue is drained.
    pub async fn run_daily(&self) -> Result<DigestSummary, DomainError> {
        let now = self.now();
        let today = local_day(now);
        let yesterday = today.pred_opt().unwrap_or(today);
        let mut sum = DigestSummary::default();
        for (ck, orgnr, active) in self.ledger.companies().await? {
            if !active {
                continue;
            }
            let Some(settings) = self.stored(&ck).await? else {
                continue;
            };
            sum.companies += 1;
            if let Err(e) = self
                .daily_for(&ck, &orgnr, &settings, now, yesterday, &mut sum)
                .await
            {
                // One company's trouble does not hold up the others.
                tracing::warn!(error = %e, "daily notifications of a company failed");
            }
        }
        self.drain().await?;
        tracing::info!(
            companies = sum.companies,
            digests = sum.digests,
            silence_notices = sum.silence_notices,
            "daily digest round"
        );
        Ok(sum)
    }

    async fn daily_for(
        &self,
        ck: &CompanyKey,
        orgnr: &Orgnr,
        settings: &StoredSettings,
        now: DateTime<Utc>,
        day: NaiveDate,
        sum: &mut DigestSummary,
    ) -> Result<(), DomainError> {
        // Silence notices only on weekdays; a silence found at a weekend goes out Monday.
        let notices = if settings.partner_silence && is_weekday(local_day(now)) {
            self.silences(ck, now, false).await?
        } else {
            Vec::new()
        };
        let mut sent_notices = false;
        if settings.daily_digest {
            let marker = WriteOp::create(
                Item::new(keys::notifications(ck), format!("DIGEST#{day}"))
                    .with("sent_at", now.to_rfc3339()),
            );
            match self.ledger.store().transact(vec![marker]).await {
                Ok(()) => {
                    let digest = self.digest_of(ck, orgnr, day, now, notices.clone()).await?;
                    self.deliver(
                        ck,
                        settings,
                        "daily_digest",
                        &digest,
                        render(&digest),
                        now,
                        sum,
                    )
                    .await?;
                    sum.digests += 1;
                    sent_notices = true;
                }
                Err(crate::ports::StoreError::ConditionFailed(_)) => {} // sent already today
                Err(e) => return Err(e.into()),
            }
        }
        if !notices.is_empty() && !sent_notices {
            let payload = SilencePayload {
                company_orgnr: orgnr.to_string(),
                partners: notices.clone(),
            };
            self.deliver(
                ck,
                settings,
                "partner_silence",
                &payload,
                silence_text(orgnr, &notices),
                now,
                sum,
            )
            .await?;
        }
        if !notices.is_empty() {
            sum.silence_notices += notices.len();
            self.mark_noticed(ck, &notices).await?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn deliver<T: Serialize>(
        &self,
        ck: &CompanyKey,
        settings: &StoredSettings,
        kind: &str,
        data: &T,
        (subject, text, html): (String, String, String),
        now: DateTime<Utc>,
        sum: &mut DigestSummary,
    ) -> Result<(), DomainError> {
        if settings.webhook_url.is_some() {
            self.enqueue_webhook(ck, settings, kind, envelope(kind, now, data)?)
                .await?;
            sum.webhooks += 1;
        }
        if !settings.emails.is_empty() {
            let m = mail(&self.mail_from, &settings.emails, &subject, text, html, now)?;
            self.send_mail(ck, kind, m).await?;
            sum.emails += 1;
        }
        Ok(())
    }
}

/// The `data` of a `partner_silence` webhook message.
#[derive(Debug, Clone, Serialize)]
pub struct SilencePayload {
    pub company_orgnr: String,
    pub partners: Vec<SilenceNotice>,
}
