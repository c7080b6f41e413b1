//! A batch's life around its events: the answer a replay gets, the retention its
//! archived copy is locked for, the batch's start and receipt, and each event's check.

use super::{
    fallback_retention, raw_orgnr, receipt_key, touch, validate_event, within_bounds, BatchAnswer,
    Ctx, DeliveryFormat, Fate, ImportService, RawEvent, Receipt, Rejection, RejectionCode, Run,
    Survey, Touched,
};
use crate::error::DomainError;
use crate::governance::retention::{retention_until, FiscalYearEnd};
use crate::identity::Orgnr;
use crate::identity::PartnerId;
use crate::model::EventFields;
use crate::ports::ArchivedObject;
use crate::table::{ArchivedEntry, BatchRecord};
use chrono::NaiveDate;

impl ImportService {
    /// The first answer to `(partner, batch_id)`: again for the same bytes, a conflict for
    /// other bytes, `None` for a new batch.
    pub(crate) async fn previous_answer(
        &self,
        partner_id: &PartnerId,
        batch_id: &str,
        sha256: &str,
    ) -> Result<Option<BatchAnswer>, DomainError> {
        match self.ledger.batch(partner_id, batch_id).await? {
            None => Ok(None),
            Some(previous) if previous.sha256 == sha256 => Ok(Some(previous.answer)),
            Some(previous) => Err(DomainError::Conflict {
                code: "batch_conflict",
                detail: format!(
                    "batch_id {batch_id:?} was delivered before with different content (sha256 {}); a batch is never replaced",
                    previous.sha256
                ),
            }),
        }
    }

    /// The retention of a delivery's archived copy: the latest `retention_until` of its
    /// valid events of activated companies.
    pub(crate) async fn retention(
        &self,
        run: &mut Run,
        survey: &Survey,
    ) -> Result<NaiveDate, DomainError> {
        let mut latest: Option<NaiveDate> = None;
        for (orgnr, day) in &survey.latest_day {
            if !self.is_active(run, orgnr).await? {
                continue;
            }
            let fy = run.activations[orgnr]
                .as_ref()
                .and_then(|a| FiscalYearEnd::new(a.fiscal_year_end_month).ok())
                .unwrap_or_default();
            let until = retention_until(*day, fy);
            latest = Some(latest.map_or(until, |l| l.max(until)));
        }
        Ok(latest
            .unwrap_or_else(|| fallback_retention(run.ctx.received_at))
            // A lock cannot end in the past (S3 refuses it): old events are kept a day.
            .max(
                run.ctx
                    .received_at
                    .date_naive()
                    .succ_opt()
                    .unwrap_or(NaiveDate::MAX),
            ))
    }

    /// Claims the batch id for these bytes. An earlier attempt at the same delivery that
    /// was interrupted left its receipt time and archive key: they are taken over, so the
    /// records it already wrote and the ones written now are alike.
    pub(crate) async fn begin(&self, run: &mut Run, archive_key: &str) -> Result<(), DomainError> {
        let (received_at, key) = self
            .ledger
            .begin_batch(
                &run.ctx.partner_id,
                &run.ctx.batch_id,
                &run.sha256,
                run.ctx.received_at,
                archive_key,
            )
            .await?;
        run.set_received_at(received_at);
        run.set_archive_key(&key);
        Ok(())
    }

    pub(crate) async fn write_receipt(
        &self,
        run: &Run,
        format: DeliveryFormat,
        archived: &ArchivedObject,
        via: &str,
        survey: &Survey,
        retain_until: NaiveDate,
    ) -> Result<(), DomainError> {
        let receipt = Receipt {
            partner_id: run.ctx.partner_id.clone(),
            batch_id: run.ctx.batch_id.clone(),
            format: format.as_str().into(),
            received_at: run.ctx.received_at,
            sha256: run.sha256.clone(),
            archive_key: archived.key.clone(),
            via: via.into(),
            companies: survey
                .companies
                .iter()
                .map(|o| self.ledger.company_key(o).into())
                .collect(),
        };
        let bytes = serde_json::to_vec(&receipt)
            .map_err(|e| DomainError::Internal(format!("receipt: {e}")))?;
        let key = receipt_key(
            &run.ctx.partner_id,
            run.ctx.received_at,
            &run.ctx.batch_id,
            &run.sha256,
        );
        let receipt_object = self
            .archive
            .put(&key, &bytes, "application/json", retain_until)
            .await?;
        // The retention purge finds both through the retention index, not by listing.
        let companies: Vec<(String, NaiveDate, NaiveDate)> = survey
            .latest_day
            .iter()
            .map(|(o, last)| {
                let first = survey.earliest_day.get(o).copied().unwrap_or(*last);
                (self.ledger.company_key(o).into(), first, *last)
            })
            .collect();
        for (object, batch) in [
            (
                archived,
                Some((run.ctx.partner_id.to_string(), run.ctx.batch_id.clone())),
            ),
            (&receipt_object, None),
        ] {
            self.ledger
                .note_archived(&ArchivedEntry {
                    key: object.key.clone(),
                    version_id: object.version_id.clone(),
                    retain_until,
                    companies: companies.clone(),
                    batch,
                })
                .await?;
        }
        Ok(())
    }

    /// Keeps the answer so that a replay of the batch gets it again.
    pub(crate) async fn keep_answer(
        &self,
        run: &Run,
        answer: BatchAnswer,
    ) -> Result<BatchAnswer, DomainError> {
        let Ctx {
            partner_id,
            batch_id,
            archive_key,
            received_at,
        } = &run.ctx;
        let record = BatchRecord {
            partner_id: partner_id.clone(),
            batch_id: batch_id.clone(),
            sha256: run.sha256.clone(),
            archive_key: archive_key.clone(),
            received_at: *received_at,
            answer: answer.clone(),
        };
        if !self.ledger.save_batch(&record).await? {
            // A concurrent delivery of the same batch id answered first; answer as it did.
            if let Some(first) = self.ledger.batch(partner_id, batch_id).await? {
                if first.sha256 == record.sha256 {
                    return Ok(first.answer);
                }
                return Err(DomainError::Conflict {
                    code: "batch_conflict",
                    detail: format!(
                        "batch_id {batch_id:?} was delivered concurrently with different content"
                    ),
                });
            }
        }
        tracing::info!(
            partner_id = %partner_id,
            archive_key = %archive_key,
            accepted = run.accepted,
            duplicates = run.duplicates,
            rejected = run.rejected_total,
            "batch imported"
        );
        Ok(answer)
    }

    pub(super) async fn is_active(
        &self,
        run: &mut Run,
        orgnr: &Orgnr,
    ) -> Result<bool, DomainError> {
        if !run.activations.contains_key(orgnr) {
            let a = self.ledger.activation(orgnr).await?;
            run.activations.insert(orgnr.clone(), a);
        }
        Ok(run.activations[orgnr]
            .as_ref()
            .is_some_and(|a| run.active(a)))
    }

    /// Validates one event on its own; `None` when a replay of another company skips it.
    pub(super) async fn check(
        &self,
        run: &mut Run,
        raw: &RawEvent,
    ) -> Result<Option<Result<EventFields, Rejection>>, DomainError> {
        if let Some(only) = &run.replay_of {
            if raw_orgnr(raw).as_ref() != Some(only) {
                return Ok(None);
            }
        }
        let fields = match raw {
            Err(reason) => Err(Rejection::invalid("event", reason)),
            Ok(m) => validate_event(m),
        };
        let f = match fields.and_then(|f| within_bounds(f, run.ctx.received_at)) {
            Ok(f) => f,
            Err(r) => return Ok(Some(Err(r))),
        };
        if !self.is_active(run, &f.company_orgnr).await? {
            return Ok(Some(Err(Rejection {
                code: RejectionCode::CompanyNotActivated,
                field: "company_orgnr".into(),
                message: "company_orgnr: the company has not activated Stamp".into(),
            })));
        }
        Ok(Some(Ok(f)))
    }

    pub(super) fn apply(
        &self,
        run: &mut Run,
        touched: &mut Touched,
        index: usize,
        raw: &RawEvent,
        fate: Fate,
    ) {
        match fate {
            Fate::Stored(e) | Fate::Resumed(e) => {
                run.accepted += 1;
                touch(touched, &self.ledger, &e);
                run.note(index, &e, &self.ledger);
            }
            Fate::Corrected { before, after } => {
                run.accepted += 1;
                touch(touched, &self.ledger, &before);
                touch(touched, &self.ledger, &after);
                run.note(index, &after, &self.ledger);
            }
            Fate::Duplicate(e) => {
                run.duplicates += 1;
                run.note(index, &e, &self.ledger);
            }
            Fate::Rejected(r) => run.reject(index, raw, r),
        }
    }

    pub(super) async fn mark(&self, run: &Run, touched: Touched) -> Result<(), DomainError> {
        let marker = run.marker();
        for (ck, days) in touched {
            self.ledger
                .mark_dirty(&ck, &days.into_iter().collect::<Vec<_>>(), &marker)
                .await?;
        }
        Ok(())
    }
}
