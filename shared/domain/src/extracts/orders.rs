//! Ordering an extract and reading its state: a company's authority extract, an
//! inspector's, a person's own register extract, and the short-lived download link.

use super::{
    acting_role, require_employee, Actor, Dispatch, DownloadLink, ExtractAnswer, ExtractRecord,
    ExtractRequest, ExtractStatus, Extracts, OrderBody, ITEM_TYPE,
};
use crate::auth::{require_company, Claims, CompanyAccess, Role};
use crate::error::DomainError;
use crate::identity::Orgnr;
use crate::ports::{DownloadedFile, LinkError};

impl Extracts {
    pub(super) fn new_record(
        &self,
        claims: &Claims,
        role: String,
        request: ExtractRequest,
    ) -> ExtractRecord {
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

    pub(super) async fn store_order(
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
    pub(super) async fn answer(
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
}
