//! Just enough administration to get data in: the operator accredits partners; a
//! company_admin activates Stamp for a company (becoming its first administrator),
//! deregisters it, and grants users their roles.

use crate::auth::{require_company, require_operator, Claims, CompanyAccess, Role};
use crate::error::DomainError;
use crate::identity::Orgnr;
use crate::ledger::{Grant, Ledger};
use crate::model::{Activation, Partner};
use crate::pagination::{Cursor, Page};
use crate::ports::Clock;
use crate::retention::FiscalYearEnd;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct NewPartner {
    pub partner_id: Option<String>,
    pub name: Option<String>,
    pub feed_url: Option<String>,
}

#[derive(Debug, Deserialize)]
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

/// Partner ids appear in storage and archive keys, so they keep to a safe alphabet.
pub fn validate_partner_id(id: &str) -> Result<(), DomainError> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "partner_id",
            "must be 1–64 characters A–Z, a–z, 0–9, '-', '_' or '.'",
        ))
    }
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

pub fn activation_view(a: &Activation) -> Value {
    json!({
        "company_orgnr": a.company_orgnr,
        "company_name": a.company_name,
        "fiscal_year_end_month": a.fiscal_year_end_month,
        "terms_version": a.terms_version,
        "activated_at": a.activated_at,
        "activated_by": a.activated_by,
        "status": if a.is_active() { "active" } else { "deregistered" },
        "deregistered_at": a.deregistered_at,
    })
}

pub fn grant_view(g: &Grant) -> Value {
    json!({ "sub": g.sub, "roles": g.roles, "granted_at": g.granted_at, "granted_by": g.granted_by })
}

impl Admin {
    pub fn new(ledger: Ledger, clock: Arc<dyn Clock>) -> Self {
        Admin { ledger, clock }
    }

    pub async fn accredit_partner(
        &self,
        claims: &Claims,
        req: NewPartner,
    ) -> Result<Partner, DomainError> {
        require_operator(claims)?;
        let partner_id = required_text("partner_id", req.partner_id, 64)?;
        validate_partner_id(&partner_id)?;
        let name = required_text("name", req.name, 200)?;
        let feed_url = req.feed_url.filter(|u| !u.is_empty());
        if let Some(u) = &feed_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() > 2000 {
                return Err(DomainError::invalid("feed_url", "must be an http(s) URL"));
            }
        }
        let p = Partner {
            partner_id,
            name,
            feed_url,
            accredited_at: self.clock.now(),
            accredited_by: claims.sub.clone(),
            suspended: false,
        };
        if !self.ledger.create_partner(&p).await? {
            return Err(DomainError::Conflict {
                code: "partner_exists",
                detail: format!("partner_id {:?} is already accredited", p.partner_id),
            });
        }
        tracing::info!(partner_id = %p.partner_id, "partner accredited");
        Ok(p)
    }

    pub async fn partners(
        &self,
        claims: &Claims,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Partner>, DomainError> {
        require_operator(claims)?;
        self.ledger.partners(cursor, limit).await
    }

    /// Before a company's first activation nobody holds a grant; a company_admin whose
    /// token names the company may then activate it. Afterwards a recorded grant is needed.
    async fn require_admin_or_first(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Option<Activation>, DomainError> {
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
        let existing = self.ledger.activation(orgnr).await?;
        if existing.is_some() {
            require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        }
        Ok(existing)
    }

    pub async fn activate(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        req: ActivationRequest,
    ) -> Result<Activation, DomainError> {
        let existing = self.require_admin_or_first(claims, orgnr).await?;
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
                .filter(|a| a.is_active())
                .map(|a| a.activated_at)
                .unwrap_or(now),
            activated_by: claims.sub.clone(),
            deregistered_at: None,
        };
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
        self.ledger
            .save_activation(&activation, first_admin.as_ref())
            .await?;
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
            .ok_or_else(|| DomainError::NotFound("the company has not activated Stamp".into()))
    }

    /// Deregisters: imports and access stop, the data stays until its retention ends.
    pub async fn deregister(&self, claims: &Claims, orgnr: &Orgnr) -> Result<Value, DomainError> {
        let Some(mut a) = self.require_admin_or_first(claims, orgnr).await? else {
            return Err(DomainError::NotFound(
                "the company has not activated Stamp".into(),
            ));
        };
        let now = self.clock.now();
        if a.deregistered_at.is_none() {
            a.deregistered_at = Some(now);
            self.ledger.save_activation(&a, None).await?;
        }
        Ok(json!({
            "receipt": {
                "company_orgnr": a.company_orgnr,
                "deregistered_at": a.deregistered_at,
                "deregistered_by": claims.sub,
                "imports": "refused from now on",
                "data": "kept until each event's retention_until (two years after the end of the calendar year in which its fiscal year ends), then purged",
            },
            "activation": activation_view(&a),
        }))
    }

    pub async fn users(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Grant>, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        self.ledger.grants(orgnr, cursor, limit).await
    }

    pub async fn put_user(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        sub: &str,
        roles: Option<Vec<String>>,
    ) -> Result<Grant, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        if sub.is_empty() || sub.len() > 256 || sub.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "sub",
                "must be 1–256 printable characters",
            ));
        }
        let roles = roles.ok_or_else(|| DomainError::missing("roles"))?;
        let mut clean: Vec<String> = Vec::new();
        for r in roles {
            match Role::parse(&r) {
                Some(Role::CompanyAdmin | Role::CompanyUser) => {
                    if !clean.contains(&r) {
                        clean.push(r)
                    }
                }
                _ => {
                    return Err(DomainError::invalid(
                        "roles",
                        format!("{r:?} is not a company role (company_admin, company_user)"),
                    ))
                }
            }
        }
        if clean.is_empty() {
            return Err(DomainError::invalid(
                "roles",
                "must hold at least one role; DELETE removes a user",
            ));
        }
        if !clean.iter().any(|r| r == "company_admin") {
            self.keep_an_admin(orgnr, sub).await?;
        }
        let g = Grant {
            sub: sub.into(),
            roles: clean,
            granted_at: self.clock.now(),
            granted_by: claims.sub.clone(),
        };
        self.ledger.put_grant(orgnr, &g).await?;
        Ok(g)
    }

    pub async fn delete_user(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        sub: &str,
    ) -> Result<(), DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        if self.ledger.grant(orgnr, sub).await?.is_none() {
            return Err(DomainError::NotFound("no such user in this company".into()));
        }
        self.keep_an_admin(orgnr, sub).await?;
        self.ledger.delete_grant(orgnr, sub).await?;
        Ok(())
    }

    /// Refuses a change that would leave the company without a company_admin.
    async fn keep_an_admin(&self, orgnr: &Orgnr, losing: &str) -> Result<(), DomainError> {
        let admins = self
            .ledger
            .all_grants(orgnr)
            .await?
            .into_iter()
            .filter(|g| g.sub != losing && g.roles.iter().any(|r| r == "company_admin"))
            .count();
        if admins == 0 {
            return Err(DomainError::Conflict {
                code: "last_company_admin",
                detail: "the company's last company_admin cannot be removed".into(),
            });
        }
        Ok(())
    }
}
