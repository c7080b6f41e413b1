//! Legal holds (spec §2.3): placed and lifted by the operator or the company_admin;
//! data a hold covers is not purged.

use super::{required_text, Admin};
use crate::auth::{require_company, Claims, CompanyAccess};
use crate::error::DomainError;
use crate::identity::pseudonym::PersonRef;
use crate::identity::Orgnr;
use crate::table::LegalHold;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HoldRequest {
    pub site_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub person_ref: Option<PersonRef>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: Option<String>,
}

impl Admin {
    /// Places a legal hold by site, person and/or period, with a reason.
    pub async fn place_hold(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        req: HoldRequest,
    ) -> Result<LegalHold, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Retained).await?;
        let reason = required_text("reason", req.reason, 1000)?;
        let site_id = req
            .site_id
            .filter(|s| !s.is_empty())
            .map(|s| {
                crate::identity::SiteId::parse(&s)
                    .map(|s| s.to_string())
                    .map_err(|e| DomainError::invalid("site_id", e.to_string()))
            })
            .transpose()?;
        let time = |field: &str, v: Option<String>| {
            v.filter(|s| !s.is_empty())
                .map(|s| crate::time::parse_rfc3339(&s).map_err(|e| DomainError::invalid(field, e)))
                .transpose()
        };
        let (from, to) = (time("from", req.from)?, time("to", req.to)?);
        if let (Some(f), Some(t)) = (from, to) {
            if t <= f {
                return Err(DomainError::invalid("to", "must be after from"));
            }
        }
        let person_ref = req.person_ref.filter(|s| !s.is_empty());
        let ck = self.ledger.company_key(orgnr);
        if let Some(p) = &person_ref {
            if self.ledger.person(&ck, p).await?.is_none() {
                return Err(DomainError::invalid(
                    "person_ref",
                    "names no person in this company",
                ));
            }
        }
        if site_id.is_none() && person_ref.is_none() && from.is_none() && to.is_none() {
            return Err(DomainError::MissingField {
                field: "site_id".into(),
                reason: "a hold needs a site_id, a person_ref or a period (from/to)".into(),
            });
        }
        let h = LegalHold {
            id: format!("hold-{}", uuid::Uuid::new_v4().simple()),
            site_id,
            person_ref,
            from,
            to,
            reason,
            placed_by: claims.sub.clone(),
            placed_at: self.clock.now(),
            lifted_by: None,
            lifted_at: None,
        };
        self.ledger.save_hold(&ck, &h).await?;
        Ok(h)
    }

    pub async fn holds(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Vec<LegalHold>, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Retained).await?;
        self.ledger.holds(&self.ledger.company_key(orgnr)).await
    }

    pub async fn hold(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        id: &str,
    ) -> Result<LegalHold, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Retained).await?;
        self.ledger
            .hold(&self.ledger.company_key(orgnr), id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such legal hold".into()))
    }

    /// Lifts a hold; it stays on record with who lifted it and when.
    pub async fn lift_hold(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        id: &str,
    ) -> Result<LegalHold, DomainError> {
        let mut h = self.hold(claims, orgnr, id).await?;
        if h.lifted_at.is_none() {
            h.lifted_at = Some(self.clock.now());
            h.lifted_by = Some(claims.sub.clone());
            self.ledger
                .save_hold(&self.ledger.company_key(orgnr), &h)
                .await?;
        }
        Ok(h)
    }
}
