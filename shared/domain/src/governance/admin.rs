//! Just enough administration to get data in: the operator accredits partners; a
//! company_admin activates Stamp for a company (becoming its first administrator),
//! deregisters it, and grants users their roles.

use crate::auth::{require_company, Claims, CompanyAccess, Role};
use crate::error::DomainError;
use crate::governance::retention::FiscalYearEnd;
use crate::identity::Orgnr;
use crate::model::Activation;
use crate::ports::Clock;
use crate::table::{Grant, Ledger};
use serde::Deserialize;
use std::sync::Arc;

mod holds;
mod partners;
mod users;

pub use holds::HoldRequest;
pub use partners::{validate_partner_id, Announcement, AnnouncementRequest, NewPartner};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActivationRequest {
    pub terms_version: Option<String>,
    pub company_name: Option<String>,
    pub fiscal_year_end_month: Option<u32>,
}

#[derive(Clone)]
pub struct Admin {
    ledger: Ledger,
    clock: Arc<dyn Clock>,
}

fn required_text(field: &str, v: Option<String>, max: usize) -> Result<String, DomainError> {
    let v = v
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| DomainError::missing(field))?;
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            format!("must be 1–{max} printable characters"),
        ));
    }
    Ok(v)
}

impl Admin {
    pub fn new(ledger: Ledger, clock: Arc<dyn Clock>) -> Self {
        Admin { ledger, clock }
    }

    /// Before a company's first activation nobody holds a grant; a company_admin whose
    /// token names the company may then activate it. Afterwards a recorded grant is needed.
    async fn require_admin_or_first(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Option<(Activation, Option<i64>)>, DomainError> {
        if !claims.has_role(Role::CompanyAdmin) {
            return Err(DomainError::Forbidden(
                "this needs the company_admin role".into(),
            ));
        }
        if !claims.names_company(orgnr) {
            return Err(DomainError::Forbidden(
                "the token does not grant access to this company".into(),
            ));
        }
        let existing = self.ledger.activation_versioned(orgnr).await?;
        if existing.is_some() {
            require_company(&self.ledger, claims, orgnr, CompanyAccess::Retained).await?;
        }
        Ok(existing)
    }

    pub async fn activate(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        req: ActivationRequest,
    ) -> Result<Activation, DomainError> {
        let existing = match self.require_admin_or_first(claims, orgnr).await {
            // A company_admin named by the token but holding no grant lost the race to be
            // the first administrator (or came after it): the same 409 as a lost write.
            Err(DomainError::Forbidden(_))
                if claims.has_role(Role::CompanyAdmin)
                    && claims.names_company(orgnr)
                    && self.ledger.grant(orgnr, &claims.sub).await?.is_none() =>
            {
                return Err(activation_taken());
            }
            other => other?,
        };
        let terms_version = required_text("terms_version", req.terms_version, 64)?;
        let company_name = required_text("company_name", req.company_name, 200)?;
        let fy = FiscalYearEnd::new(req.fiscal_year_end_month.unwrap_or(12))
            .map_err(|e| DomainError::invalid("fiscal_year_end_month", e))?;
        let now = self.clock.now();
        let activation = Activation {
            company_orgnr: orgnr.clone(),
            company_name,
            fiscal_year_end_month: fy.month(),
            terms_version,
            activated_at: existing
                .as_ref()
                .map(|(a, _)| a)
                .filter(|a| a.is_active())
                .map(|a| a.activated_at)
                .unwrap_or(now),
            activated_by: claims.sub.clone(),
            terms_accepted_at: Some(now),
            deregistered_at: None,
        };
        let expected = existing.as_ref().map(|(_, v)| *v);
        let first_admin = match existing {
            Some(_) => None,
            None => Some(Grant {
                sub: claims.sub.clone(),
                roles: vec![
                    Role::CompanyAdmin.as_str().into(),
                    Role::CompanyUser.as_str().into(),
                ],
                granted_at: now,
                granted_by: claims.sub.clone(),
            }),
        };
        if !self
            .ledger
            .save_activation(&activation, first_admin.as_ref(), expected)
            .await?
        {
            return Err(match expected {
                None => activation_taken(),
                Some(_) => DomainError::Conflict {
                    code: "activation_conflict",
                    detail: "the company's activation changed at the same moment (another administrator re-activated or deregistered it); read it and retry".into(),
                },
            });
        }
        tracing::info!(terms_version = %activation.terms_version, "company activated");
        Ok(activation)
    }

    pub async fn activation(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Activation, DomainError> {
        self.require_admin_or_first(claims, orgnr)
            .await?
            .map(|(a, _)| a)
            .ok_or_else(|| DomainError::NotFound("the company has not activated Stamp".into()))
    }

    /// Deregisters: imports and access stop, the data stays until its retention ends.
    /// Answers the activation as it now stands (with `deregistered_at`).
    pub async fn deregister(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Activation, DomainError> {
        let Some((mut a, version)) = self.require_admin_or_first(claims, orgnr).await? else {
            return Err(DomainError::NotFound(
                "the company has not activated Stamp".into(),
            ));
        };
        let now = self.clock.now();
        if a.deregistered_at.is_none() {
            a.deregistered_at = Some(now);
            if !self.ledger.save_activation(&a, None, Some(version)).await? {
                return Err(DomainError::Conflict {
                    code: "activation_conflict",
                    detail:
                        "the company's activation changed at the same moment; read it and retry"
                            .into(),
                });
            }
        }
        Ok(a)
    }
}

fn activation_taken() -> DomainError {
    DomainError::Conflict {
        code: "activation_conflict",
        detail: "the company is already activated by another company_admin, its first administrator; ask them for a grant".into(),
    }
}

/// How often a grant change is judged again when a concurrent change got there first.
const CHANGE_ATTEMPTS: usize = 5;

fn busy() -> DomainError {
    DomainError::Unavailable("the company's grants are changing concurrently; retry".into())
}

#[cfg(test)]
mod tests;
