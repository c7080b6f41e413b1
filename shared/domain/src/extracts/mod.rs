//! Extracts (spec §8): a *registerutdrag* for one person, and the *underlag till
//! Skatteverket* for a company and period — ordered over HTTP, rendered asynchronously,
//! kept 7 days and downloaded through a short-lived link.
//!
//! Ordering writes a `pending` record and answers at once. Rendering is
//! [`Extracts::render`]: in AWS the table's DynamoDB stream runs the extract-rendering
//! function on the record's INSERT; locally (and in tests) [`Dispatch::InProcess`]
//! spawns it on a tokio task. Rendering itself is pure (rows, register content, CSV,
//! JSON, PDF in the submodules) over what the ledger reads.

pub mod authority;
pub mod model;
pub mod pdf;
pub mod register;
pub mod rows;
pub mod texts;

pub use model::*;

use crate::auth::{require_company, Claims, CompanyAccess, Role};
use crate::error::DomainError;
use crate::governance::retention::FiscalYearEnd;
use crate::identity::pseudonym::sha256_hex;
use crate::identity::{Orgnr, PersonId};
use crate::model::{EventKey, LedgerEvent};
use crate::ports::{Clock, DownloadedFile, ExtractFiles, LinkError};
use crate::reads::analysis::{DUPLICATE_WINDOW, LOOKAHEAD, LOOKBACK};
use crate::reads::queries::{Queries, RegistrationQuery};
use crate::table::{keys, CorrectionEntry, Ledger};
use crate::time::{local_date, local_day_start, Instant};
use async_trait::async_trait;
use authority::{AuthorityHeader, AuthorityWriter};
use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use register::{RegisterDoc, RegisterSection};
use rows::{attach_corrections, build_rows, corrected_events, RowFilter, Span};

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// An extract as answered: its status now and, when ready, a fresh download link.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractAnswer {
    pub record: ExtractRecord,
    /// The status now (a `pending` one past its deadline has failed).
    pub status: ExtractStatus,
    pub link: Option<DownloadLink>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DownloadLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// The employee's registrations in one company (`GET /v1/me/registrations`).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnCompany {
    pub company_orgnr: Orgnr,
    pub company_name: Option<String>,
    pub company_active: bool,
    pub person_ref: String,
    pub person_name: String,
    pub registrations: crate::reads::queries::Registrations,
}

/// How long a download link is valid.
pub const LINK_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Local days an authority extract is built from at a time.
pub const CHUNK_DAYS: u64 = 7;

/// Who renders an ordered extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    /// The table's DynamoDB stream triggers the extract-rendering function (AWS).
    Stream,
    /// This process renders it on a tokio task (stamp-local, tests).
    InProcess,
}

/// What a rendering did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderOutcome {
    Ready {
        sha256: String,
        bytes: u64,
    },
    Failed(String),
    /// Not pending any more (rendered by an earlier delivery of the trigger).
    AlreadyDone,
    Missing,
}

/// Where an authority extract's events come from: the ledger, or a generator in the
/// benchmark.
#[async_trait]
pub trait EventSource: Send + Sync {
    /// The events (withdrawn ones included) with `occurred_at` in `[lo, hi)`.
    async fn window(&self, lo: &Instant, hi: &Instant) -> Result<Vec<LedgerEvent>, DomainError>;
    /// The correction history of each of these events.
    async fn corrections(
        &self,
        events: &[EventKey],
    ) -> Result<HashMap<EventKey, Vec<CorrectionEntry>>, DomainError>;
}

/// Builds an authority extract's rows over `range`, [`CHUNK_DAYS`] local days at a time
/// (each analysed on a window widened as the views widen theirs), into `writer`.
pub async fn write_authority(
    source: &dyn EventSource,
    range: Span,
    filter: &RowFilter,
    now: DateTime<Utc>,
    writer: &mut AuthorityWriter,
) -> Result<(), DomainError> {
    let mut chunk_from = range.from;
    while chunk_from < range.to {
        let next_day = local_date(&chunk_from)
            .checked_add_days(chrono::Days::new(CHUNK_DAYS))
            .map(local_day_start)
            .unwrap_or(range.to);
        let chunk = Span {
            from: chunk_from,
            to: next_day.min(range.to),
        };
        let lo = chunk
            .from
            .checked_sub_signed(LOOKBACK)
            .unwrap_or(chunk.from);
        let hi = chunk
            .to
            .checked_add_signed(LOOKAHEAD + DUPLICATE_WINDOW)
            .unwrap_or(chunk.to);
        let events = source.window(&lo, &hi).await?;
        let mut rows = build_rows(events, chunk, range, filter, now);
        let history = source.corrections(&corrected_events(&rows)).await?;
        attach_corrections(&mut rows, &history);
        writer.write(&rows)?;
        chunk_from = chunk.to;
    }
    Ok(())
}

/// The ledger as an [`EventSource`] for one company and filter.
struct LedgerSource<'a> {
    ledger: &'a Ledger,
    ck: String,
    filter: RowFilter,
}

async fn histories(
    ledger: &Ledger,
    events: &[EventKey],
) -> Result<HashMap<EventKey, Vec<CorrectionEntry>>, DomainError> {
    let unique: BTreeSet<EventKey> = events.iter().cloned().collect();
    stream::iter(unique)
        .map(|k| async move {
            let history = ledger.corrections(&k.partner_id, &k.event_id).await?;
            Ok::<_, DomainError>((k, history))
        })
        .buffer_unordered(crate::table::PARTITION_READS)
        .try_collect()
        .await
}

#[async_trait]
impl EventSource for LedgerSource<'_> {
    async fn window(&self, lo: &Instant, hi: &Instant) -> Result<Vec<LedgerEvent>, DomainError> {
        if let Some(p) = &self.filter.person_ref {
            return self.ledger.person_events(&self.ck, p, lo, hi).await;
        }
        if let Some(site) = &self.filter.site {
            // Pairing follows a person across sites: each person seen at the site, on
            // their whole timeline of the window — the company's day partitions of the
            // window hold it, read at once.
            let all = self.ledger.company_events(&self.ck, lo, hi).await?;
            let people: BTreeSet<&str> = all
                .iter()
                .filter(|e| &e.site_id == site)
                .map(|e| e.person_ref.as_str())
                .collect();
            return Ok(all
                .iter()
                .filter(|e| people.contains(e.person_ref.as_str()))
                .cloned()
                .collect());
        }
        self.ledger.company_events(&self.ck, lo, hi).await
    }

    async fn corrections(
        &self,
        events: &[EventKey],
    ) -> Result<HashMap<EventKey, Vec<CorrectionEntry>>, DomainError> {
        histories(self.ledger, events).await
    }
}

#[derive(Clone)]
pub struct Extracts {
    ledger: Ledger,
    files: Arc<dyn ExtractFiles>,
    clock: Arc<dyn Clock>,
    dispatch: Dispatch,
    link_ttl: std::time::Duration,
}

/// The role an actor acted in for the record: the least one that allows the action.
fn acting_role(claims: &Claims, candidates: &[Role]) -> String {
    candidates
        .iter()
        .find(|r| claims.has_role(**r))
        .map(|r| r.as_str().to_string())
        .unwrap_or_else(|| claims.primary_role().to_string())
}

/// The person an employee token speaks for.
pub fn require_employee(claims: &Claims) -> Result<PersonId, DomainError> {
    if !claims.has_role(Role::Employee) {
        return Err(DomainError::Forbidden(
            "this needs the employee role".into(),
        ));
    }
    let raw = claims
        .person_id
        .as_deref()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| DomainError::Forbidden("an employee token must carry person_id".into()))?;
    PersonId::parse(raw, None, None).map_err(|_| {
        DomainError::Forbidden(
            "the token's person_id is not a personnummer or samordningsnummer".into(),
        )
    })
}

/// A whole timeline: every instant Stamp can hold.
fn all_time() -> Span {
    let t = |s: &str| crate::time::parse_rfc3339(s).expect("a fixed time");
    Span {
        from: t("1900-01-01T00:00:00Z"),
        to: t("9999-12-31T00:00:00Z"),
    }
}

impl Extracts {
    pub fn new(
        ledger: Ledger,
        files: Arc<dyn ExtractFiles>,
        clock: Arc<dyn Clock>,
        dispatch: Dispatch,
    ) -> Self {
        Extracts {
            ledger,
            files,
            clock,
            dispatch,
            link_ttl: LINK_TTL,
        }
    }

    pub fn with_link_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.link_ttl = ttl;
        self
    }

    pub fn files(&self) -> &Arc<dyn ExtractFiles> {
        &self.files
    }

    /// An extract as it stands now (no download link).
    pub fn shown(&self, record: ExtractRecord) -> ExtractAnswer {
        ExtractAnswer {
            status: record.status_at(self.clock.now()),
            record,
            link: None,
        }
    }

    fn new_record(&self, claims: &Claims, role: String, request: ExtractRequest) -> ExtractRecord {
        ExtractRecord {
            id: uuid::Uuid::now_v7().to_string(),
            item_type: ITEM_TYPE.into(),
            kind: request.kind,
            format: request.format,
            status: ExtractStatus::Pending,
            request,
            company_orgnr: None,
            subject: None,
            ordered_by: Actor {
                sub: claims.sub.clone(),
                role,
                at: self.clock.now(),
            },
            file: None,
            error: None,
            finished_at: None,
            downloads: Vec::new(),
            version: 0,
        }
    }

    async fn store_order(
        &self,
        pk: String,
        record: ExtractRecord,
    ) -> Result<ExtractRecord, DomainError> {
        if !self.ledger.create_extract(&pk, &record).await? {
            return Err(DomainError::Unavailable(
                "an extract id was taken; retry".into(),
            ));
        }
        tracing::info!(extract_id = %record.id, kind = record.kind.as_str(), format = record.format.as_str(), "extract ordered");
        if self.dispatch == Dispatch::InProcess {
            let me = self.clone();
            let id = record.id.clone();
            tokio::spawn(async move {
                if let Err(e) = me.render_or_fail(&pk, &id).await {
                    tracing::error!(extract_id = %id, error = %e, "extract rendering failed");
                }
            });
        }
        Ok(record)
    }

    /// `POST /v1/companies/{orgnr}/extracts` (company_user).
    pub async fn order(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        body: OrderBody,
    ) -> Result<ExtractRecord, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Extracts).await?;
        let request = body.validate()?;
        if let (Some(f), Some(t)) = (&request.from, &request.to) {
            let utc = |t: &crate::time::Instant| Some(t.with_timezone(&chrono::Utc));
            crate::time::query_range(utc(f), utc(t), self.clock.now())
                .map_err(|(field, e)| DomainError::invalid(field, e))?;
        }
        let ck = self.ledger.company_key(orgnr);
        if let Some(p) = &request.person_ref {
            if self.ledger.person(&ck, p).await?.is_none() {
                return Err(DomainError::invalid(
                    "person_ref",
                    "names no one in this company's ledger",
                ));
            }
        }
        if let Some(site) = &request.site_id {
            if self.ledger.site(&ck, site.as_str()).await?.is_none() {
                return Err(DomainError::invalid(
                    "site_id",
                    "is no site in this company's ledger",
                ));
            }
        }
        let mut record = self.new_record(
            claims,
            acting_role(claims, &[Role::CompanyUser, Role::CompanyAdmin]),
            request,
        );
        record.company_orgnr = Some(orgnr.clone());
        self.store_order(self.ledger.company_extracts_pk(orgnr), record)
            .await
    }

    /// `POST /inspect/v1/extracts`: an authority extract of the link's site only, ordered
    /// as the link (`inspection:{id}`, role inspector).
    pub async fn order_inspection(
        &self,
        link: &crate::governance::inspection::InspectionLink,
        body: OrderBody,
    ) -> Result<ExtractRecord, DomainError> {
        let kind = body.kind.as_deref().unwrap_or("authority");
        if kind != "authority" {
            return Err(DomainError::invalid(
                "kind",
                "an inspection link orders the authority extract of its site",
            ));
        }
        if let Some(s) = body.site_id.as_deref().filter(|s| !s.is_empty()) {
            if s != link.site_id.as_str() {
                return Err(DomainError::Forbidden(
                    "an inspection link opens its own site only".into(),
                ));
            }
        }
        let request = OrderBody {
            kind: Some("authority".into()),
            site_id: Some(link.site_id.to_string()),
            ..body
        }
        .validate()?;
        let ck = self.ledger.company_key(&link.company_orgnr);
        if let Some(p) = &request.person_ref {
            if self.ledger.person(&ck, p).await?.is_none() {
                return Err(DomainError::invalid(
                    "person_ref",
                    "names no one in this company's ledger",
                ));
            }
        }
        let claims = link.claims();
        let mut record = self.new_record(
            &claims,
            crate::governance::inspection::INSPECTOR_ROLE.into(),
            request,
        );
        record.company_orgnr = Some(link.company_orgnr.clone());
        self.store_order(self.ledger.company_extracts_pk(&link.company_orgnr), record)
            .await
    }

    /// `GET /inspect/v1/extracts/{id}`: only an extract this link ordered.
    pub async fn get_inspection(
        &self,
        link: &crate::governance::inspection::InspectionLink,
        id: &str,
    ) -> Result<ExtractAnswer, DomainError> {
        if id.is_empty() || id.len() > 64 {
            return Err(DomainError::NotFound("no such extract".into()));
        }
        let pk = self.ledger.company_extracts_pk(&link.company_orgnr);
        let claims = link.claims();
        let ordered_here = self
            .ledger
            .extract(&pk, id)
            .await?
            .is_some_and(|r| r.ordered_by.sub == claims.sub);
        if !ordered_here {
            return Err(DomainError::NotFound("no such extract".into()));
        }
        self.answer(
            &pk,
            id,
            &claims,
            crate::governance::inspection::INSPECTOR_ROLE.into(),
        )
        .await
    }

    /// `POST /v1/me/extracts` (employee): the own register extract, over every company
    /// whose ledger holds the person.
    pub async fn order_own(
        &self,
        claims: &Claims,
        body: OrderBody,
    ) -> Result<ExtractRecord, DomainError> {
        let person = require_employee(claims)?;
        let kind = body.kind.as_deref().unwrap_or("register_extract");
        if kind != "register_extract" {
            return Err(DomainError::invalid(
                "kind",
                "an employee orders their own register_extract",
            ));
        }
        if body.person_ref.as_deref().is_some_and(|p| !p.is_empty()) {
            return Err(DomainError::invalid(
                "person_ref",
                "an employee's own extract is about the token's person_id",
            ));
        }
        let request = OrderBody {
            kind: Some("register_extract".into()),
            person_ref: Some("self".into()),
            ..body
        }
        .validate()?;
        let request = ExtractRequest {
            person_ref: None,
            ..request
        };
        let mut record = self.new_record(claims, Role::Employee.as_str().into(), request);
        record.subject = Some(person.clone());
        self.store_order(self.ledger.own_extracts_pk(&person), record)
            .await
    }

    /// `GET /v1/companies/{orgnr}/extracts/{id}` (company_user).
    pub async fn get(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        id: &str,
    ) -> Result<ExtractAnswer, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Extracts).await?;
        let role = acting_role(claims, &[Role::CompanyUser, Role::CompanyAdmin]);
        self.answer(&self.ledger.company_extracts_pk(orgnr), id, claims, role)
            .await
    }

    /// `GET /v1/me/extracts/{id}` (employee).
    pub async fn get_own(&self, claims: &Claims, id: &str) -> Result<ExtractAnswer, DomainError> {
        let person = require_employee(claims)?;
        self.answer(
            &self.ledger.own_extracts_pk(&person),
            id,
            claims,
            Role::Employee.as_str().into(),
        )
        .await
    }

    /// The extract's view; when ready, with a fresh download link — and the handing out
    /// of that link recorded on the extract (who, in which role, when).
    async fn answer(
        &self,
        pk: &str,
        id: &str,
        claims: &Claims,
        role: String,
    ) -> Result<ExtractAnswer, DomainError> {
        if id.is_empty() || id.len() > 64 {
            return Err(DomainError::NotFound("no such extract".into()));
        }
        for _ in 0..10 {
            let Some(mut record) = self.ledger.extract(pk, id).await? else {
                return Err(DomainError::NotFound("no such extract".into()));
            };
            let now = self.clock.now();
            let Some(file) = record
                .file
                .clone()
                .filter(|_| record.status_at(now) == ExtractStatus::Ready)
            else {
                return Ok(ExtractAnswer {
                    status: record.status_at(now),
                    record,
                    link: None,
                });
            };
            let url = self
                .files
                .download_url(&file.key, &file.file_name, now, self.link_ttl)
                .await?;
            record.downloads.push(Actor {
                sub: claims.sub.clone(),
                role: role.clone(),
                at: now,
            });
            record.version += 1;
            if self.ledger.update_extract(pk, &record).await? {
                tracing::info!(extract_id = %record.id, "extract download link handed out");
                return Ok(ExtractAnswer {
                    status: record.status_at(now),
                    record,
                    link: Some(DownloadLink {
                        url,
                        expires_at: now
                            + chrono::Duration::from_std(self.link_ttl).unwrap_or_default(),
                    }),
                });
            }
        }
        Err(DomainError::Unavailable(
            "the extract is busy; retry".into(),
        ))
    }

    /// Opens a download link of a port that serves its own (the local folder).
    pub async fn open_link(&self, token: &str) -> Result<DownloadedFile, LinkError> {
        self.files.open_link(token, self.clock.now()).await
    }

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

    async fn mark_failed(&self, pk: &str, id: &str, e: &DomainError) -> Result<(), DomainError> {
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
            (Some(o), _) => self.ledger.company_key(o),
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

    async fn render_authority(
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
    async fn section(
        &self,
        orgnr: &Orgnr,
        person_ref: &str,
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
        let partner_ids: BTreeSet<String> = events.iter().map(|e| e.partner_id.clone()).collect();
        let filter = RowFilter {
            site: None,
            person_ref: Some(person_ref.to_string()),
            employer: None,
        };
        let mut rows = build_rows(events, all, all, &filter, now);
        let history = histories(&self.ledger, &corrected_events(&rows)).await?;
        attach_corrections(&mut rows, &history);
        let sources: Vec<(String, Option<String>)> = stream::iter(partner_ids)
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
            person_ref: person_ref.to_string(),
            person_name: entry.person_name,
            rows,
            sources,
        }))
    }

    async fn render_register(
        &self,
        record: &ExtractRecord,
        company: Option<&Orgnr>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u8>, String), DomainError> {
        let (sections, subject, for_company) = match company {
            Some(orgnr) => {
                let person_ref = record.request.person_ref.as_deref().unwrap_or_default();
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

#[cfg(test)]
mod tests;
