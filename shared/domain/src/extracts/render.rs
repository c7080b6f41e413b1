//! Rendering an ordered extract (asynchronously): the authority extract section by
//! section, the register extract, and marking a render that failed.

use super::{
    all_time, attach_corrections, build_rows, corrected_events, histories, require_employee,
    write_authority, AuthorityHeader, AuthorityWriter, ExtractFile, ExtractKind, ExtractRecord,
    ExtractStatus, Extracts, LedgerSource, OwnCompany, RegisterDoc, RegisterSection, RenderOutcome,
    RowFilter, Span,
};
use crate::auth::Claims;
use crate::error::DomainError;
use crate::governance::retention::FiscalYearEnd;
use crate::identity::pseudonym::sha256_hex;
use crate::identity::pseudonym::PersonRef;
use crate::identity::Orgnr;
use crate::identity::PartnerId;
use crate::reads::queries::{Queries, RegistrationQuery};
use crate::table::keys;
use crate::time::local_date;
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use std::collections::BTreeSet;

impl Extracts {
    /// Renders, and records a failure as `failed` (stamp-local: nothing would retry).
    pub async fn render_or_fail(&self, pk: &str, id: &str) -> Result<RenderOutcome, DomainError> {
        match self.render(pk, id).await {
            Err(e) => {
                self.mark_failed(pk, id, &e).await?;
                Ok(RenderOutcome::Failed(e.to_string()))
            }
            ok => ok,
        }
    }

    pub(super) async fn mark_failed(
        &self,
        pk: &str,
        id: &str,
        e: &DomainError,
    ) -> Result<(), DomainError> {
        let Some(mut record) = self.ledger.extract(pk, id).await? else {
            return Ok(());
        };
        if record.status != ExtractStatus::Pending {
            return Ok(());
        }
        record.status = ExtractStatus::Failed;
        record.error = Some(match e {
            DomainError::Unavailable(_) => {
                "a storage service was unavailable; order the extract again".into()
            }
            _ => "the extract could not be rendered".into(),
        });
        record.finished_at = Some(self.clock.now());
        record.version += 1;
        self.ledger.update_extract(pk, &record).await?;
        Ok(())
    }

    /// Renders a pending extract (the record at `pk`/`id`), stores the file under
    /// `extracts/` and marks the record ready. A storage failure is returned as an error
    /// (so that the stream delivery is retried); an extract that cannot be rendered is
    /// marked failed.
    pub async fn render(&self, pk: &str, id: &str) -> Result<RenderOutcome, DomainError> {
        let Some(mut record) = self.ledger.extract(pk, id).await? else {
            return Ok(RenderOutcome::Missing);
        };
        if record.status != ExtractStatus::Pending {
            return Ok(RenderOutcome::AlreadyDone);
        }
        let started = std::time::Instant::now();
        let now = self.clock.now();
        let rendered = match (&record.company_orgnr, &record.subject, record.kind) {
            (Some(orgnr), _, ExtractKind::Authority) => {
                self.render_authority(&record, orgnr, now).await
            }
            (Some(orgnr), _, ExtractKind::RegisterExtract) => {
                self.render_register(&record, Some(orgnr), now).await
            }
            (None, Some(_), ExtractKind::RegisterExtract) => {
                self.render_register(&record, None, now).await
            }
            _ => Err(DomainError::Internal(
                "an extract record names neither company nor subject".into(),
            )),
        };
        let (bytes, file_name) = match rendered {
            Ok(x) => x,
            Err(e @ DomainError::Unavailable(_)) => return Err(e),
            Err(e) => {
                tracing::error!(extract_id = %id, error = %e, "extract cannot be rendered");
                self.mark_failed(pk, id, &e).await?;
                return Ok(RenderOutcome::Failed(e.to_string()));
            }
        };
        let owner = match (&record.company_orgnr, &record.subject) {
            (Some(o), _) => self.ledger.company_key(o).into(),
            (None, Some(p)) => self.ledger.pseudonyms().subject_key(p),
            _ => return Err(DomainError::Internal("an extract without owner".into())),
        };
        let attempt = uuid::Uuid::new_v4().simple().to_string();
        let key = keys::extract_file(&owner, id, &attempt, record.format.as_str());
        let sha256 = sha256_hex(&bytes);
        self.files
            .put(&key, &bytes, record.format.content_type(), &file_name)
            .await?;
        let size = bytes.len() as u64;
        record.status = ExtractStatus::Ready;
        record.file = Some(ExtractFile {
            key,
            sha256: sha256.clone(),
            bytes: size,
            content_type: record.format.content_type().into(),
            file_name,
            rendered_at: self.clock.now(),
        });
        record.finished_at = Some(self.clock.now());
        record.version += 1;
        if !self.ledger.update_extract(pk, &record).await? {
            // Another delivery of the trigger finished first; its file is the one recorded.
            return Ok(RenderOutcome::AlreadyDone);
        }
        tracing::info!(extract_id = %id, bytes = size, ms = started.elapsed().as_millis() as u64, "extract rendered");
        Ok(RenderOutcome::Ready {
            sha256,
            bytes: size,
        })
    }

    pub(super) async fn render_authority(
        &self,
        record: &ExtractRecord,
        orgnr: &Orgnr,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, String), DomainError> {
        let req = &record.request;
        let (Some(from), Some(to)) = (req.from, req.to) else {
            return Err(DomainError::Internal(
                "an authority extract without its period".into(),
            ));
        };
        let ck = self.ledger.company_key(orgnr);
        let company_name = self
            .ledger
            .activation(orgnr)
            .await?
            .map(|a| a.company_name)
            .unwrap_or_default();
        let person = match &req.person_ref {
            Some(p) => Some((
                p.clone(),
                self.ledger
                    .person(&ck, p)
                    .await?
                    .map(|e| e.person_name)
                    .unwrap_or_default(),
            )),
            None => None,
        };
        let header = AuthorityHeader {
            extract_id: record.id.clone(),
            company_orgnr: orgnr.clone(),
            company_name,
            from,
            to,
            site_id: req.site_id.clone(),
            person,
            generated_at: now,
        };
        let filter = RowFilter {
            site: req.site_id.clone(),
            person_ref: req.person_ref.clone(),
            employer: req.employer.clone(),
        };
        let mut writer = AuthorityWriter::new(record.format, header)?;
        // Only the company's span of activity is read: an open-ended period costs nothing.
        if let Some((first, last)) = self.ledger.company_span(&ck).await? {
            let range = Span {
                from: from.max(first),
                to: to.min(last + chrono::Duration::seconds(1)),
            };
            if range.from < range.to {
                let source = LedgerSource {
                    ledger: &self.ledger,
                    ck,
                    filter: filter.clone(),
                };
                write_authority(&source, range, &filter, now, &mut writer).await?;
            }
        }
        let file_name = format!(
            "underlag-skatteverket-{}-{}-{}.{}",
            orgnr,
            local_date(&from),
            local_date(&to),
            record.format.as_str()
        );
        Ok((writer.finish()?, file_name))
    }

    /// One company's section of a register extract.
    pub(super) async fn section(
        &self,
        orgnr: &Orgnr,
        person_ref: &PersonRef,
        active: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<RegisterSection>, DomainError> {
        let ck = self.ledger.company_key(orgnr);
        let Some(entry) = self.ledger.person(&ck, person_ref).await? else {
            return Ok(None);
        };
        let activation = self.ledger.activation(orgnr).await?;
        let all = all_time();
        let events = self
            .ledger
            .person_events(&ck, person_ref, &all.from, &all.to)
            .await?;
        let partner_ids: BTreeSet<PartnerId> =
            events.iter().map(|e| e.partner_id.clone()).collect();
        let filter = RowFilter {
            site: None,
            person_ref: Some(person_ref.clone()),
            employer: None,
        };
        let mut rows = build_rows(events, all, all, &filter, now);
        let history = histories(&self.ledger, &corrected_events(&rows)).await?;
        attach_corrections(&mut rows, &history);
        let sources: Vec<(PartnerId, Option<String>)> = stream::iter(partner_ids)
            .map(|p| async move {
                let name = self.ledger.partner(&p).await?.map(|x| x.name);
                Ok::<_, DomainError>((p, name))
            })
            .buffered(crate::table::PARTITION_READS)
            .try_collect()
            .await?;
        Ok(Some(RegisterSection {
            company_orgnr: orgnr.clone(),
            company_name: activation
                .as_ref()
                .map(|a| a.company_name.clone())
                .unwrap_or_default(),
            company_active: active && activation.as_ref().is_some_and(|a| a.is_active()),
            fiscal_year_end: activation
                .as_ref()
                .and_then(|a| FiscalYearEnd::new(a.fiscal_year_end_month).ok())
                .unwrap_or_default(),
            person_ref: person_ref.clone(),
            person_name: entry.person_name,
            rows,
            sources,
        }))
    }

    pub(super) async fn render_register(
        &self,
        record: &ExtractRecord,
        company: Option<&Orgnr>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, String), DomainError> {
        let (sections, subject, for_company) = match company {
            Some(orgnr) => {
                let none = PersonRef::default();
                let person_ref = record.request.person_ref.as_ref().unwrap_or(&none);
                let ck = self.ledger.company_key(orgnr);
                let entry = self.ledger.person(&ck, person_ref).await?.ok_or_else(|| {
                    DomainError::NotFound("the person is no longer in the company's ledger".into())
                })?;
                let section = self.section(orgnr, person_ref, true, now).await?;
                let name = section
                    .as_ref()
                    .map(|s| s.company_name.clone())
                    .unwrap_or_default();
                (
                    section.into_iter().collect::<Vec<_>>(),
                    entry.person,
                    Some((orgnr.clone(), name)),
                )
            }
            None => {
                let person = record.subject.clone().ok_or_else(|| {
                    DomainError::Internal("an own extract without subject".into())
                })?;
                // Every company at once (bounded).
                let subject = &person;
                let sections: Vec<Option<RegisterSection>> =
                    stream::iter(self.ledger.companies().await?)
                        .map(|(_, orgnr, active)| async move {
                            let person_ref = self.ledger.pseudonyms().person_ref(&orgnr, subject);
                            self.section(&orgnr, &person_ref, active, now).await
                        })
                        .buffered(8)
                        .try_collect()
                        .await?;
                let mut sections: Vec<RegisterSection> = sections.into_iter().flatten().collect();
                sections.sort_by(|a, b| a.company_orgnr.cmp(&b.company_orgnr));
                (sections, person, None)
            }
        };
        let subject_name = sections
            .first()
            .map(|s| s.person_name.clone())
            .unwrap_or_else(|| "–".into());
        let doc = RegisterDoc {
            extract_id: record.id.clone(),
            generated_at: now,
            subject_name,
            subject_id: subject,
            ordered_for_company: for_company,
            sections,
        };
        let file_name = format!("registerutdrag-{}.{}", record.id, record.format.as_str());
        Ok((doc.render(record.format)?, file_name))
    }

    /// `GET /v1/me/registrations` (employee): the person's registrations in every company
    /// whose ledger holds them, by the token's `person_id`. Each company's list pages on
    /// its own: continue one with `company` and its `next_cursor`.
    pub async fn own_registrations(
        &self,
        claims: &Claims,
        q: &RegistrationQuery,
        company: Option<&Orgnr>,
    ) -> Result<Vec<OwnCompany>, DomainError> {
        let person = require_employee(claims)?;
        if q.cursor.is_some() && company.is_none() {
            return Err(DomainError::invalid(
                "cursor",
                "continues one company's list: give company too",
            ));
        }
        let queries = &Queries::new(self.ledger.clone(), self.clock.clone());
        let person = &person;
        let companies = self
            .ledger
            .companies()
            .await?
            .into_iter()
            .filter(|(_, orgnr, _)| company.is_none_or(|c| c == orgnr));
        // Every company at once (bounded), each in one round trip, in the directory's order.
        let out: Vec<Option<OwnCompany>> = stream::iter(companies)
            .map(|(ck, orgnr, active)| async move {
                let person_ref = self.ledger.pseudonyms().person_ref(&orgnr, person);
                let (entry, activation, registrations) = futures::try_join!(
                    self.ledger.person(&ck, &person_ref),
                    self.ledger.activation(&orgnr),
                    queries.registrations_of(&ck, &person_ref, q),
                )?;
                Ok::<_, DomainError>(entry.map(|entry| OwnCompany {
                    company_orgnr: orgnr,
                    company_name: activation.map(|a| a.company_name),
                    company_active: active,
                    person_ref,
                    person_name: entry.person_name,
                    registrations,
                }))
            })
            .buffered(crate::table::PARTITION_READS)
            .try_collect()
            .await?;
        Ok(out.into_iter().flatten().collect())
    }
}
